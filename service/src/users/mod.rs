//! freeslot's own accounts: registration, login, the password and the profile. (Deleting an
//! account is `account_removal`: it reaches into every other module.)

pub mod throttle;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use domain::TimeZone;
use entity::users;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, Set, SqlErr, TransactionTrait,
};
use uuid::Uuid;

use crate::AppContext;
use crate::auth::jwt::{AccessToken, Verified};
use crate::auth::password::HashingError;
use crate::fields::{DisplayName, Email, Invalid, Password};
use crate::limits::{self, Limit, Scope, Verdict};

use crate::audit::{self, Actor};

pub struct NewUser {
    pub email: String,
    pub password: String,
    pub name: String,
    pub timezone: String,
}

#[derive(Default)]
pub struct ProfileChanges {
    pub name: Option<String>,
    pub timezone: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("an account with this email address already exists")]
    EmailTaken,
    /// `REGISTRATION=closed` and an account exists already.
    #[error("registration is closed on this server")]
    Closed,
    /// `REGISTER_RATE_PER_HOUR` reached for the client's address.
    #[error("too many registrations from this address; try again later")]
    TooManyRequests { retry_after: chrono::Duration },
    #[error("too many password checks at once; try again shortly")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The same answer whether the email is unknown or the password wrong.
    #[error("the email address or the password is wrong")]
    InvalidCredentials,
    /// Too many wrong passwords for this email address lately (see `throttle`).
    #[error("too many failed logins for this address; try again later")]
    TooManyAttempts { retry_after: chrono::Duration },
    /// `LOGIN_RATE_PER_MINUTE` reached for the client's address.
    #[error("too many login attempts from this address; try again later")]
    TooManyRequests { retry_after: chrono::Duration },
    #[error("too many password checks at once; try again shortly")]
    Busy,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Changing the password, or proving it to delete the account.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the current password is wrong")]
    WrongPassword,
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("too many wrong passwords for this account; try again later")]
    TooManyAttempts { retry_after: chrono::Duration },
    #[error("too many password checks at once; try again shortly")]
    Busy,
    #[error("the user does not exist")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<HashingError> for RegisterError {
    fn from(e: HashingError) -> Self {
        match e {
            HashingError::Busy => Self::Busy,
            HashingError::Failed(e) => Self::Internal(e),
        }
    }
}

impl From<HashingError> for LoginError {
    fn from(e: HashingError) -> Self {
        match e {
            HashingError::Busy => Self::Busy,
            HashingError::Failed(e) => Self::Internal(e),
        }
    }
}

impl From<HashingError> for PasswordError {
    fn from(e: HashingError) -> Self {
        match e {
            HashingError::Busy => Self::Busy,
            HashingError::Failed(e) => Self::Internal(e),
        }
    }
}

impl From<DbErr> for PasswordError {
    fn from(e: DbErr) -> Self {
        Self::Internal(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("the user does not exist")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for RegisterError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => RegisterError::EmailTaken,
            _ => RegisterError::Internal(e.into()),
        }
    }
}

impl From<DbErr> for LoginError {
    fn from(e: DbErr) -> Self {
        LoginError::Internal(e.into())
    }
}

impl From<DbErr> for ProfileError {
    fn from(e: DbErr) -> Self {
        ProfileError::Internal(e.into())
    }
}

/// The per-address limit, if it is on.
fn per_address(max: u64, period: chrono::Duration) -> Option<Limit> {
    (max > 0).then_some(Limit { max, period })
}

