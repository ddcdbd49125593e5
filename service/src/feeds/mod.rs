//! Private ICS feeds: a busy-only feed safe to share with clients, and a full one for the person
//! themselves. Each has its own unguessable token (the token is the credential), stored as a
//! SHA-256 for lookup and sealed to show the address again; rotating replaces both.

pub mod ics;

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Duration;
use domain::event::normalize_title;
use domain::{Instant, TimeZone};
use entity::{calendars, feed_tokens};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, SqlErr,
};
use uuid::Uuid;

use crate::AppContext;
use crate::events::{self, EventTiming};
use crate::series;
use crate::vault::{Column, Slot};
use ics::{VEvent, When};

/// What the feeds reach: as far back and ahead as the sync keeps events.
const PAST_DAYS: i64 = 90;
const AHEAD_DAYS: i64 = 365;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeedKind {
    /// Busy blocks only: no titles, places or people.
    Busy,
    /// Every event, with its calendar's name and color.
    Full,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Busy => "busy",
            FeedKind::Full => "full",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "busy" => Some(FeedKind::Busy),
            "full" => Some(FeedKind::Full),
            _ => None,
        }
    }
}

pub struct FeedUrls {
    pub busy: String,
    pub full: String,
}

/// The person's feed addresses, created on first use.
pub async fn urls(ctx: &AppContext, user_id: Uuid) -> Result<FeedUrls, DbErr> {
    match try_urls(ctx, user_id).await {
        // Another request created a token at the same moment: the second look finds it. Only a
        // unique-key race is retried, and only once (a vanished user must not loop).
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            try_urls(ctx, user_id).await
        }
        other => other,
    }
}

async fn try_urls(ctx: &AppContext, user_id: Uuid) -> Result<FeedUrls, DbErr> {
    let existing = feed_tokens::Entity::find()
        .filter(feed_tokens::Column::UserId.eq(user_id))
        .all(&ctx.db)
        .await?;
    let mut tokens = HashMap::new();
    for row in existing {
        match ctx
            .vault
            .open(&row.token_enc, Slot::new(Column::FeedToken, row.id))
        {
            Ok(token) => {
                tokens.insert(row.kind, token);
            }
            // A token sealed with a key no longer configured cannot be shown: replace it.
            Err(_) => {
                feed_tokens::Entity::delete_by_id(row.id)
                    .exec(&ctx.db)
                    .await?;
            }
        }
    }
    for kind in [FeedKind::Busy, FeedKind::Full] {
        if !tokens.contains_key(kind.as_str()) {
            let token = issue(ctx, &ctx.db, user_id, kind).await?;
            tokens.insert(kind.as_str().to_owned(), token);
        }
    }
    let url = |kind: FeedKind| {
        ctx.settings.public_url(&format!(
            "/feeds/{}/{}.ics",
            tokens[kind.as_str()],
            kind.as_str()
        ))
    };
    Ok(FeedUrls {
        busy: url(FeedKind::Busy),
        full: url(FeedKind::Full),
    })
}

/// Replaces both tokens: the old addresses stop working at once.
pub async fn rotate(ctx: &AppContext, user_id: Uuid) -> Result<FeedUrls, DbErr> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    feed_tokens::Entity::delete_many()
        .filter(feed_tokens::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    for kind in [FeedKind::Busy, FeedKind::Full] {
        issue(ctx, &txn, user_id, kind).await?;
    }
    // The new addresses are credentials: the entry says only that they changed.
    crate::audit::record(
        &txn,
        crate::audit::Entry::new(
            crate::audit::Actor::User,
            user_id,
            "feeds.rotated",
            "feeds",
            user_id,
            ctx.clock.now(),
        ),
    )
    .await?;
    txn.commit().await?;
    urls(ctx, user_id).await
}

async fn issue(
    ctx: &AppContext,
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    kind: FeedKind,
) -> Result<String, DbErr> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let id = Uuid::now_v7();
    feed_tokens::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        kind: Set(kind.as_str().to_owned()),
        token_hash: Set(hash(&token)),
        token_enc: Set(ctx.vault.seal(&token, Slot::new(Column::FeedToken, id))),
        created_at: Set(ctx.clock.now()),
    }
    .insert(db)
    .await?;
    Ok(token)
}

fn hash(text: &str) -> String {
    crate::secrets::sha256_hex(text)
}

