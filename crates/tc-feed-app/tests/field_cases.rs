//! The field cases of the feed job (`../shared/field-cases.md`), each against both stand-ins:
//! what broke elsewhere, and the behaviour that is right here.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::et::{CODE, Published};
use common::feed::{DOMAIN_LIST, Feed, IP_LIST, mapper, source_at};
use common::tc::Job;
use common::{gzip, read_fixture};
use reputation_mapper::{IndicatorKind, RemovalAction};
use tc_feed_app::exit::ExitCode;
use tc_feed_app::report::ListStatus;
use test_support::raw_http::{RawServer, Step};

const F10_REASON: &str = "Error (0x1005): dl_update.example.net is not valid as a Host.";

/// A feed of the domain list alone.
async fn host_feed() -> Feed {
    let config = mapper().types([IndicatorKind::Host]).build().unwrap();
    let mut feed = Feed::start(config).await;
    feed.lists = vec![DOMAIN_LIST];
    feed
}

/// A feed of the IP list alone.
async fn address_feed() -> Feed {
    let config = mapper()
        .types([IndicatorKind::Address])
        .removal_action(RemovalAction::Deactivate)
        .build()
        .unwrap();
    let mut feed = Feed::start(config).await;
    feed.lists = vec![IP_LIST];
    feed
}

fn summaries(jobs: &[Job]) -> Vec<String> {
    let mut values: Vec<String> = jobs.iter().flat_map(Job::summaries).collect();
    values.sort();
    values
}

#[tokio::test]
async fn f10_one_rejected_host_is_retried_once_then_parked_and_the_good_ones_are_committed() {
    // Hosts alpha.example, dl_update.example.net and gamma.example; ThreatConnect refuses the
    // second with 0x1005 in a job whose status says errorCount 1.
    let feed = host_feed().await;
    let list = gzip(&read_fixture("f10/detailed-domainrepdata.txt"));
    feed.et
        .fake
        .publish(DOMAIN_LIST.name(), Published::with_sidecar(list.clone()));
    feed.tc.fake.refuse("dl_update.example.net", F10_REASON);

    let first = feed.run().await;

    assert_eq!(first.exit, ExitCode::Attention, "{:#?}", first.report);
    let jobs = feed.tc.fake.jobs();
    assert_eq!(jobs.len(), 1, "no retry within the run");
    assert_eq!(jobs[0].errors.len(), 1);
    assert_eq!(first.report.rejected.len(), 1);
    assert_eq!(
        first.report.rejected[0].indicator,
        "Host dl_update.example.net"
    );
    assert_eq!(first.report.rejected[0].reason, F10_REASON);
    assert_eq!(first.report.lists[DOMAIN_LIST.name()].sent, 3);
    assert_eq!(
        feed.state_keys(),
        ["Host alpha.example", "Host gamma.example"]
    );

    // The list is unchanged, but a value is to be retried: it is downloaded and only that
    // value is sent again.
    let second = feed.run().await;

    assert_eq!(second.exit, ExitCode::Attention, "{:#?}", second.report);
    let retried = feed.tc.fake.jobs_after(1);
    assert_eq!(summaries(&retried), ["dl_update.example.net"]);
    assert_eq!(second.report.parked.len(), 1, "{:#?}", second.report);
    assert_eq!(second.report.parked[0].reason, F10_REASON);
    let state = feed.state();
    let record = &state.meta().rejected["Host\tdl_update.example.net"];
    assert!(record.is_parked());

    // Parked: not sent again while its content stays the same.
    let third = feed.run().await;

    assert_eq!(third.exit, ExitCode::Success, "{:#?}", third.report);
    assert_eq!(
        feed.tc.fake.jobs().len(),
        2,
        "a parked value is not retried"
    );
    assert_eq!(
        feed.state_keys(),
        ["Host alpha.example", "Host gamma.example"]
    );

    // Its content changes: it is tried again.
    let changed = String::from_utf8(read_fixture("f10/detailed-domainrepdata.txt"))
        .unwrap()
        .replace("dl_update.example.net,7,80", "dl_update.example.net,7,95");
    feed.et.fake.publish(
        DOMAIN_LIST.name(),
        Published::with_sidecar(gzip(changed.as_bytes())),
    );
    feed.run().await;
    assert_eq!(
        summaries(&feed.tc.fake.jobs_after(2)),
        ["dl_update.example.net"]
    );
}

