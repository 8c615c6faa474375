//! Helpers of the tests that run the `tc-feed` binary: the command with a clean environment,
//! and stand-ins of both services on 127.0.0.1.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different part of this module.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use threatconnect_client::{SecretString, sign};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

/// The ET subscription code the ET stand-in accepts.
pub const ET_CODE: &str = "cliTestCode4711";
/// The ThreatConnect access ID the stand-in accepts.
pub const ACCESS_ID: &str = "98765432109876543210";
/// The ThreatConnect secret key the stand-in checks signatures with.
pub const SECRET_KEY: &str = "cli-test-secret-key-do-not-print";
/// The owner the stand-in knows.
pub const OWNER: &str = "Demo Org";

/// The attribute types the feed writes.
pub const ATTRIBUTE_TYPES: [&str; 3] = ["External Score", "First Seen", "Last Seen"];

/// The workspace root: the binary runs there, so that `examples/...` paths resolve.
pub fn root() -> PathBuf {
    test_support::workspace_root()
}

/// `tc-feed` with `args`, run in the workspace root, with no `TC_FEED_*` or proxy variable of
/// the test's own environment and the user's state directory inside `home`.
pub fn tc_feed(home: &Path, args: &[&str]) -> Command {
    Command::from_std(tc_feed_std(home, args))
}

/// [`tc_feed`] as a plain process command, for a test that spawns it and talks to it.
pub fn tc_feed_std(home: &Path, args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tc-feed"));
    command.current_dir(root()).args(args);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy().into_owned();
        let proxy = name.to_ascii_lowercase().ends_with("_proxy");
        if name.starts_with("TC_FEED_") || proxy {
            command.env_remove(&name);
        }
    }
    command
        .env("XDG_STATE_HOME", home.join("xdg-state"))
        .env("NO_COLOR", "1");
    command
}

/// What a run of the binary left.
#[derive(Debug)]
pub struct Ran {
    /// The exit code.
    pub code: i32,
    /// Stdout, as text.
    pub stdout: String,
    /// Stderr, as text.
    pub stderr: String,
}

