//! Where settings come from (flags, then the environment, then the file, then the default),
//! what a bad one says (exit code 2, before any request), and where secrets may come from.

mod cli_support;

use std::path::Path;

use cli_support::{
    ATTRIBUTE_TYPES, Batch, ET_CODE, OWNER, Ran, SECRET_KEY, config_for, et_server, requests, run,
    run_async, tc_feed, tc_server, text, write,
};
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// A dry run of the demo lists with `config` (a file in `dir`), `env` and extra flags; the
/// report goes to `dir/report.json` whatever the state path.
fn dry_run(dir: &Path, config: &str, env: &[(&str, &str)], flags: &[&str]) -> (Ran, Value) {
    let config = write(dir, "feed.toml", config);
    let out = dir.join("out");
    let report = dir.join("report.json");
    let mut args = vec!["--config", text(&config), "--report", text(&report)];
    args.extend_from_slice(flags);
    args.extend(["run", "--dry-run", text(&out)]);
    let mut command = tc_feed(dir, &args);
    command.envs(env.iter().copied());
    let ran = run(command);
    ran.expect_code(0);
    (ran, read_json(&report))
}

const DEMO: &str = "source = \"examples/demo/hour-1\"\ngzip = false\n";

#[test]
fn flags_win_over_the_environment_which_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let state = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let file = format!(
        "{DEMO}owner = \"File Org\"\nstate = \"{}\"\nlog_level = \"warn\"\n",
        state("file-state")
    );
    let env_state = state("env-state");
    let env = [
        ("TC_FEED_OWNER", "Env Org"),
        ("TC_FEED_STATE", env_state.as_str()),
        ("TC_FEED_LOG_LEVEL", "info"),
    ];
    let flag_state = state("flag-state");
    let flags = [
        "--owner",
        "Flag Org",
        "--state",
        flag_state.as_str(),
        "--log-level",
        "error",
    ];

    let (ran, report) = dry_run(dir.path(), &file, &env, &flags);
    assert_eq!(report["owner"], "Flag Org");
    assert_eq!(report["state_path"], flag_state.as_str());
    assert!(ran.stderr.is_empty(), "error level: {}", ran.stderr);

    // A dry run keeps its state in its folder whatever the environment and the file say:
    // their `state` names the live one. Only the flag above moves it.
    let dry_run_state = dir.path().join("out/state").to_string_lossy().into_owned();
    let (ran, report) = dry_run(dir.path(), &file, &env, &[]);
    assert_eq!(report["owner"], "Env Org");
    assert_eq!(report["state_path"], dry_run_state.as_str());
    assert!(ran.stderr.contains(" INFO "), "info level: {}", ran.stderr);

    // A dry-run state belongs to one owner: start the file's owner on a fresh folder.
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    let (ran, report) = dry_run(dir.path(), &file, &[], &[]);
    assert_eq!(report["owner"], "File Org");
    assert_eq!(report["state_path"], dry_run_state.as_str());
    assert!(!ran.stderr.contains(" INFO "), "warn level: {}", ran.stderr);
}

#[test]
fn defaults_apply_where_nothing_sets_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = format!("{DEMO}owner = \"File Org\"\n");

    let (ran, report) = dry_run(dir.path(), &file, &[], &[]);

    let default_state = dir.path().join("out/state");
    assert_eq!(report["state_path"], text(&default_state));
    assert!(ran.stderr.contains(" INFO "), "info is the default level");
    let document = first_job_document(&dir.path().join("out"));
    assert_eq!(document["indicator"][0]["confidence"], 50);
}

#[test]
fn a_setting_without_a_flag_comes_from_the_environment_before_the_file() {
    let file = format!("{DEMO}owner = \"File Org\"\nconfidence = 60\n");
    let confidence = |env: &[(&str, &str)]| {
        let dir = tempfile::tempdir().unwrap();
        dry_run(dir.path(), &file, env, &[]);
        first_job_document(&dir.path().join("out"))["indicator"][0]["confidence"].clone()
    };

    let from_env = confidence(&[("TC_FEED_CONFIDENCE", "70")]);
    let from_file = confidence(&[]);

    assert_eq!(from_env, 70);
    assert_eq!(from_file, 60);
}

