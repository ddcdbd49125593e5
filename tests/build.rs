//! `FREESLOT_TEST_BACKENDS=sqlite` builds the suite without its Postgres + Redis half: those
//! tests are compiled as ignored, so nextest lists them as skipped instead of passing them.
//! Without it every Postgres test runs and fails loudly when the servers are unreachable.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(freeslot_sqlite_only)");
    println!("cargo::rerun-if-env-changed=FREESLOT_TEST_BACKENDS");
    match std::env::var("FREESLOT_TEST_BACKENDS").as_deref() {
        Err(_) | Ok("") | Ok("all") => {}
        Ok("sqlite") => println!("cargo::rustc-cfg=freeslot_sqlite_only"),
        Ok(other) => panic!("FREESLOT_TEST_BACKENDS is `all` or `sqlite`, not `{other}`"),
    }
}
