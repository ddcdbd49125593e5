//! The ICS reader on arbitrary bytes: it must answer (events or an error) and never panic, hang
//! or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = providers::ics::parse(&text);
});