fn first_job_document(out: &Path) -> Value {
    read_json(&out.join("jobs/0001-create.json"))
}

/// One bad configuration: what is set, and what the message must say.
#[derive(Default)]
struct BadCase {
    /// A name for the failure message.
    what: String,
    /// Lines added to the config file.
    file: &'static str,
    /// Environment variables.
    env: Vec<(String, String)>,
    /// Extra flags before the command.
    flags: &'static [&'static str],
    /// Each of these must be in stderr.
    says: Vec<String>,
}

impl BadCase {
    fn new(what: &str, says: &[&str]) -> BadCase {
        BadCase {
            what: what.to_owned(),
            says: says.iter().map(|said| (*said).to_owned()).collect(),
            ..BadCase::default()
        }
    }

    fn env(mut self, name: &str, value: &str) -> BadCase {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    fn file(mut self, lines: &'static str) -> BadCase {
        self.file = lines;
        self
    }

    fn flags(mut self, flags: &'static [&'static str]) -> BadCase {
        self.flags = flags;
        self
    }
}

/// Values that do not parse, set in the environment: the setting, the value, and part of what
/// the message says is accepted.
const INVALID_VALUES: &[(&str, &str, &str)] = &[
    (
        "removal_action",
        "purge",
        "deactivate, delete, zero-rating, tag or keep",
    ),
    ("confidence", "101", "0 to 100"),
    ("threat_rating", "6", "bands, or 0 to 5"),
    ("rating_bands", "40:2,20:1", "ascending"),
    ("types", "Url", "Address, Host or both"),
    ("list_shape", "csv", "detailed, short or json"),
    ("gzip", "perhaps", "true or false"),
    ("min_score", "200", "0 to 127"),
    ("wildcards", "rewrite", "skip or base-domain"),
    ("cidr", "maybe", "skip or import"),
    ("mass_removal_share", "150%", "a share such as `20%`"),
    ("full_refresh_every", "daily", "a duration such as `24h`"),
    ("job_max_indicators", "30000", "1 to 25000"),
    ("job_max_bytes", "100", "at least 256"),
    ("job_concurrency", "9", "1 to 8"),
    ("log_level", "loud", "error, warn, info, debug or trace"),
    ("log_format", "xml", "text or json"),
    (
        "source",
        "ftp://lists.example",
        "an https:// URL or an existing directory",
    ),
    ("extra_ca_file", "no/such/ca.pem", "an existing PEM file"),
];

