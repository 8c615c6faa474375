//! End-to-end tests of `reconcile`: a stand-in of ThreatConnect's indicator listing on
//! 127.0.0.1, the lists from a local folder, and the next run as a dry run on the rebuilt state.

use std::path::Path;
use std::sync::Arc;

use proofpoint_et_client::DirectorySource;
use tc_feed_app::config::{Origin, RawSettings, spec};
use tc_feed_app::destination::DryRunFolder;
use tc_feed_app::job::{Job, JobOptions};
use tc_feed_app::reconcile::reconcile;
use tc_feed_app::report::Report;
use tc_feed_app::settings::{Need, Settings};
use tc_feed_app::state::{Identity, State};
use threatconnect_client::{ChunkLimits, Client};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const OWNER: &str = "Example Org";

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reconcile")
}

fn settings(server: &MockServer) -> Settings {
    let mut raw = RawSettings::default();
    let pairs = [
        ("source", fixtures().to_string_lossy().into_owned()),
        ("gzip", "false".to_owned()),
        ("types", "Address".to_owned()),
        ("owner", OWNER.to_owned()),
        ("tc_url", format!("{}/api", server.uri())),
        ("tc_access_id", "reconcile-test".to_owned()),
        ("tc_secret_key", "reconcile-secret".to_owned()),
    ];
    for (key, value) in pairs {
        raw.set(spec(key).key, value, Origin::Env(spec(key).env()));
    }
    Settings::resolve(&raw, Need::Run, None, false).unwrap()
}

fn client(settings: &Settings) -> Client {
    let tc = settings.threatconnect.as_ref().unwrap();
    Client::builder(&tc.url, tc.credentials.clone())
        .build()
        .unwrap()
}

/// Reconciles `state` with the fixture lists and the stand-in behind `settings`.
async fn reconcile_fixtures(
    settings: &Settings,
    state: &mut State,
    report_only: bool,
) -> tc_feed_app::reconcile::Reconciliation {
    let source = Arc::new(DirectorySource::new(fixtures()));
    let client = client(settings);
    reconcile(settings, source, &client, state, report_only)
        .await
        .unwrap()
}

/// One page of addresses as ThreatConnect lists them.
async fn holds_addresses(server: &MockServer, addresses: &[String]) {
    let items: Vec<serde_json::Value> = addresses
        .iter()
        .enumerate()
        .map(|(id, ip)| serde_json::json!({"id": id, "ownerName": OWNER, "ip": ip, "active": true}))
        .collect();
    let body = serde_json::json!({
        "status": "Success",
        "data": {"resultCount": items.len(), "address": items}
    });
    Mock::given(method("GET"))
        .and(path("/api/v2/indicators/addresses"))
        .and(query_param("owner", OWNER))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

fn listed(range: std::ops::RangeInclusive<u8>) -> Vec<String> {
    range.map(|n| format!("192.0.2.{n}")).collect()
}

/// The next `run`, as a dry run on `state`: what it sends goes into `folder/jobs`.
async fn next_run(settings: &Settings, state: &mut State, folder: &Path) -> Report {
    let options = JobOptions {
        identity: Identity {
            url: "unused".into(),
            owner: OWNER.into(),
        },
        lists: settings.lists.clone(),
        mapper: settings.mapper.clone(),
        full: false,
        full_refresh_every: std::time::Duration::ZERO,
    };
    let source = Arc::new(DirectorySource::new(fixtures()));
    let destination = DryRunFolder::create(folder, ChunkLimits::default()).unwrap();
    let mut report = Report::start("test".into(), OWNER.into(), state.path().to_owned(), true);
    Job::new(&options, source, &destination)
        .run(state, &mut report)
        .await
        .unwrap();
    report
}

fn sent_values(folder: &Path) -> Vec<(String, serde_json::Value)> {
    let mut sent = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(folder.join("jobs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.to_string_lossy().ends_with(".settings.json"))
        .collect();
    files.sort();
    for file in files {
        let document: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        for indicator in document["indicator"].as_array().unwrap() {
            sent.push((
                indicator["summary"].as_str().unwrap().to_owned(),
                indicator.clone(),
            ));
        }
    }
    sent
}

#[tokio::test]
async fn lost_state_is_rebuilt_and_what_left_the_list_is_removed_next_run() {
    let server = MockServer::start().await;
    let mut held = listed(1..=10);
    held.extend(["198.51.100.8".to_owned(), "198.51.100.9".to_owned()]);
    holds_addresses(&server, &held).await;
    let settings = settings(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut state = State::create(
        dir.path().join("state"),
        Identity {
            url: settings.threatconnect.as_ref().unwrap().url.clone(),
            owner: OWNER.into(),
        },
    );

    let found = reconcile_fixtures(&settings, &mut state, false).await;

    let address = &found.findings[0];
    assert_eq!(
        (address.held, address.on_list, address.held_not_on_list),
        (12, 10, 2)
    );
    assert_eq!(
        address.held_not_on_list_examples,
        ["198.51.100.8", "198.51.100.9"]
    );
    assert_eq!(state.len(), 12);

    // The next run deactivates the two (2 of 12 is under the guard's 20%) and, since the state
    // could not know what ThreatConnect stored for the ten, sends those once again.
    let folder = dir.path().join("next");
    let report = next_run(&settings, &mut state, &folder).await;
    let list = &report.lists["detailed-iprepdata.txt"];
    assert_eq!((list.removed, list.removals_held_back), (2, false));
    let sent = sent_values(&folder);
    let deactivated: Vec<&str> = sent
        .iter()
        .filter(|(_, document)| document["active"] == false)
        .map(|(value, _)| value.as_str())
        .collect();
    assert_eq!(deactivated, ["198.51.100.8", "198.51.100.9"]);
    assert_eq!(sent.len(), 12);
    assert_eq!(state.len(), 10);
}

#[tokio::test]
async fn state_claiming_what_threatconnect_lacks_drops_it_and_next_run_sends_it() {
    let server = MockServer::start().await;
    holds_addresses(&server, &listed(1..=9)).await;
    let settings = settings(&server);
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity {
        url: "unused".into(),
        owner: OWNER.into(),
    };
    let mut state = State::create(dir.path().join("state"), identity);
    next_run(&settings, &mut state, &dir.path().join("first")).await;
    assert_eq!(state.len(), 10);

    let found = reconcile_fixtures(&settings, &mut state, false).await;

    let address = &found.findings[0];
    assert_eq!((address.claimed_not_held, address.held_not_on_list), (1, 0));
    assert_eq!(address.claimed_not_held_examples, ["192.0.2.10"]);
    assert!(state.get("Address\t192.0.2.10").is_none());

    let folder = dir.path().join("next");
    next_run(&settings, &mut state, &folder).await;
    let sent: Vec<String> = sent_values(&folder)
        .into_iter()
        .map(|(value, _)| value)
        .collect();
    assert_eq!(sent, ["192.0.2.10"]);
    assert_eq!(state.len(), 10);
}

#[tokio::test]
async fn report_only_changes_nothing() {
    let server = MockServer::start().await;
    holds_addresses(&server, &["198.51.100.8".to_owned()]).await;
    let settings = settings(&server);
    let dir = tempfile::tempdir().unwrap();
    let identity = Identity {
        url: "unused".into(),
        owner: OWNER.into(),
    };
    let mut state = State::create(dir.path().join("state"), identity);

    let found = reconcile_fixtures(&settings, &mut state, true).await;

    assert_eq!(found.findings[0].held_not_on_list, 1);
    assert!(!found.state_rebuilt);
    assert!(state.is_empty());
    assert!(!dir.path().join("state").exists());
}