#[tokio::test]
async fn f10_unprocessed_indicators_leave_the_whole_job_unconfirmed_and_are_reported() {
    // The job's status says unprocessCount 1 and its errors name nothing: no indicator of it
    // can be taken as written.
    let feed = host_feed().await;
    let list = gzip(&read_fixture("f10/detailed-domainrepdata.txt"));
    feed.et
        .fake
        .publish(DOMAIN_LIST.name(), Published::with_sidecar(list));
    feed.tc.fake.leave_unprocessed("gamma.example");

    let first = feed.run().await;

    assert_eq!(first.exit, ExitCode::Attention, "{:#?}", first.report);
    let jobs = &first.report.lists[DOMAIN_LIST.name()].jobs;
    assert_eq!((jobs.len(), jobs[0].unprocessed), (1, 1));
    assert!(!jobs[0].committed);
    assert!(
        feed.state_keys().is_empty(),
        "nothing of the job is committed"
    );

    feed.tc.fake.process_everything();
    let second = feed.run().await;

    assert_eq!(second.exit, ExitCode::Success, "{:#?}", second.report);
    assert_eq!(
        summaries(&feed.tc.fake.jobs_after(1)),
        ["alpha.example", "dl_update.example.net", "gamma.example"],
        "the whole job is sent again"
    );
    assert_eq!(feed.state_keys().len(), 3);
}

#[tokio::test]
async fn f05_each_list_sends_its_own_validators_and_keeps_its_own() {
    let feed = Feed::start(mapper().build().unwrap()).await;
    let ip = gzip(&read_fixture("hour-1/detailed-iprepdata.txt"));
    let domains_1 = gzip(&read_fixture("hour-1/detailed-domainrepdata.txt"));
    let domains_2 = gzip(&read_fixture("hour-2/detailed-domainrepdata.txt"));
    let published = |body: &[u8], etag: &str, date: &str| Published {
        last_modified: Some(date.to_owned()),
        ..Published::with_etag(body.to_vec(), etag)
    };
    let ip_date = "Mon, 02 Mar 2026 10:00:00 GMT";
    let (dom_date_1, dom_date_2) = (
        "Mon, 02 Mar 2026 10:05:00 GMT",
        "Mon, 02 Mar 2026 11:05:00 GMT",
    );
    feed.et
        .fake
        .publish(IP_LIST.name(), published(&ip, "ip-v1", ip_date));
    feed.et.fake.publish(
        DOMAIN_LIST.name(),
        published(&domains_1, "dom-v1", dom_date_1),
    );
    assert_eq!(feed.run().await.exit, ExitCode::Success);

    feed.et.fake.publish(
        DOMAIN_LIST.name(),
        published(&domains_2, "dom-v2", dom_date_2),
    );
    let second = feed.run().await;

    assert_eq!(second.exit, ExitCode::Success, "{:#?}", second.report);
    let ip_request = feed.et.fake.requests_for(IP_LIST.name()).pop().unwrap();
    let domain_request = feed.et.fake.requests_for(DOMAIN_LIST.name()).pop().unwrap();
    assert_eq!(ip_request.if_none_match.as_deref(), Some("\"ip-v1\""));
    assert_eq!(ip_request.if_modified_since.as_deref(), Some(ip_date));
    assert_eq!(ip_request.status, 304);
    assert_eq!(domain_request.if_none_match.as_deref(), Some("\"dom-v1\""));
    assert_eq!(
        domain_request.if_modified_since.as_deref(),
        Some(dom_date_1)
    );
    assert_eq!(domain_request.status, 200);
    assert_eq!(
        second.report.lists[IP_LIST.name()].status,
        ListStatus::Unchanged
    );
    assert_eq!(
        second.report.lists[DOMAIN_LIST.name()].status,
        ListStatus::Imported
    );

    let state = feed.state();
    let ip_record = &state.meta().lists[IP_LIST.name()];
    let domain_record = &state.meta().lists[DOMAIN_LIST.name()];
    assert_eq!(ip_record.etag.as_deref(), Some("\"ip-v1\""));
    assert_eq!(ip_record.last_modified.as_deref(), Some(ip_date));
    assert_eq!(domain_record.etag.as_deref(), Some("\"dom-v2\""));
    assert_eq!(domain_record.last_modified.as_deref(), Some(dom_date_2));
}

