//! A stand-in for the web frontend at `FRONTEND_URL`: one page that shows how the connection
//! ended (`?connected=…` or `?error=…`), as a real frontend would.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};

use super::FakeServer;

pub type FakeFrontend = FakeServer<()>;

pub async fn start() -> FakeFrontend {
    FakeServer::start((), routes).await
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/app", web::get().to(page));
}

async fn page() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::html()).body(
        "<!doctype html><html><head><title>freeslot</title></head><body>\
         <h1 id=\"result\">…</h1><script>\
         const q = new URLSearchParams(location.search);\
         document.getElementById('result').textContent = q.get('connected') ? 'Connected ' + q.get('connected') : 'Failed: ' + q.get('error');\
         </script></body></html>",
    )
}
