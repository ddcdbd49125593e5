//! Measures the `icalendar` crate's parser against freeslot's own reader (docs/design.md,
//! "Our own reader, not the `icalendar` crate"): which real-world files of `tests/corpus` each
//! reads, and how long each takes on the benchmark feed. See README.md.

use std::time::{Duration, Instant};

use icalendar::parser::{Component, read_calendar, unfold};

fn vevents(components: &[Component<'_>]) -> usize {
    components
        .iter()
        .map(|c| usize::from(c.name.as_str() == "VEVENT") + vevents(&c.components))
        .sum()
}

/// VEVENTs the way a plain reading of the text counts them (the truth both are held to), and
/// how many of them have a DTSTART (the ones an availability service can place in time).
fn written(text: &str) -> (usize, usize) {
    let (mut all, mut timed, mut inside, mut started) = (0, 0, false, false);
    for line in text.lines().map(str::trim) {
        if line.eq_ignore_ascii_case("BEGIN:VEVENT") {
            (inside, started) = (true, false);
            all += 1;
        } else if line.eq_ignore_ascii_case("END:VEVENT") {
            timed += usize::from(inside && started);
            inside = false;
        } else if inside && line.to_ascii_uppercase().starts_with("DTSTART") {
            started = true;
        }
    }
    (all, timed)
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let corpus = args
        .next()
        .expect("usage: icalendar-compare <corpus dir> [feed.ics]");
    let mut paths: Vec<_> = std::fs::read_dir(&corpus)
        .expect("the corpus directory")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ics"))
        .collect();
    paths.sort();
    let (mut theirs_failed, mut theirs_lost, mut ours_failed) =
        (Vec::new(), Vec::new(), Vec::new());
    for path in &paths {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let (expected, placeable) = written(&unfold(&text));
        match read_calendar(&unfold(&text)) {
            Err(e) => {
                theirs_failed.push(format!("{name}: {}", e.lines().next().unwrap_or_default()))
            }
            Ok(calendar) => {
                let seen = vevents(&calendar.components);
                if seen != expected {
                    theirs_lost.push(format!("{name}: {seen} of {expected} VEVENTs"));
                }
            }
        }
        match providers::ics::parse(&text) {
            Err(e) => ours_failed.push(format!("{name}: {e}")),
            Ok(c) if c.events.is_empty() && placeable > 0 => {
                ours_failed.push(format!("{name}: no event of {placeable} with a DTSTART"))
            }
            Ok(_) => {}
        }
    }
    println!("corpus: {} files", paths.len());
    println!("icalendar refuses {}:", theirs_failed.len());
    theirs_failed.iter().for_each(|l| println!("  {l}"));
    println!("icalendar reads other than written {}:", theirs_lost.len());
    theirs_lost.iter().for_each(|l| println!("  {l}"));
    println!(
        "freeslot refuses, or reads no event of those with a DTSTART, {}:",
        ours_failed.len()
    );
    ours_failed.iter().for_each(|l| println!("  {l}"));

    if let Some(feed) = args.next() {
        let text = std::fs::read_to_string(&feed).expect("the feed");
        let unfold_only = time(10, || {
            std::hint::black_box(unfold(&text));
        });
        let theirs = time(10, || {
            let unfolded = unfold(&text);
            let calendar = read_calendar(&unfolded).expect("icalendar reads the feed");
            std::hint::black_box(vevents(&calendar.components));
        });
        let ours = time(10, || {
            std::hint::black_box(
                providers::ics::parse(&text)
                    .expect("a calendar")
                    .events
                    .len(),
            );
        });
        println!(
            "feed {:.1} MB: icalendar unfold {unfold_only:.1?}, unfold + read_calendar {theirs:.1?}; \
             freeslot's whole reader (content lines, zones, overrides, events) {ours:.1?}",
            text.len() as f64 / 1e6
        );
    }
}
