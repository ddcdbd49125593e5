//! Typed configuration from environment variables (and `.env`), validated once at start-up.
//!
//! Every variable of the contract is read here and nowhere else. A bad value is reported with
//! the variable's name and what is wrong with it.

use std::net::SocketAddr;
use std::time::Duration;

use base64::Engine;
use url::Url;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://freeslot.db?mode=rwc";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var}: {problem}")]
    Invalid { var: &'static str, problem: String },
    #[error("{var} is required when {why}")]
    Missing { var: &'static str, why: String },
    #[error("could not keep the generated secrets in {path}: {source}")]
    SecretsFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn invalid(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        var,
        problem: problem.into(),
    }
}

/// A 32-byte AES-256-GCM key, as given base64-encoded in `TOKEN_ENCRYPTION_KEY`.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptionKey(pub [u8; 32]);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(<redacted>)")
    }
}

impl EncryptionKey {
    pub fn parse(var: &'static str, value: &str) -> Result<Self, ConfigError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value.trim()))
            .map_err(|_| {
                invalid(
                    var,
                    "must be base64 (for example from `openssl rand -base64 32`)",
                )
            })?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            invalid(
                var,
                format!("must decode to exactly 32 bytes, got {}", b.len()),
            )
        })?;
        Ok(Self(key))
    }

    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }
}

/// The HS256 key for access tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSecret(pub String);

impl std::fmt::Debug for JwtSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtSecret(<redacted>)")
    }
}

impl JwtSecret {
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        if value.len() < 32 {
            return Err(invalid(
                "JWT_SECRET",
                format!(
                    "must be at least 32 characters (256 bits for HS256), got {}",
                    value.len()
                ),
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// An OAuth client registered with a provider, plus the endpoints it talks to.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    pub client_secret: String,
    pub auth_url: Url,
    pub token_url: Url,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("auth_url", &self.auth_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderSettings {
    /// None: the provider is disabled (its client id and secret are unset).
    pub google: Option<OAuthClient>,
    pub google_api_base_url: Url,
    /// Where a Google grant is revoked on disconnect (not in the contract's table; defaults to
    /// the token URL's `/revoke` sibling, which is Google's own layout).
    pub google_revoke_url: Url,
    pub microsoft: Option<OAuthClient>,
    pub microsoft_tenant_id: String,
    pub microsoft_graph_base_url: Url,
    /// None: Cal.com connects with the user's API key.
    pub calcom: Option<OAuthClient>,
    pub calcom_api_base_url: Url,
}

#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub redis_url: Option<String>,
    /// Name of the job queue (`JOB_QUEUE`, default `freeslot`): deployments sharing one Redis
    /// keep apart by name.
    pub job_queue: String,
    pub bind_addr: SocketAddr,
    pub public_base_url: Url,
    pub frontend_url: Url,
    /// None: generated and kept in the embedded secrets file (SQLite only).
    pub jwt_secret: Option<JwtSecret>,
    pub jwt_ttl: Duration,
    pub token_encryption_key: Option<EncryptionKey>,
    pub token_encryption_keys_old: Vec<EncryptionKey>,
    pub providers: ProviderSettings,
    pub sync_interval: Duration,
    /// How far back and ahead a calendar is kept in sync.
    pub sync_window_past_days: u64,
    pub sync_window_future_days: u64,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub access: AccessSettings,
    /// E-mail alerts (`SMTP_URL` and `ALERT_FROM`); none when unset.
    pub alerts: Option<AlertSettings>,
    /// `METRICS_TOKEN`: when set, `/metrics` needs `Authorization: Bearer <it>`.
    pub metrics_token: Option<String>,
    /// `METRICS_ADDR`: where a `freeslot worker` serves `/metrics` (none: it does not).
    pub metrics_addr: Option<SocketAddr>,
}

/// How alerts leave: `smtp://` (STARTTLS), `smtps://` (TLS) or `smtp+plain://` (a local relay).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpSecurity {
    StartTls,
    Tls,
    Plain,
}

/// `SMTP_URL` parsed, and the sender; the password never shows in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct AlertSettings {
    pub security: SmtpSecurity,
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// `ALERT_FROM`: `freeslot <alerts@example.com>` or a bare address.
    pub from: String,
}

impl std::fmt::Debug for AlertSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertSettings")
            .field("security", &self.security)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .field("from", &self.from)
            .finish()
    }
}

