//! iCalendar as real producers write it ("Reading calendars from the real world"): series that
//! began long ago and never end, DTSTART off its rule, RDATE without a rule and as a PERIOD,
//! a moved occurrence of an all-day series named by a date-only RECURRENCE-ID.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp, backend_tests, fakes};

const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//real world//EN\r\n\
X-WR-TIMEZONE:Europe/Berlin\r\n\
BEGIN:VTIMEZONE\r\nTZID:Canberra, Melbourne, Sydney\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\n\
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+1000\r\nTZOFFSETTO:+1100\r\n\
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nUID:syd@x\r\nDTSTART;TZID=\"Canberra, Melbourne, Sydney\":20261124T090000\r\n\
DTEND;TZID=\"Canberra, Melbourne, Sydney\":20261124T100000\r\nSUMMARY:Sydney call\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:ber@x\r\nDTSTART;TZID=/freeassociation.sourceforge.net/Europe/Berlin:20261125T090000\r\n\
DTEND;TZID=/freeassociation.sourceforge.net/Europe/Berlin:20261125T100000\r\nSUMMARY:Berlin sync\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:lis@x\r\nDTSTART;TZID=Europe/lisbon:20261125T090000\r\n\
DTEND;TZID=Europe/lisbon:20261125T100000\r\nSUMMARY:Lisbon sync\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:two@x\r\nDTSTART:20261123T070000Z\r\nDTEND:20261123T073000Z\r\n\
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2\r\nRRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=1\r\nSUMMARY:Two rules\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:taf@x\r\nDTSTART:20261116T100000Z\r\nDTEND:20261116T110000Z\r\n\
RRULE:FREQ=WEEKLY\r\nSUMMARY:Weekly 1:1\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:taf@x\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20261130T100000Z\r\n\
DTSTART:20261130T140000Z\r\nDTEND:20261130T150000Z\r\nSUMMARY:Weekly 1:1 (new time)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:tafc@x\r\nDTSTART:20261123T090000Z\r\nDTEND:20261123T093000Z\r\n\
RRULE:FREQ=DAILY;COUNT=5\r\nSUMMARY:Five mornings\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:tafc@x\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20261125T090000Z\r\n\
DTSTART:20261125T150000Z\r\nDTEND:20261125T153000Z\r\nSUMMARY:Five mornings (afternoons now)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:tafd@x\r\nDTSTART;VALUE=DATE:20261123\r\nDTEND;VALUE=DATE:20261124\r\n\
RRULE:FREQ=DAILY\r\nSUMMARY:Focus day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:tafd@x\r\nRECURRENCE-ID;VALUE=DATE;RANGE=THISANDFUTURE:20261126\r\n\
DTSTART;VALUE=DATE:20261127\r\nDTEND;VALUE=DATE:20261128\r\nSUMMARY:Focus day (a day later)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:mars@x\r\nDTSTART;TZID=Mars/Olympus:20261126T090000\r\n\
DTEND;TZID=Mars/Olympus:20261126T100000\r\nSUMMARY:Martian time\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:old@x\r\nDTSTART;TZID=Europe/Berlin:20160301T093000\r\n\
DTEND;TZID=Europe/Berlin:20160301T094500\r\nRRULE:FREQ=DAILY\r\nSUMMARY:Standup since 2016\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:allday@x\r\nDTSTART;VALUE=DATE:20261102\r\nDTEND;VALUE=DATE:20261103\r\n\
RRULE:FREQ=WEEKLY;COUNT=6\r\nSUMMARY:Gym day\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:allday@x\r\nRECURRENCE-ID;VALUE=DATE:20261123\r\nDTSTART;VALUE=DATE:20261125\r\n\
DTEND;VALUE=DATE:20261126\r\nSUMMARY:Gym day (moved)\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:rdates@x\r\nDTSTART:20261124T100000Z\r\nDTEND:20261124T110000Z\r\n\
RDATE;VALUE=PERIOD:20261126T140000Z/20261126T150000Z\r\nSUMMARY:Two talks\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:offrule@x\r\nDTSTART:20261123T150000Z\r\nDTEND:20261123T153000Z\r\n\
RRULE:FREQ=WEEKLY;BYDAY=WE;COUNT=2\r\nSUMMARY:Kickoff\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