/// Creates the account and opens its first session.
pub async fn register(
    ctx: &AppContext,
    client: IpAddr,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<(users::Model, AccessToken), RegisterError> {
    let db = &ctx.db;
    let access = &ctx.settings.access;
    // The first account can always be made: a closed server is still set up by its owner.
    if !access.registration_open && users::Entity::find().count(db).await? > 0 {
        return Err(RegisterError::Closed);
    }
    if let Some(limit) = per_address(access.register_rate_per_hour, chrono::Duration::hours(1))
        && let Verdict::Refused { retry_after } =
            limits::take(db, Scope::RegisterAddress, &client.to_string(), limit, now).await?
    {
        return Err(RegisterError::TooManyRequests { retry_after });
    }
    let email = Email::parse(&new.email)?;
    let password = Password::parse(&new.password)?;
    let name = DisplayName::parse(&new.name)?;
    let timezone = parse_timezone(&new.timezone)?;

    // Cheap check first, so a taken email does not cost an Argon2 hash; the unique index
    // still decides races.
    if find_by_email(db, &email).await?.is_some() {
        return Err(RegisterError::EmailTaken);
    }
    let hash = ctx.hashing.hash(password.expose().to_owned()).await?;

    let txn = db.begin().await?;
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(hash),
        name: Set(name.into_inner()),
        timezone: Set(timezone.name().to_owned()),
        events_version: Set(0),
        calendars_version: Set(0),
        notification_seq: Set(0),
        alerted_seq: Set(0),
        availability_from: Set(None),
        availability_to: Set(None),
        availability_told_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        audit::Entry {
            user_id: Some(user.id),
            actor: Actor::User,
            action: "user.registered",
            entity_type: "user",
            entity_id: Some(user.id.to_string()),
            details: None,
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(user_id = %user.id, "user registered");
    let token = crate::sessions::open(db, &ctx.jwt, user.id, now).await?;
    Ok((user, token))
}

/// Checks the password (under the address's limits and lock) and opens a session.
pub async fn login(
    ctx: &AppContext,
    client: IpAddr,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<AccessToken, LoginError> {
    let db = &ctx.db;
    let access = &ctx.settings.access;
    if let Some(limit) = per_address(access.login_rate_per_minute, chrono::Duration::minutes(1))
        && let Verdict::Refused { retry_after } =
            limits::take(db, Scope::LoginAddress, &client.to_string(), limit, now).await?
    {
        return Err(LoginError::TooManyRequests { retry_after });
    }
    let Ok(email) = Email::parse(email) else {
        // No account can have this address.
        ctx.hashing.verify(password.to_owned(), None).await?;
        return Err(LoginError::InvalidCredentials);
    };
    let user = find_by_email(db, &email).await?;
    match verify_throttled(ctx, &email, user.as_ref(), password, now).await? {
        Throttled::Right => {
            let user = user.expect("only a stored hash matches");
            Ok(crate::sessions::open(db, &ctx.jwt, user.id, now).await?)
        }
        Throttled::Wrong => Err(LoginError::InvalidCredentials),
        Throttled::Locked { retry_after } => Err(LoginError::TooManyAttempts { retry_after }),
    }
}

enum Throttled {
    Right,
    Wrong,
    Locked { retry_after: chrono::Duration },
}

/// Checks a password under the address's lock: a failure slot is taken before the hash is
/// computed (so concurrent guesses cannot all slip in before the count), kept when the password
/// is wrong and cleared when it is right. A locked-out address costs no hashing, and guessing
/// the right password during the lockout gains nothing.
async fn verify_throttled(
    ctx: &AppContext,
    email: &Email,
    user: Option<&users::Model>,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Throttled, HashingError> {
    let db_err = |e: DbErr| HashingError::Failed(e.into());
    if let Verdict::Refused { retry_after } = throttle::reserve(&ctx.db, email, now)
        .await
        .map_err(db_err)?
    {
        return Ok(Throttled::Locked { retry_after });
    }
    // Checked for unknown addresses too, for the time it takes.
    let ok = ctx
        .hashing
        .verify(password.to_owned(), user.map(|u| u.password_hash.clone()))
        .await?;
    if ok {
        throttle::forget(&ctx.db, email).await.map_err(db_err)?;
        Ok(Throttled::Right)
    } else {
        Ok(Throttled::Wrong)
    }
}

/// Proves the caller knows the account's password (for a password change or deletion), under
/// the same lock as logins.
pub async fn confirm_password(
    ctx: &AppContext,
    user_id: Uuid,
    password: &str,
    now: DateTime<Utc>,
) -> Result<users::Model, PasswordError> {
    let user = get(&ctx.db, user_id)
        .await
        .map_err(|_| PasswordError::NotFound)?;
    let email = Email::parse(&user.email).map_err(|e| PasswordError::Internal(e.into()))?;
    match verify_throttled(ctx, &email, Some(&user), password, now).await? {
        Throttled::Right => Ok(user),
        Throttled::Wrong => Err(PasswordError::WrongPassword),
        Throttled::Locked { retry_after } => Err(PasswordError::TooManyAttempts { retry_after }),
    }
}

/// Replaces the password after checking the current one, and revokes every other token of the
/// user: whoever knew the old password is logged out everywhere but here.
pub async fn change_password(
    ctx: &AppContext,
    token: Verified,
    current: &str,
    new: &str,
    now: DateTime<Utc>,
) -> Result<(), PasswordError> {
    let new = Password::parse(new)?;
    let user = confirm_password(ctx, token.user_id, current, now).await?;
    let hash = ctx.hashing.hash(new.expose().to_owned()).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut active: users::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let revoked = crate::sessions::close_others(&txn, token).await?;
    audit::record(
        &txn,
        audit::Entry {
            user_id: Some(token.user_id),
            actor: Actor::User,
            action: "user.password_changed",
            entity_type: "user",
            entity_id: Some(token.user_id.to_string()),
            details: Some(serde_json::json!({ "sessions_revoked": revoked })),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

pub async fn get(db: &DatabaseConnection, id: Uuid) -> Result<users::Model, ProfileError> {
    users::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ProfileError::NotFound)
}

pub async fn update_profile(
    db: &DatabaseConnection,
    id: Uuid,
    changes: ProfileChanges,
    now: DateTime<Utc>,
) -> Result<users::Model, ProfileError> {
    // Parse everything before touching anything: bad input changes nothing.
    let name = changes
        .name
        .as_deref()
        .map(DisplayName::parse)
        .transpose()?;
    let timezone = changes
        .timezone
        .as_deref()
        .map(parse_timezone)
        .transpose()?;

    let user = get(db, id).await?;
    if name.is_none() && timezone.is_none() {
        return Ok(user);
    }
    let zone_changed = timezone
        .as_ref()
        .is_some_and(|tz| tz.name() != user.timezone);
    let mut active: users::ActiveModel = user.into();
    if let Some(name) = name {
        active.name = Set(name.into_inner());
    }
    if let Some(tz) = timezone {
        active.timezone = Set(tz.name().to_owned());
    }
    active.updated_at = Set(now);
    let txn = db.begin().await?;
    let user = active.update(&txn).await?;
    audit::record(
        &txn,
        audit::Entry {
            user_id: Some(id),
            actor: Actor::User,
            action: "user.profile_updated",
            entity_type: "user",
            entity_id: Some(id.to_string()),
            details: None,
            at: now,
        },
    )
    .await?;
    // Users without saved rules work in their own zone: a new zone moves their hours (the
    // worker's tick tells the change).
    let span = zone_changed.then(|| crate::notifications::availability::Span::from_now(now));
    crate::version::touch(&txn, id, span).await?;
    txn.commit().await?;
    Ok(user)
}

async fn find_by_email(
    db: &DatabaseConnection,
    email: &Email,
) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(db)
        .await
}

fn parse_timezone(name: &str) -> Result<TimeZone, Invalid> {
    TimeZone::parse(name).map_err(|e| Invalid::new("timezone", "unknown_timezone", e.to_string()))
}