#[tokio::test]
async fn f14_near_empty_list_removes_nothing() {
    // Ten addresses; then 304; then a 200 with the header line only; then rows 1 to 9.
    let feed = address_feed().await;
    let publish = |fixture: &str, etag: &str| {
        let body = gzip(&read_fixture(fixture));
        feed.et
            .fake
            .publish(IP_LIST.name(), Published::with_etag(body, etag));
    };
    let ten: Vec<String> = (1..=10)
        .map(|n| format!("Address 198.51.100.{n}"))
        .collect();

    publish("f14/v1-ten-rows.txt", "v1");
    assert_eq!(feed.run().await.exit, ExitCode::Success);

    let second = feed.run().await;
    assert_eq!(second.exit, ExitCode::Success);
    assert_eq!(feed.et.fake.requests_for(IP_LIST.name())[1].status, 304);
    assert_eq!(feed.tc.fake.jobs().len(), 1, "run 2 changes nothing");

    publish("f14/v3-header-only.txt", "v3");
    let third = feed.run().await;

    assert_eq!(third.exit, ExitCode::Attention, "{:#?}", third.report);
    let list = &third.report.lists[IP_LIST.name()];
    assert!(list.removals_held_back);
    assert_eq!(list.removed, 10);
    assert!(
        third
            .report
            .warnings
            .iter()
            .any(|warning| warning.contains("mass-removal guard")),
        "{:?}",
        third.report.warnings
    );
    assert_eq!(feed.tc.fake.jobs().len(), 1, "nothing is removed");
    assert_eq!(feed.state_keys().len(), 10);
    let state = feed.state();
    let record = &state.meta().lists[IP_LIST.name()];
    assert_eq!(record.etag.as_deref(), Some("\"v1\""), "v3 is not stored");

    publish("f14/v4-rows-1-to-9.txt", "v4");
    let fourth = feed.run().await;

    assert_eq!(fourth.exit, ExitCode::Success, "{:#?}", fourth.report);
    let run_4_request = feed.et.fake.requests_for(IP_LIST.name()).pop().unwrap();
    assert_ne!(run_4_request.if_none_match.as_deref(), Some("\"v3\""));
    assert_eq!(run_4_request.status, 200);
    let removals = feed.tc.fake.jobs_after(1);
    assert_eq!(summaries(&removals), ["198.51.100.10"]);
    assert_eq!(removals[0].indicators[0]["active"], false);
    let mut expected = ten;
    expected.pop();
    expected.sort();
    assert_eq!(feed.state_keys(), expected);
    let state = feed.state();
    assert_eq!(
        state.meta().lists[IP_LIST.name()].etag.as_deref(),
        Some("\"v4\"")
    );
    assert!(state.meta().pending_removals.is_empty());
}

