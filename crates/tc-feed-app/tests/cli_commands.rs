//! Each command of `tc-feed` as an operator runs it, and the exit codes it ends with. The job
//! itself is tested elsewhere; these look at what the command line shows.

mod cli_support;

use std::path::Path;

use cli_support::{Ran, root, run, tc_feed, tc_feed_std, text, write};
use serde_json::Value;
use tc_feed_app::lock::StateLock;

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The job documents a dry run wrote into `dir/jobs`, in order.
fn job_documents(dir: &Path) -> Vec<Value> {
    let mut names: Vec<_> = std::fs::read_dir(dir.join("jobs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.to_string_lossy().ends_with(".settings.json"))
        .collect();
    names.sort();
    names.iter().map(|path| read_json(path)).collect()
}

fn indicators_in(documents: &[Value]) -> Vec<&Value> {
    documents
        .iter()
        .flat_map(|document| document["indicator"].as_array().unwrap())
        .collect()
}

/// A dry run of the demo config `config` into `out`.
fn demo_run(home: &Path, config: &str, out: &Path) -> Ran {
    let args = ["--config", config, "run", "--dry-run", text(out)];
    run(tc_feed(home, &args))
}

#[test]
fn demo_runs_then_the_next_hour_sends_only_the_delta() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");

    demo_run(home.path(), "examples/demo.toml", &out).expect_code(0);
    let first = indicators_in(&job_documents(&out)).len();
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["outcome"], "success");
    assert_eq!(report["owner"], "Demo Org");
    assert_eq!(report["dry_run"], true);

    demo_run(home.path(), "examples/demo-next-hour.toml", &out).expect_code(0);
    let documents = job_documents(&out);
    let delta = indicators_in(&documents);
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["full_refresh"], false);
    let removed: u64 = ["detailed-iprepdata.txt", "detailed-domainrepdata.txt"]
        .iter()
        .map(|list| report["lists"][list]["removed"].as_u64().unwrap())
        .sum();
    assert_eq!(
        removed, 5,
        "the demo README says three addresses and two names left"
    );
    assert!(
        delta.len() < first / 2,
        "the next hour sent {} of {first}",
        delta.len()
    );
    let deactivated = delta.iter().filter(|i| i["active"] == false).count();
    assert_eq!(deactivated, 5);
}

#[test]
fn run_on_the_shared_samples_works_with_flags_alone() {
    // The command: `tc-feed run --source ../shared/et-samples/public --owner Demo
    // --dry-run OUT --state S`, no config file.
    let Some(samples) = test_support::et_samples_dir() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let (out, state) = (home.path().join("out"), home.path().join("S"));
    let source = samples.join("public");
    let args = [
        "run",
        "--source",
        text(&source),
        "--owner",
        "Demo",
        "--dry-run",
        text(&out),
        "--state",
        text(&state),
    ];

    let ran = run(tc_feed(home.path(), &args));

    ran.expect_code(0);
    assert!(state.is_file(), "no state at {}", state.display());
    let report = read_json(&home.path().join("report.json"));
    assert_eq!(report["owner"], "Demo");
    let imported = report["lists"].as_object().unwrap();
    assert_eq!(imported.len(), 2, "{report:#}");
    for (name, list) in imported {
        assert_eq!(list["status"], "imported", "{name}");
    }
    assert!(!indicators_in(&job_documents(&out)).is_empty());
}

