"""The independent expansion the corpus test compares freeslot with.

    python3 expand.py FROM TO FILE...

prints one JSON object with an entry per file (by its name without `.ics`):
{"year": Y, "starts": [...], "coming": [...]}, or {"error": "..."} for a file the library cannot read.
Y is the year of the file's first DTSTART (null without events); "starts" are the occurrences that start
in [Y-01-01, Y+1-01-01), "coming" those that start in the UTC days [FROM, TO) (YYYY-MM-DD, TO exclusive):
"YYYY-MM-DD" for an all-day occurrence, the UTC start "YYYY-MM-DDTHH:MM:SSZ" for a timed one. Floating times
are read in the file's X-WR-TIMEZONE, else UTC, as freeslot reads them. Uses icalendar and
recurring_ical_events (PyPI). One process for every file: the libraries load once.
"""

import datetime
import json
import os
import sys
import zoneinfo

import icalendar
import recurring_ical_events


def starts_between(calendar, floating, first, last):
    # A day either side, then the UTC days themselves: the library's window is in local time, freeslot's in UTC.
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
    return sorted(s for s in out if first.isoformat() <= s[:10] < last.isoformat())


def expand(path, coming_from, coming_to):
    # icalendar caches the VTIMEZONEs it has read by TZID, across calendars: a fresh provider per
    # file keeps one file's definition from deciding another's times.
    icalendar.timezone.tzp.use("zoneinfo")
    calendar = icalendar.Calendar.from_ical(open(path, "rb").read())
    years = [e["DTSTART"].dt.year for e in calendar.walk("VEVENT") if e.get("DTSTART")]
    if not years:
        return {"year": None, "starts": [], "coming": []}
    year = min(years)
    floating = datetime.timezone.utc
    if calendar.get("X-WR-TIMEZONE"):
        try:
            floating = zoneinfo.ZoneInfo(str(calendar.get("X-WR-TIMEZONE")))
        except Exception:
            pass
    return {
        "year": year,
        "starts": starts_between(calendar, floating, datetime.date(year, 1, 1), datetime.date(year + 1, 1, 1)),
        "coming": starts_between(calendar, floating, coming_from, coming_to),
    }


coming_from, coming_to = (datetime.date.fromisoformat(d) for d in sys.argv[1:3])
result = {}
for path in sys.argv[3:]:
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        result[name] = expand(path, coming_from, coming_to)
    except Exception as error:
        result[name] = {"error": f"{type(error).__name__}: {error}"}
print(json.dumps(result))
