pub(crate) mod accounts;
pub(crate) mod health;
pub(crate) mod me;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, error, web};
use tracing_actix_web::RequestId;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::openapi::ApiDoc;

/// Bodies larger than this are refused before parsing.
const JSON_LIMIT: usize = 256 * 1024;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(JSON_LIMIT)
            .error_handler(json_error),
    )
    .app_data(web::QueryConfig::default().error_handler(|err, _| {
        ApiError::bad_request(format!("Invalid query string: {err}")).into()
    }))
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _| ApiError::not_found(format!("No such resource: {err}")).into()),
    )
    .service(health::health)
    .service(health::ready)
    .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", ApiDoc::openapi()))
    .service(web::redirect("/api/docs", "/api/docs/"))
    .service(
        web::scope("/api")
            .service(accounts::register)
            .service(accounts::login)
            .service(me::get_me)
            .service(me::patch_me),
    )
    .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "There is no route {} {}.",
        req.method(),
        req.path()
    )))
}

fn json_error(err: error::JsonPayloadError, _: &HttpRequest) -> error::Error {
    use error::JsonPayloadError as E;
    let api = match &err {
        E::ContentType => ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON with `Content-Type: application/json`.",
        ),
        E::Overflow { .. } | E::OverflowKnownLength { .. } => ApiError::new(
            actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("The body is larger than {JSON_LIMIT} bytes."),
        ),
        E::Deserialize(e) => {
            ApiError::bad_request(format!("The JSON body is not what this route expects: {e}"))
        }
        other => ApiError::bad_request(format!("The body could not be read: {other}")),
    };
    api.into()
}

/// Echoes the request id that the tracing span carries, so a client's report can be found in the logs.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().copied();
    let mut res = next.call(req).await?;
    if let Some(id) = id
        && let Ok(value) = HeaderValue::from_str(&id.to_string())
    {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// 200 with a JSON body, or the error mapped by `ApiError`.
pub(crate) fn ok_json<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}