impl Ran {
    /// Both streams, for messages and for secret checks.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Ran {
        assert_eq!(
            self.code, code,
            "exit code {} instead of {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Ran {
    fn from(output: Output) -> Ran {
        Ran {
            code: output.status.code().expect("the binary ended by a signal"),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `command` to its end.
pub fn run(mut command: Command) -> Ran {
    command.output().expect("the binary runs").into()
}

/// Runs `command` on a blocking thread, so that the stand-ins keep serving meanwhile.
pub async fn run_async(command: Command) -> Ran {
    tokio::task::spawn_blocking(move || run(command))
        .await
        .expect("the run's thread")
}

/// Writes `text` as a file `name` in `dir`, and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    file
}

/// A path as text, for arguments and config files.
pub fn text(path: &Path) -> &str {
    path.to_str().expect("a utf-8 temp path")
}

/// How many requests `server` received.
pub async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// The demo list of hour 1, as the ET stand-in serves it.
pub fn demo_ip_list() -> String {
    std::fs::read_to_string(root().join("examples/demo/hour-1/detailed-iprepdata.txt")).unwrap()
}

/// An ET server that serves the plain detailed IP list under [`ET_CODE`], and refuses any
/// other code with 403, as the vendor does.
pub async fn et_server() -> MockServer {
    let server = MockServer::start().await;
    let list_path = format!("/{ET_CODE}/reputation/detailed-iprepdata.txt");
    Mock::given(method("GET"))
        .and(path(list_path))
        .respond_with(ResponseTemplate::new(200).set_body_string(demo_ip_list()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!("^/{ET_CODE}/")))
        .respond_with(ResponseTemplate::new(404))
        .with_priority(10)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_string("Forbidden"))
        .with_priority(20)
        .mount(&server)
        .await;
    server
}

/// Matches a request signed with [`ACCESS_ID`] and [`SECRET_KEY`], over its own path and
/// query and its own `Timestamp`.
pub struct SignedWithTheKey;

impl Match for SignedWithTheKey {
    fn matches(&self, request: &Request) -> bool {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let (Some(timestamp), Some(authorization)) = (header("Timestamp"), header("Authorization"))
        else {
            return false;
        };
        let Ok(seconds) = timestamp.parse::<i64>() else {
            return false;
        };
        let signed = match request.url.query() {
            Some(query) => format!("{}?{query}", request.url.path()),
            None => request.url.path().to_owned(),
        };
        let key = SecretString::new(SECRET_KEY);
        let signature = sign(&key, &signed, request.method.as_str(), seconds);
        authorization == format!("TC {ACCESS_ID}:{signature}")
    }
}

/// How the ThreatConnect stand-in answers the batch feature probe.
#[derive(Debug, Clone, Copy)]
pub enum Batch {
    /// 404 for the job that cannot exist: enabled.
    Enabled,
    /// 503 "Batch job api is not available": disabled.
    Disabled,
}

/// A ThreatConnect stand-in under `/api`: the owners `owners`, the attribute types
/// `attribute_types`, the batch feature as `batch`. Requests not signed with the expected key
/// get 401, as the service answers them.
pub async fn tc_server(owners: &[&str], attribute_types: &[&str], batch: Batch) -> MockServer {
    let server = MockServer::start().await;

    let owners: Vec<String> = owners
        .iter()
        .enumerate()
        .map(|(id, name)| format!(r#"{{"id":{id},"name":"{name}","type":"Organization"}}"#))
        .collect();
    let body = format!(
        r#"{{"status":"Success","data":{{"resultCount":{},"owner":[{}]}}}}"#,
        owners.len(),
        owners.join(",")
    );
    Mock::given(method("GET"))
        .and(path("/api/v2/owners"))
        .and(SignedWithTheKey)
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;

    let types: Vec<String> = attribute_types
        .iter()
        .enumerate()
        .map(|(id, name)| format!(r#"{{"id":{id},"name":"{name}"}}"#))
        .collect();
    let body = format!(r#"{{"status":"Success","data":[{}]}}"#, types.join(","));
    Mock::given(method("GET"))
        .and(path("/api/v3/attributeTypes"))
        .and(SignedWithTheKey)
        .respond_with(ResponseTemplate::new(200).set_body_string(body))
        .mount(&server)
        .await;

    let probe = match batch {
        Batch::Enabled => ResponseTemplate::new(404)
            .set_body_string(r#"{"status":"Failure","message":"Batch job not found"}"#),
        Batch::Disabled => ResponseTemplate::new(503).set_body_string(concat!(
            r#"{"status":"Failure","message":"#,
            r#""Batch job api is not available. Please contact your administrator."}"#
        )),
    };
    Mock::given(method("GET"))
        .and(path("/api/v2/batch/9223372036854775807"))
        .and(SignedWithTheKey)
        .respond_with(probe)
        .mount(&server)
        .await;

    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(401).set_body_string(
            r#"{"status":"Failure","message":"Signature Data Did Not Match Expected Result"}"#,
        ))
        .with_priority(20)
        .mount(&server)
        .await;
    server
}

/// A config file for both stand-ins, every secret left out, plus the `extra` lines. The state
/// is `dir/state`, and so the report `dir/report.json`.
pub fn config_for(dir: &Path, et: &MockServer, tc: &MockServer, extra: &str) -> PathBuf {
    let text = format!(
        "source = \"{}\"\ngzip = false\nowner = \"{OWNER}\"\n\
         tc_url = \"{}/api\"\ntc_access_id = \"{ACCESS_ID}\"\nstate = \"{}\"\n{extra}",
        et.uri(),
        tc.uri(),
        text(&dir.join("state")),
    );
    write(dir, "feed.toml", &text)
}
