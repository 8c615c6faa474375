//! Three hourly runs against both stand-ins: the first sends everything, the second finds the
//! lists unchanged and does nothing, the third sends only the delta and applies the removal
//! action, for each of the five actions.

mod common;

use std::collections::BTreeSet;

use common::feed::{DOMAIN_LIST, Feed, IP_LIST, hour_1_keys, hour_2_keys, mapper_removing_by};
use common::tc::{Job, OWNER};
use reputation_mapper::{IndicatorKind, RemovalAction};
use serde_json::Value;
use tc_feed_app::exit::ExitCode;
use tc_feed_app::report::ListStatus;

fn summaries(jobs: &[Job]) -> BTreeSet<String> {
    jobs.iter().flat_map(Job::summaries).collect()
}

/// Every job was sent for the feed's owner, and every indicator carries the xid of that owner.
fn assert_sent_under_the_feed_identity(jobs: &[Job]) {
    for job in jobs {
        assert_eq!(job.owner(), OWNER, "job {}", job.id);
        for indicator in &job.indicators {
            let kind = match indicator["type"].as_str().unwrap() {
                "Address" => IndicatorKind::Address,
                "Host" => IndicatorKind::Host,
                other => panic!("unexpected type {other}"),
            };
            let value = indicator["summary"].as_str().unwrap();
            let xid = reputation_mapper::xid(OWNER, kind, value);
            assert_eq!(indicator["xid"], xid.as_str(), "{value}");
        }
    }
}

#[tokio::test]
async fn first_run_sends_everything_and_an_unchanged_second_run_downloads_and_sends_nothing() {
    let feed = Feed::start(mapper_removing_by(RemovalAction::Deactivate)).await;
    feed.publish_hour("hour-1");

    let first = feed.run().await;

    assert_eq!(first.exit, ExitCode::Success, "{:#?}", first.report);
    assert!(first.report.full_refresh);
    let ip = &first.report.lists[IP_LIST.name()];
    let domain = &first.report.lists[DOMAIN_LIST.name()];
    assert_eq!(
        (ip.status, ip.added, ip.sent),
        (ListStatus::Imported, 10, 10)
    );
    assert_eq!(
        (domain.status, domain.added, domain.sent),
        (ListStatus::Imported, 6, 6)
    );
    assert_eq!(ip.rows_read, 11);
    let jobs = feed.tc.fake.jobs();
    assert_eq!(jobs.len(), 2, "one upsert job per list");
    assert!(jobs.iter().all(|job| job.action() == "Create"));
    assert_sent_under_the_feed_identity(&jobs);
    assert_eq!(feed.tc.fake.held_summaries().len(), 16);
    assert_eq!(feed.state_keys(), hour_1_keys());

    let requests_before = feed.tc.fake.requests().len();
    let second = feed.run().await;

    assert_eq!(second.exit, ExitCode::Success, "{:#?}", second.report);
    assert!(second.report.stopped_early.is_some());
    for list in [IP_LIST, DOMAIN_LIST] {
        assert_eq!(feed.et.fake.bodies_sent(list.name()), 1, "{}", list.name());
        assert_eq!(
            second.report.lists[list.name()].status,
            ListStatus::Unchanged
        );
    }
    assert_eq!(
        feed.tc.fake.requests().len(),
        requests_before,
        "nothing pushed"
    );
    assert_eq!(feed.state_keys(), hour_1_keys());
}

/// Runs hour 1, hour 1 again, then hour 2 with `action`; gives the feed and the jobs of the
/// third run.
async fn churn_with(action: RemovalAction, before_third_run: impl FnOnce(&Feed)) -> (Feed, Run3) {
    let feed = Feed::start(mapper_removing_by(action)).await;
    feed.publish_hour("hour-1");
    assert_eq!(feed.run().await.exit, ExitCode::Success);
    assert_eq!(feed.run().await.exit, ExitCode::Success);
    let jobs_before = feed.tc.fake.jobs().len();

    feed.publish_hour("hour-2");
    before_third_run(&feed);
    let run = feed.run().await;

    let jobs = feed.tc.fake.jobs_after(jobs_before);
    assert_sent_under_the_feed_identity(&jobs);
    let (upserts, removals): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|job| job.settings["attributeWriteType"] == "Replace");
    assert_eq!(
        summaries(&upserts),
        BTreeSet::from(
            [
                "192.0.2.3",
                "198.51.100.1",
                "198.51.100.2",
                "bravo.example",
                "golf.example"
            ]
            .map(String::from)
        ),
        "only the added and changed indicators are sent again"
    );
    assert!(!run.report.full_refresh);
    let ip = &run.report.lists[IP_LIST.name()];
    assert_eq!(
        (ip.added, ip.changed_indicators, ip.unchanged, ip.removed),
        (2, 1, 8, 1)
    );
    assert_eq!(ip.removal_action, action.to_string());
    assert!(!ip.removals_held_back);
    assert_eq!(feed.state_keys(), hour_2_keys());
    (
        feed,
        Run3 {
            exit: run.exit,
            removals,
        },
    )
}

struct Run3 {
    exit: ExitCode,
    removals: Vec<Job>,
}

fn removed_values() -> BTreeSet<String> {
    BTreeSet::from(["192.0.2.10".to_owned(), "foxtrot.example".to_owned()])
}

/// The removal documents carry type, summary, xid and the one field the action sets.
fn assert_removal_documents_hold_only(jobs: &[Job], field: Option<&str>) {
    for indicator in jobs.iter().flat_map(|job| &job.indicators) {
        let mut fields: Vec<&str> = indicator
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        fields.sort_unstable();
        let mut expected = vec!["summary", "type", "xid"];
        expected.extend(field);
        expected.sort_unstable();
        assert_eq!(fields, expected, "{indicator}");
    }
}