impl AlertSettings {
    fn parse(smtp_url: &str, from: Option<String>) -> Result<Self, ConfigError> {
        let url = Url::parse(smtp_url).map_err(|e| invalid("SMTP_URL", e.to_string()))?;
        let (security, default_port) = match url.scheme() {
            "smtp" => (SmtpSecurity::StartTls, 587),
            "smtps" => (SmtpSecurity::Tls, 465),
            "smtp+plain" => (SmtpSecurity::Plain, 25),
            other => {
                return Err(invalid(
                    "SMTP_URL",
                    format!("`{other}://` is not smtp://, smtps:// or smtp+plain://"),
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| invalid("SMTP_URL", "names no host"))?
            .to_owned();
        let decode = |v: &str| percent_decode(v);
        let from = from.ok_or_else(|| ConfigError::Missing {
            var: "ALERT_FROM",
            why: "SMTP_URL is set (the alerts' sender)".into(),
        })?;
        if from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(invalid(
                "ALERT_FROM",
                "must be an address such as alerts@example.com or `freeslot <alerts@example.com>`",
            ));
        }
        Ok(Self {
            security,
            host,
            port: url.port().unwrap_or(default_port),
            username: (!url.username().is_empty()).then(|| decode(url.username())),
            password: url.password().map(decode),
            from,
        })
    }
}

fn percent_decode(v: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", v.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Who may create accounts, how fast one client may try, and where users' URLs may point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessSettings {
    /// `REGISTRATION=open` (default); when closed only the first account can still be created.
    pub registration_open: bool,
    /// `REGISTER_RATE_PER_HOUR` (default 20; 0: no limit) registrations per client address.
    pub register_rate_per_hour: u64,
    /// `LOGIN_RATE_PER_MINUTE` (default 30; 0: no limit) login attempts per client address.
    pub login_rate_per_minute: u64,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `FEEDS_ALLOW_PRIVATE=true` lets feed and CalDAV URLs reach internal addresses.
    pub feeds_allow_private: bool,
    /// `WEBHOOK_ALLOW_HTTP=true` lets webhook endpoints be plain `http` (otherwise `https` only).
    pub webhooks_allow_http: bool,
    /// `WEBHOOK_ALLOW_PRIVATE=true` lets webhook endpoints be internal addresses.
    pub webhooks_allow_private: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("job_queue", &self.job_queue)
            .field("bind_addr", &self.bind_addr)
            .field("public_base_url", &self.public_base_url.as_str())
            .field("frontend_url", &self.frontend_url.as_str())
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "<set>"))
            .field("jwt_ttl", &self.jwt_ttl)
            .field(
                "token_encryption_key",
                &self.token_encryption_key.as_ref().map(|_| "<set>"),
            )
            .field(
                "token_encryption_keys_old",
                &self.token_encryption_keys_old.len(),
            )
            .field("providers", &self.providers)
            .field("sync_interval", &self.sync_interval)
            .field("sync_window_past_days", &self.sync_window_past_days)
            .field("sync_window_future_days", &self.sync_window_future_days)
            .field("log_filter", &self.log_filter)
            .field("log_format", &self.log_format)
            .field("access", &self.access)
            .field("alerts", &self.alerts)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<set>"),
            )
            .field("metrics_addr", &self.metrics_addr)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs.
pub fn redact_url(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_owned(),
    }
}

