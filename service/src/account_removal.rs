//! Deleting an account and everything it owns. It reaches into every other module (grants at
//! the providers, push channels, the caches), so it sits on top of them all.
//!
//! Order matters: grants are revoked and push channels stopped first, while the tokens still
//! exist (a failure there is logged, not fatal: the person asked to leave, and the tokens are
//! deleted either way); then one transaction deletes the user row, which takes every table that
//! references it by cascade (sessions, connections, calendars, events, rules, clients, feeds,
//! conflicts, sync runs, OAuth states, exports), and the audit entries, which outlive a deleted
//! calendar but not a deleted person.

use entity::{audit_log, calendar_connections};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::AppContext;
use crate::auth::jwt::Verified;
use crate::connections::{self, ConnectError};
use crate::limits::{self, Scope};
use crate::users::{self, PasswordError};
use entity::users as user_rows;

/// Deletes the caller's account after checking their password.
pub async fn delete_account(
    ctx: &AppContext,
    token: Verified,
    password: &str,
) -> Result<(), PasswordError> {
    let now = ctx.clock.now();
    let user = users::confirm_password(ctx, token.user_id, password, now).await?;
    let mut providers: Vec<entity::Provider> = calendar_connections::Entity::find()
        .select_only()
        .column(calendar_connections::Column::Provider)
        .filter(calendar_connections::Column::UserId.eq(user.id))
        .order_by_asc(calendar_connections::Column::Provider)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    providers.dedup();
    for provider in providers {
        match connections::disconnect(ctx, user.id, provider).await {
            Ok(_) | Err(ConnectError::NotConnected(_)) => {}
            // The cascade below removes the rows anyway.
            Err(e) => {
                tracing::warn!(user_id = %user.id, %provider, error = %e, "disconnecting before account deletion failed")
            }
        }
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    audit_log::Entity::delete_many()
        .filter(audit_log::Column::UserId.eq(user.id))
        .exec(&txn)
        .await?;
    user_rows::Entity::delete_by_id(user.id).exec(&txn).await?;
    txn.commit().await?;
    // The lock's count for this address is personal data too.
    limits::clear(&ctx.db, Scope::LoginFailure, &user.email).await?;
    ctx.engine_cache.forget(user.id);
    tracing::info!(user_id = %user.id, "account deleted");
    Ok(())
}
