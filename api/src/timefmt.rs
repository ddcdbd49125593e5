//! RFC 3339 times in a zone, written straight into a buffer. The availability answer can hold
//! thousands of them, and chrono's general formatter was a fifth of that route's time.

use chrono::{DateTime, Datelike, Offset, TimeZone, Timelike, Utc};

/// Appends `t` as seen in `tz`, to the second: `2026-12-01T09:00:00+01:00`, or `…Z` when the
/// offset is zero (exactly as `to_rfc3339_opts(SecondsFormat::Secs, true)` writes it).
pub fn push_rfc3339(buf: &mut String, t: DateTime<Utc>, tz: chrono_tz::Tz) {
    let offset = tz
        .offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc();
    let local = t.naive_utc() + chrono::Duration::seconds(i64::from(offset));
    let year = local.year();
    if (0..=9999).contains(&year) {
        push_digits(buf, year as u32, 4);
    } else {
        // Outside four digits chrono writes a sign and more digits; such times never reach here in
        // practice, but stay correct if they do.
        buf.push_str(
            &t.with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        return;
    }
    buf.push('-');
    push_digits(buf, local.month(), 2);
    buf.push('-');
    push_digits(buf, local.day(), 2);
    buf.push('T');
    push_digits(buf, local.hour(), 2);
    buf.push(':');
    push_digits(buf, local.minute(), 2);
    buf.push(':');
    push_digits(buf, local.second(), 2);
    if offset == 0 {
        buf.push('Z');
    } else {
        buf.push(if offset < 0 { '-' } else { '+' });
        let minutes = offset.unsigned_abs() / 60;
        push_digits(buf, minutes / 60, 2);
        buf.push(':');
        push_digits(buf, minutes % 60, 2);
    }
}

fn push_digits(buf: &mut String, value: u32, width: u32) {
    for position in (0..width).rev() {
        let digit = (value / 10u32.pow(position)) % 10;
        buf.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_chrono_everywhere() {
        let zones: [chrono_tz::Tz; 6] = [
            chrono_tz::UTC,
            chrono_tz::Europe::Berlin,
            chrono_tz::America::New_York,
            chrono_tz::Asia::Kathmandu,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Europe::London,
        ];
        let mut t = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        while t < Utc.with_ymd_and_hms(2028, 1, 1, 0, 0, 0).unwrap() {
            for tz in zones {
                let mut mine = String::new();
                push_rfc3339(&mut mine, t, tz);
                assert_eq!(
                    mine,
                    t.with_timezone(&tz)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                );
            }
            t += chrono::Duration::minutes(6 * 60 + 17);
        }
    }
}
