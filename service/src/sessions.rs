//! Sessions make access tokens revocable: each token names its session (`sid`), and a request is
//! authenticated only while that row exists. Logging out deletes one row, a password change all
//! the user's others, deleting the account all of them (by cascade).

use chrono::{DateTime, Utc};
use entity::{sessions, users};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, JoinType, QueryFilter,
    QuerySelect, RelationTrait, Set,
};
use uuid::Uuid;

use crate::auth::jwt::{AccessToken, JwtKeys, Verified};

/// Opens a session for the user and issues its token.
pub async fn open(
    db: &impl ConnectionTrait,
    jwt: &JwtKeys,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<AccessToken, DbErr> {
    let id = Uuid::now_v7();
    let ttl = chrono::Duration::from_std(jwt.ttl()).unwrap_or(chrono::Duration::days(1));
    sessions::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        created_at: Set(now),
        expires_at: Set(now + ttl),
    }
    .insert(db)
    .await?;
    Ok(jwt.issue(user_id, id, now))
}

/// The user's versions if the token's session is open and its user exists: the one lookup an
/// authenticated request makes (a primary-key probe of each table), which availability then
/// reuses.
pub async fn check(
    db: &impl ConnectionTrait,
    token: Verified,
) -> Result<Option<crate::version::Versions>, DbErr> {
    let found: Option<(i64, i64)> = sessions::Entity::find_by_id(token.session_id)
        .filter(sessions::Column::UserId.eq(token.user_id))
        .join(JoinType::InnerJoin, sessions::Relation::User.def())
        .select_only()
        .column(users::Column::EventsVersion)
        .column(users::Column::CalendarsVersion)
        .into_tuple()
        .one(db)
        .await?;
    Ok(found.map(|(events, calendars)| crate::version::Versions { events, calendars }))
}

/// Logs one token out.
pub async fn close(db: &impl ConnectionTrait, token: Verified) -> Result<(), DbErr> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::Id.eq(token.session_id))
        .filter(sessions::Column::UserId.eq(token.user_id))
        .exec(db)
        .await
        .map(drop)
}

/// Revokes every token of the user except `keep`'s.
pub async fn close_others(db: &impl ConnectionTrait, keep: Verified) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(keep.user_id))
        .filter(sessions::Column::Id.ne(keep.session_id))
        .exec(db)
        .await?
        .rows_affected)
}

/// Sessions whose tokens have expired (they could not be used anyway); returns how many went.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lt(now - chrono::Duration::minutes(1)))
        .exec(db)
        .await?
        .rows_affected)
}
