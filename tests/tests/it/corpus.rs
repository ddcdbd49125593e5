//! freeslot against an independent expansion on real-world calendars (`tests/corpus`): each file
//! is served as a feed, synced and listed through the api, and its occurrence starts over the
//! year of its first event, and over the coming half year (from the tests' clock), must equal
//! what python-recurring-ical-events expands.

use std::collections::{BTreeMap, HashMap};
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp, fakes, test_worker_options};

/// Files where freeslot and the independent library disagree, with what differs. A file that
/// starts agreeing must leave the list (the test says so), so the list stays true.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "issue_253_additional_recurrence_id",
        "a modification (RECURRENCE-ID 2024-07-29) of an instance its series no longer has (UNTIL \
         2024-07-20): the library drops it, freeslot shows it — the producer did write that event, \
         and RFC 5545 leaves the case undefined",
    ),
    (
        "icalendar-issue_1633_rdate_with_dates",
        "an event without DTEND (an instant) whose RDATE falls exactly on 1997-01-01T00:00Z, the \
         start of the compared year: freeslot's windows are half-open and hold what ends after \
         their start (as Google's timeMin does), so an instant at the start is outside; the library \
         includes it",
    ),
    (
        "icalendar-issue_178_custom_component_contains_other",
        "a VEVENT inside a made-up MYCOMPTOO component and no VCALENDAR at all: not an iCalendar \
         stream, so freeslot refuses the feed (422) rather than guess; the library reads the VEVENT",
    ),
];

struct Expected {
    year: i32,
    starts: Vec<String>,
    /// The occurrences over the coming half year.
    coming: Vec<String>,
}

/// The library's occurrence starts for every file, by name (one Python process for all): over
/// the year of the file's first event, and over the UTC days `[from, to)`. `None` for a file
/// without events or one the library cannot read.
fn independent(
    paths: &[std::path::PathBuf],
    (from, to): (&str, &str),
) -> HashMap<String, Option<Expected>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/expand.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(from)
        .arg(to)
        .args(paths)
        .output()
        .expect("python3 runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "expand.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: HashMap<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    all.into_iter()
        .map(|(name, v)| {
            let expected = v["year"].as_i64().map(|year| Expected {
                year: year as i32,
                starts: list(&v["starts"]),
                coming: list(&v["coming"]),
            });
            (name, expected)
        })
        .collect()
}

/// freeslot's occurrence starts over the UTC days `[from, to)` (`YYYY-MM-DD`).
async fn freeslot_starts(app: &TestApp, token: &str, days: (&str, &str)) -> Vec<String> {
    let (from, to) = (
        format!("{}T00:00:00Z", days.0),
        format!("{}T00:00:00Z", days.1),
    );
    let mut starts = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut q = vec![
            ("start", from.as_str()),
            ("end", to.as_str()),
            ("limit", "2500"),
        ];
        if let Some(p) = &page {
            q.push(("page_token", p));
        }
        let res = app.get_query("/api/events", token, &q).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        for e in body["events"].as_array().unwrap() {
            if e["status"] == "cancelled" {
                continue;
            }
            let key = match e["start_date"].as_str() {
                Some(d) => d.to_owned(),
                None => e["start"].as_str().unwrap().to_owned(),
            };
            // Only occurrences that start in the days, as the library counts them.
            if days.0 <= &key[..10] && &key[..10] < days.1 {
                starts.push(key);
            }
        }
        match body["next_page_token"].as_str() {
            Some(t) => page = Some(t.to_owned()),
            None => break,
        }
    }
    starts.sort();
    starts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_world_calendars_expand_as_an_independent_library_does() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/ics"));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "ics"))
        .collect();
    files.sort();
    // Without the library nothing is compared: say so rather than report "0 agree".
    let probe = Command::new("python3")
        .args(["-c", "import icalendar, recurring_ical_events"])
        .output()
        .expect("python3 runs (scripts/test.sh installs it)");
    assert!(
        probe.status.success(),
        "python-recurring-ical-events is not installed (scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let vars: HashMap<String, String> = [
        ("REGISTER_RATE_PER_HOUR", "0"),
        ("LOGIN_RATE_PER_MINUTE", "0"),
        ("SYNC_WINDOW_PAST_DAYS", "20000"),
        ("SYNC_WINDOW_FUTURE_DAYS", "20000"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let app = TestApp::spawn_with(Backend::Sqlite, vars, test_worker_options()).await;
    let ics = fakes::ics::start().await;
    let mut differ: BTreeMap<String, String> = BTreeMap::new();
    let mut agreed = 0;
    let mut running = 0;
    let today = tests::clock::now().date_naive();
    let half_year = (today + chrono::Duration::days(183)).to_string();
    let today = today.to_string();
    let mut expectations = independent(&files, (&today, &half_year));
    for path in &files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let Some(Some(expected)) = expectations.remove(&name) else {
            // No events, or a file the library cannot read: nothing to compare with.
            continue;
        };
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        ics.state().publish(&name, &text);
        let user = app.register_user().await;
        let res = app
            .post_json(
                "/api/auth/connect/ics",
                &json!({"url": ics.url(&format!("/{name}.ics"))}),
                Some(&user.token),
            )
            .await;
        if res.status() != StatusCode::CREATED {
            if !expected.starts.is_empty() {
                differ.insert(name, format!("connect answered {}", res.status()));
            }
            continue;
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let c = app.calendars(&user.token).await.remove(0);
            if !c["last_synced_at"].is_null() || c["sync_status"] == "error" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{name} did not sync: {c}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let (first, next) = (
            format!("{}-01-01", expected.year),
            format!("{}-01-01", expected.year + 1),
        );
        let got = freeslot_starts(&app, &user.token, (&first, &next)).await;
        // And the coming half year, where series that still run must show.
        let coming = expected.coming.clone();
        let got_coming = freeslot_starts(&app, &user.token, (&today, &half_year)).await;
        if got_coming != coming {
            differ.insert(
                name,
                format!(
                    "coming months: {} vs {} occurrences",
                    got_coming.len(),
                    coming.len()
                ),
            );
            continue;
        }
        running += usize::from(!coming.is_empty());
        if got == expected.starts {
            agreed += 1;
        } else {
            let missing: Vec<&String> = expected
                .starts
                .iter()
                .filter(|s| !got.contains(s))
                .take(3)
                .collect();
            let extra: Vec<&String> = got
                .iter()
                .filter(|s| !expected.starts.contains(s))
                .take(3)
                .collect();
            differ.insert(
                name,
                format!(
                    "{} vs {} occurrences; missing {missing:?}, extra {extra:?}",
                    got.len(),
                    expected.starts.len()
                ),
            );
        }
    }
    eprintln!(
        "{agreed} files agree ({running} with series still running in the coming half year), {} differ",
        differ.len()
    );
    for (name, why) in &differ {
        eprintln!("  {name}: {why}");
    }
    let known: BTreeMap<&str, &str> = KNOWN_DIFFERENCES.iter().copied().collect();
    let unexpected: Vec<&String> = differ
        .keys()
        .filter(|n| !known.contains_key(n.as_str()))
        .collect();
    let healed: Vec<&&str> = known.keys().filter(|n| !differ.contains_key(**n)).collect();
    assert!(
        unexpected.is_empty(),
        "files that now differ: {unexpected:?}"
    );
    assert!(
        healed.is_empty(),
        "files that agree now; take them off KNOWN_DIFFERENCES: {healed:?}"
    );
    assert!(agreed > 0 && running > 0);
}
