//! CalDAV against a real server (Radicale), as a person's other clients change it: connect with
//! discovery, sync, converge after every change, a forgotten token, a changed password
//! (contract, "CalDAV calendars").

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::radicale::Radicale;
use tests::{Backend, TestApp, TestUser, backend_tests, error_code, fakes};

const BERLIN: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

fn calendar(body: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{BERLIN}{body}END:VCALENDAR\r\n"
    )
}

fn event(uid: &str, title: &str, start: &str, end: &str, extra: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:{title}\r\n\
         DTSTART;TZID=Europe/Berlin:{start}\r\nDTEND;TZID=Europe/Berlin:{end}\r\n{extra}END:VEVENT\r\n"
    )
}

/// (title, start) of the user's events in December 2026 and March 2027, sorted.
async fn seen(app: &TestApp, user: &TestUser) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (start, end) in [
        ("2026-11-30T00:00:00Z", "2026-12-21T00:00:00Z"),
        ("2027-03-15T00:00:00Z", "2027-04-05T00:00:00Z"),
    ] {
        let body: Value = app
            .get_query(
                "/api/events",
                &user.token,
                &[("start", start), ("end", end), ("limit", "500")],
            )
            .await
            .json()
            .await
            .unwrap();
        for e in body["events"].as_array().unwrap() {
            // A cancelled event is listed as cancelled and blocks nothing; it is not "seen" here.
            if e["status"] == "cancelled" {
                continue;
            }
            if e["title"] == "Vendor pitch" {
                assert_eq!(e["self_response"], "declined", "{e}");
            }
            let when = e["start_date"].as_str().or(e["start"].as_str()).unwrap();
            out.push((e["title"].as_str().unwrap().to_owned(), when.to_owned()));
        }
    }
    out.sort();
    out
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = list
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    v.sort();
    v
}

