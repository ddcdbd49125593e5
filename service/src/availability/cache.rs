//! A per-process cache of what availability is computed from: a user's rules and their busy
//! events, already expanded. Every request still asks the database one question — the user's
//! `events_version` — and uses the cache only while it is unchanged, so several api processes
//! never serve each other's stale data (`crate::version` keeps that number).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use domain::{AvailabilityRules, Instant, Interval, IntervalSet};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::{availability, calendars, events};

/// How far around "now" a cached entry reaches; a request outside it goes to the database.
const BEHIND: i64 = 31;
const AHEAD: i64 = 400;
/// Entries are rebuilt after this long even if nothing changed, so the window follows "now".
const MAX_AGE_HOURS: i64 = 6;
/// Users kept at once; beyond that an arbitrary entry makes room.
const MAX_USERS: usize = 256;

pub struct CachedEngine {
    pub version: i64,
    pub rules: AvailabilityRules,
    /// The reach of `blocked`.
    pub window: Interval,
    /// Time blocked by the busy events of the included calendars, buffers included: built once,
    /// then every query only intersects and subtracts.
    pub blocked: IntervalSet,
    built_at: Instant,
}

#[derive(Default)]
pub struct EngineCache {
    entries: Mutex<HashMap<Uuid, Arc<CachedEngine>>>,
    /// The included calendars' freshness inputs per user, with the `calendars_version` they
    /// were read at: answers say how fresh they are without a query of their own.
    states: Mutex<HashMap<Uuid, (i64, States)>>,
}

/// A user's included calendars as freshness reads them.
type States = Arc<Vec<calendars::CalendarState>>;

impl EngineCache {
    /// The user's cached engine input covering `range`, (re)built if it is stale; `None` when the
    /// range lies outside what a cache entry covers.
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        user_id: Uuid,
        version: Option<i64>,
        range: &Interval,
        now: Instant,
    ) -> Result<Option<Arc<CachedEngine>>, availability::AvailabilityError> {
        let window = Interval::new(now - Duration::days(BEHIND), now + Duration::days(AHEAD))
            .expect("a positive window");
        if !window.contains(range) {
            return Ok(None);
        }
        // The version first (or the one the request read before anything else): data read
        // after it can only be newer, never older, than it says.
        let version = match version {
            Some(v) => v,
            None => crate::version::of(db, user_id).await?,
        };
        let cached = self
            .entries
            .lock()
            .expect("cache lock")
            .get(&user_id)
            .cloned();
        if let Some(entry) = cached
            && entry.version == version
            && entry.window.contains(range)
            && now - entry.built_at < Duration::hours(MAX_AGE_HOURS)
        {
            crate::meters::engine_cache("hit");
            return Ok(Some(entry));
        }
        crate::meters::engine_cache("miss");
        let rules = availability::rules_for(db, user_id).await?;
        let included = calendars::included_ids(db, user_id).await?;
        let rows =
            events::timings_in_window(db, user_id, window.start(), window.end(), Some(&included))
                .await?;
        let sources = calendars::sources(db, user_id).await?;
        let events = events::domain_events(&rows, &sources, window.start(), window.end());
        let blocked = domain::availability::blocked(&rules, &events);
        let blocks = availability::task_blocks_in(db, user_id, &window).await?;
        let blocked = domain::availability::with_task_blocks(&rules, blocked, &blocks);
        let entry = Arc::new(CachedEngine {
            version,
            rules,
            window,
            blocked,
            built_at: now,
        });
        let mut entries = self.entries.lock().expect("cache lock");
        if entries.len() >= MAX_USERS
            && !entries.contains_key(&user_id)
            && let Some(victim) = entries.keys().next().copied()
        {
            entries.remove(&victim);
        }
        entries.insert(user_id, entry.clone());
        Ok(Some(entry))
    }

    /// The user's included calendars as freshness reads them: cached while `calendars_version`
    /// (when the request read it) is unchanged, else read.
    pub async fn calendar_states(
        &self,
        db: &DatabaseConnection,
        user_id: Uuid,
        calendars_version: Option<i64>,
    ) -> Result<States, sea_orm::DbErr> {
        let Some(version) = calendars_version else {
            return Ok(Arc::new(calendars::states(db, user_id).await?));
        };
        if let Some((v, states)) = self.states.lock().expect("cache lock").get(&user_id)
            && *v == version
        {
            return Ok(states.clone());
        }
        // Read after the version: never older than it says.
        let states = Arc::new(calendars::states(db, user_id).await?);
        let mut all = self.states.lock().expect("cache lock");
        if all.len() >= MAX_USERS
            && !all.contains_key(&user_id)
            && let Some(victim) = all.keys().next().copied()
        {
            all.remove(&victim);
        }
        all.insert(user_id, (version, states.clone()));
        Ok(states)
    }

    /// Drops a user's entry (their account is gone; another process's entry is refused by the
    /// version lookup, which no longer finds the user).
    pub fn forget(&self, user_id: Uuid) {
        self.entries.lock().expect("cache lock").remove(&user_id);
        self.states.lock().expect("cache lock").remove(&user_id);
    }
}
