#!/usr/bin/env bash
# The test suite, as the README gives it and CI runs it: every crate's tests, the end-to-end
# ones against real Postgres and Redis (the URLs below unless set) and, for the browser test,
# Debian's Chromium and ChromeDriver, and for the feeds test Python's icalendar, installed here when
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromedriver >/dev/null || ! [ -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing chromium and chromium-driver for the browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "The browser test needs Chromium and ChromeDriver: sudo apt-get install chromium chromium-driver" >&2
    exit 1
  fi
fi

# The feeds test reads freeslot's ICS output with a third-party parser, Python's icalendar; the corpus
# test compares freeslot's expansion with python-recurring-ical-events (pinned: the corpus is its 3.8.2 files).
if ! python3 -c 'import icalendar, recurring_ical_events' 2>/dev/null; then
  if ! command -v python3 >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-pip >/dev/null
  fi
  echo "installing the Python icalendar and recurring-ical-events packages for the feeds and corpus tests"
  python3 -m pip install --quiet --user icalendar==7.3.2 recurring-ical-events==3.8.2 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages icalendar==7.3.2 recurring-ical-events==3.8.2
fi

# The e-mail alert tests deliver to a real SMTP server, aiosmtpd (pinned), started by each test.
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  echo "installing aiosmtpd for the e-mail alert tests"
  python3 -m pip install --quiet --user aiosmtpd==1.4.6 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages aiosmtpd==1.4.6
fi

# The webhook tests check every signature with an independent Standard Webhooks implementation,
# the reference `standardwebhooks` package (pinned).
if ! python3 -c 'import standardwebhooks' 2>/dev/null; then
  echo "installing standardwebhooks for the webhook tests"
  python3 -m pip install --quiet --user standardwebhooks==1.0.0 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages standardwebhooks==1.0.0
fi

# The metrics test reads `/metrics` with the official Prometheus client's text-format parser (pinned).
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
  echo "installing prometheus_client for the metrics test"
  python3 -m pip install --quiet --user prometheus_client==0.23.1 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages prometheus_client==0.23.1
fi

# The CalDAV tests run against a real CalDAV server, Radicale (pinned), started by each test.
if ! python3 -c 'import radicale' 2>/dev/null; then
  echo "installing Radicale for the CalDAV tests"
  python3 -m pip install --quiet --user radicale==3.5.10 2>/dev/null ||
    python3 -m pip install --quiet --user --break-system-packages radicale==3.5.10
fi

export TEST_DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export TEST_REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379}"
exec cargo nextest run --workspace "$@"
