"""The independent expansion the corpus test compares freeslot with.

    python3 expand.py FILE [FROM TO]

prints {"year": Y, "starts": [...]}: Y is the year of the file's first DTSTART, and the list of the occurrences that start in [FROM_YEAR-01-01, FROM_YEAR+1-01-01): "YYYY-MM-DD" for an
all-day occurrence, the UTC start "YYYY-MM-DDTHH:MM:SSZ" for a timed one. Floating times are read in the file's
X-WR-TIMEZONE, else UTC, as freeslot reads them. Uses icalendar and recurring_ical_events (PyPI).
"""

import datetime
import json
import sys
import zoneinfo

import icalendar
import recurring_ical_events

path = sys.argv[1]
# FROM and TO (YYYY-MM-DD, UTC days, TO exclusive): the occurrences starting in them instead of in Y.
between = sys.argv[2:4] if len(sys.argv) >= 4 else None
calendar = icalendar.Calendar.from_ical(open(path, "rb").read())
years = [e["DTSTART"].dt.year for e in calendar.walk("VEVENT") if e.get("DTSTART")]
if not years:
    print(json.dumps({"year": None, "starts": []}))
    sys.exit(0)
year = min(years)
floating = datetime.timezone.utc
if calendar.get("X-WR-TIMEZONE"):
    try:
        floating = zoneinfo.ZoneInfo(str(calendar.get("X-WR-TIMEZONE")))
    except Exception:
        pass
# A day either side, then the UTC days themselves: the library's window is in local time, freeslot's in UTC.
if between:
    first, last = (datetime.date.fromisoformat(d) for d in between)
else:
    first, last = datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)
start, end = first - datetime.timedelta(days=1), last + datetime.timedelta(days=1)
out = []
for event in recurring_ical_events.of(calendar, components=["VEVENT"]).between(start, end):
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        continue
    when = event["DTSTART"].dt
    if isinstance(when, datetime.datetime):
        if when.tzinfo is None:
            when = when.replace(tzinfo=floating)
        out.append(when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    else:
        out.append(when.isoformat())
out = [s for s in out if first.isoformat() <= s[:10] < last.isoformat()]
print(json.dumps({"year": year, "starts": sorted(out)}))
