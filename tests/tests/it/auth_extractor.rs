use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;
use tests::{Backend, TEST_JWT_SECRET, TestApp, backend_tests, error_code};

/// A token signed by hand, without a session (`sid`): valid only in shape.
fn forge(secret: &str, alg: Algorithm, sub: &str, exp_offset_secs: i64) -> String {
    forge_claims(secret, alg, json!({"sub": sub}), exp_offset_secs)
}

/// The session id of a token the app issued.
fn session_of(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().expect("a sid claim").to_owned()
}

fn forge_claims(
    secret: &str,
    alg: Algorithm,
    mut claims: serde_json::Value,
    exp_offset_secs: i64,
) -> String {
    let now = tests::clock::now().timestamp();
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + exp_offset_secs);
    claims["iss"] = json!("freeslot");
    jsonwebtoken::encode(
        &Header::new(alg),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn status_and_code(
    app: &TestApp,
    authorization: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut req = app.client.get(app.url("/api/me"));
    if let Some(value) = authorization {
        req = req.header("authorization", value);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let code = if status.is_success() {
        String::new()
    } else {
        error_code(res).await
    };
    (status, code, challenge)
}

async fn bad_tokens_are_rejected_with_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;

    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing_token"),
        (Some(format!("Basic {}", user.token)), "invalid_token"),
        (Some("Bearer".to_owned()), "invalid_token"),
        (Some("Bearer not-a-jwt".to_owned()), "invalid_token"),
        (Some(format!("Bearer {}x", user.token)), "invalid_token"),
        (
            Some(format!(
                "Bearer {}",
                forge(
                    "another-secret-another-secret-another",
                    Algorithm::HS256,
                    &user.id,
                    600
                )
            )),
            "invalid_token",
        ),
        (
            Some(format!(
                "Bearer {}",
                forge(TEST_JWT_SECRET, Algorithm::HS512, &user.id, 600)
            )),
            "invalid_token",
        ),
        (
            Some(format!(
                "Bearer {}",
                forge(TEST_JWT_SECRET, Algorithm::HS256, &user.id, -3600)
            )),
            "token_expired",
        ),
        (
            Some(format!(
                "Bearer {}",
                forge(TEST_JWT_SECRET, Algorithm::HS256, "not-a-uuid", 600)
            )),
            "invalid_token",
        ),
        // Well signed, but for an account that does not exist.
        (
            Some(format!(
                "Bearer {}",
                forge(
                    TEST_JWT_SECRET,
                    Algorithm::HS256,
                    &uuid::Uuid::new_v4().to_string(),
                    600
                )
            )),
            "invalid_token",
        ),
    ];
    for (header, code) in cases {
        let (status, got, challenge) = status_and_code(&app, header.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(got, code, "{header:?}");
        assert_eq!(challenge.as_deref(), Some("Bearer"), "{header:?}");
    }

    // A well-signed token whose session does not exist.
    let (status, code, _) = status_and_code(
        &app,
        Some(&format!(
            "Bearer {}",
            forge_claims(
                TEST_JWT_SECRET,
                Algorithm::HS256,
                json!({"sub": user.id, "sid": uuid::Uuid::new_v4()}),
                600
            )
        )),
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    // The genuine token still works, and a hand-made one with the right key and its session
    // too; one without a session does not.
    assert_eq!(
        status_and_code(&app, Some(&format!("Bearer {}", user.token)))
            .await
            .0,
        StatusCode::OK
    );
    let handmade = forge_claims(
        TEST_JWT_SECRET,
        Algorithm::HS256,
        json!({"sub": user.id, "sid": session_of(&user.token)}),
        600,
    );
    assert_eq!(
        status_and_code(&app, Some(&format!("Bearer {handmade}")))
            .await
            .0,
        StatusCode::OK
    );
    let sessionless = forge(TEST_JWT_SECRET, Algorithm::HS256, &user.id, 600);
    assert_eq!(
        status_and_code(&app, Some(&format!("Bearer {sessionless}")))
            .await
            .1,
        "invalid_token"
    );
}

async fn unsigned_tokens_are_rejected(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    // {"alg":"none"} with the user's id: must never be accepted.
    use base64::Engine;
    let encode = |t: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(t);
    let header = encode(r#"{"alg":"none","typ":"JWT"}"#);
    let now = tests::clock::now().timestamp();
    let claims = encode(&format!(
        r#"{{"sub":"{}","iat":{now},"exp":{},"iss":"freeslot"}}"#,
        user.id,
        now + 600
    ));
    let (status, code, _) =
        status_and_code(&app, Some(&format!("Bearer {header}.{claims}."))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code, "invalid_token");
}

/// A well-signed token of an account that is gone (deleted behind the app's back, or never there)
/// is refused on every route: 401 `invalid_token`, never 200, 500 or a crash.
async fn tokens_of_a_vanished_user_answer_401_everywhere(backend: Backend) {
    use sea_orm::EntityTrait;
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let id: uuid::Uuid = user.id.parse().unwrap();
    entity::users::Entity::delete_by_id(id)
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let stranger = forge(
        TEST_JWT_SECRET,
        Algorithm::HS256,
        &uuid::Uuid::now_v7().to_string(),
        600,
    );
    for token in [user.token.as_str(), stranger.as_str()] {
        refused_everywhere(&app, token).await;
    }
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

/// `token` gets 401 `invalid_token` from reads and writes alike, and changes nothing.
pub(crate) async fn refused_everywhere(app: &TestApp, token: &str) {
    for (method, path, body) in [
        ("GET", "/api/me", None),
        ("GET", "/api/feeds", None),
        ("GET", "/api/calendars", None),
        ("GET", "/api/conflicts", None),
        ("GET", "/api/clients", None),
        ("POST", "/api/clients", Some(json!({"name": "Acme"}))),
        ("POST", "/api/auth/logout", None),
        (
            "POST",
            "/api/me/password",
            Some(
                json!({"current_password": "correct horse battery", "new_password": "another long password"}),
            ),
        ),
        (
            "DELETE",
            "/api/me",
            Some(json!({"password": "correct horse battery"})),
        ),
        (
            "POST",
            "/api/events",
            Some(
                json!({"title": "x", "start": "2027-01-05T10:00:00Z", "end": "2027-01-05T11:00:00Z"}),
            ),
        ),
        (
            "GET",
            "/api/availability?start=2027-01-04T00:00:00Z&end=2027-01-05T00:00:00Z&duration=30",
            None,
        ),
    ] {
        let mut req = match method {
            "GET" => app.client.get(app.url(path)),
            "DELETE" => app.client.delete(app.url(path)),
            _ => app.client.post(app.url(path)),
        }
        .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(error_code(res).await, "invalid_token", "{method} {path}");
    }
}

backend_tests!(
    bad_tokens_are_rejected_with_401,
    unsigned_tokens_are_rejected,
    tokens_of_a_vanished_user_answer_401_everywhere,
);
