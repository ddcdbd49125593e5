//! The embedded mode needs no configuration: secrets are generated once and reused.

use std::collections::HashMap;

use reqwest::StatusCode;
use service::vault::{Column, Slot};
use tests::{Backend, TestApp, test_worker_options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_secrets_survive_a_restart() {
    // Empty values unset the test defaults, as a user with no configuration would have.
    let vars = HashMap::from([
        ("JWT_SECRET".to_owned(), String::new()),
        ("TOKEN_ENCRYPTION_KEY".to_owned(), String::new()),
    ]);
    let app = TestApp::spawn_with(Backend::Sqlite, vars, test_worker_options()).await;
    let user = app.register_user().await;
    let slot = Slot::new(Column::ConnectionAccessToken, uuid::Uuid::now_v7());
    let sealed = app.ctx.vault.seal("a provider token", slot);

    let secrets_file = format!(
        "{}.secrets",
        app.db
            .dir
            .as_ref()
            .unwrap()
            .path()
            .join("freeslot.db")
            .display()
    );
    let contents =
        std::fs::read_to_string(&secrets_file).expect("secrets file written beside the database");
    assert!(contents.contains("JWT_SECRET=") && contents.contains("TOKEN_ENCRYPTION_KEY="));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secrets_file)
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the owner may read the secrets");
    }

    let app = app.restart().await;
    assert_eq!(
        app.get_me(&user.token).await.status(),
        StatusCode::OK,
        "tokens stay valid across restarts"
    );
    assert_eq!(
        app.ctx.vault.open(&sealed, slot).unwrap(),
        "a provider token",
        "stored tokens stay readable"
    );
    assert_eq!(
        std::fs::read_to_string(&secrets_file).unwrap(),
        contents,
        "generated once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_requires_explicit_secrets() {
    let settings = service::Settings::from_lookup(|k| match k {
        "DATABASE_URL" => Some("postgres://postgres@127.0.0.1:5432/test".to_owned()),
        _ => None,
    })
    .unwrap();
    let err = service::secrets::Secrets::resolve(&settings)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("JWT_SECRET is required"), "{err}");
}
