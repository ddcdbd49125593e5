//! Following one user's notifications live: everything after a cursor, then each new one as it
//! is committed. Backed by the outbox only — a wake-up (`Notifier`) just says "read again", and
//! the outbox is read again every few seconds anyway — so a stream resumed after `n` delivers
//! every later notification once, in order, whoever wrote it.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use entity::notifications;
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::AppContext;

/// A comment this often keeps proxies and browsers from closing an idle stream (the contract
/// asks for at least every 15 s).
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// The outbox is read again this often even without a wake-up.
const RECHECK: Duration = Duration::from_secs(3);
/// Notifications read at once: what one stream holds in memory at most.
const BATCH: u64 = 100;

pub enum Item {
    Notification(notifications::Model),
    Heartbeat,
}

struct State {
    ctx: Arc<AppContext>,
    user_id: Uuid,
    cursor: i64,
    pending: VecDeque<notifications::Model>,
    wakes: tokio::sync::broadcast::Receiver<Uuid>,
    closing: tokio::sync::watch::Receiver<bool>,
    heartbeat: tokio::time::Interval,
}

/// The user's notifications after `after` (a `seq`; none: from the newest on), then live, with
/// heartbeats, until the process begins to stop.
pub async fn follow(
    ctx: Arc<AppContext>,
    user_id: Uuid,
    after: Option<i64>,
) -> Result<impl Stream<Item = Item>, sea_orm::DbErr> {
    let after = match after {
        Some(after) => after,
        None => super::latest(&ctx.db, user_id).await?,
    };
    let mut heartbeat =
        tokio::time::interval_at(tokio::time::Instant::now() + HEARTBEAT, HEARTBEAT);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = State {
        wakes: ctx.notifier.subscribe(),
        closing: ctx.notifier.closing(),
        ctx,
        user_id,
        cursor: after,
        pending: VecDeque::new(),
        heartbeat,
    };
    Ok(futures::stream::unfold(state, |mut s| async move {
        let item = next(&mut s).await?;
        Some((item, s))
    }))
}

async fn next(s: &mut State) -> Option<Item> {
    loop {
        if *s.closing.borrow() {
            return None;
        }
        if let Some(n) = s.pending.pop_front() {
            s.cursor = n.seq;
            return Some(Item::Notification(n));
        }
        match super::after(&s.ctx.db, s.user_id, s.cursor, BATCH).await {
            Ok(batch) if !batch.is_empty() => {
                s.pending.extend(batch);
                continue;
            }
            Ok(_) => {}
            // The database is away: keep the stream, try again at the next wake-up or recheck.
            Err(e) => tracing::debug!(error = %e, "notification stream cannot read the outbox"),
        }
        let recheck = tokio::time::sleep(RECHECK);
        tokio::pin!(recheck);
        loop {
            tokio::select! {
                woke = s.wakes.recv() => match woke {
                    Ok(user) if user == s.user_id => break,
                    Ok(_) => continue,
                    // Fell behind other users' wake-ups: read to be sure.
                    Err(RecvError::Lagged(_)) => break,
                    Err(RecvError::Closed) => return None,
                },
                _ = s.heartbeat.tick() => return Some(Item::Heartbeat),
                _ = &mut recheck => break,
                _ = s.closing.changed() => return None,
            }
        }
    }
}
