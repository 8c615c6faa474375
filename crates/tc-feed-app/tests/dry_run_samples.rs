//! A dry run on the public sample lists (`../shared/et-samples/public`, plain files): the
//! documents it writes carry what the mapping promises for `5.5.5.5` and `domain.com`, and
//! the report counts the wildcard patterns it skipped. Skipped where the samples are absent.

mod common;

use std::sync::Arc;
use std::time::Duration;

use proofpoint_et_client::{DirectorySource, ListFile};
use serde_json::Value;
use tc_feed_app::destination::DryRunFolder;
use tc_feed_app::exit::ExitCode;
use tc_feed_app::job::{Job, JobOptions};
use tc_feed_app::report::{ListStatus, Report};
use tc_feed_app::state::{Identity, State};
use threatconnect_client::ChunkLimits;

/// Every indicator of every job document in the folder, with the file it came from.
fn documents(jobs: &std::path::Path) -> Vec<(String, Value)> {
    let mut indicators = Vec::new();
    for path in common::files_under(jobs) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".settings.json") {
            continue;
        }
        let document: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for indicator in document["indicator"].as_array().unwrap() {
            indicators.push((name.clone(), indicator.clone()));
        }
    }
    indicators
}

fn attribute<'a>(indicator: &'a Value, name: &str) -> Option<&'a str> {
    indicator["attribute"]
        .as_array()?
        .iter()
        .find(|attribute| attribute["type"] == name)?["value"]
        .as_str()
}

fn tags(indicator: &Value) -> Vec<&str> {
    let mut tags: Vec<&str> = indicator["tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag["name"].as_str().unwrap())
        .collect();
    tags.sort_unstable();
    tags
}

async fn dry_run(samples: &std::path::Path, out: &std::path::Path) -> (Report, ExitCode) {
    let options = JobOptions {
        identity: Identity {
            url: "dry-run".to_owned(),
            owner: common::tc::OWNER.to_owned(),
        },
        lists: vec![ListFile::DETAILED_IP, ListFile::DETAILED_DOMAIN],
        mapper: common::feed::mapper().build().unwrap(),
        full: false,
        full_refresh_every: Duration::from_secs(24 * 3600),
    };
    let state_path = out.join("state");
    let mut state = State::open_for(&state_path, &options.identity).unwrap();
    let folder = DryRunFolder::create(out, ChunkLimits::default()).unwrap();
    let mut report = Report::start(
        folder_description(out),
        options.identity.owner.clone(),
        state_path,
        true,
    );
    let source = Arc::new(DirectorySource::new(samples));

    let result = Job::new(&options, source, &folder)
        .run(&mut state, &mut report)
        .await;
    state.compact().unwrap();
    report.finish(result.as_ref().err().map(|e| e as _));
    let exit = report.outcome.exit_code();
    (report, exit)
}

fn folder_description(out: &std::path::Path) -> String {
    format!("dry run into {}", out.display())
}

#[tokio::test]
async fn dry_run_on_the_public_samples_writes_what_the_mapping_promises_and_counts_wildcards() {
    let Some(samples) = test_support::et_samples_dir() else {
        return;
    };
    let public = samples.join("public");
    let out = tempfile::tempdir().unwrap();

    let (report, exit) = dry_run(&public, out.path()).await;

    assert_eq!(exit, ExitCode::Success, "{report:#?}");
    let indicators = documents(&out.path().join("jobs"));
    let find = |summary: &str| {
        indicators
            .iter()
            .find(|(_, indicator)| indicator["summary"] == summary)
            .unwrap_or_else(|| panic!("no {summary} in {indicators:#?}"))
    };

    let (file, address) = find("5.5.5.5");
    assert!(file.ends_with("-create.json"), "{file}");
    assert_eq!(address["type"], "Address");
    assert_eq!(tags(address), ["Brute_Forcer", "Proxy", "TorNode"]);
    assert_eq!(attribute(address, "External Score"), Some("122"));
    assert_eq!(attribute(address, "First Seen"), Some("2018-01-15"));
    assert_eq!(attribute(address, "Last Seen"), Some("2020-01-22"));

    let (_, host) = find("domain.com");
    assert_eq!(host["type"], "Host");
    assert_eq!(attribute(host, "External Score"), Some("122"));
    assert!(
        indicators
            .iter()
            .all(|(_, indicator)| !indicator["summary"].as_str().unwrap().contains('*')),
        "no Host with `*` is ever written"
    );

    let domains = &report.lists[ListFile::DETAILED_DOMAIN.name()];
    assert_eq!(domains.status, ListStatus::Imported);
    assert_eq!(domains.dropped.get("wildcard"), Some(&3), "{domains:#?}");
    assert_eq!(domains.indicators.get("Host"), Some(&1));
    let settings = std::fs::read_to_string(out.path().join("jobs/0001-create.settings.json"));
    assert!(settings.unwrap().contains("\"owner\": \"Example Org\""));

    // A second dry run into the same folder shows the delta: nothing.
    let (again, exit) = dry_run(&public, out.path()).await;
    assert_eq!(exit, ExitCode::Success, "{again:#?}");
    assert!(documents(&out.path().join("jobs")).is_empty());
}