#[tokio::test]
async fn f08_truncated_gz_imports_nothing_and_removes_nothing() {
    for cut in ["f08/cut40.gz", "f08/cut48.gz"] {
        // Run 1 imports hour 1; in run 2 the IP list is a .gz cut short and the domain list
        // changed.
        let feed = Feed::start(mapper().build().unwrap()).await;
        feed.publish_hour("hour-1");
        assert_eq!(feed.run().await.exit, ExitCode::Success);
        let keys_before = feed.state_keys();
        let ip_record_before = feed.state().meta().lists[IP_LIST.name()].clone();

        feed.publish_hour("hour-2");
        feed.et.fake.publish(
            IP_LIST.name(),
            Published::with_etag(read_fixture(cut), "cut"),
        );
        let second = feed.run().await;

        assert_eq!(
            second.exit,
            ExitCode::Attention,
            "{cut}: {:#?}",
            second.report
        );
        let ip = &second.report.lists[IP_LIST.name()];
        assert_eq!(ip.status, ListStatus::NotImported, "{cut}");
        let error = ip.error.as_deref().unwrap();
        assert!(error.contains(IP_LIST.name()), "{cut}: {error}");
        assert_eq!(
            second.report.lists[DOMAIN_LIST.name()].status,
            ListStatus::Imported,
            "the other list goes on"
        );
        let sent = summaries(&feed.tc.fake.jobs_after(2));
        assert!(
            sent.iter().all(|value| value.ends_with(".example")),
            "{cut}: nothing of the IP list is sent, no removal either: {sent:?}"
        );
        let addresses_kept = feed
            .state_keys()
            .into_iter()
            .filter(|key| key.starts_with("Address"))
            .count();
        assert_eq!(addresses_kept, 10, "{cut}");
        assert_ne!(
            feed.state_keys(),
            keys_before,
            "the domain list was imported"
        );
        assert_eq!(
            feed.state().meta().lists[IP_LIST.name()],
            ip_record_before,
            "{cut}: the IP list's validators stay"
        );
    }
}

/// How the IP list is served in the F13 cases.
#[derive(Clone, Copy)]
enum Body {
    Whole,
    CutAfterTwoLines,
    ChunkedWithoutLastChunk,
    StalledAfterTwoLines,
    OneLineAtATime,
}

fn raw_answer(body: Body, list: &[u8]) -> Vec<Step> {
    let head = |length: usize| {
        Step::send(format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        ))
    };
    let two_lines = &list[..34];
    let pause = Duration::from_millis(150);
    match body {
        Body::Whole => vec![head(list.len()), Step::send(list)],
        Body::CutAfterTwoLines => vec![head(list.len()), Step::send(two_lines)],
        Body::ChunkedWithoutLastChunk => vec![
            Step::send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Step::send(format!("{:x}\r\n", two_lines.len())),
            Step::send(two_lines),
            Step::send("\r\n"),
        ],
        Body::StalledAfterTwoLines => vec![
            head(list.len()),
            Step::send(two_lines),
            Step::Pause(Duration::from_secs(5)),
        ],
        Body::OneLineAtATime => {
            let mut steps = vec![head(list.len())];
            for line in list.split_inclusive(|byte| *byte == b'\n') {
                steps.push(Step::send(line));
                steps.push(Step::Pause(pause));
            }
            steps
        }
    }
}

/// A raw server for the F13 cases: the IP list as `phase` says, the domain list of hour 1
/// then hour 2, no sidecars.
fn f13_server(phase: Arc<AtomicUsize>, second_body: Body) -> RawServer {
    let list = read_fixture("f13/three-lines.txt");
    let domains = [
        gzip(&read_fixture("hour-1/detailed-domainrepdata.txt")),
        gzip(&read_fixture("hour-2/detailed-domainrepdata.txt")),
    ];
    RawServer::start(move |path| {
        let run = phase.load(Ordering::SeqCst);
        let not_found = vec![Step::send(
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )];
        let Some(file) = path.strip_prefix(&format!("/{CODE}/reputation/")) else {
            return not_found;
        };
        if file == IP_LIST.name() {
            let body = if run == 0 { Body::Whole } else { second_body };
            raw_answer(body, &list)
        } else if file == DOMAIN_LIST.name() {
            raw_answer(Body::Whole, &domains[run.min(1)])
        } else {
            not_found
        }
    })
}