/// The owner of `token` if it opens a feed of `kind`. A busy token never opens the full feed.
pub async fn lookup(
    db: &DatabaseConnection,
    token: &str,
    kind: &str,
) -> Result<Option<Uuid>, DbErr> {
    let Some(kind) = FeedKind::parse(kind) else {
        return Ok(None);
    };
    if token.len() != 43
        || !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    Ok(feed_tokens::Entity::find()
        .filter(feed_tokens::Column::TokenHash.eq(hash(token)))
        .filter(feed_tokens::Column::Kind.eq(kind.as_str()))
        .one(db)
        .await?
        .map(|row| row.user_id))
}

/// A rendered feed and its strong validator.
pub struct Feed {
    pub body: String,
    pub etag: String,
}

/// Renders the feed of `kind` for the person, over [now − 90 days, now + 365 days).
pub async fn render(
    ctx: &AppContext,
    user_id: Uuid,
    kind: FeedKind,
    now: Instant,
) -> anyhow::Result<Feed> {
    let db = &ctx.db;
    let user = crate::users::get(db, user_id).await?;
    let rules = crate::availability::rules_for(db, user_id).await?;
    let calendars: HashMap<Uuid, calendars::Model> = calendars::Entity::find()
        .filter(calendars::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let (from, to) = (
        now - Duration::days(PAST_DAYS),
        now + Duration::days(AHEAD_DAYS),
    );
    let rows = events::rows_in_window(db, user_id, from, to, None).await?;
    let sources = crate::calendars::sources(db, user_id).await?;

    let mut entries: Vec<Entry> = Vec::new();
    for row in &rows {
        let Some(calendar) = calendars.get(&row.calendar_id) else {
            continue;
        };
        let timing = EventTiming::from(row);
        for occ in series::occurrences(&timing, from, to) {
            let Some(event) = series::to_domain(&timing, &occ, sources.get(&row.calendar_id))
            else {
                continue;
            };
            let busy = event.blocks_time(rules.tentative_is_busy);
            let keep = match kind {
                FeedKind::Busy => busy && calendar.include_in_availability,
                FeedKind::Full => event.status != domain::EventStatus::Cancelled,
            };
            if keep {
                entries.push(Entry {
                    row,
                    calendar,
                    event,
                    busy,
                    also_in: Vec::new(),
                });
            }
        }
    }
    entries.sort_by(|a, b| {
        (a.event.time_key(), &a.event.key).cmp(&(b.event.time_key(), &b.event.key))
    });
    let entries = merge_duplicates(entries);

    let name = match kind {
        FeedKind::Busy => format!("{} — busy", user.name),
        FeedKind::Full => format!("{} — all calendars", user.name),
    };
    let zone = TimeZone::parse(&user.timezone).unwrap_or(TimeZone::UTC);
    let mut events: Vec<VEvent> = entries.iter().map(|e| e.vevent(kind)).collect();
    events.extend(task_blocks(ctx, user_id, &rules, kind, from, to).await?);
    let calendar = ics::Calendar {
        name: &name,
        timezone: zone.name(),
        events,
    };
    let body = calendar.render();
    let etag = format!("\"{}\"", &hash(&body)[..32]);
    Ok(Feed { body, etag })
}

/// The plan's task blocks: in the full feed every block, with its task's title (busy as the rules'
/// `task_blocks` say); in the busy feed the blocks that count as busy.
async fn task_blocks(
    ctx: &AppContext,
    user_id: Uuid,
    rules: &domain::AvailabilityRules,
    kind: FeedKind,
    from: Instant,
    to: Instant,
) -> anyhow::Result<Vec<VEvent>> {
    let blocks = crate::tasks::plan::blocks_between(&ctx.db, user_id, from, to).await?;
    Ok(blocks
        .into_iter()
        .filter_map(|b| {
            let busy = rules.task_blocks.counts(b.at_risk);
            if kind == FeedKind::Busy && !busy {
                return None;
            }
            let uid = format!(
                "{}@freeslot",
                &hash(&format!(
                    "{}:task:{}:{}",
                    kind.as_str(),
                    b.task_id,
                    b.start.timestamp()
                ))[..32]
            );
            let when = When::Timed {
                start: b.start,
                end: b.end,
            };
            Some(match kind {
                FeedKind::Busy => VEvent {
                    uid,
                    stamp: b.task_updated_at,
                    when,
                    summary: "Busy".to_owned(),
                    description: None,
                    location: None,
                    status: "CONFIRMED",
                    busy: true,
                    categories: Vec::new(),
                    extra: Vec::new(),
                },
                FeedKind::Full => VEvent {
                    uid,
                    stamp: b.task_updated_at,
                    when,
                    summary: b.title,
                    description: b.notes,
                    location: None,
                    status: "CONFIRMED",
                    busy,
                    categories: vec!["Tasks".to_owned()],
                    extra: vec![("X-FREESLOT-TASK", b.task_id.to_string())],
                },
            })
        })
        .collect())
}

struct Entry<'a> {
    row: &'a entity::events::Model,
    calendar: &'a calendars::Model,
    event: domain::Event,
    busy: bool,
    /// The calendars of merged duplicates.
    also_in: Vec<&'a calendars::Model>,
}