async fn real_world_series_read_as_their_producers_meant(backend: Backend) {
    let ics = fakes::ics::start().await;
    ics.state().publish("real", FEED);
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/real.ics")}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    app.synced_calendars(&user.token).await;
    // The one zone nothing resolves is named, and read as UTC.
    let said = app.calendars(&user.token).await[0]["last_error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        said.contains("\"Mars/Olympus\"") && said.contains("UTC"),
        "{said}"
    );
    // Read again unchanged (304): the warning still holds, and stays.
    let id = app.calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let requests = ics.state().requests.len();
    let again = app.sync_calendar(&user.token, &id).await;
    assert_eq!(again["sync_status"], "idle", "{again}");
    assert!(ics.state().requests.len() > requests);
    assert_eq!(again["last_error"].as_str(), Some(said.as_str()), "{again}");
    // The test clock's week: Monday 2026-11-23 to Monday 2026-11-30, both included.
    let res = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-11-23T00:00:00Z"),
                ("end", "2026-12-01T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let seen: Vec<(String, String)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let when = e["start_date"].as_str().or(e["start"].as_str()).unwrap();
            (e["title"].as_str().unwrap().to_owned(), when.to_owned())
        })
        .collect();
    let of = |title: &str| -> Vec<&str> {
        seen.iter()
            .filter(|(t, _)| t == title)
            .map(|(_, w)| w.as_str())
            .collect()
    };
    // Ten years on, every morning at 09:30 Berlin (08:30 UTC in winter).
    let standups = of("Standup since 2016");
    assert_eq!(standups.len(), 8, "{seen:?}");
    assert!(
        standups.iter().all(|s| s.ends_with("T08:30:00Z")),
        "{standups:?}"
    );
    // The Monday of 23 November moved to Wednesday; the series' other Monday stays.
    assert_eq!(of("Gym day"), ["2026-11-30"], "{seen:?}");
    assert_eq!(of("Gym day (moved)"), ["2026-11-25"], "{seen:?}");
    // RDATE without RRULE, as a PERIOD: DTSTART and the RDATE.
    assert_eq!(
        of("Two talks"),
        ["2026-11-24T10:00:00Z", "2026-11-26T14:00:00Z"],
        "{seen:?}"
    );
    // Zones: Outlook's own definition (09:00 in Sydney's summer is 22:00 UTC the day before), a
    // vendor prefix, odd case.
    assert_eq!(of("Sydney call"), ["2026-11-23T22:00:00Z"], "{seen:?}");
    assert_eq!(of("Berlin sync"), ["2026-11-25T08:00:00Z"], "{seen:?}");
    assert_eq!(of("Lisbon sync"), ["2026-11-25T09:00:00Z"], "{seen:?}");
    assert_eq!(of("Martian time"), ["2026-11-26T09:00:00Z"], "{seen:?}");
    // RANGE=THISANDFUTURE: the old time until the change, the new one from it on.
    assert_eq!(of("Weekly 1:1"), ["2026-11-23T10:00:00Z"], "{seen:?}");
    assert_eq!(
        of("Weekly 1:1 (new time)"),
        ["2026-11-30T14:00:00Z"],
        "{seen:?}"
    );
    // …with a COUNT: the two before the change keep their time, the remaining three move.
    assert_eq!(
        of("Five mornings"),
        ["2026-11-23T09:00:00Z", "2026-11-24T09:00:00Z"],
        "{seen:?}"
    );
    assert_eq!(
        of("Five mornings (afternoons now)"),
        [
            "2026-11-25T15:00:00Z",
            "2026-11-26T15:00:00Z",
            "2026-11-27T15:00:00Z"
        ],
        "{seen:?}"
    );
    // …of an all-day series (dates in the calendar's zone, Europe/Berlin): every day from the
    // 26th on is a day later, so the 26th itself is free.
    assert_eq!(
        of("Focus day"),
        ["2026-11-23", "2026-11-24", "2026-11-25"],
        "{seen:?}"
    );
    assert_eq!(
        of("Focus day (a day later)"),
        [
            "2026-11-27",
            "2026-11-28",
            "2026-11-29",
            "2026-11-30",
            "2026-12-01"
        ],
        "{seen:?}"
    );
    // Two RRULEs: Mondays and a Friday, merged.
    assert_eq!(
        of("Two rules"),
        [
            "2026-11-23T07:00:00Z",
            "2026-11-27T07:00:00Z",
            "2026-11-30T07:00:00Z"
        ],
        "{seen:?}"
    );
    // DTSTART on a Monday of a Wednesday rule: Monday counts as the first of two.
    assert_eq!(
        of("Kickoff"),
        ["2026-11-23T15:00:00Z", "2026-11-25T15:00:00Z"],
        "{seen:?}"
    );
}

/// A manual series without COUNT or UNTIL repeats without end (contract, "Manual events").
async fn a_manual_series_without_end_never_ends(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    app.create_event(
        &user.token,
        json!({"title": "Weekly review", "start": "2019-01-07T09:00:00+01:00",
               "end": "2019-01-07T10:00:00+01:00", "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY"}),
    )
    .await;
    let res = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-11-23T00:00:00Z"),
                ("end", "2026-11-24T00:00:00Z"),
            ],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let starts: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["start"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["2026-11-23T08:00:00Z"], "{body}");
}

backend_tests!(
    real_world_series_read_as_their_producers_meant,
    a_manual_series_without_end_never_ends,
);