async fn f13_second_run(second_body: Body) -> (Feed, common::feed::Run) {
    let feed = Feed::start(mapper().build().unwrap()).await;
    let phase = Arc::new(AtomicUsize::new(0));
    let server = f13_server(Arc::clone(&phase), second_body);
    let source = || -> Arc<dyn proofpoint_et_client::ListSource> {
        let source = source_at(&server.url())
            .read_timeout(Duration::from_millis(400))
            .build()
            .unwrap();
        Arc::new(source)
    };

    let first = feed.run_from(&feed.options(), source()).await;
    assert_eq!(first.exit, ExitCode::Success, "{:#?}", first.report);
    phase.store(1, Ordering::SeqCst);
    let second = feed.run_from(&feed.options(), source()).await;
    (feed, second)
}

async fn assert_f13_cut_imports_nothing_and_removes_nothing(second_body: Body) {
    let (feed, second) = f13_second_run(second_body).await;

    assert_eq!(second.exit, ExitCode::Attention, "{:#?}", second.report);
    assert_eq!(
        second.report.lists[IP_LIST.name()].status,
        ListStatus::NotImported
    );
    let sent = summaries(&feed.tc.fake.jobs_after(2));
    assert!(
        sent.iter().all(|value| value.ends_with(".example")),
        "{sent:?}"
    );
    assert!(
        feed.state_keys()
            .contains(&"Address 203.0.113.3".to_owned()),
        "the third address is not treated as removed"
    );
}

#[tokio::test]
async fn f13_body_cut_short_of_its_length_removes_nothing() {
    assert_f13_cut_imports_nothing_and_removes_nothing(Body::CutAfterTwoLines).await;
}

#[tokio::test]
async fn f13_chunked_body_without_its_last_chunk_removes_nothing() {
    assert_f13_cut_imports_nothing_and_removes_nothing(Body::ChunkedWithoutLastChunk).await;
}

#[tokio::test]
async fn f13_body_that_stalls_ends_at_the_idle_timeout_and_removes_nothing() {
    assert_f13_cut_imports_nothing_and_removes_nothing(Body::StalledAfterTwoLines).await;
}

#[tokio::test]
async fn f13_slow_body_that_keeps_arriving_is_imported_whole() {
    // One line every 150 ms under an idle timeout of 400 ms: longer in total than the idle
    // timeout, never silent for that long.
    let (feed, second) = f13_second_run(Body::OneLineAtATime).await;

    assert_eq!(second.exit, ExitCode::Success, "{:#?}", second.report);
    assert_eq!(
        second.report.lists[IP_LIST.name()].status,
        ListStatus::Imported
    );
    let addresses = feed
        .state_keys()
        .into_iter()
        .filter(|key| key.starts_with("Address"))
        .count();
    assert_eq!(addresses, 3);
}

#[tokio::test]
async fn f11_jobs_over_the_upload_limit_are_split_and_every_address_is_committed_once() {
    // 25,001 IPv6 addresses from 2001:db8::1; the instance refuses uploads over 2,000,000
    // bytes; the feed cuts jobs at 25,000 indicators.
    let mut feed = address_feed().await;
    feed.chunk_limits = threatconnect_client::ChunkLimits::new(25_000, 8_000_000).unwrap();
    let list: String = (1..=25_001u32)
        .map(|n| format!("2001:db8::{n:x},1,50\n"))
        .collect();
    feed.et.fake.publish(
        IP_LIST.name(),
        Published::with_sidecar(gzip(list.as_bytes())),
    );
    feed.tc.fake.limit_uploads_to(2_000_000);

    let run = feed.run().await;

    assert_eq!(run.exit, ExitCode::Success, "{:#?}", run.report.warnings);
    assert!(feed.tc.fake.oversize_refusals() > 0, "the limit was met");
    let jobs = feed.tc.fake.jobs();
    assert!(jobs.iter().all(|job| job.indicators.len() <= 25_000));
    let sent: Vec<String> = jobs.iter().flat_map(Job::summaries).collect();
    let distinct: std::collections::BTreeSet<&String> = sent.iter().collect();
    assert_eq!(
        (sent.len(), distinct.len()),
        (25_001, 25_001),
        "each sent once"
    );
    assert!(distinct.contains(&"2001:db8:0:0:0:0:0:1".to_owned()));
    assert!(distinct.contains(&"2001:db8:0:0:0:0:0:61a9".to_owned()));
    let list_report = &run.report.lists[IP_LIST.name()];
    assert_eq!(list_report.sent, 25_001);
    let written: u64 = list_report.jobs.iter().map(|job| job.success).sum();
    assert_eq!(written, 25_001, "the counts are summed over all jobs");
    assert_eq!(feed.state().len(), 25_001);
}