/// `tc-feed map` of `file`, with `extra` arguments.
fn map(file: &Path, extra: &[&str]) -> (Ran, Value) {
    let home = tempfile::tempdir().unwrap();
    let mut args = vec!["map", text(file)];
    args.extend_from_slice(extra);
    let ran = run(tc_feed(home.path(), &args));
    let document: Value = serde_json::from_str(&ran.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", ran.stdout));
    (ran, document)
}

#[test]
fn map_reports_the_broken_row_of_the_sample_with_its_line_and_maps_the_rest() {
    let Some(samples) = test_support::et_samples_dir() else {
        return;
    };
    let file = samples.join("public/domain-with-invalid-category.txt");

    let (ran, document) = map(&file, &[]);

    ran.expect_code(3);
    let rejection = ran
        .stderr
        .lines()
        .find(|line| line.contains("line 3:"))
        .unwrap_or_else(|| panic!("no rejection of line 3:\n{}", ran.stderr));
    assert!(
        rejection.contains("domain-with-invalid-category.txt"),
        "{rejection}"
    );
    assert!(rejection.contains("category"), "{rejection}");
    let indicators = document["indicator"].as_array().unwrap();
    let values: Vec<&str> = indicators
        .iter()
        .map(|i| i["summary"].as_str().unwrap())
        .collect();
    assert_eq!(values, ["domain.com"]);
    assert!(!ran.stdout.contains("line 3"), "rejections stay off stdout");
}

#[test]
fn map_without_an_owner_writes_no_xid_and_says_so() {
    let file = root().join("examples/demo/hour-1/detailed-domainrepdata.txt");

    let (ran, document) = map(&file, &[]);

    ran.expect_code(3);
    assert!(ran.stderr.contains("no owner is set"), "{}", ran.stderr);
    assert!(ran.stderr.contains("no xid"), "{}", ran.stderr);
    let indicators = document["indicator"].as_array().unwrap();
    assert_eq!(indicators.len(), 20);
    assert!(indicators.iter().all(|i| i.get("xid").is_none()));
    // The demo's broken row: an extra comma shifts its fields.
    assert!(
        ran.stderr.contains("detailed-domainrepdata.txt: line 36:"),
        "{}",
        ran.stderr
    );
}

#[test]
fn map_with_an_owner_writes_the_xid_of_that_owner() {
    let file = root().join("examples/demo/hour-1/detailed-iprepdata.txt");

    let (ran, document) = map(&file, &["--owner", "Demo Org"]);
    let (_, other_owner) = map(&file, &["--owner", "Other Org"]);

    ran.expect_code(0);
    assert!(!ran.stderr.contains("no owner"), "{}", ran.stderr);
    let xid = |document: &Value| document["indicator"][0]["xid"].as_str().unwrap().to_owned();
    assert!(xid(&document).starts_with("et-rep-"), "{document:#}");
    assert_ne!(xid(&document), xid(&other_owner));
}

#[test]
fn map_of_a_file_that_is_not_there_names_it_and_fails() {
    let home = tempfile::tempdir().unwrap();
    let ran = run(tc_feed(home.path(), &["map", "no/such/list.txt"]));

    ran.expect_code(1);
    assert!(ran.stderr.contains("no/such/list.txt"), "{}", ran.stderr);
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
}

#[test]
fn state_summarises_for_people_and_exports_json() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");
    demo_run(home.path(), "examples/demo.toml", &out).expect_code(0);
    let state = out.join("state");

    let summary = run(tc_feed(home.path(), &["state", "--state", text(&state)]));
    let export = run(tc_feed(
        home.path(),
        &["state", "--state", text(&state), "--json"],
    ));

    summary.expect_code(0);
    export.expect_code(0);
    let json: Value = serde_json::from_str(&export.stdout).unwrap();
    let exported = json["indicators"].as_array().unwrap();
    let addresses = json["indicators_by_type"]["Address"].as_u64().unwrap();
    let hosts = json["indicators_by_type"]["Host"].as_u64().unwrap();
    assert_eq!(exported.len() as u64, addresses + hosts);
    assert_eq!(json["owner"], "Demo Org");

    let text = &summary.stdout;
    assert!(text.contains("\"Demo Org\""), "{text}");
    assert!(
        text.contains(&format!("indicators {}", exported.len())),
        "{text}"
    );
    assert!(text.contains(&format!("Address  {addresses}")), "{text}");
    for (name, record) in json["lists"].as_object().unwrap() {
        let md5 = record["md5"].as_str().unwrap();
        assert!(text.contains(&format!("{name}  md5 {md5}")), "{text}");
    }
    assert!(text.contains("last run   20"), "{text}");
    assert!(text.contains("parked values 0"), "{text}");
}

#[test]
fn state_that_does_not_exist_says_no_run_committed_and_exits_1() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("nothing-here");

    let ran = run(tc_feed(home.path(), &["state", "--state", text(&missing)]));

    ran.expect_code(1);
    assert!(ran.stderr.contains("no state at"), "{}", ran.stderr);
    assert!(ran.stderr.contains(text(&missing)), "{}", ran.stderr);
}

#[test]
fn corrupt_state_fails_the_run_with_exit_1_naming_the_file() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");
    std::fs::create_dir_all(&out).unwrap();
    write(&out, "state", "this is not a state file\n");

    let ran = demo_run(home.path(), "examples/demo.toml", &out);

    ran.expect_code(1);
    assert!(
        ran.stderr.contains(text(&out.join("state"))),
        "{}",
        ran.stderr
    );
    let report = read_json(&out.join("report.json"));
    assert_eq!(report["outcome"], "failed");
}

