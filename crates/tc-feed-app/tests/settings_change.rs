//! A change of mapping settings is applied on the next run even when the lists did not change.

use std::path::Path;
use std::sync::Arc;

use proofpoint_et_client::{DirectorySource, ListFile};
use reputation_mapper::{IndicatorKind, MapperConfig};
use tc_feed_app::destination::DryRunFolder;
use tc_feed_app::job::{Job, JobOptions};
use tc_feed_app::report::Report;
use tc_feed_app::state::{Identity, State};
use threatconnect_client::ChunkLimits;

const LIST: &str = "detailed-iprepdata.txt";

async fn run(lists: &Path, out: &Path, state: &mut State, confidence: u8) -> Report {
    let identity = Identity {
        url: "dry-run".into(),
        owner: "Example Org".into(),
    };
    let options = JobOptions {
        identity,
        lists: vec![ListFile::DETAILED_IP],
        mapper: MapperConfig::builder("Example Org")
            .types([IndicatorKind::Address])
            .confidence(confidence)
            .build()
            .unwrap(),
        full: false,
        full_refresh_every: std::time::Duration::ZERO,
    };
    let destination = DryRunFolder::create(out, ChunkLimits::default()).unwrap();
    let source = Arc::new(DirectorySource::new(lists));
    let mut report = Report::start(
        "test".into(),
        "Example Org".into(),
        state.path().into(),
        true,
    );
    Job::new(&options, source, &destination)
        .run(state, &mut report)
        .await
        .unwrap();
    report
}

#[tokio::test]
async fn changed_confidence_is_sent_although_the_list_is_unchanged() {
    let lists = tempfile::tempdir().unwrap();
    std::fs::write(
        lists.path().join(LIST),
        "ip, category, score, first_seen, last_seen, ports (|)\n\
         192.0.2.1,1,90,2020-01-01,2020-01-02,80\n\
         192.0.2.2,1,90,2020-01-01,2020-01-02,80\n",
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let identity = Identity {
        url: "dry-run".into(),
        owner: "Example Org".into(),
    };
    let mut state = State::create(out.path().join("state"), identity);

    run(lists.path(), out.path(), &mut state, 50).await;
    let unchanged = run(lists.path(), out.path(), &mut state, 50).await;
    assert!(
        unchanged.stopped_early.is_some(),
        "same list, same settings: nothing to do"
    );

    let changed = run(lists.path(), out.path(), &mut state, 90).await;
    assert_eq!(changed.lists[LIST].changed_indicators, 2, "{changed:#?}");
    assert_eq!(changed.lists[LIST].sent, 2);
    let stages: Vec<&str> = changed.lists[LIST]
        .durations_ms
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(stages, ["diff_and_plan", "send_upsert"]);

    let after = run(lists.path(), out.path(), &mut state, 90).await;
    assert!(
        after.stopped_early.is_some(),
        "the new settings are known now"
    );
}
