//! Fields that parse instead of validate, shared by every use-case: holding one means it is
//! acceptable. Depends on nothing else in the crate.

use domain::{Instant, Interval, TimeZone};

/// The `[start, end)` a query asks about: end after start, at most `max_days` long.
pub fn query_range(start: Instant, end: Instant, max_days: i64) -> Result<Interval, Invalid> {
    let range = Interval::new(start, end)
        .ok_or_else(|| Invalid::new("end", "invalid_range", "end must be after start"))?;
    if range.duration() > chrono::Duration::days(max_days) {
        return Err(Invalid::new(
            "end",
            "range_too_long",
            format!("the range may cover at most {max_days} days"),
        ));
    }
    Ok(range)
}

/// A stored zone name; rows without one (or with one the tz database no longer knows) are UTC.
pub fn zone_named(name: Option<&str>) -> TimeZone {
    name.and_then(|z| TimeZone::parse(z).ok())
        .unwrap_or(TimeZone::UTC)
}

/// A field that could not be accepted; `code` is the machine-readable reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

/// An email address, trimmed and lower-cased, so that `Ada@Example.com` and `ada@example.com`
/// are one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = |why: &str| Invalid::new("email", "invalid_email", format!("email {why}"));
        let email = raw.trim().to_lowercase();
        if email.len() > 254 {
            return Err(bad("must be at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(bad("must look like name@example.com"));
        };
        if local.is_empty() || local.len() > 64 {
            return Err(bad("must have 1 to 64 characters before the @"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control())
            || local.contains(['<', '>', '(', ')', '[', ']', ',', ';', ':', '\\', '"'])
        {
            return Err(bad("must not contain spaces or special characters"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(bad("must have a domain such as example.com after the @"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of at least 10 characters. At most 1024, so hashing cost stays bounded.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 1024;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Invalid::new(
                "password",
                "weak_password",
                format!("password must be at least {} characters", Self::MIN_CHARS),
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(Invalid::new(
                "password",
                "invalid_password",
                format!("password must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A person's display name: 1 to 200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        let n = name.chars().count();
        if n == 0 || n > 200 {
            return Err(Invalid::new(
                "name",
                "invalid_name",
                "name must be 1 to 200 characters",
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(Invalid::new(
                "name",
                "invalid_name",
                "name must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A color as `#rrggbb` (stored lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Color(String);

impl Color {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let hex = raw.trim().strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Invalid::new(
                "color",
                "invalid_color",
                "`color` must look like `#3366ff`",
            ));
        }
        Ok(Self(format!("#{}", hex.to_ascii_lowercase())))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert_eq!(
            Email::parse("a.b+tag@sub.example.co.uk").unwrap().as_str(),
            "a.b+tag@sub.example.co.uk"
        );
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada smith@example.com",
            "ada@exa mple.com",
            "ada@-example.com",
            "ada@example..com",
            "<ada>@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert_eq!(
            Password::parse("123456789").unwrap_err().code,
            "weak_password"
        );
        assert!(Password::parse("1234567890").is_ok());
        // Characters, not bytes: ten umlauts are ten characters.
        assert!(Password::parse("ääääääääää").is_ok());
        assert!(Password::parse(&"x".repeat(1025)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap().into_inner(),
            "Ada Lovelace"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert!(DisplayName::parse(&"x".repeat(201)).is_err());
    }
}