async fn a_caldav_account_syncs_exactly_what_the_server_holds(backend: Backend) {
    let mut dav = Radicale::start().await;
    dav.make_calendar("work", "Work", "#FF2968FF").await;
    dav.put(
        "work",
        "planning",
        &calendar(&event(
            "planning@x",
            "Planning",
            "20261201T090000",
            "20261201T100000",
            "",
        )),
    )
    .await;
    // Weekly, one moved, one taken out.
    dav.put(
        "work",
        "weekly",
        &calendar(&format!(
            "{}{}",
            event(
                "weekly@x",
                "Weekly",
                "20261201T100000",
                "20261201T103000",
                "RRULE:FREQ=WEEKLY;COUNT=3\r\nEXDATE;TZID=Europe/Berlin:20261215T100000\r\n"
            ),
            event(
                "weekly@x",
                "Weekly (moved)",
                "20261208T140000",
                "20261208T143000",
                "RECURRENCE-ID;TZID=Europe/Berlin:20261208T100000\r\n"
            )
        )),
    )
    .await;
    dav.put(
        "work",
        "offsite",
        &calendar(
            "BEGIN:VEVENT\r\nUID:offsite@x\r\nDTSTAMP:20261101T000000Z\r\nSUMMARY:Offsite\r\n\
             DTSTART;VALUE=DATE:20261203\r\nDTEND;VALUE=DATE:20261204\r\nEND:VEVENT\r\n",
        ),
    )
    .await;
    // 09:00 in Berlin on both sides of the change to summer time.
    dav.put(
        "work",
        "dst",
        &calendar(&event(
            "dst@x",
            "Across DST",
            "20270322T090000",
            "20270322T093000",
            "RRULE:FREQ=WEEKLY;COUNT=2\r\n",
        )),
    )
    .await;
    // An invitation the account declined: listed, blocking nothing.
    dav.put(
        "work",
        "invite",
        &calendar(&event(
            "invite@x",
            "Vendor pitch",
            "20261202T130000",
            "20261202T140000",
            "ORGANIZER:mailto:vendor@example.org\r\n\
             ATTENDEE;PARTSTAT=DECLINED:mailto:ADA@example.com\r\n",
        )),
    )
    .await;
    dav.put(
        "work",
        "called-off",
        &calendar(&event(
            "off@x",
            "Called off",
            "20261202T090000",
            "20261202T100000",
            "STATUS:CANCELLED\r\n",
        )),
    )
    .await;

    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    // Wrong password, nothing there, not CalDAV: each said in words.
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"url": dav.url("/"), "username": "ada@example.com", "password": "wrong"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "invalid_credentials");
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"url": format!("http://127.0.0.1:{closed}/"), "username": "ada@example.com", "password": "sesame"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "unreachable");
    let ics = fakes::ics::start().await;
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"url": ics.url("/nothing"), "username": "ada@example.com", "password": "sesame"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "not_caldav");
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"preset": "nextcloud", "username": "ada@example.com", "password": "sesame"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.calendars(&user.token).await.is_empty());

    // Discovery from the server's root: the principal, its home, the calendar.
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"url": dav.url("/"), "username": "ada@example.com", "password": "sesame"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let listed = body["calendars"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{body}");
    assert_eq!(listed[0]["provider"], "caldav");
    assert_eq!(listed[0]["name"], "Work");
    assert_eq!(listed[0]["color"], "#ff2968");
    assert_eq!(listed[0]["account"], "ada@example.com");
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    app.synced_calendars(&user.token).await;
    let expected_first = pairs(&[
        ("Planning", "2026-12-01T08:00:00Z"),
        ("Vendor pitch", "2026-12-02T12:00:00Z"),
        ("Weekly", "2026-12-01T09:00:00Z"),
        ("Weekly (moved)", "2026-12-08T13:00:00Z"),
        ("Offsite", "2026-12-03"),
        ("Across DST", "2027-03-22T08:00:00Z"),
        ("Across DST", "2027-03-29T07:00:00Z"),
    ]);
    assert_eq!(seen(&app, &user).await, expected_first);
    // And availability (Monday to Friday 09:00–17:00 in Berlin, the defaults): on Tuesday the
    // planning and the weekly block 09:00–10:30; on Wednesday the declined invitation and the
    // called-off meeting block nothing.
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-03T00:00:00Z"),
                ("duration", "30"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(
        answer["free"],
        json!([
            {"start": "2026-12-01T09:30:00Z", "end": "2026-12-01T16:00:00Z"},
            {"start": "2026-12-02T08:00:00Z", "end": "2026-12-02T16:00:00Z"},
        ]),
        "{answer}"
    );
    assert_eq!(answer["complete"], true, "{answer}");

    // Another client moves one, removes one, adds one.
    dav.put(
        "work",
        "planning",
        &calendar(&event(
            "planning@x",
            "Planning",
            "20261201T150000",
            "20261201T160000",
            "SEQUENCE:1\r\n",
        )),
    )
    .await;
    dav.delete("work", "offsite").await;
    dav.put(
        "work",
        "review",
        &calendar(&event(
            "review@x",
            "Review",
            "20261204T110000",
            "20261204T120000",
            "",
        )),
    )
    .await;
    let c = app.sync_calendar(&user.token, &id).await;
    assert_eq!(c["sync_status"], "idle", "{c}");
    let expected = pairs(&[
        ("Planning", "2026-12-01T14:00:00Z"),
        ("Vendor pitch", "2026-12-02T12:00:00Z"),
        ("Weekly", "2026-12-01T09:00:00Z"),
        ("Weekly (moved)", "2026-12-08T13:00:00Z"),
        ("Review", "2026-12-04T10:00:00Z"),
        ("Across DST", "2027-03-22T08:00:00Z"),
        ("Across DST", "2027-03-29T07:00:00Z"),
    ]);
    assert_eq!(seen(&app, &user).await, expected);
    // Nothing changed: still exactly that.
    app.sync_calendar(&user.token, &id).await;
    assert_eq!(seen(&app, &user).await, expected);

    // The series is rewritten without its moved instance and its exception: the resource's
    // other events go with the old version.
    dav.put(
        "work",
        "weekly",
        &calendar(&event(
            "weekly@x",
            "Weekly",
            "20261201T100000",
            "20261201T103000",
            "RRULE:FREQ=WEEKLY;COUNT=3\r\nSEQUENCE:2\r\n",
        )),
    )
    .await;
    app.sync_calendar(&user.token, &id).await;
    let mut expected: Vec<(String, String)> = expected
        .into_iter()
        .filter(|(t, _)| t != "Weekly (moved)")
        .collect();
    expected.extend(pairs(&[
        ("Weekly", "2026-12-08T09:00:00Z"),
        ("Weekly", "2026-12-15T09:00:00Z"),
    ]));
    expected.sort();
    assert_eq!(seen(&app, &user).await, expected);

    // The server forgets its sync tokens: a full read, and the same events.
    dav.forget_sync_tokens();
    dav.delete("work", "review").await;
    let c = app.sync_calendar(&user.token, &id).await;
    assert_eq!(c["sync_status"], "idle", "{c}");
    let mut without_review = expected.clone();
    without_review.retain(|(t, _)| t != "Review");
    assert_eq!(seen(&app, &user).await, without_review);

    // Called off at the server (STATUS:CANCELLED): listed as cancelled, blocking nothing.
    dav.put(
        "work",
        "planning",
        &calendar(&event(
            "planning@x",
            "Planning",
            "20261201T150000",
            "20261201T160000",
            "SEQUENCE:3\r\nSTATUS:CANCELLED\r\n",
        )),
    )
    .await;
    app.sync_calendar(&user.token, &id).await;
    let body: Value = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-02T00:00:00Z"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let planning = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == "Planning")
        .cloned()
        .unwrap_or_default();
    assert_eq!(planning["status"], "cancelled", "{body}");
    without_review.retain(|(t, _)| t != "Planning");

    // The password changes at the server: the connection needs the person.
    dav.change_password("new-sesame");
    let c = app.sync_calendar(&user.token, &id).await;
    assert_eq!(c["connection_status"], "needs_reauth", "{c}");
    assert_eq!(seen(&app, &user).await, without_review, "nothing is lost");

    // Disconnecting removes the calendar and its events.
    let res = app
        .post_json("/api/auth/disconnect/caldav", &json!({}), Some(&user.token))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert!(app.calendars(&user.token).await.is_empty());
    assert!(seen(&app, &user).await.is_empty());
}

backend_tests!(a_caldav_account_syncs_exactly_what_the_server_holds);

/// A server without `sync-collection` is followed by its ctag and ETags. Radicale has the
/// report, so the calendar is put on that path by its cursor, as a first sync against such a
/// server leaves it; from there every change converges as before.
async fn without_sync_collection_ctag_and_etags_find_the_changes(backend: Backend) {
    use sea_orm::{ActiveModelTrait, Set};
    let dav = Radicale::start().await;
    dav.make_calendar("work", "Work", "#0088CCFF").await;
    dav.put(
        "work",
        "one",
        &calendar(&event(
            "one@x",
            "One",
            "20261201T090000",
            "20261201T100000",
            "",
        )),
    )
    .await;
    dav.put(
        "work",
        "two",
        &calendar(&event(
            "two@x",
            "Two",
            "20261202T090000",
            "20261202T100000",
            "",
        )),
    )
    .await;
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"url": dav.url("/"), "username": dav.username, "password": dav.password}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    entity::calendars::ActiveModel {
        id: Set(id.parse().unwrap()),
        sync_cursor: Set(Some(r#"etags:{"ctag":null,"etags":{}}"#.to_owned())),
        ..Default::default()
    }
    .update(&app.ctx.db)
    .await
    .unwrap();
    // Every member is new to an empty list of ETags; nothing is lost or doubled.
    app.sync_calendar(&user.token, &id).await;
    let both = pairs(&[
        ("One", "2026-12-01T08:00:00Z"),
        ("Two", "2026-12-02T08:00:00Z"),
    ]);
    assert_eq!(seen(&app, &user).await, both);
    let cursor = |app: &TestApp| {
        let db = app.ctx.db.clone();
        let id = id.clone();
        async move {
            use sea_orm::EntityTrait;
            entity::calendars::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .sync_cursor
                .unwrap_or_default()
        }
    };
    assert!(
        cursor(&app).await.starts_with("etags:"),
        "{}",
        cursor(&app).await
    );
    // Nothing changed: the ctag says so.
    app.sync_calendar(&user.token, &id).await;
    assert_eq!(seen(&app, &user).await, both);
    // One changed, one gone, one new.
    dav.put(
        "work",
        "one",
        &calendar(&event(
            "one@x",
            "One",
            "20261201T130000",
            "20261201T140000",
            "SEQUENCE:1\r\n",
        )),
    )
    .await;
    dav.delete("work", "two").await;
    dav.put(
        "work",
        "three",
        &calendar(&event(
            "three@x",
            "Three",
            "20261203T090000",
            "20261203T100000",
            "",
        )),
    )
    .await;
    let c = app.sync_calendar(&user.token, &id).await;
    assert_eq!(c["sync_status"], "idle", "{c}");
    assert_eq!(
        seen(&app, &user).await,
        pairs(&[
            ("One", "2026-12-01T12:00:00Z"),
            ("Three", "2026-12-03T08:00:00Z")
        ])
    );
}

backend_tests!(without_sync_collection_ctag_and_etags_find_the_changes);
