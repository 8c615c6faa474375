//! What the job commits from a job's reply, with a destination that answers as told: errors
//! that name values in another spelling, and errors that name values the job did not carry.

use std::sync::{Arc, Mutex};

use futures::StreamExt;
use futures::stream::BoxStream;
use proofpoint_et_client::{DirectorySource, ListFile};
use reputation_mapper::{IndicatorKind, MapperConfig};
use tc_feed_app::destination::{Confirmation, Destination, JobReply, RejectedItem};
use tc_feed_app::job::{Job, JobOptions};
use tc_feed_app::report::Report;
use tc_feed_app::state::{Identity, State};
use threatconnect_client::{BatchIndicator, JobSettings};

/// Confirms every job, naming `rejected` as refused.
struct Refusing {
    rejected: Vec<String>,
    sent: Arc<Mutex<Vec<String>>>,
}

impl Destination for Refusing {
    fn describe(&self) -> String {
        "a destination that refuses as told".to_owned()
    }

    fn send(
        &self,
        _settings: JobSettings,
        indicators: BoxStream<'static, BatchIndicator>,
    ) -> BoxStream<'static, JobReply> {
        let rejected = self.rejected.clone();
        let sent = Arc::clone(&self.sent);
        futures::stream::once(async move {
            let indicators: Vec<BatchIndicator> = indicators.collect().await;
            sent.lock()
                .unwrap()
                .extend(indicators.iter().map(|i| i.summary.clone()));
            let count = indicators.len() as u64;
            let errors = rejected.len() as u64;
            JobReply::Confirmed(Confirmation {
                positions: 0..indicators.len(),
                batch_id: Some(7),
                status: "Completed".to_owned(),
                success: count - errors,
                errors,
                unprocessed: 0,
                rejected: rejected
                    .into_iter()
                    .map(|value| RejectedItem {
                        value,
                        reason: "Error (0x1005): not valid".to_owned(),
                        code: Some(0x1005),
                    })
                    .collect(),
                accounts_for_every_indicator: true,
            })
        })
        .boxed()
    }
}

async fn run_with(rejected: &[&str]) -> (State, Report) {
    let lists = tempfile::tempdir().unwrap();
    std::fs::write(
        lists.path().join("detailed-domainrepdata.txt"),
        "domain, category, score, first_seen, last_seen, ports (|)\n\
         alpha.example,1,90,2020-01-01,2020-01-02,80\n\
         beta.example,1,90,2020-01-01,2020-01-02,80\n",
    )
    .unwrap();
    let identity = Identity {
        url: "test".into(),
        owner: "Example Org".into(),
    };
    let options = JobOptions {
        identity: identity.clone(),
        lists: vec![ListFile::DETAILED_DOMAIN],
        mapper: MapperConfig::builder("Example Org")
            .types([IndicatorKind::Host])
            .build()
            .unwrap(),
        full: false,
        full_refresh_every: std::time::Duration::ZERO,
    };
    let destination = Refusing {
        rejected: rejected.iter().map(|value| (*value).to_owned()).collect(),
        sent: Arc::default(),
    };
    let out = tempfile::tempdir().unwrap();
    let mut state = State::create(out.path().join("state"), identity);
    let mut report = Report::start(
        "test".into(),
        "Example Org".into(),
        state.path().into(),
        false,
    );
    let source = Arc::new(DirectorySource::new(lists.path()));
    Job::new(&options, source, &destination)
        .run(&mut state, &mut report)
        .await
        .unwrap();
    (state, report)
}

#[tokio::test]
async fn rejected_host_named_in_upper_case_is_still_the_one_rejected() {
    let (state, report) = run_with(&["ALPHA.EXAMPLE."]).await;

    assert!(state.get("Host\tbeta.example").is_some());
    assert!(
        state.get("Host\talpha.example").is_none(),
        "the rejected one is not recorded"
    );
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].indicator, "Host alpha.example");
}

#[tokio::test]
async fn errors_naming_values_the_job_did_not_carry_leave_the_job_unconfirmed() {
    let (state, report) = run_with(&["stranger.example"]).await;

    assert!(state.is_empty(), "nothing of the job is recorded as sent");
    let jobs = &report.lists["detailed-domainrepdata.txt"].jobs;
    assert!(!jobs[0].committed);
    assert!(!report.warnings.is_empty());
}
