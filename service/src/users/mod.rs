//! freeslot's own accounts: registration, login and the profile.

pub mod throttle;

use chrono::{DateTime, Utc};
use domain::TimeZone;
use entity::users;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set,
    SqlErr, TransactionTrait,
};
use uuid::Uuid;

use crate::fields::{DisplayName, Email, Invalid, Password};

use crate::audit::{self, Actor};
use crate::auth::password;

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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// The same answer whether the email is unknown or the password wrong.
    #[error("the email address or the password is wrong")]
    InvalidCredentials,
    /// Too many wrong passwords for this address lately (see `throttle`).
    #[error("too many failed logins for this address; try again later")]
    TooManyAttempts { retry_after: chrono::Duration },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
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

pub async fn register(
    db: &DatabaseConnection,
    new: NewUser,
    now: DateTime<Utc>,
) -> Result<users::Model, RegisterError> {
    let email = Email::parse(&new.email)?;
    let password = Password::parse(&new.password)?;
    let name = DisplayName::parse(&new.name)?;
    let timezone = parse_timezone(&new.timezone)?;

    // Cheap check first, so a taken email does not cost an Argon2 hash; the unique index
    // still decides races.
    if find_by_email(db, &email).await?.is_some() {
        return Err(RegisterError::EmailTaken);
    }
    let hash = tokio::task::spawn_blocking(move || password::hash(password.expose()))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(anyhow::Error::from)?;

    let txn = db.begin().await?;
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_owned()),
        password_hash: Set(hash),
        name: Set(name.into_inner()),
        timezone: Set(timezone.name().to_owned()),
        events_version: Set(0),
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
    Ok(user)
}

pub async fn login(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<users::Model, LoginError> {
    let Ok(email) = Email::parse(email) else {
        // No account can have this address.
        check_password(password, None).await?;
        return Err(LoginError::InvalidCredentials);
    };
    // Checked before the password: a locked-out address costs no hashing, and guessing the
    // right password during the lockout gains nothing.
    if let Some(until) = throttle::locked_until(db, &email, now).await? {
        return Err(LoginError::TooManyAttempts {
            retry_after: until - now,
        });
    }
    let user = find_by_email(db, &email).await?;
    // Checked for unknown addresses too, for the time it takes.
    let ok = check_password(password, user.as_ref().map(|u| u.password_hash.clone())).await?;
    match user {
        Some(user) if ok => {
            throttle::forget(db, &email).await?;
            Ok(user)
        }
        _ => {
            throttle::record_failure(db, &email, now).await?;
            Err(LoginError::InvalidCredentials)
        }
    }
}

/// Whether `password` matches `stored`; without a stored hash it spends the time a real check
/// would, so response times do not reveal unknown emails, and says no.
async fn check_password(password: &str, stored: Option<String>) -> Result<bool, LoginError> {
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(hash) => password::verify(&password, &hash),
        None => {
            password::verify_dummy(&password);
            false
        }
    })
    .await
    .map_err(anyhow::Error::from)?;
    Ok(ok)
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
    // Users without saved rules work in their own zone: a new zone moves their hours.
    crate::version::touch(&txn, id).await?;
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
