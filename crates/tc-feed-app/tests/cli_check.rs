//! `tc-feed check` against stand-ins of both services: it says plainly what is wrong and how
//! to fix it, and imports nothing.

mod cli_support;

use cli_support::{
    ACCESS_ID, ATTRIBUTE_TYPES, Batch, ET_CODE, OWNER, Ran, SECRET_KEY, config_for, et_server,
    run_async, tc_feed, tc_server, text,
};
use wiremock::MockServer;

/// Runs `tc-feed check` against `et` and `tc` with both secrets in the environment.
async fn check(et: &MockServer, tc: &MockServer, code: &str, secret_key: &str) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), et, tc, "");
    let mut command = tc_feed(dir.path(), &["--config", text(&config), "check"]);
    command
        .env("TC_FEED_ET_SUBSCRIPTION_CODE", code)
        .env("TC_FEED_TC_SECRET_KEY", secret_key);
    let ran = run_async(command).await;
    assert!(!ran.all().contains(code), "{}", ran.all());
    assert!(!ran.all().contains(secret_key), "{}", ran.all());
    ran
}

/// The stdout line that starts with `FAIL`, and says `about`.
fn fail_line<'r>(ran: &'r Ran, about: &str) -> &'r str {
    ran.stdout
        .lines()
        .find(|line| line.starts_with("FAIL") && line.contains(about))
        .unwrap_or_else(|| panic!("no FAIL line about {about:?}:\n{}", ran.stdout))
}

#[tokio::test(flavor = "multi_thread")]
async fn check_passes_when_both_services_are_ready() {
    let et = et_server().await;
    let tc = tc_server(&[OWNER, "Other Org"], &ATTRIBUTE_TYPES, Batch::Enabled).await;

    let ran = check(&et, &tc, ET_CODE, SECRET_KEY).await;

    ran.expect_code(0);
    let ok_lines = ran.stdout.lines().filter(|l| l.starts_with("ok")).count();
    assert_eq!(ok_lines, 5, "{}", ran.stdout);
    assert!(!ran.stdout.contains("FAIL"), "{}", ran.stdout);
    assert!(
        ran.stdout.contains("everything the feed needs is in place"),
        "{}",
        ran.stdout
    );
    let posted = tc.received_requests().await.unwrap();
    assert!(
        posted
            .iter()
            .all(|request| request.method.as_str() == "GET"),
        "check sent more than reads"
    );
    let et_paths: Vec<String> = et
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| request.url.path().to_owned())
        .collect();
    assert!(
        !et_paths.is_empty() && et_paths.iter().all(|path| path.ends_with(".md5sum")),
        "check reads one sidecar and no list body: {et_paths:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn check_says_the_batch_api_is_disabled_and_how_to_enable_it() {
    let et = et_server().await;
    let tc = tc_server(&[OWNER], &ATTRIBUTE_TYPES, Batch::Disabled).await;

    let ran = check(&et, &tc, ET_CODE, SECRET_KEY).await;

    ran.expect_code(1);
    let line = fail_line(&ran, "Batch API");
    assert!(line.contains("Batch job api is not available"), "{line}");
    assert!(line.contains("enable"), "{line}");
    assert!(ran.stdout.contains("1 problem(s)"), "{}", ran.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_names_the_missing_attribute_types_and_says_to_create_them() {
    let et = et_server().await;
    let tc = tc_server(&[OWNER], &["External Score"], Batch::Enabled).await;

    let ran = check(&et, &tc, ET_CODE, SECRET_KEY).await;

    ran.expect_code(1);
    let line = fail_line(&ran, "attribute types");
    assert!(
        line.contains("First Seen") && line.contains("Last Seen"),
        "{line}"
    );
    assert!(!line.contains("External Score"), "{line}");
    assert!(line.contains("create them"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_says_the_owner_is_unknown_and_which_owners_the_user_sees() {
    let et = et_server().await;
    let tc = tc_server(
        &["Another Org", "Some Community"],
        &ATTRIBUTE_TYPES,
        Batch::Enabled,
    )
    .await;

    let ran = check(&et, &tc, ET_CODE, SECRET_KEY).await;

    ran.expect_code(1);
    let line = fail_line(&ran, "owner");
    assert!(line.contains(OWNER), "{line}");
    assert!(line.contains("Another Org"), "{line}");
    assert!(line.contains("`owner`"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_says_threatconnect_refused_the_credentials_and_which_settings_to_fix() {
    let et = et_server().await;
    let tc = tc_server(&[OWNER], &ATTRIBUTE_TYPES, Batch::Enabled).await;

    let ran = check(&et, &tc, ET_CODE, "not-the-right-secret-key").await;

    ran.expect_code(1);
    let line = fail_line(&ran, "credentials");
    assert!(line.contains("401"), "{line}");
    assert!(line.contains(ACCESS_ID), "{line}");
    assert!(line.contains("tc_access_id"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn check_says_the_et_server_refused_the_subscription_code() {
    let et = et_server().await;
    let tc = tc_server(&[OWNER], &ATTRIBUTE_TYPES, Batch::Enabled).await;

    let ran = check(&et, &tc, "aWrongCode99", SECRET_KEY).await;

    ran.expect_code(1);
    let line = fail_line(&ran, "ET list");
    assert!(line.contains("403"), "{line}");
    assert!(line.contains("subscription code"), "{line}");
    assert_eq!(line.matches("subscription code").count(), 1, "{line}");
    let threatconnect_ok = ran.stdout.lines().filter(|l| l.starts_with("ok")).count();
    assert_eq!(threatconnect_ok, 4, "{}", ran.stdout);
}
