//! What the real binary refuses before it sends anything: a state another run holds (exit 4),
//! a state of another owner or URL (exit 2), a corrupt state (exit 1).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::bin::{Tool, feed_tool};
use common::et::EtServer;
use common::feed::{hour_1_keys, publish_hour};
use common::tc::TcServer;
use tc_feed_app::state::State;

/// Every file of the state folder and its bytes.
fn state_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    common::files_under(dir)
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// The state's snapshot and journal (the lock file names the last run that held it).
fn snapshot_and_journal(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = state_files(dir);
    files.retain(|name, _| name == "state" || name == "state.journal");
    assert!(files.contains_key("state"));
    files
}

fn state_keys(dir: &Path) -> Vec<String> {
    let state = State::open(dir.join("state")).unwrap().unwrap();
    let mut keys: Vec<String> = state
        .entries()
        .map(|(key, _)| format!("{} {}", key.kind().as_str(), key.value()))
        .collect();
    keys.sort();
    keys
}

struct Services {
    et: EtServer,
    tc: TcServer,
}

impl Services {
    async fn start() -> Services {
        let services = Services {
            et: EtServer::start().await,
            tc: TcServer::start().await,
        };
        publish_hour(&services.et.fake, "hour-1");
        services
    }

    fn tool(&self, dir: &Path) -> Tool {
        feed_tool(dir, &self.et.url(), &self.tc.url(), &[])
    }

    fn request_counts(&self) -> (usize, usize) {
        (self.et.fake.request_count(), self.tc.fake.requests().len())
    }
}

#[tokio::test]
async fn f15_second_run_exits_with_the_lock_code_and_a_run_killed_holding_the_lock_blocks_nothing()
{
    // Run A pauses after its first push; run B starts on the same state.
    let services = Services::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tool = services.tool(dir.path());
    let run_a = tool.run_until_paused(&["run"], "after-push");
    let requests_before = services.request_counts();
    let files_before = state_files(dir.path());

    let run_b = tool.run(&["run"]);

    assert_eq!(run_b.code, 4, "{}", run_b.stderr);
    assert!(
        run_b.stderr.contains("state.lock") && run_b.stderr.contains("holds the lock"),
        "{}",
        run_b.stderr
    );
    assert!(
        run_b.stderr.contains(&format!("pid {}", run_a.id())),
        "{}",
        run_b.stderr
    );
    assert_eq!(
        services.request_counts(),
        requests_before,
        "B sent no request"
    );
    assert_eq!(
        state_files(dir.path()),
        files_before,
        "B left the state alone"
    );
    assert!(
        !dir.path().join("report.json").exists(),
        "B writes no report"
    );

    // A dies holding the lock; C is not blocked by anything A left.
    run_a.kill();
    let run_c = tool.run(&["run"]);

    assert_eq!(run_c.code, 0, "{}", run_c.stderr);
    assert_eq!(state_keys(dir.path()), hour_1_keys());
}

#[tokio::test]
async fn state_of_another_owner_or_url_is_refused_and_a_dry_run_leaves_it_alone() {
    let services = Services::start().await;
    let dir = tempfile::tempdir().unwrap();
    let first = services.tool(dir.path()).run(&["run"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let snapshot_and_journal_before = snapshot_and_journal(dir.path());
    let requests_before = services.request_counts();

    let other_owner = services
        .tool(dir.path())
        .run(&["--owner", "Other Org", "run"]);

    assert_eq!(other_owner.code, 2, "{}", other_owner.stderr);
    assert!(
        other_owner.stderr.contains("\"Example Org\"")
            && other_owner.stderr.contains("\"Other Org\""),
        "{}",
        other_owner.stderr
    );

    let other_instance = TcServer::start().await;
    let other_url =
        feed_tool(dir.path(), &services.et.url(), &other_instance.url(), &[]).run(&["run"]);

    assert_eq!(other_url.code, 2, "{}", other_url.stderr);
    assert!(
        other_url.stderr.contains(&other_instance.url()),
        "{}",
        other_url.stderr
    );
    assert!(other_instance.fake.requests().is_empty());

    assert_eq!(
        services.request_counts(),
        requests_before,
        "nothing was sent"
    );

    // A dry run with the live state configured keeps a state of its own in its folder and
    // leaves the live one alone.
    let dry_folder = tempfile::tempdir().unwrap();
    let dry_run =
        services
            .tool(dir.path())
            .run(&["run", "--dry-run", dry_folder.path().to_str().unwrap()]);
    assert_eq!(dry_run.code, 0, "{}", dry_run.stderr);
    assert!(dry_folder.path().join("state").exists());
    assert_eq!(
        snapshot_and_journal(dir.path()),
        snapshot_and_journal_before
    );
}

#[tokio::test]
async fn corrupt_state_fails_the_run_with_how_to_recover_and_never_pushes_everything() {
    let services = Services::start().await;
    let dir = tempfile::tempdir().unwrap();
    let tool = services.tool(dir.path());
    assert_eq!(tool.run(&["run"]).code, 0);
    let snapshot = dir.path().join("state");
    let mut bytes = std::fs::read(&snapshot).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&snapshot, bytes).unwrap();
    let requests_before = services.request_counts();

    let run = tool.run(&["run"]);

    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("corrupt") && run.stderr.contains("reconcile"),
        "{}",
        run.stderr
    );
    assert_eq!(services.request_counts(), requests_before, "no full push");
    let report = common::bin::report_in(dir.path());
    assert_eq!(report["outcome"], "failed");
}
