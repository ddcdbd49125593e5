//! E-mail alerts (contract, "Notifications": e-mail): one message per incident — a connection
//! that needs reconnecting, or a calendar that has failed to sync for an hour — never one per
//! retry. Driven by the outbox: the `SendAlerts` job reads the user's notifications after
//! `users.alerted_seq`, claims each one by moving that cursor past it (a conditional update, so
//! two jobs never both take one), and e-mails what it calls for: a lost job only delays, a
//! repeated one sends nothing twice. A send that fails gives the claim back; a process that dies
//! between claiming and sending loses that one e-mail rather than risk sending it twice.

use chrono::Duration;
use entity::{calendars, notifications, users};
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::AppContext;
use crate::config::{AlertSettings, SmtpSecurity};
use crate::notifications::Kind;

/// A calendar failing for this long is worth an e-mail.
pub const FAILING_FOR: Duration = Duration::hours(1);

#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error("the e-mail could not be built: {0}")]
    Message(String),
    #[error("the SMTP server did not take the e-mail: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
}

/// One e-mail to write.
struct Alert {
    subject: String,
    body: String,
    /// The calendar whose failure this reports (marked, so the incident is told once).
    calendar: Option<Uuid>,
}

/// E-mails what the user's notifications since the last look call for; returns how many were
/// sent.
pub async fn send_pending(ctx: &AppContext, user_id: Uuid) -> Result<usize, AlertError> {
    let Some(settings) = &ctx.settings.alerts else {
        return Ok(0);
    };
    let Some(user) = users::Entity::find_by_id(user_id).one(&ctx.db).await? else {
        return Ok(0);
    };
    let mut cursor = user.alerted_seq;
    let pending = crate::notifications::after(&ctx.db, user_id, cursor, 100).await?;
    let mut sent = 0;
    for n in pending {
        // Claimed before it is sent: two jobs for one user (a sync's and a token refresh's) never
        // both send it. A send that fails gives the claim back, so the next job tries again.
        if !move_cursor(ctx, user_id, cursor, n.seq).await? {
            return Ok(sent);
        }
        if let Some(alert) = alert_for(ctx, &n).await? {
            if let Err(e) = send(settings, &user, &alert).await {
                move_cursor(ctx, user_id, n.seq, cursor).await?;
                return Err(e);
            }
            sent += 1;
            if let Some(calendar) = alert.calendar {
                calendars::Entity::update_many()
                    .col_expr(calendars::Column::AlertSentAt, Expr::value(n.created_at))
                    .filter(calendars::Column::Id.eq(calendar))
                    .exec(&ctx.db)
                    .await?;
            }
        }
        cursor = n.seq;
    }
    Ok(sent)
}

/// Moves `users.alerted_seq` from `from` to `to`; false if another job moved it first.
async fn move_cursor(ctx: &AppContext, user_id: Uuid, from: i64, to: i64) -> Result<bool, DbErr> {
    let moved = users::Entity::update_many()
        .col_expr(users::Column::AlertedSeq, Expr::value(to))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::AlertedSeq.eq(from))
        .exec(&ctx.db)
        .await?;
    Ok(moved.rows_affected == 1)
}

async fn alert_for(ctx: &AppContext, n: &notifications::Model) -> Result<Option<Alert>, DbErr> {
    let link = ctx.settings.frontend_url.as_str().to_owned();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    if n.kind == Kind::ConnectionNeedsReauth.as_str() {
        let provider = provider_name(&text(&n.data["provider"]));
        let account = text(&n.data["account"]);
        return Ok(Some(Alert {
            subject: format!("{provider} ({account}) needs reconnecting"),
            body: format!(
                "freeslot can no longer read the calendars of {provider} ({account}): the \
                 access it was given was revoked or has expired. Until you reconnect it, your \
                 free time may show time that is not free.\n\nReconnect it here: {link}#/calendars\n"
            ),
            calendar: None,
        }));
    }
    if n.kind != Kind::CalendarSyncFailed.as_str() {
        return Ok(None);
    }
    let Some(id) = n.data["calendar_id"]
        .as_str()
        .and_then(|s| s.parse::<Uuid>().ok())
    else {
        return Ok(None);
    };
    let Some(calendar) = calendars::Entity::find_by_id(id).one(&ctx.db).await? else {
        return Ok(None);
    };
    // An hour of failing, counted to this failure, and not told since this run of failures began.
    let Some(since) = calendar.failing_since else {
        return Ok(None);
    };
    let long_enough = n.created_at - since >= FAILING_FOR;
    let told = calendar.alert_sent_at.is_some_and(|at| at >= since);
    if !long_enough || told {
        return Ok(None);
    }
    let error = text(&n.data["error"]);
    Ok(Some(Alert {
        subject: format!("{} has not synced for an hour", calendar.name),
        body: format!(
            "freeslot has not been able to sync your calendar \"{}\" since {} (UTC): {error}\n\n\
             Until it syncs again, your free time may be out of date. See its status here: \
             {link}#/calendars\n",
            calendar.name,
            since.format("%Y-%m-%d %H:%M"),
        ),
        calendar: Some(calendar.id),
    }))
}

fn provider_name(p: &str) -> String {
    match p {
        "google" => "Google",
        "microsoft" => "Microsoft",
        "caldotcom" => "Cal.com",
        "caldav" => "CalDAV",
        "ics" => "ICS feed",
        other => other,
    }
    .to_owned()
}

async fn send(
    settings: &AlertSettings,
    user: &users::Model,
    alert: &Alert,
) -> Result<(), AlertError> {
    let bad = |e: &dyn std::fmt::Display| AlertError::Message(e.to_string());
    let from: Mailbox = settings.from.parse().map_err(|e| bad(&e))?;
    let to = Mailbox::new(
        Some(user.name.clone()).filter(|n| !n.is_empty()),
        user.email.parse().map_err(|e| bad(&e))?,
    );
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(format!("freeslot: {}", alert.subject))
        .header(ContentType::TEXT_PLAIN)
        .body(alert.body.clone())
        .map_err(|e| bad(&e))?;
    let mut transport = match settings.security {
        SmtpSecurity::StartTls => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)?
        }
        SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)?,
        SmtpSecurity::Plain => {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
        }
    }
    .port(settings.port)
    .timeout(Some(std::time::Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
        transport = transport.credentials(Credentials::new(user.clone(), password.clone()));
    }
    transport.build().send(message).await?;
    Ok(())
}