#[tokio::test]
async fn failed_job_neither_loses_nor_resends_what_other_jobs_confirmed() {
    // One indicator per job; in hour 2 the job that carries 198.51.100.1 fails with 500s.
    let mut feed = Feed::start(mapper().build().unwrap()).await;
    feed.chunk_limits = threatconnect_client::ChunkLimits::new(1, 8_000_000).unwrap();
    feed.publish_hour("hour-1");
    assert_eq!(feed.run().await.exit, ExitCode::Success);
    let jobs_of_hour_1 = feed.tc.fake.jobs().len();

    feed.publish_hour("hour-2");
    feed.tc.fake.fail_uploads_holding(Some("198.51.100.1"));
    let failing = feed.run().await;

    assert_eq!(failing.exit, ExitCode::Attention, "{:#?}", failing.report);
    let failed: Vec<_> = failing.report.lists[IP_LIST.name()]
        .jobs
        .iter()
        .filter(|job| !job.committed)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let keys = feed.state_keys();
    assert!(
        !keys.contains(&"Address 198.51.100.1".to_owned()),
        "not taken as written"
    );
    assert!(
        keys.contains(&"Address 198.51.100.2".to_owned()),
        "the others committed"
    );
    assert!(
        !keys.contains(&"Address 192.0.2.10".to_owned()),
        "the removal went"
    );
    let jobs_of_hour_2 = feed.tc.fake.jobs().len();
    assert!(jobs_of_hour_2 > jobs_of_hour_1);

    feed.tc.fake.fail_uploads_holding(None);
    let next = feed.run().await;

    assert_eq!(next.exit, ExitCode::Success, "{:#?}", next.report);
    assert_eq!(
        summaries(&feed.tc.fake.jobs_after(jobs_of_hour_2)),
        ["198.51.100.1"],
        "only the failed job's indicator is sent again"
    );
    assert_eq!(feed.state_keys(), common::feed::hour_2_keys());
}

/// F08 with the other list unchanged: the run is not a failure (exit 1) but one with something
/// to look at (exit 3).
#[tokio::test]
async fn truncated_list_beside_an_unchanged_one_is_attention_not_failure() {
    let feed = Feed::start(mapper().build().unwrap()).await;
    feed.publish_hour("hour-1");
    assert_eq!(feed.run().await.exit, ExitCode::Success);

    feed.et.fake.publish(
        IP_LIST.name(),
        Published::with_etag(read_fixture("f08/cut40.gz"), "cut"),
    );
    let second = feed.run().await;

    assert_eq!(second.exit, ExitCode::Attention, "{:#?}", second.report);
    assert_eq!(
        second.report.lists[IP_LIST.name()].status,
        ListStatus::NotImported
    );
    assert_eq!(
        second.report.lists[DOMAIN_LIST.name()].status,
        ListStatus::Unchanged
    );
}

/// ThreatConnect unreachable or answering 500 to every upload: no job finished, so the run
/// failed (exit 1), not "finished with something to look at" (exit 3).
#[tokio::test]
async fn every_upload_failing_is_a_failed_run_not_attention() {
    let feed = host_feed().await;
    let list = gzip(&read_fixture("f10/detailed-domainrepdata.txt"));
    feed.et
        .fake
        .publish(DOMAIN_LIST.name(), Published::with_sidecar(list));
    feed.tc.fake.fail_uploads_holding(Some("alpha.example"));

    let run = feed.run().await;

    assert_eq!(run.exit, ExitCode::Failed, "{:#?}", run.report);
    assert!(feed.state_keys().is_empty());
}