impl Settings {
    /// Reads `.env` (if present) and then the process environment; the environment wins.
    pub fn from_env() -> Result<Self, ConfigError> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds the settings from any source of variables; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "DATABASE_URL",
                "must start with sqlite:, postgres:// or postgresql://",
            ));
        }
        let redis_url = get("REDIS_URL");
        if let Some(url) = &redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(invalid(
                "REDIS_URL",
                "must start with redis:// or rediss://",
            ));
        }

        let job_queue = get("JOB_QUEUE").unwrap_or_else(|| "freeslot".to_owned());
        if !job_queue
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c))
        {
            return Err(invalid(
                "JOB_QUEUE",
                "may only contain letters, digits, `-`, `_`, `:` and `.`",
            ));
        }

        let bind_addr = get("BIND_ADDR")
            .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
            .parse::<SocketAddr>()
            .map_err(|e| {
                invalid(
                    "BIND_ADDR",
                    format!("must be host:port such as 127.0.0.1:8080 ({e})"),
                )
            })?;

        let metrics_addr = get("METRICS_ADDR")
            .map(|raw| {
                raw.parse::<SocketAddr>().map_err(|e| {
                    invalid(
                        "METRICS_ADDR",
                        format!("must be host:port such as 127.0.0.1:9090 ({e})"),
                    )
                })
            })
            .transpose()?;
        let metrics_token = get("METRICS_TOKEN").map(|t| t.trim().to_owned());

        let public_base_url = http_url(
            "PUBLIC_BASE_URL",
            &get("PUBLIC_BASE_URL").unwrap_or_else(|| "http://localhost:8080".to_owned()),
        )?;
        let frontend_url = match get("FRONTEND_URL") {
            Some(v) => http_url("FRONTEND_URL", &v)?,
            None => public_base_url.clone(),
        };

        let jwt_secret = get("JWT_SECRET")
            .map(|v| JwtSecret::parse(&v))
            .transpose()?;
        let jwt_ttl =
            Duration::from_secs(60 * positive("JWT_TTL_MINUTES", get("JWT_TTL_MINUTES"), 24 * 60)?);
        let token_encryption_key = get("TOKEN_ENCRYPTION_KEY")
            .map(|v| EncryptionKey::parse("TOKEN_ENCRYPTION_KEY", &v))
            .transpose()?;
        let token_encryption_keys_old = get("TOKEN_ENCRYPTION_KEYS_OLD")
            .map(|list| {
                list.split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| EncryptionKey::parse("TOKEN_ENCRYPTION_KEYS_OLD", k))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();

        let tenant = get("MICROSOFT_TENANT_ID").unwrap_or_else(|| "common".to_owned());
        let ms_url = |var: &'static str, default: &str| -> Result<Url, ConfigError> {
            let raw = get(var).unwrap_or_else(|| default.to_owned());
            http_url(var, &raw.replace("{tenant}", &tenant))
        };
        let providers = ProviderSettings {
            google: oauth_client(
                &get,
                ("GOOGLE_CLIENT_ID", "GOOGLE_CLIENT_SECRET"),
                (
                    "GOOGLE_AUTH_URL",
                    url_or(
                        "GOOGLE_AUTH_URL",
                        &get,
                        "https://accounts.google.com/o/oauth2/v2/auth",
                    )?,
                ),
                (
                    "GOOGLE_TOKEN_URL",
                    url_or(
                        "GOOGLE_TOKEN_URL",
                        &get,
                        "https://oauth2.googleapis.com/token",
                    )?,
                ),
            )?,
            google_revoke_url: match get("GOOGLE_REVOKE_URL") {
                Some(v) => http_url("GOOGLE_REVOKE_URL", &v)?,
                None => {
                    let token = url_or(
                        "GOOGLE_TOKEN_URL",
                        &get,
                        "https://oauth2.googleapis.com/token",
                    )?;
                    token
                        .join("revoke")
                        .map_err(|e| invalid("GOOGLE_TOKEN_URL", e.to_string()))?
                }
            },
            google_api_base_url: url_or(
                "GOOGLE_API_BASE_URL",
                &get,
                "https://www.googleapis.com/calendar/v3",
            )?,
            microsoft: oauth_client(
                &get,
                ("MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET"),
                (
                    "MICROSOFT_AUTH_URL",
                    ms_url(
                        "MICROSOFT_AUTH_URL",
                        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
                    )?,
                ),
                (
                    "MICROSOFT_TOKEN_URL",
                    ms_url(
                        "MICROSOFT_TOKEN_URL",
                        "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
                    )?,
                ),
            )?,
            microsoft_graph_base_url: url_or(
                "MICROSOFT_GRAPH_BASE_URL",
                &get,
                "https://graph.microsoft.com/v1.0",
            )?,
            microsoft_tenant_id: tenant.clone(),
            calcom: oauth_client(
                &get,
                ("CALCOM_CLIENT_ID", "CALCOM_CLIENT_SECRET"),
                (
                    "CALCOM_AUTH_URL",
                    url_or(
                        "CALCOM_AUTH_URL",
                        &get,
                        "https://app.cal.com/auth/oauth2/authorize",
                    )?,
                ),
                (
                    "CALCOM_TOKEN_URL",
                    url_or(
                        "CALCOM_TOKEN_URL",
                        &get,
                        "https://api.cal.com/v2/auth/oauth2/token",
                    )?,
                ),
            )?,
            calcom_api_base_url: url_or("CALCOM_API_BASE_URL", &get, "https://api.cal.com/v2")?,
        };

        let sync_interval = Duration::from_secs(
            60 * positive("SYNC_INTERVAL_MINUTES", get("SYNC_INTERVAL_MINUTES"), 15)?,
        );
        let sync_window_past_days =
            positive("SYNC_WINDOW_PAST_DAYS", get("SYNC_WINDOW_PAST_DAYS"), 90)?;
        let sync_window_future_days = positive(
            "SYNC_WINDOW_FUTURE_DAYS",
            get("SYNC_WINDOW_FUTURE_DAYS"),
            365,
        )?;
        let log_filter = get("RUST_LOG").unwrap_or_else(|| "info".to_owned());
        let log_format = match get("LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(invalid(
                    "LOG_FORMAT",
                    format!("must be `pretty` or `json`, got `{other}`"),
                ));
            }
        };

        let registration_open = match get("REGISTRATION").as_deref().map(str::trim) {
            None | Some("open") => true,
            Some("closed") => false,
            Some(other) => {
                return Err(invalid(
                    "REGISTRATION",
                    format!("must be `open` or `closed`, got `{other}`"),
                ));
            }
        };
        let trusted_proxies = get("TRUSTED_PROXIES")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        p.parse::<ipnet::IpNet>()
                            .or_else(|_| p.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                            .map(|net| net.trunc())
                            .map_err(|_| {
                                invalid(
                                    "TRUSTED_PROXIES",
                                    format!("`{p}` is not an address or CIDR such as 10.0.0.0/8"),
                                )
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let access = AccessSettings {
            registration_open,
            register_rate_per_hour: whole(
                "REGISTER_RATE_PER_HOUR",
                get("REGISTER_RATE_PER_HOUR"),
                20,
            )?,
            login_rate_per_minute: whole(
                "LOGIN_RATE_PER_MINUTE",
                get("LOGIN_RATE_PER_MINUTE"),
                30,
            )?,
            trusted_proxies,
            feeds_allow_private: boolean("FEEDS_ALLOW_PRIVATE", get("FEEDS_ALLOW_PRIVATE"))?,
            webhooks_allow_http: boolean("WEBHOOK_ALLOW_HTTP", get("WEBHOOK_ALLOW_HTTP"))?,
            webhooks_allow_private: boolean("WEBHOOK_ALLOW_PRIVATE", get("WEBHOOK_ALLOW_PRIVATE"))?,
        };

        let alerts = get("SMTP_URL")
            .map(|url| AlertSettings::parse(&url, get("ALERT_FROM")))
            .transpose()?;

        Ok(Self {
            database_url,
            redis_url,
            job_queue,
            bind_addr,
            public_base_url,
            frontend_url,
            jwt_secret,
            jwt_ttl,
            token_encryption_key,
            token_encryption_keys_old,
            providers,
            sync_interval,
            sync_window_past_days,
            sync_window_future_days,
            log_filter,
            log_format,
            access,
            alerts,
            metrics_token,
            metrics_addr,
        })
    }

    /// The embedded mode: SQLite holds the data and (without `REDIS_URL`) the job queue.
    pub fn is_embedded(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// `SYNC_INTERVAL_MINUTES` as a time span (for comparing with times read from the clock).
    pub fn sync_every(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.sync_interval).unwrap_or(chrono::Duration::minutes(15))
    }

    /// `PUBLIC_BASE_URL` joined with an absolute path such as `/api/auth/callback/google`.
    pub fn public_url(&self, path: &str) -> String {
        format!(
            "{}{}",
            self.public_base_url.as_str().trim_end_matches('/'),
            path
        )
    }
}

fn http_url(var: &'static str, value: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(value.trim())
        .map_err(|e| invalid(var, format!("`{value}` is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(
            var,
            format!("`{value}` must be an http(s) URL with a host"),
        ));
    }
    Ok(url)
}

fn url_or(
    var: &'static str,
    get: &impl Fn(&str) -> Option<String>,
    default: &str,
) -> Result<Url, ConfigError> {
    http_url(var, &get(var).unwrap_or_else(|| default.to_owned()))
}

fn positive(var: &'static str, value: Option<String>, default: u64) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(invalid(
                var,
                format!("must be a whole number above 0, got `{v}`"),
            )),
        },
    }
}

