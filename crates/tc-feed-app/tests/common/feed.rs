//! One feed run through the library: the fake ET server, the job, the fake ThreatConnect, a
//! state in a temporary folder; clients with waits of milliseconds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proofpoint_et_client::{HttpSource, HttpSourceBuilder, ListFile, ListSource, SubscriptionCode};
use reputation_mapper::{MapperConfig, MapperConfigBuilder, RemovalAction};
use tc_feed_app::destination::ThreatConnect;
use tc_feed_app::exit::ExitCode;
use tc_feed_app::job::{Job, JobError, JobOptions};
use tc_feed_app::report::Report;
use tc_feed_app::state::{Identity, State};
use threatconnect_client::{ChunkLimits, Client, Credentials, PollPolicy, RetryPolicy};

use super::et::{CODE, EtServer, FakeEt, Published};
use super::tc::{ACCESS_ID, OWNER, SECRET_KEY, TcServer};

/// The IP list as the feed fetches it by default.
pub const IP_LIST: ListFile = ListFile::DETAILED_IP.gzipped();

/// The domain list as the feed fetches it by default.
pub const DOMAIN_LIST: ListFile = ListFile::DETAILED_DOMAIN.gzipped();

/// The mapper's settings for the test owner, every other setting at its default.
pub fn mapper() -> MapperConfigBuilder {
    MapperConfig::builder(OWNER)
}

/// The mapper's settings with `action` for removals.
pub fn mapper_removing_by(action: RemovalAction) -> MapperConfig {
    mapper().removal_action(action).build().unwrap()
}

/// Publishes both lists of a fixture folder (`hour-1`...) on `et`, gzipped as the feed
/// fetches them, with their sidecars.
pub fn publish_hour(et: &FakeEt, folder: &str) {
    for (file, plain) in [
        (IP_LIST, "detailed-iprepdata.txt"),
        (DOMAIN_LIST, "detailed-domainrepdata.txt"),
    ] {
        let body = super::gzip(&super::read_fixture(&format!("{folder}/{plain}")));
        et.publish(file.name(), Published::with_sidecar(body));
    }
}

/// A list source for the server at `url`, with the test code and no retries.
pub fn source_at(url: &str) -> HttpSourceBuilder {
    let code = SubscriptionCode::new(CODE).unwrap();
    HttpSource::builder(url, code)
        .proxy_from_env(false)
        .retry(proofpoint_et_client::RetryPolicy {
            retries: 0,
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
}

/// The keys of `hour-1`: ten addresses and six hosts.
pub fn hour_1_keys() -> Vec<String> {
    let addresses = (1..=10).map(|n| format!("Address 192.0.2.{n}"));
    let hosts = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]
        .iter()
        .map(|name| format!("Host {name}.example"));
    sorted(addresses.chain(hosts))
}

/// The keys of `hour-2`: 192.0.2.10 and foxtrot.example left, three values are new.
pub fn hour_2_keys() -> Vec<String> {
    let addresses = (1..=9)
        .map(|n| format!("Address 192.0.2.{n}"))
        .chain(["Address 198.51.100.1".into(), "Address 198.51.100.2".into()]);
    let hosts = ["alpha", "bravo", "charlie", "delta", "echo", "golf"]
        .iter()
        .map(|name| format!("Host {name}.example"));
    sorted(addresses.chain(hosts))
}

/// The keys, sorted.
pub fn sorted(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut keys: Vec<String> = keys.collect();
    keys.sort();
    keys
}

/// How one run ended.
#[derive(Debug)]
pub struct Run {
    /// Its report, finished.
    pub report: Report,
    /// The exit code the binary would give.
    pub exit: ExitCode,
    /// The error that ended it, where one did.
    pub error: Option<JobError>,
}

/// Both services, the settings of the feed and its state.
pub struct Feed {
    /// The ET list server.
    pub et: EtServer,
    /// ThreatConnect.
    pub tc: TcServer,
    /// The folder of the state.
    pub dir: tempfile::TempDir,
    /// The lists fetched.
    pub lists: Vec<ListFile>,
    /// The mapper's settings.
    pub mapper: MapperConfig,
    /// How jobs are cut.
    pub chunk_limits: ChunkLimits,
}

impl Feed {
    /// Both services, nothing published yet, the mapper's settings as given.
    pub async fn start(mapper: MapperConfig) -> Feed {
        Feed {
            et: EtServer::start().await,
            tc: TcServer::start().await,
            dir: tempfile::tempdir().unwrap(),
            lists: vec![IP_LIST, DOMAIN_LIST],
            mapper,
            chunk_limits: ChunkLimits::default(),
        }
    }

    /// The state file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The destination the state belongs to.
    pub fn identity(&self) -> Identity {
        Identity {
            url: self.tc.url(),
            owner: OWNER.to_owned(),
        }
    }

    /// Publishes both lists of a fixture folder (`hour-1`...), gzipped as the feed fetches
    /// them, with their sidecars.
    pub fn publish_hour(&self, folder: &str) {
        publish_hour(&self.et.fake, folder);
    }

    /// The list source: the fake ET server, no retries.
    pub fn source(&self) -> Arc<dyn ListSource> {
        Arc::new(source_at(&self.et.url()).build().unwrap())
    }

    /// The destination: the fake ThreatConnect, polled every few milliseconds.
    pub fn destination(&self) -> ThreatConnect {
        let client = Client::builder(
            &self.tc.url(),
            Credentials::hmac(ACCESS_ID, SECRET_KEY.to_owned()),
        )
        .proxy_from_env(false)
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(1), Duration::from_millis(5)),
        )
        .poll_policy(
            PollPolicy::default()
                .waits(Duration::from_millis(1), 2.0, Duration::from_millis(5))
                .job_deadline(Duration::from_secs(5)),
        )
        .chunk_limits(self.chunk_limits)
        .build()
        .unwrap();
        ThreatConnect::new(client, self.tc.url())
    }

    /// The options of a run: these lists, this mapper, a full refresh a day.
    pub fn options(&self) -> JobOptions {
        JobOptions {
            identity: self.identity(),
            lists: self.lists.clone(),
            mapper: self.mapper.clone(),
            full: false,
            full_refresh_every: Duration::from_secs(24 * 3600),
        }
    }

    /// One run, as `tc-feed run` does it: open the state, run the job, compact, finish the
    /// report.
    pub async fn run(&self) -> Run {
        self.run_with(&self.options()).await
    }

    /// One run with other options.
    pub async fn run_with(&self, options: &JobOptions) -> Run {
        self.run_from(options, self.source()).await
    }

    /// One run with other options and another list source.
    pub async fn run_from(&self, options: &JobOptions, source: Arc<dyn ListSource>) -> Run {
        let mut state = State::open_for(self.state_path(), &self.identity()).unwrap();
        let mut report = Report::start(self.tc.url(), OWNER.to_owned(), self.state_path(), false);
        let destination = self.destination();
        let job = Job::new(options, source, &destination);

        let result = job.run(&mut state, &mut report).await;
        state.compact().unwrap();
        let error = result.err();
        report.finish(
            error
                .as_ref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
        );
        Run {
            exit: report.outcome.exit_code(),
            report,
            error,
        }
    }

    /// The state as the next run will find it.
    pub fn state(&self) -> State {
        State::open(self.state_path()).unwrap().expect("a state")
    }

    /// The keys the state holds, as `Type value`, sorted.
    pub fn state_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .state()
            .entries()
            .map(|(key, _)| format!("{} {}", key.kind().as_str(), key.value()))
            .collect();
        keys.sort();
        keys
    }
}