trait TimeKey {
    fn time_key(&self) -> (Instant, Instant);
}

impl TimeKey for domain::Event {
    /// Sorts timed and all-day events together (all-day by their UTC dates).
    fn time_key(&self) -> (Instant, Instant) {
        match self.time {
            domain::EventTime::Timed(i) => (i.start(), i.end()),
            domain::EventTime::AllDay { start, end } => (
                start.and_time(chrono::NaiveTime::MIN).and_utc(),
                end.and_time(chrono::NaiveTime::MIN).and_utc(),
            ),
        }
    }
}

/// The same meeting seen in several calendars is one event, listing every calendar.
fn merge_duplicates(entries: Vec<Entry<'_>>) -> Vec<Entry<'_>> {
    let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut by_uid: HashMap<(String, String), usize> = HashMap::new();
    let mut by_time: HashMap<(domain::EventTime, String), usize> = HashMap::new();
    for entry in entries {
        let uid_key = entry
            .event
            .ical_uid
            .as_ref()
            .filter(|u| !u.is_empty())
            .map(|u| {
                let occurrence = entry.event.key.split_once('/').map(|(_, o)| o.to_owned());
                (u.clone(), occurrence.unwrap_or_default())
            });
        let time_key = (entry.event.time, normalize_title(&entry.event.title));
        let existing = uid_key
            .as_ref()
            .and_then(|k| by_uid.get(k))
            .or_else(|| by_time.get(&time_key))
            .copied();
        match existing {
            Some(i) => {
                let first = &mut kept[i];
                first.busy |= entry.busy;
                if first.calendar.id != entry.calendar.id
                    && !first.also_in.iter().any(|c| c.id == entry.calendar.id)
                {
                    first.also_in.push(entry.calendar);
                }
            }
            None => {
                let i = kept.len();
                if let Some(k) = uid_key {
                    by_uid.insert(k, i);
                }
                by_time.insert(time_key, i);
                kept.push(entry);
            }
        }
    }
    kept
}

impl Entry<'_> {
    fn vevent(&self, kind: FeedKind) -> VEvent {
        let when = match self.event.time {
            domain::EventTime::Timed(i) => When::Timed {
                start: i.start(),
                end: i.end(),
            },
            domain::EventTime::AllDay { start, end } => When::AllDay { start, end },
        };
        let uid = format!(
            "{}@freeslot",
            &hash(&format!("{}:{}", kind.as_str(), self.event.key))[..32]
        );
        let status = if self.event.is_tentative() {
            "TENTATIVE"
        } else {
            "CONFIRMED"
        };
        match kind {
            FeedKind::Busy => VEvent {
                uid,
                stamp: self.row.updated_at,
                when,
                summary: "Busy".to_owned(),
                description: None,
                location: None,
                status,
                busy: true,
                categories: Vec::new(),
                extra: Vec::new(),
            },
            FeedKind::Full => {
                let calendars: Vec<&calendars::Model> = std::iter::once(self.calendar)
                    .chain(self.also_in.iter().copied())
                    .collect();
                // The calendar it came from (the first, when merged); CATEGORIES names them all.
                let mut extra = vec![("X-FREESLOT-CALENDAR", self.calendar.name.clone())];
                if let Some(color) = &self.calendar.color {
                    extra.push(("X-FREESLOT-COLOR", color.clone()));
                }
                VEvent {
                    uid,
                    stamp: self.row.updated_at,
                    when,
                    summary: self.row.title.clone(),
                    description: self.row.description.clone().filter(|d| !d.is_empty()),
                    location: self.row.location.clone().filter(|l| !l.is_empty()),
                    status,
                    busy: self.busy,
                    categories: calendars.iter().map(|c| c.name.clone()).collect(),
                    extra,
                }
            }
        }
    }
}
