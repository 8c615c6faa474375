//! The real `tc-feed` binary as a child process: settings in a config file and the
//! environment, secrets in the environment or in files, output captured.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a run may take before the test calls it hung (a guard, not a speed check).
const HANG_GUARD: Duration = Duration::from_secs(60);

/// The binary with a config file and an environment.
#[derive(Debug, Clone)]
pub struct Tool {
    config: PathBuf,
    env: Vec<(String, String)>,
}

/// How a finished run ended.
#[derive(Debug)]
pub struct Output {
    /// The exit code.
    pub code: i32,
    /// What it printed on stdout.
    pub stdout: String,
    /// What it printed on stderr.
    pub stderr: String,
}

impl Tool {
    /// Writes `settings` as the config file `dir/tc-feed.toml`.
    pub fn new(dir: &Path, settings: &[(&str, &str)]) -> Tool {
        let config = dir.join("tc-feed.toml");
        let text: String = settings
            .iter()
            .map(|(key, value)| format!("{key} = {value:?}\n"))
            .collect();
        std::fs::write(&config, text).unwrap();
        Tool {
            config,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for every run.
    pub fn env(mut self, name: &str, value: &str) -> Tool {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The command for `args`, in a clean environment (no proxy, no stray `TC_FEED_*`).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tc-feed"));
        command
            .env_clear()
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        finish(self.command(args).spawn().unwrap())
    }

    /// Runs with `TC_FEED_PAUSE_AT=point` until it says it paused there.
    pub fn run_until_paused(&self, args: &[&str], point: &str) -> Paused {
        let mut command = self.command(args);
        command.env("TC_FEED_PAUSE_AT", point);
        let mut child = command.spawn().unwrap();

        let stderr = Arc::new(Mutex::new(String::new()));
        let (paused_tx, paused_rx) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let collected = Arc::clone(&stderr);
        let marker = format!("paused at {point}");
        thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let paused = line.contains(&marker);
                collected.lock().unwrap().push_str(&line);
                collected.lock().unwrap().push('\n');
                if paused {
                    let _ = paused_tx.send(());
                }
            }
        });

        if paused_rx.recv_timeout(HANG_GUARD).is_err() {
            let _ = child.kill();
            let status = child.wait().unwrap();
            panic!(
                "the run never paused at {point} ({status}); stderr:\n{}",
                stderr.lock().unwrap()
            );
        }
        Paused { child, stderr }
    }
}

/// A run that paused at a test point and waits to be killed.
pub struct Paused {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl Paused {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Kills it with SIGKILL and gives what it printed on stderr.
    pub fn kill(mut self) -> String {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "a killed run does not succeed");
        self.stderr.lock().unwrap().clone()
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child`, killing it past the hang guard.
fn finish(mut child: Child) -> Output {
    let stdout = read_all(child.stdout.take().unwrap());
    let stderr = read_all(child.stderr.take().unwrap());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "tc-feed did not finish; stderr:\n{}",
                stderr.join().unwrap()
            );
        }
        thread::sleep(Duration::from_millis(5));
    };
    Output {
        code: status.code().expect("an exit code, not a signal"),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The binary set up against both stand-ins: the state in `dir`, secrets in the environment,
/// `extra` settings added to the config file.
pub fn feed_tool(dir: &Path, et_url: &str, tc_url: &str, extra: &[(&str, &str)]) -> Tool {
    let state = dir.join("state");
    let mut settings = vec![
        ("source", et_url),
        ("owner", super::tc::OWNER),
        ("tc_url", tc_url),
        ("tc_access_id", super::tc::ACCESS_ID),
        ("state", state.to_str().unwrap()),
    ];
    settings.extend_from_slice(extra);
    Tool::new(dir, &settings)
        .env("TC_FEED_ET_SUBSCRIPTION_CODE", super::et::CODE)
        .env("TC_FEED_TC_SECRET_KEY", super::tc::SECRET_KEY)
}

/// The report a run wrote beside the state in `dir`.
pub fn report_in(dir: &Path) -> serde_json::Value {
    let path = dir.join("report.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap()
}