/// Every bad configuration an operator can write, each stopped before any request.
fn bad_cases() -> Vec<BadCase> {
    let mut cases: Vec<BadCase> = INVALID_VALUES
        .iter()
        .map(|(key, value, accepted)| {
            let env = format!("TC_FEED_{}", key.to_ascii_uppercase());
            let origin = format!("from the environment variable {env}");
            let says = [&format!("`{key}`"), &origin, *value, *accepted];
            BadCase::new(key, &says).env(&env, value)
        })
        .collect();

    cases.extend([
        BadCase::new(
            "source from a flag",
            &[
                "`source`",
                "the flag --source",
                "no/such/folder",
                "existing directory",
            ],
        )
        .flags(&["--source", "no/such/folder"]),
        BadCase::new(
            "source with credentials",
            &["`source`", "<hidden", "without credentials"],
        )
        .env("TC_FEED_SOURCE", "https://user:pa55word@lists.example"),
        BadCase::new("owner", &["`owner` is required", "TC_FEED_OWNER"]).env("TC_FEED_OWNER", "  "),
        BadCase::new(
            "no subscription code",
            &[
                "`et_subscription_code` is required",
                "TC_FEED_ET_SUBSCRIPTION_CODE",
                "`et_subscription_code_file`",
            ],
        )
        .env("TC_FEED_ET_SUBSCRIPTION_CODE", ""),
        BadCase::new(
            "bad subscription code",
            &["`et_subscription_code`", "<hidden>", "letters, digits"],
        )
        .env("TC_FEED_ET_SUBSCRIPTION_CODE", "a/b"),
        BadCase::new(
            "no secret key",
            &[
                "`tc_secret_key` is required",
                "TC_FEED_TC_SECRET_KEY",
                "`tc_secret_key_file`",
            ],
        )
        .env("TC_FEED_TC_SECRET_KEY", ""),
        BadCase::new(
            "token and HMAC",
            &["`tc_token`", "`tc_access_id`", "either a token or HMAC"],
        )
        .env("TC_FEED_TC_TOKEN", "a-token"),
        BadCase::new(
            "secret twice",
            &["`tc_secret_key`", "`tc_secret_key_file`", "one way only"],
        )
        .file("tc_secret_key_file = \"also/a/file\"\n"),
        BadCase::new(
            "secret file missing",
            &["secret file", "no/such/key", "`tc_secret_key_file`"],
        )
        .env("TC_FEED_TC_SECRET_KEY", "")
        .flags(&["--tc-secret-key-file", "no/such/key"]),
        BadCase::new(
            "unknown key",
            &[
                "unknown key `removal_actoin`",
                "did you mean `removal_action`",
            ],
        )
        .file("removal_actoin = \"delete\"\n"),
        BadCase::new(
            "secret in the file",
            &[
                "`tc_secret_key` is a secret",
                "TC_FEED_TC_SECRET_KEY",
                "`tc_secret_key_file`",
            ],
        )
        .file("tc_secret_key = \"written-in-the-file\"\n"),
        BadCase::new(
            "config that is not TOML",
            &["cannot read the config file", "line 7", "unclosed array"],
        )
        .file("confidence = [\n"),
        BadCase::new(
            "config file missing",
            &["cannot read the config file no/such/feed.toml"],
        )
        .flags(&["--config", "no/such/feed.toml"]),
        BadCase::new(
            "secret as a flag",
            &[
                "unexpected argument '--tc-secret-key'",
                "--tc-secret-key-file",
            ],
        )
        .flags(&["--tc-secret-key", "on-the-command-line"]),
    ]);
    cases
}

#[tokio::test(flavor = "multi_thread")]
async fn each_bad_configuration_is_named_and_stops_before_any_request() {
    let et = et_server().await;
    let tc = tc_server(&[OWNER], &ATTRIBUTE_TYPES, Batch::Enabled).await;

    for case in bad_cases() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_for(dir.path(), &et, &tc, case.file);
        let mut args = Vec::new();
        if !case.flags.contains(&"--config") {
            args.extend(["--config", text(&config)]);
        }
        args.extend_from_slice(case.flags);
        args.push("run");
        let mut command = tc_feed(dir.path(), &args);
        command
            .env("TC_FEED_ET_SUBSCRIPTION_CODE", ET_CODE)
            .env("TC_FEED_TC_SECRET_KEY", SECRET_KEY)
            .envs(case.env.iter().cloned());

        let ran = run_async(command).await;

        assert_eq!(ran.code, 2, "{}: {}", case.what, ran.stderr);
        for said in &case.says {
            assert!(
                ran.stderr.contains(said.as_str()),
                "{}: lacks {said:?}:\n{}",
                case.what,
                ran.stderr
            );
        }
        for secret in [
            SECRET_KEY,
            ET_CODE,
            "pa55word",
            "written-in-the-file",
            "on-the-command-line",
        ] {
            assert!(
                !ran.all().contains(secret),
                "{}: shows {secret}:\n{}",
                case.what,
                ran.all()
            );
        }
        assert!(ran.stdout.is_empty(), "{}: {}", case.what, ran.stdout);
        assert!(
            !dir.path().join("state.lock").exists(),
            "{}: took the lock",
            case.what
        );
        assert!(
            !dir.path().join("report.json").exists(),
            "{}: wrote a report",
            case.what
        );
    }

    assert_eq!(
        requests(&et).await,
        0,
        "a bad configuration reached the ET server"
    );
    assert_eq!(
        requests(&tc).await,
        0,
        "a bad configuration reached ThreatConnect"
    );
}

