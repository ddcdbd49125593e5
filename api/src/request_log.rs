//! The request log's span, without secrets: the route pattern (`/feeds/{token}/busy.ics`), never
//! the path or the query string, which carry feed tokens, OAuth `code`s and `state`s and, later,
//! stream tickets. A request that matched no route is logged as `unmatched`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::Span;
use tracing::field::Empty;
use tracing_actix_web::{RequestId, RootSpanBuilder};

pub struct RedactedRootSpan;

impl RootSpanBuilder for RedactedRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let route = request
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.route = %route,
            http.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(response) => (response.status(), response.response().error()),
            Err(error) => (error.as_response_error().status_code(), Some(error)),
        };
        span.record("http.status_code", status.as_u16());
        // A client's mistake is in the status; its message may quote what the client sent.
        if status.is_server_error()
            && let Some(error) = error
        {
            span.record("exception.message", tracing::field::display(error));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use actix_web::{App, HttpResponse, test, web};
    use tracing_actix_web::TracingLogger;

    use super::RedactedRootSpan;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[actix_web::test]
    async fn neither_path_secrets_nor_query_strings_reach_the_log() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = test::init_service(
            App::new()
                .wrap(TracingLogger::<RedactedRootSpan>::new())
                .route(
                    "/feeds/{token}/busy.ics",
                    web::get().to(|| async {
                        tracing::info!("inside the request");
                        HttpResponse::Ok().finish()
                    }),
                ),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/feeds/SECRET-FEED-TOKEN/busy.ics?code=SECRET-CODE&state=SECRET-STATE")
            .to_request();
        test::call_service(&app, req).await;
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("inside the request"), "{log}");
        assert!(log.contains("/feeds/{token}/busy.ics"), "{log}");
        assert!(!log.contains("SECRET"), "{log}");
    }
}
