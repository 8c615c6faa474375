//! The secret scan: the real binary, logging at `trace`, with a distinctive subscription code
//! and secret key given through the environment and through files, on good runs and failing
//! ones (ThreatConnect answering 401, the ET server refusing the code and echoing the path it
//! refused, a download cut mid-body, a dry run). Nothing it prints or writes holds a secret.

mod common;

use std::path::{Path, PathBuf};

use common::bin::{Output, Tool, feed_tool};
use common::et::{CODE, EtServer};
use common::feed::{DOMAIN_LIST, IP_LIST, publish_hour};
use common::tc::{ACCESS_ID, OWNER, SECRET_KEY, TcServer};
use common::{files_under, gzip, read_fixture};
use test_support::raw_http::{RawServer, Step};

const SECRETS: [&str; 2] = [CODE, SECRET_KEY];

/// Everything one run printed, named for the failure message.
struct Printed {
    what: String,
    text: String,
}

fn printed(what: &str, output: &Output) -> Vec<Printed> {
    vec![
        Printed {
            what: format!("{what}: stdout"),
            text: output.stdout.clone(),
        },
        Printed {
            what: format!("{what}: stderr"),
            text: output.stderr.clone(),
        },
    ]
}

fn assert_holds_no_secret(what: &str, bytes: &[u8]) {
    for secret in SECRETS {
        let found = bytes
            .windows(secret.len())
            .any(|window| window == secret.as_bytes());
        assert!(
            !found,
            "{what} holds a secret:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
}

/// A server whose IP list is cut mid-body and whose domain list is whole; no sidecars.
fn cutting_server() -> RawServer {
    let ip = gzip(&read_fixture("hour-1/detailed-iprepdata.txt"));
    let domains = gzip(&read_fixture("hour-1/detailed-domainrepdata.txt"));
    RawServer::start(move |path| {
        let head = |length: usize| {
            Step::send(format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
            ))
        };
        let file = path.rsplit('/').next().unwrap_or_default();
        if file == IP_LIST.name() {
            vec![head(ip.len()), Step::send(&ip[..ip.len() / 2])]
        } else if file == DOMAIN_LIST.name() {
            vec![head(domains.len()), Step::send(&domains)]
        } else {
            vec![Step::send(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )]
        }
    })
}

/// The binary with its secrets in files: the code named by a flag, the key by the config.
fn tool_with_secret_files(dir: &Path, secrets: &Path, et_url: &str, tc_url: &str) -> Tool {
    std::fs::create_dir_all(dir).unwrap();
    let key_file = secrets.join("tc-secret-key");
    let state = dir.join("state");
    Tool::new(
        dir,
        &[
            ("source", et_url),
            ("owner", OWNER),
            ("tc_url", tc_url),
            ("tc_access_id", ACCESS_ID),
            ("tc_secret_key_file", key_file.to_str().unwrap()),
            ("state", state.to_str().unwrap()),
        ],
    )
}

fn folder(root: &Path, name: &str) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn no_output_report_state_or_document_ever_holds_a_secret() {
    let et = EtServer::start().await;
    let tc = TcServer::start().await;
    let tc_refusing = TcServer::start().await;
    tc_refusing.fake.refuse_credentials();
    let root = tempfile::tempdir().unwrap();
    let secrets = tempfile::tempdir().unwrap();
    std::fs::write(secrets.path().join("et-code"), format!("{CODE}\n")).unwrap();
    std::fs::write(
        secrets.path().join("tc-secret-key"),
        format!("{SECRET_KEY}\n"),
    )
    .unwrap();
    let code_file = secrets.path().join("et-code");
    let code_flag = ["--et-subscription-code-file", code_file.to_str().unwrap()];
    let trace = ["--log-level", "trace"];
    let mut outputs = Vec::new();

    // 1. A good run, secrets in the environment, logs as JSON lines.
    publish_hour(&et.fake, "hour-1");
    let good = feed_tool(&folder(root.path(), "good"), &et.url(), &tc.url(), &[]);
    let run = good.run(&["--log-level", "trace", "--log-format", "json", "run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    outputs.extend(printed("good run", &run));

    // 2. ThreatConnect answers 401 to the signed requests.
    let refused = feed_tool(
        &folder(root.path(), "tc-401"),
        &et.url(),
        &tc_refusing.url(),
        &[],
    );
    let run = refused.run(&[&trace[..], &["run"]].concat());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    outputs.extend(printed("ThreatConnect 401", &run));

    // 3. Secrets in files; the ET server refuses the code and echoes the path it refused.
    et.fake.refuse_the_code(true);
    let from_files = tool_with_secret_files(
        &root.path().join("et-401"),
        secrets.path(),
        &et.url(),
        &tc.url(),
    );
    let run = from_files.run(&[&trace[..], &code_flag[..], &["run"]].concat());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    outputs.extend(printed("ET 401", &run));
    et.fake.refuse_the_code(false);

    // 4. A download cut mid-body by a raw server.
    let cutting = cutting_server();
    let cut = feed_tool(&folder(root.path(), "cut"), &cutting.url(), &tc.url(), &[]);
    let run = cut.run(&[&trace[..], &["run"]].concat());
    assert_eq!(run.code, 3, "{}", run.stderr);
    outputs.extend(printed("cut download", &run));

    // 5. A dry run from the ET server, secrets in files.
    let dry_folder = root.path().join("dry-run");
    let dry = tool_with_secret_files(
        &root.path().join("dry-config"),
        secrets.path(),
        &et.url(),
        &tc.url(),
    );
    let run = dry.run(
        &[
            &trace[..],
            &code_flag[..],
            &["run", "--dry-run", dry_folder.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    outputs.extend(printed("dry run", &run));
    let documents = files_under(&dry_folder.join("jobs"));
    assert!(documents.len() >= 4, "{documents:?}");

    // The scan is not vacuous: the runs logged the URLs they fetched, masked.
    let stderr: String = outputs
        .iter()
        .map(|printed| printed.text.as_str())
        .collect();
    assert!(stderr.contains("/***/reputation/"), "{stderr}");
    assert!(stderr.contains("TRACE"), "logs at trace");

    for printed in &outputs {
        assert_holds_no_secret(&printed.what, printed.text.as_bytes());
    }
    let written = files_under(root.path());
    for name in ["report.json", "state", "state.journal", "state.lock"] {
        let found = written
            .iter()
            .any(|path| path.file_name().is_some_and(|file| file == name));
        assert!(found || name == "state.journal", "no {name} in {written:?}");
    }
    for path in written {
        let bytes = std::fs::read(&path).unwrap();
        assert_holds_no_secret(&path.display().to_string(), &bytes);
    }
}
