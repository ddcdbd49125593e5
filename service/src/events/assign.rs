//! Which client an event belongs to when nobody said: an attendee from the client's email domain,
//! or one of the client's keywords in the title. A person's own choice always wins, and is made
//! here too ([`assign`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{clients, event_clients, events};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use uuid::Uuid;

use super::{EventError, EventView};

/// One client's automatic assignment rules, normalised for matching.
#[derive(Clone, Debug, Default)]
pub struct Matcher {
    pub client_id: Uuid,
    /// Lower-case, without `@`: `acme.com` also matches `eu.acme.com`.
    pub domains: Vec<String>,
    /// Lower-case words or phrases, matched whole in the title.
    pub keywords: Vec<String>,
}

impl Matcher {
    pub fn of(client: &clients::Model) -> Self {
        Self {
            client_id: client.id,
            domains: strings(client.email_domains.as_ref()),
            keywords: strings(client.keywords.as_ref()),
        }
    }

    pub fn matches(&self, title: &str, emails: &[&str]) -> bool {
        let by_domain = emails.iter().any(|email| {
            let Some((_, domain)) = email.rsplit_once('@') else {
                return false;
            };
            let domain = domain.trim().to_ascii_lowercase();
            self.domains.iter().any(|d| {
                domain == *d
                    || domain
                        .strip_suffix(d.as_str())
                        .is_some_and(|head| head.ends_with('.'))
            })
        });
        by_domain || {
            let title = title.to_lowercase();
            self.keywords.iter().any(|k| contains_phrase(&title, k))
        }
    }
}

/// `needle` occurs in `hay` with no letter or digit right before or after it.
fn contains_phrase(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

fn strings(value: Option<&serde_json::Value>) -> Vec<String> {
    value
        .and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|s| s.as_str())
                .map(str::to_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

/// The effective client of a user's events: their explicit choices, else the first client (oldest
/// first) whose rules match.
pub struct Assigner {
    chosen: HashMap<Uuid, Option<Uuid>>,
    matchers: Vec<Matcher>,
}

impl Assigner {
    /// Loads the user's choices and rules. Choices are read for the user's events as a whole: one
    /// indexed query instead of an `IN` list of every event in a window.
    pub async fn load(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Self, DbErr> {
        let clients = clients::Entity::find()
            .filter(clients::Column::UserId.eq(user_id))
            .order_by_asc(clients::Column::CreatedAt)
            .order_by_asc(clients::Column::Id)
            .all(db)
            .await?;
        let chosen = event_clients::Entity::find()
            .inner_join(events::Entity)
            .filter(events::Column::UserId.eq(user_id))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.event_id, c.client_id))
            .collect();
        Ok(Self {
            chosen,
            matchers: clients
                .iter()
                .filter(|c| !c.archived)
                .map(Matcher::of)
                .collect(),
        })
    }

    pub fn client_of(&self, row: &events::Model) -> Option<Uuid> {
        if let Some(choice) = self.chosen.get(&row.id) {
            return *choice;
        }
        if self.matchers.is_empty() {
            return None;
        }
        let mut emails: Vec<&str> = row
            .attendees
            .as_ref()
            .and_then(|a| a.as_array())
            .map(|a| a.iter().filter_map(|e| e.as_str()).collect())
            .unwrap_or_default();
        emails.extend(row.organizer_email.as_deref());
        self.matchers
            .iter()
            .find(|m| m.matches(&row.title, &emails))
            .map(|m| m.client_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(domains: &[&str], keywords: &[&str]) -> Matcher {
        Matcher {
            client_id: Uuid::nil(),
            domains: domains.iter().map(|s| s.to_string()).collect(),
            keywords: keywords.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn domains_match_exactly_or_as_a_parent() {
        let m = matcher(&["acme.com"], &[]);
        assert!(m.matches("x", &["Bob@ACME.com"]));
        assert!(m.matches("x", &["bob@eu.acme.com"]));
        assert!(!m.matches("x", &["bob@notacme.com"]));
        assert!(!m.matches("x", &["bob@acme.com.evil.io"]));
        assert!(!m.matches("x", &["acme.com"]));
    }

    #[test]
    fn keywords_match_whole_words_in_any_case() {
        let m = matcher(&[], &["acme", "project x"]);
        assert!(m.matches("ACME weekly", &[]));
        assert!(m.matches("Sync: Project X!", &[]));
        assert!(!m.matches("Acmes and more", &[]));
        assert!(!m.matches("project xylophone", &[]));
        assert!(!matcher(&[], &[]).matches("anything", &[]));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AssignError {
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("no such client")]
    UnknownClient,
}

impl From<DbErr> for AssignError {
    fn from(e: DbErr) -> Self {
        AssignError::Event(e.into())
    }
}

/// Books an event (a whole series, also when named by one occurrence) to a client, or to none:
/// either way the choice outranks the automatic rules.
pub async fn assign(
    db: &DatabaseConnection,
    user_id: Uuid,
    key: &str,
    client_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<EventView, AssignError> {
    let (id, _) = crate::series::parse_key(key).ok_or(EventError::NotFound)?;
    let row = super::owned_row(db, user_id, id).await?;
    if let Some(client) = client_id {
        clients::Entity::find_by_id(client)
            .filter(clients::Column::UserId.eq(user_id))
            .one(db)
            .await?
            .ok_or(AssignError::UnknownClient)?;
    }
    event_clients::Entity::insert(event_clients::ActiveModel {
        event_id: Set(row.id),
        client_id: Set(client_id),
        assigned_by: Set("manual".into()),
        created_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(event_clients::Column::EventId)
            .update_columns([
                event_clients::Column::ClientId,
                event_clients::Column::AssignedBy,
            ])
            .to_owned(),
    )
    .exec(db)
    .await?;
    crate::audit::record(
        db,
        crate::audit::Entry::new(
            crate::audit::Actor::User,
            user_id,
            "event.client_assigned",
            "event",
            row.id,
            now,
        )
        .details(serde_json::json!({"client_id": client_id})),
    )
    .await?;
    Ok(super::get(db, user_id, key).await?)
}
