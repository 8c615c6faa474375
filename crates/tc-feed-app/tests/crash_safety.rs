//! The commit protocol under SIGKILL: the real binary pauses at a test point (after a push,
//! between jobs, before a commit) and is killed there; the next run converges. Nothing is
//! lost (every indicator of the list ends up confirmed in the state, and ThreatConnect holds
//! what the list says), and nothing is sent under another identity.

mod common;

use std::collections::BTreeSet;

use common::bin::{feed_tool, report_in};
use common::et::EtServer;
use common::feed::{hour_2_keys, publish_hour};
use common::tc::{Job, OWNER, TcServer};
use reputation_mapper::IndicatorKind;
use tc_feed_app::state::{Identity, State};

fn summaries(jobs: &[Job]) -> BTreeSet<String> {
    jobs.iter().flat_map(Job::summaries).collect()
}

fn state_keys(state: &State) -> Vec<String> {
    let mut keys: Vec<String> = state
        .entries()
        .map(|(key, _)| format!("{} {}", key.kind().as_str(), key.value()))
        .collect();
    keys.sort();
    keys
}

fn assert_sent_under_the_feed_identity(jobs: &[Job]) {
    for job in jobs {
        assert_eq!(job.owner(), OWNER, "job {}", job.id);
        for indicator in &job.indicators {
            let kind = match indicator["type"].as_str().unwrap() {
                "Address" => IndicatorKind::Address,
                _ => IndicatorKind::Host,
            };
            let value = indicator["summary"].as_str().unwrap();
            assert_eq!(
                indicator["xid"],
                reputation_mapper::xid(OWNER, kind, value).as_str()
            );
        }
    }
}

fn external_score(held: &serde_json::Value) -> &str {
    held["attribute"]
        .as_array()
        .unwrap()
        .iter()
        .find(|attribute| attribute["type"] == "External Score")
        .and_then(|attribute| attribute["value"].as_str())
        .unwrap()
}

/// Hour 1 imported; hour 2 (three upserts of the IP list in two jobs, two of the domain list,
/// one removal each) killed at `point`; then one more run.
async fn killed_at_then_run_again(point: &str) {
    let et = EtServer::start().await;
    let tc = TcServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = [
        ("job_max_indicators", "2"),
        ("job_concurrency", "1"),
        ("removal_action", "deactivate"),
    ];
    let tool = feed_tool(dir.path(), &et.url(), &tc.url(), &extra);
    publish_hour(&et.fake, "hour-1");
    let hour_1 = tool.run(&["run"]);
    assert_eq!(hour_1.code, 0, "{}", hour_1.stderr);
    let jobs_of_hour_1 = tc.fake.jobs().len();

    publish_hour(&et.fake, "hour-2");
    let paused = tool.run_until_paused(&["run"], point);
    let killed_stderr = paused.kill();
    let pushed_before_the_kill = tc.fake.jobs_after(jobs_of_hour_1);
    assert!(
        !pushed_before_the_kill.is_empty(),
        "a job was pushed before the pause; stderr:\n{killed_stderr}"
    );

    let again = tool.run(&["run"]);

    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(report_in(dir.path())["outcome"], "success");
    let state = State::open(dir.path().join("state")).unwrap().unwrap();
    let identity = Identity {
        url: tc.url(),
        owner: OWNER.to_owned(),
    };
    assert_eq!(state.meta().identity, identity);
    assert_eq!(
        state_keys(&state),
        hour_2_keys(),
        "every indicator is confirmed"
    );
    assert!(state.meta().pending_removals.is_empty());

    let held = |value: &str| tc.fake.held(value).unwrap();
    assert_eq!(
        external_score(&held("192.0.2.3")),
        "85",
        "the change arrived"
    );
    assert_eq!(held("198.51.100.2")["active"], true);
    assert_eq!(held("golf.example")["active"], true);
    assert_eq!(held("192.0.2.10")["active"], false, "the removal arrived");
    assert_eq!(held("foxtrot.example")["active"], false);
    assert_sent_under_the_feed_identity(&tc.fake.jobs());

    // What the killed run's first job carried was committed only where a job was confirmed
    // and committed before the kill: `between-jobs` pauses after the first commit.
    let first_job = summaries(&pushed_before_the_kill[..1]);
    let sent_after_the_kill = summaries(
        &tc.fake
            .jobs_after(jobs_of_hour_1 + pushed_before_the_kill.len()),
    );
    let first_job_sent_again = first_job.is_subset(&sent_after_the_kill);
    match point {
        "between-jobs" => assert!(
            first_job.is_disjoint(&sent_after_the_kill),
            "a committed job is not sent again: {first_job:?} in {sent_after_the_kill:?}"
        ),
        _ => assert!(
            first_job_sent_again,
            "a job killed before its commit is sent again: {first_job:?} not in \
             {sent_after_the_kill:?}"
        ),
    }
}

#[tokio::test]
async fn killed_after_a_push_the_next_run_sends_the_unconfirmed_job_again() {
    killed_at_then_run_again("after-push").await;
}

#[tokio::test]
async fn killed_between_jobs_the_next_run_keeps_the_committed_job_and_sends_the_rest() {
    killed_at_then_run_again("between-jobs").await;
}

#[tokio::test]
async fn killed_before_a_commit_the_next_run_sends_the_unconfirmed_job_again() {
    killed_at_then_run_again("before-commit").await;
}