/// `tc-feed check` against fresh stand-ins, with `config_extra`, `env` and `flags`.
async fn check_with(config_extra: &str, env: &[(&str, &str)], flags: &[&str]) -> Ran {
    let et = et_server().await;
    let tc = tc_server(&[OWNER], &ATTRIBUTE_TYPES, Batch::Enabled).await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path(), &et, &tc, config_extra);
    let mut args = vec!["--config", text(&config)];
    args.extend_from_slice(flags);
    args.push("check");
    let mut command = tc_feed(dir.path(), &args);
    command.envs(env.iter().copied());
    run_async(command).await
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_from_the_environment_alone_are_used_and_never_shown() {
    let env = [
        ("TC_FEED_ET_SUBSCRIPTION_CODE", ET_CODE),
        ("TC_FEED_TC_SECRET_KEY", SECRET_KEY),
        ("TC_FEED_LOG_LEVEL", "debug"),
    ];

    let ran = check_with("", &env, &[]).await;

    ran.expect_code(0);
    assert!(!ran.all().contains(ET_CODE), "{}", ran.all());
    assert!(!ran.all().contains(SECRET_KEY), "{}", ran.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_from_files_alone_are_used_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let code_file = write(dir.path(), "et-code", &format!("\n  {ET_CODE}\n"));
    let key_file = write(dir.path(), "tc-key", &format!("{SECRET_KEY}\n"));
    // One file named in the config file, the other by a flag.
    let config_line = format!("et_subscription_code_file = \"{}\"\n", text(&code_file));
    let flags = ["--tc-secret-key-file", text(&key_file)];

    let ran = check_with(&config_line, &[("TC_FEED_LOG_LEVEL", "debug")], &flags).await;

    ran.expect_code(0);
    assert!(!ran.all().contains(ET_CODE), "{}", ran.all());
    assert!(!ran.all().contains(SECRET_KEY), "{}", ran.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_stay_out_of_output_report_and_state_even_at_trace_level_when_a_run_fails() {
    // The ET stand-in serves the IP list only: the domain list's 404 puts its URL, which holds
    // the subscription code, into errors, the report and the log.
    let et = et_server().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let tc = tc_server(&[OWNER], &ATTRIBUTE_TYPES, Batch::Enabled).await;
    let config = config_for(dir.path(), &et, &tc, "");
    let args = [
        "--config",
        text(&config),
        "--log-level",
        "trace",
        "run",
        "--dry-run",
        text(&out),
    ];
    let mut command = tc_feed(dir.path(), &args);
    command.env("TC_FEED_ET_SUBSCRIPTION_CODE", ET_CODE);

    let ran = run_async(command).await;

    ran.expect_code(3);
    assert!(
        ran.stderr.contains("detailed-domainrepdata.txt"),
        "{}",
        ran.stderr
    );
    assert!(!ran.all().contains(ET_CODE), "{}", ran.all());
    for file in ["out/report.json", "out/state", "out/jobs/0001-create.json"] {
        let path = dir.path().join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(ET_CODE), "{file} shows the code");
    }
    assert_eq!(requests(&tc).await, 0, "a dry run reached ThreatConnect");
}

#[test]
fn secret_in_the_config_file_is_refused_without_printing_it() {
    let dir = tempfile::tempdir().unwrap();
    for key in ["et_subscription_code", "tc_secret_key", "tc_token"] {
        let config = write(
            dir.path(),
            "feed.toml",
            &format!("{DEMO}owner = \"Org\"\n{key} = \"kept-in-the-file-9\"\n"),
        );
        let args = ["--config", text(&config), "run", "--dry-run", "out"];

        let ran = run(tc_feed(dir.path(), &args));

        ran.expect_code(2);
        let env = format!("TC_FEED_{}", key.to_ascii_uppercase());
        assert!(ran.stderr.contains(&env), "{key}: {}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!("`{key}_file`")),
            "{key}: {}",
            ran.stderr
        );
        assert!(
            !ran.all().contains("kept-in-the-file-9"),
            "{key}: {}",
            ran.all()
        );
    }
}