#[test]
fn second_run_on_a_locked_state_exits_4_and_names_the_lock() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");
    std::fs::create_dir_all(&out).unwrap();
    let _held = StateLock::acquire(&out.join("state")).unwrap();

    let ran = demo_run(home.path(), "examples/demo.toml", &out);

    ran.expect_code(4);
    assert!(ran.stderr.contains("holds the lock"), "{}", ran.stderr);
    assert!(ran.stderr.contains("state.lock"), "{}", ran.stderr);
    assert!(!out.join("jobs").exists(), "a locked-out run wrote jobs");
}

#[test]
fn mass_removal_guard_ends_with_exit_3_until_allowed() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");
    demo_run(home.path(), "examples/demo.toml", &out).expect_code(0);

    // The next hour's IP list arrives with only its first ten rows.
    let shrunk = home.path().join("shrunk");
    std::fs::create_dir_all(&shrunk).unwrap();
    let hour_2 = root().join("examples/demo/hour-2");
    let ips = std::fs::read_to_string(hour_2.join("detailed-iprepdata.txt")).unwrap();
    let first_rows: Vec<&str> = ips.lines().take(11).collect();
    write(
        &shrunk,
        "detailed-iprepdata.txt",
        &(first_rows.join("\n") + "\n"),
    );
    let domains = std::fs::read_to_string(hour_2.join("detailed-domainrepdata.txt")).unwrap();
    write(&shrunk, "detailed-domainrepdata.txt", &domains);
    let args = |allow: bool| {
        let mut args = vec![
            "--config",
            "examples/demo.toml",
            "--source",
            text(&shrunk),
            "run",
            "--dry-run",
            text(&out),
        ];
        if allow {
            args.push("--allow-mass-removal");
        }
        args
    };

    let held = run(tc_feed(home.path(), &args(false)));
    held.expect_code(3);
    assert!(
        held.stderr.contains("--allow-mass-removal"),
        "{}",
        held.stderr
    );
    let report = read_json(&out.join("report.json"));
    assert_eq!(
        report["lists"]["detailed-iprepdata.txt"]["removals_held_back"],
        true
    );

    let allowed = run(tc_feed(home.path(), &args(true)));
    allowed.expect_code(0);
    let report = read_json(&out.join("report.json"));
    assert_eq!(
        report["lists"]["detailed-iprepdata.txt"]["removals_held_back"],
        false
    );
}

#[test]
fn dry_run_draws_no_progress_bar_when_stderr_is_not_a_terminal() {
    let home = tempfile::tempdir().unwrap();

    let ran = demo_run(home.path(), "examples/demo.toml", &home.path().join("demo"));

    ran.expect_code(0);
    assert!(!ran.stderr.contains('\r'), "{:?}", ran.stderr);
    assert!(!ran.stderr.contains('\u{1b}'), "{:?}", ran.stderr);
}

#[test]
fn log_format_json_writes_one_json_object_per_stderr_line() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");
    let args = [
        "--config",
        "examples/demo.toml",
        "--log-format",
        "json",
        "run",
        "--dry-run",
        text(&out),
    ];

    let ran = run(tc_feed(home.path(), &args));

    ran.expect_code(0);
    let lines: Vec<&str> = ran.stderr.lines().collect();
    assert!(lines.len() > 3, "{}", ran.stderr);
    for line in lines {
        let object: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(object["level"].is_string(), "{line}");
    }
}

#[test]
fn every_with_a_bad_interval_is_a_usage_error() {
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");
    let args = [
        "--config",
        "examples/demo.toml",
        "run",
        "--dry-run",
        text(&out),
        "--every",
        "hourly",
    ];

    let ran = run(tc_feed(home.path(), &args));

    ran.expect_code(2);
    assert!(ran.stderr.contains("\"hourly\""), "{}", ran.stderr);
    assert!(ran.stderr.contains("`1h`"), "{}", ran.stderr);
    assert!(!out.exists(), "a usage error wrote into the dry-run folder");
}

#[cfg(unix)]
#[test]
fn every_stops_between_runs_on_sigterm_with_the_last_runs_code() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("demo");
    let args = [
        "--config",
        "examples/demo.toml",
        "run",
        "--dry-run",
        text(&out),
        "--every",
        "1h",
    ];
    let mut child = tc_feed_std(home.path(), &args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // Wait for the first run to end: the loop then sleeps for an hour.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    let mut line = String::new();
    while !line.contains("next_in") {
        line.clear();
        let read = stderr.read_line(&mut line).unwrap();
        assert!(
            read > 0,
            "stderr ended before the first run finished:\n{seen}"
        );
        seen.push_str(&line);
    }
    let pid = child.id().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();

    assert_eq!(status.code(), Some(0), "{seen}{rest}");
    assert!(rest.contains("stopped by a signal between runs"), "{rest}");
    assert!(out.join("report.json").is_file());
}
