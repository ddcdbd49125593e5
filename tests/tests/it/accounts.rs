use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp, backend_tests, error_code};

fn ada() -> Value {
    json!({"email": "Ada@Example.com", "password": "correct horse battery", "name": "Ada Lovelace", "timezone": "Europe/Berlin"})
}

async fn register_returns_the_user_and_a_working_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.post_register(&ada()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let user = &body["user"];
    assert_eq!(
        user["email"], "ada@example.com",
        "emails are stored lower-cased"
    );
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["timezone"], "Europe/Berlin");
    assert!(user["created_at"].as_str().is_some());
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    assert!(!body.to_string().contains("correct horse"));

    let token = body["access_token"].as_str().unwrap();
    let me: Value = app.get_me(token).await.json().await.unwrap();
    assert_eq!(me["id"], user["id"]);
    assert_eq!(me["email"], "ada@example.com");
}

async fn the_same_email_registers_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(
        app.post_register(&ada()).await.status(),
        StatusCode::CREATED
    );
    let mut again = ada();
    again["email"] = json!("  ADA@example.COM ");
    let res = app.post_register(&again).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "email_taken");
}

async fn invalid_registrations_are_refused_and_create_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let cases = [
        (
            "email",
            json!("not-an-email"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        (
            "email",
            json!("ada@nodot"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        ),
        (
            "password",
            json!("short1234"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "weak_password",
        ),
        (
            "timezone",
            json!("Mars/Olympus"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_timezone",
        ),
        (
            "timezone",
            json!("+01:00"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_timezone",
        ),
        (
            "name",
            json!("   "),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
        ),
        (
            "password",
            json!(12345678901u64),
            StatusCode::BAD_REQUEST,
            "malformed_request",
        ),
    ];
    for (field, value, status, code) in cases {
        let mut body = ada();
        body[field] = value.clone();
        let res = app.post_register(&body).await;
        assert_eq!(res.status(), status, "{field} = {value}");
        assert_eq!(error_code(res).await, code, "{field} = {value}");
    }
    let mut missing = ada();
    missing.as_object_mut().unwrap().remove("timezone");
    let res = app.post_register(&missing).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "malformed_request");

    let res = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(res).await, "malformed_request");

    let res = app
        .client
        .post(app.url("/api/auth/register"))
        .header("content-type", "text/plain")
        .body(ada().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(res).await, "unsupported_media_type");

    // None of the refused attempts created the account.
    let res = app
        .post_login(&json!({"email": "ada@example.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post_register(&ada()).await.status(),
        StatusCode::CREATED
    );
}

async fn login_gives_a_bearer_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.post_register(&ada()).await;
    let res = app
        .post_login(&json!({"email": " ADA@example.com", "password": "correct horse battery"}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 24 * 60 * 60);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get_me(token).await.status(), StatusCode::OK);
}

async fn login_failures_do_not_reveal_whether_the_email_exists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.post_register(&ada()).await;
    let wrong_password = app
        .post_login(&json!({"email": "ada@example.com", "password": "correct horse battery!"}))
        .await;
    let unknown_email = app
        .post_login(&json!({"email": "bob@example.com", "password": "correct horse battery"}))
        .await;
    let not_an_email = app
        .post_login(&json!({"email": "bob", "password": "correct horse battery"}))
        .await;
    let mut bodies = Vec::new();
    for res in [wrong_password, unknown_email, not_an_email] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        bodies.push(res.text().await.unwrap());
    }
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");
    assert!(bodies[0].contains("invalid_credentials"));
}

async fn profile_can_be_read_and_changed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;

    let res = app
        .patch_me(
            &user.token,
            &json!({"name": "  Ada King ", "timezone": "Asia/Kathmandu"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "Ada King");
    assert_eq!(body["timezone"], "Asia/Kathmandu");
    assert_eq!(body["email"], user.email);

    // Bad input changes nothing, not even the valid half of it.
    let res = app
        .patch_me(
            &user.token,
            &json!({"name": "Changed", "timezone": "Nowhere/Special"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "unknown_timezone");
    let res = app.patch_me(&user.token, &json!({"nmae": "typo"})).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let me: Value = app.get_me(&user.token).await.json().await.unwrap();
    assert_eq!(me["name"], "Ada King");
    assert_eq!(me["timezone"], "Asia/Kathmandu");

    // An empty patch is a no-op that still answers with the profile.
    let res = app.patch_me(&user.token, &json!({})).await;
    assert_eq!(res.status(), StatusCode::OK);
}

async fn each_user_sees_only_their_own_profile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.register_user().await;
    let b = app.register_user().await;
    let me_a: Value = app.get_me(&a.token).await.json().await.unwrap();
    let me_b: Value = app.get_me(&b.token).await.json().await.unwrap();
    assert_eq!(me_a["id"], a.id.as_str());
    assert_eq!(me_b["id"], b.id.as_str());
    app.patch_me(&a.token, &json!({"name": "Only A"})).await;
    let me_b: Value = app.get_me(&b.token).await.json().await.unwrap();
    assert_eq!(me_b["name"], "Test User");
}

/// Ten wrong passwords for an address within 15 minutes lock it until the oldest leaves the
/// window — even for the right password, and for unknown addresses alike; others are untouched.
async fn repeated_wrong_passwords_lock_the_address_for_a_while(backend: Backend) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn(backend).await;
    app.post_register(&ada()).await;
    let login = |email: &str, password: &str| json!({"email": email, "password": password});
    for email in ["ada@example.com", "nobody@example.com"] {
        for _ in 0..10 {
            let res = app.post_login(&login(email, "not the password")).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = app.post_login(&login(email, "correct horse battery")).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        assert_eq!(error_code(res).await, "too_many_attempts");
    }
    // Another account is not affected.
    let mut bea = ada();
    bea["email"] = json!("bea@example.com");
    app.post_register(&bea).await;
    let res = app
        .post_login(&login("bea@example.com", "correct horse battery"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Sixteen minutes pass: the failures leave the window and the right password works again,
    // which also clears the count.
    entity::attempts::Entity::update_many()
        .col_expr(
            entity::attempts::Column::At,
            sea_orm::sea_query::Expr::value(tests::clock::now() - chrono::Duration::minutes(16)),
        )
        .filter(entity::attempts::Column::Scope.eq("login_failure"))
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let res = app
        .post_login(&login("ada@example.com", "correct horse battery"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let ada_hash = service::secrets::sha256_hex("ada@example.com");
    let left = entity::attempts::Entity::find()
        .filter(entity::attempts::Column::Scope.eq("login_failure"))
        .filter(entity::attempts::Column::KeyHash.eq(ada_hash))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(left.is_empty());
    // The clean-up forgets the old failures of the unknown address too.
    let purged = service::limits::purge(&app.ctx.db, tests::clock::now())
        .await
        .unwrap();
    assert_eq!(purged, 10);
}

backend_tests!(
    repeated_wrong_passwords_lock_the_address_for_a_while,
    register_returns_the_user_and_a_working_token,
    the_same_email_registers_once,
    invalid_registrations_are_refused_and_create_nothing,
    login_gives_a_bearer_token,
    login_failures_do_not_reveal_whether_the_email_exists,
    profile_can_be_read_and_changed,
    each_user_sees_only_their_own_profile,
);

/// The audit log (contract, "Audit log"): the caller's changes and the system's, newest first,
/// paged, other users' never, secrets never.
async fn the_audit_log_records_changes_without_secrets(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let other = app.register_user().await;
    let token = &user.token;
    let ok = |res: reqwest::Response| {
        assert!(res.status().is_success(), "{}", res.status());
        res
    };
    let client: serde_json::Value = ok(app
        .post_json(
            "/api/clients",
            &serde_json::json!({"name": "Acme"}),
            Some(token),
        )
        .await)
    .json()
    .await
    .unwrap();
    let client_id = client["id"].as_str().unwrap();
    ok(app
        .patch_json(
            &format!("/api/clients/{client_id}"),
            &serde_json::json!({"keywords": ["acme"]}),
            token,
        )
        .await);
    let event = app
        .create_event(
            token,
            serde_json::json!({"title": "Acme kickoff", "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"}),
        )
        .await;
    ok(app
        .patch_json(
            &format!("/api/events/{}/client", event["id"].as_str().unwrap()),
            &serde_json::json!({"client_id": client_id}),
            token,
        )
        .await);
    let feeds: serde_json::Value = ok(app.get("/api/feeds", Some(token)).await)
        .json()
        .await
        .unwrap();
    ok(app
        .post_json("/api/feeds/rotate", &serde_json::json!({}), Some(token))
        .await);
    ok(app
        .patch_json(
            "/api/availability/export/calcom",
            &serde_json::json!({"days": 30}),
            token,
        )
        .await);
    ok(app
        .delete(&format!("/api/clients/{client_id}"), token)
        .await);

    let page = |query: Vec<(&'static str, String)>| {
        let app = &app;
        async move {
            let q: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = app.get_query("/api/audit", token, &q).await;
            assert_eq!(res.status(), reqwest::StatusCode::OK);
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    let all = page(vec![("limit", "100".into())]).await;
    let actions: Vec<&str> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "client.deleted",
        "export.configured",
        "feeds.rotated",
        "event.client_assigned",
        "client.updated",
        "client.created",
        "user.registered",
    ] {
        assert!(actions.contains(&expected), "{expected} in {actions:?}");
    }
    assert_eq!(actions[0], "client.deleted", "newest first: {actions:?}");
    assert_eq!(*actions.last().unwrap(), "user.registered");
    // Paged: two at a time, the same entries in the same order.
    let mut paged = Vec::new();
    let mut query = vec![("limit", "2".to_owned())];
    loop {
        let p = page(query.clone()).await;
        paged.extend(
            p["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        match p["next_page_token"].as_str() {
            Some(t) => query = vec![("limit", "2".to_owned()), ("page_token", t.to_owned())],
            None => break,
        }
    }
    let ids: Vec<serde_json::Value> = all["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].clone())
        .collect();
    assert_eq!(paged, ids);
    // No secret anywhere: not the password, not a feed token.
    let text = all.to_string();
    assert!(!text.contains(&user.password));
    let busy_url = feeds["busy"].as_str().unwrap();
    let feed_token = busy_url.rsplit('/').nth(1).unwrap();
    assert!(!text.contains(feed_token));
    // Another user's log is their own.
    let theirs = app.get_query("/api/audit", &other.token, &[]).await;
    let theirs: serde_json::Value = theirs.json().await.unwrap();
    assert_eq!(theirs["entries"].as_array().unwrap().len(), 1, "{theirs}");
}

backend_tests!(the_audit_log_records_changes_without_secrets);