fn assert_appends(jobs: &[Job]) {
    for job in jobs {
        assert_eq!(job.settings["attributeWriteType"], "Append");
        assert_eq!(job.settings["tagWriteType"], "Append");
    }
}

#[tokio::test]
async fn churn_with_deactivate_sends_the_delta_and_deactivates_what_left() {
    let (feed, run) = churn_with(RemovalAction::Deactivate, |_| {}).await;

    assert_eq!(run.exit, ExitCode::Success);
    assert_eq!(summaries(&run.removals), removed_values());
    assert!(run.removals.iter().all(|job| job.action() == "Create"));
    assert_appends(&run.removals);
    assert_removal_documents_hold_only(&run.removals, Some("active"));
    for value in removed_values() {
        let held = feed.tc.fake.held(&value).unwrap();
        assert_eq!(held["active"], false, "{value}");
        assert!(held["attribute"].is_array(), "the rest is left as it was");
    }
    assert_eq!(feed.tc.fake.held("192.0.2.9").unwrap()["active"], true);
}

#[tokio::test]
async fn churn_with_delete_sends_a_delete_job_and_a_delete_that_finds_nothing_counts_as_done() {
    // Someone deleted foxtrot.example in ThreatConnect already: its Delete answers 0x1007.
    let (feed, run) = churn_with(RemovalAction::Delete, |feed| {
        feed.tc.fake.forget("foxtrot.example")
    })
    .await;

    assert_eq!(run.exit, ExitCode::Success);
    assert_eq!(summaries(&run.removals), removed_values());
    for job in &run.removals {
        assert_eq!(job.action(), "Delete");
        assert!(
            !job.create_and_upload,
            "a Delete job goes through create and upload"
        );
    }
    let not_found: Vec<_> = run.removals.iter().flat_map(|job| &job.errors).collect();
    assert_eq!(not_found.len(), 1);
    assert!(not_found[0].1.contains("0x1007"));
    assert_removal_documents_hold_only(&run.removals, None);
    for value in removed_values() {
        assert!(feed.tc.fake.held(&value).is_none(), "{value}");
    }
}

#[tokio::test]
async fn churn_with_zero_rating_sets_rating_and_confidence_to_zero_on_what_left() {
    let (feed, run) = churn_with(RemovalAction::ZeroRating, |_| {}).await;

    assert_eq!(run.exit, ExitCode::Success);
    assert_eq!(summaries(&run.removals), removed_values());
    assert_appends(&run.removals);
    for indicator in run.removals.iter().flat_map(|job| &job.indicators) {
        assert_eq!(indicator["rating"].as_f64(), Some(0.0), "{indicator}");
        assert_eq!(indicator["confidence"].as_u64(), Some(0), "{indicator}");
    }
    for value in removed_values() {
        let held = feed.tc.fake.held(&value).unwrap();
        assert_eq!(held["rating"].as_f64(), Some(0.0));
        assert_eq!(held["active"], true, "zero-rating leaves it active");
    }
}

#[tokio::test]
async fn churn_with_tag_adds_the_removal_tag_and_keeps_the_other_tags() {
    let (feed, run) = churn_with(RemovalAction::Tag, |_| {}).await;

    assert_eq!(run.exit, ExitCode::Success);
    assert_eq!(summaries(&run.removals), removed_values());
    assert_appends(&run.removals);
    assert_removal_documents_hold_only(&run.removals, Some("tag"));
    let tag_names = |held: &Value| -> Vec<String> {
        held["tag"]
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| tag["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let held = feed.tc.fake.held("192.0.2.10").unwrap();
    assert_eq!(tag_names(&held), ["CnC", "ET Removed"]);
    let held = feed.tc.fake.held("foxtrot.example").unwrap();
    assert!(tag_names(&held).contains(&"ET Removed".to_owned()));
}

#[tokio::test]
async fn churn_with_keep_sends_no_removal_and_forgets_what_left() {
    let (feed, run) = churn_with(RemovalAction::Keep, |_| {}).await;

    assert_eq!(run.exit, ExitCode::Success);
    assert!(run.removals.is_empty(), "keep sends nothing");
    for value in removed_values() {
        let held = feed.tc.fake.held(&value).unwrap();
        assert_eq!(held["active"], true, "{value} is left as it was");
    }
}

#[tokio::test]
async fn full_refresh_is_not_repeated_every_hour_while_one_list_cannot_be_imported() {
    // The subscription lacks the IP list (404 every hour); the domain list is fine. The first
    // run's full refresh sends the domain list whole once, not again each hour.
    let feed = Feed::start(mapper_removing_by(RemovalAction::Deactivate)).await;
    feed.publish_hour("hour-1");
    feed.et.fake.unpublish(IP_LIST.name());

    let first = feed.run().await;
    assert_eq!(first.exit, ExitCode::Attention, "{:#?}", first.report);
    assert!(first.report.full_refresh);
    let jobs_after_first = feed.tc.fake.jobs().len();

    let second = feed.run().await;

    assert!(!second.report.full_refresh, "{:#?}", second.report);
    assert_eq!(
        feed.tc.fake.jobs().len(),
        jobs_after_first,
        "nothing sent again"
    );
    assert_eq!(feed.et.fake.bodies_sent(DOMAIN_LIST.name()), 1);
    assert_eq!(
        second.report.lists[IP_LIST.name()].status,
        ListStatus::NotImported
    );
}