/// A count that may be 0 (which turns a limit off).
fn whole(var: &'static str, value: Option<String>, default: u64) -> Result<u64, ConfigError> {
    match value {
        None => Ok(default),
        Some(v) => v.trim().parse::<u64>().map_err(|_| {
            invalid(
                var,
                format!("must be a whole number (0 or more), got `{v}`"),
            )
        }),
    }
}

fn boolean(var: &'static str, value: Option<String>) -> Result<bool, ConfigError> {
    match value
        .as_deref()
        .map(|v| v.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("false" | "0" | "no" | "off") => Ok(false),
        Some("true" | "1" | "yes" | "on") => Ok(true),
        Some(_) => Err(invalid(
            var,
            format!(
                "must be `true` or `false`, got `{}`",
                value.unwrap_or_default()
            ),
        )),
    }
}

/// Both halves of a client registration, or neither: half a registration is a mistake worth a clear error.
fn oauth_client(
    get: &impl Fn(&str) -> Option<String>,
    (id_var, secret_var): (&'static str, &'static str),
    (_, auth_url): (&'static str, Url),
    (_, token_url): (&'static str, Url),
) -> Result<Option<OAuthClient>, ConfigError> {
    match (get(id_var), get(secret_var)) {
        (None, None) => Ok(None),
        (Some(client_id), Some(client_secret)) => Ok(Some(OAuthClient {
            client_id,
            client_secret,
            auth_url,
            token_url,
        })),
        (Some(_), None) => Err(ConfigError::Missing {
            var: secret_var,
            why: format!("{id_var} is set"),
        }),
        (None, Some(_)) => Err(ConfigError::Missing {
            var: id_var,
            why: format!("{secret_var} is set"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert!(s.is_embedded());
        assert_eq!(s.redis_url, None);
        assert_eq!(s.bind_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.public_url("/api/x"), "http://localhost:8080/api/x");
        assert_eq!(s.frontend_url, s.public_base_url);
        assert_eq!(s.sync_interval, Duration::from_secs(15 * 60));
        assert!(s.providers.google.is_none() && s.providers.microsoft.is_none());
        assert_eq!(s.log_format, LogFormat::Pretty);
        assert!(s.access.registration_open && !s.access.feeds_allow_private);
        assert!(!s.access.webhooks_allow_http && !s.access.webhooks_allow_private);
        assert_eq!(
            (
                s.access.register_rate_per_hour,
                s.access.login_rate_per_minute
            ),
            (20, 30)
        );
        assert!(s.access.trusted_proxies.is_empty());
    }

    #[test]
    fn access_settings_parse() {
        let s = settings(&[
            ("REGISTRATION", "closed"),
            ("REGISTER_RATE_PER_HOUR", "0"),
            ("TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::1"),
            ("FEEDS_ALLOW_PRIVATE", "true"),
            ("WEBHOOK_ALLOW_HTTP", "true"),
            ("WEBHOOK_ALLOW_PRIVATE", "true"),
        ])
        .unwrap();
        assert!(!s.access.registration_open && s.access.feeds_allow_private);
        assert!(s.access.webhooks_allow_http && s.access.webhooks_allow_private);
        assert_eq!(s.access.register_rate_per_hour, 0);
        let nets: Vec<String> = s
            .access
            .trusted_proxies
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]);
    }

    #[test]
    fn smtp_urls_parse_and_the_password_stays_hidden() {
        let s = settings(&[
            (
                "SMTP_URL",
                "smtp://alerts%40example.com:p%40ss+word@mail.example.com",
            ),
            ("ALERT_FROM", "freeslot <alerts@example.com>"),
        ])
        .unwrap();
        let a = s.alerts.clone().unwrap();
        assert_eq!(a.security, SmtpSecurity::StartTls);
        assert_eq!((a.host.as_str(), a.port), ("mail.example.com", 587));
        assert_eq!(a.username.as_deref(), Some("alerts@example.com"));
        assert_eq!(a.password.as_deref(), Some("p@ss+word"));
        assert!(!format!("{s:?}").contains("p@ss"));
        let tls = settings(&[
            ("SMTP_URL", "smtps://h:2465"),
            ("ALERT_FROM", "a@b.example"),
        ])
        .unwrap();
        assert_eq!(
            tls.alerts.map(|a| (a.security, a.port)),
            Some((SmtpSecurity::Tls, 2465))
        );
        let plain = settings(&[
            ("SMTP_URL", "smtp+plain://127.0.0.1"),
            ("ALERT_FROM", "a@b.example"),
        ])
        .unwrap();
        assert_eq!(
            plain.alerts.map(|a| (a.security, a.port)),
            Some((SmtpSecurity::Plain, 25))
        );
        assert!(
            settings(&[("SMTP_URL", "smtp://h")]).is_err(),
            "ALERT_FROM is required"
        );
        assert!(settings(&[("SMTP_URL", "http://h"), ("ALERT_FROM", "a@b.example")]).is_err());
        assert!(settings(&[("SMTP_URL", "smtp://h"), ("ALERT_FROM", "not an address")]).is_err());
        assert_eq!(settings(&[]).unwrap().alerts, None);
    }

    #[test]
    fn microsoft_tenant_is_substituted() {
        let s = settings(&[
            ("MICROSOFT_CLIENT_ID", "id"),
            ("MICROSOFT_CLIENT_SECRET", "secret"),
            ("MICROSOFT_TENANT_ID", "contoso"),
            ("MICROSOFT_TOKEN_URL", "http://127.0.0.1:9/tok"),
        ])
        .unwrap();
        let ms = s.providers.microsoft.unwrap();
        assert_eq!(
            ms.auth_url.as_str(),
            "https://login.microsoftonline.com/contoso/oauth2/v2.0/authorize"
        );
        assert_eq!(ms.token_url.as_str(), "http://127.0.0.1:9/tok");
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("DATABASE_URL", "mysql://x")], "DATABASE_URL"),
            (&[("BIND_ADDR", "nowhere")], "BIND_ADDR"),
            (&[("PUBLIC_BASE_URL", "ftp://x")], "PUBLIC_BASE_URL"),
            (&[("JWT_SECRET", "short")], "JWT_SECRET"),
            (
                &[("TOKEN_ENCRYPTION_KEY", "c2hvcnQ=")],
                "TOKEN_ENCRYPTION_KEY",
            ),
            (
                &[("TOKEN_ENCRYPTION_KEY", "not base64 !!")],
                "TOKEN_ENCRYPTION_KEY",
            ),
            (&[("SYNC_INTERVAL_MINUTES", "0")], "SYNC_INTERVAL_MINUTES"),
            (&[("LOG_FORMAT", "xml")], "LOG_FORMAT"),
            (&[("GOOGLE_CLIENT_ID", "id")], "GOOGLE_CLIENT_SECRET"),
            (&[("REDIS_URL", "http://x")], "REDIS_URL"),
            (&[("REGISTRATION", "invite")], "REGISTRATION"),
            (&[("LOGIN_RATE_PER_MINUTE", "-1")], "LOGIN_RATE_PER_MINUTE"),
            (&[("TRUSTED_PROXIES", "10.0.0.0/33")], "TRUSTED_PROXIES"),
            (&[("FEEDS_ALLOW_PRIVATE", "maybe")], "FEEDS_ALLOW_PRIVATE"),
        ];
        for (vars, var) in cases {
            let err = settings(vars).expect_err(var).to_string();
            assert!(err.starts_with(var), "{err:?} should name {var}");
        }
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let s = settings(&[
            ("JWT_SECRET", "a-very-long-secret-value-that-is-long-enough"),
            (
                "TOKEN_ENCRYPTION_KEY",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ),
            ("GOOGLE_CLIENT_ID", "gid"),
            ("GOOGLE_CLIENT_SECRET", "google-client-secret"),
            ("DATABASE_URL", "postgres://app:db-password@db/freeslot"),
        ])
        .unwrap();
        let debug = format!("{s:?}");
        assert!(!debug.contains("a-very-long-secret"));
        assert!(!debug.contains("AAAAAAAA"));
        assert!(!debug.contains("google-client-secret"));
        assert!(!debug.contains("db-password"));
        assert!(debug.contains("postgres://app:***@db/freeslot"));
    }
}
