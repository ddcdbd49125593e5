//! The caller's audit log: who changed what, newest first (contract, "Audit log").

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::audit;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::routes::ok_json;

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    id: Uuid,
    at: DateTime<Utc>,
    /// `user`, `worker` or `system`.
    actor: String,
    #[schema(example = "calendar.updated")]
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    /// What changed, in a few words; never a secret.
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    entries: Vec<AuditEntry>,
    next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct AuditQuery {
    /// 1–500, default 100.
    limit: Option<u64>,
    /// `next_page_token` of the previous page.
    page_token: Option<String>,
}

/// The caller's audit log, newest first.
#[utoipa::path(get, path = "/api/audit", tag = "accounts", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = AuditPage), (status = 422, body = ErrorBody, description = "invalid_limit")))]
#[get("/audit")]
pub async fn list(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 100, 500)?;
    let after = crate::routes::page_token::<Uuid>(query.page_token.as_deref())?;
    let (entries, next) = audit::page(&ctx.db, user.id, limit, after)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(ok_json(&AuditPage {
        entries: entries
            .into_iter()
            .map(|e| AuditEntry {
                id: e.id,
                at: e.created_at,
                actor: e.actor,
                action: e.action,
                entity_type: e.entity_type,
                entity_id: e.entity_id,
                details: e.details,
            })
            .collect(),
        next_page_token: next.map(|id| id.to_string()),
    }))
}
