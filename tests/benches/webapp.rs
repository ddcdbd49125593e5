//! The web app's weight and the week view's drawing time, in headless Chromium on this machine:
//! a week of 300 events (overlapping in places, across the user's calendars), drawn 20 times.
//! Run: `cargo bench -p tests --bench webapp` (needs Chromium and ChromeDriver, which
//! `scripts/test.sh` installs; numbers in docs/benchmarks.md).

use chrono::{Datelike, Duration};
use chrono_tz::Europe::Berlin;
use serde_json::{Value, json};
use tests::browser::Browser;
use tests::{Backend, TestApp};

const EVENTS: i64 = 300;
const DRAWS: usize = 20;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let user = app.register_user().await;
    let today = tests::clock::now().with_timezone(&Berlin).date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday().into());
    // 300 events over seven days: ~43 a day from 07:00, 20 to 90 minutes long, starting every
    // 20 minutes, so that blocks overlap in twos and threes.
    for n in 0..EVENTS {
        let day = monday + Duration::days(n % 7);
        let slot = n / 7;
        let start = 7 * 60 + slot * 20;
        let length = 20 + (n * 37) % 71;
        let hm = |m: i64| format!("{:02}:{:02}", (m / 60) % 24, m % 60);
        let body = json!({"title": format!("Meeting {n}"),
            "start": tests::dates::berlin(day, &hm(start)),
            "end": tests::dates::berlin(day, &hm((start + length).min(23 * 60 + 59)))});
        app.create_event(&user.token, body).await;
    }

    let browser = Browser::start().await;
    browser.set_window_size(1366, 900).await;
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("Sign in to freeslot").await;
    let first_load: Value = browser
        .execute(
            "const entries = [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')];
             return {transfer: entries.reduce((n, e) => n + e.transferSize, 0),
                     body: entries.reduce((n, e) => n + e.decodedBodySize, 0), files: entries.length};",
            json!([]),
        )
        .await;
    browser
        .execute(
            "sessionStorage.setItem('freeslot.access_token', arguments[0]); location.reload();",
            json!([user.token]),
        )
        .await;
    let (mut render, mut layout) = (Vec::new(), Vec::new());
    for _ in 0..DRAWS {
        let both = browser
            .wait_until(
                "300 events drawn",
                "const g = document.querySelector('.week-grid');
                 return g && document.querySelectorAll('.event').length >= 300 && g.dataset.layoutMs
                   ? g.dataset.renderMs + '/' + g.dataset.layoutMs : false;",
                json!([]),
            )
            .await;
        let (r, l) = both.as_str().unwrap().split_once('/').unwrap();
        render.push(r.parse::<f64>().unwrap());
        layout.push(l.parse::<f64>().unwrap());
        // Draw again: the old grid goes, the new one is measured.
        browser
            .execute("document.querySelector('.week-grid').remove()", json!([]))
            .await;
        browser.click_text("This week").await;
    }
    let blocks = browser
        .wait_until(
            "the last draw",
            "return document.querySelector('.week-grid') && document.querySelectorAll('.event').length",
            json!([]),
        )
        .await;
    println!("first load (no cache): {first_load}");
    println!(
        "first draw after the page loaded: DOM build {:.1} ms, with style and layout {:.1} ms; the later draws' max with layout {:.1} ms",
        render[0],
        layout[0],
        layout[1..].iter().cloned().fold(0.0, f64::max),
    );
    println!(
        "week of {EVENTS} events ({blocks} blocks), {DRAWS} draws: DOM build median {:.1} ms (max {:.1}); with style and layout median {:.1} ms (max {:.1})",
        median(render.clone()),
        render.iter().cloned().fold(0.0, f64::max),
        median(layout.clone()),
        layout.iter().cloned().fold(0.0, f64::max),
    );
    browser.quit().await;
}
