//! Properties of grouping and diffing, over generated lists.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv6Addr;

use proofpoint_et_client::ListKind;
use proptest::prelude::*;
use reputation_mapper::{
    DiffOptions, DropReason, IndicatorKey, IndicatorKind, MappedIndicators, fingerprint,
};
use support::{default_config, map_text};
use threatconnect_client::BatchIndicator;

/// One row of a detailed list, with values from small pools so that rows share values.
fn row() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        (1u8..6).prop_map(|n| format!("192.0.2.{n}")),
        (1u16..4).prop_map(|n| format!("2001:db8::{n:x}")),
        (1u16..4).prop_map(|n| format!("2001:0DB8:0:0:0:0:0:{n:04X}")),
        (0u8..5, any::<bool>()).prop_map(|(n, upper)| {
            let name = format!("host{n}.example");
            if upper { name.to_uppercase() } else { name }
        }),
        Just("*.wild.example".to_owned()),
    ];
    let category = prop::sample::select(vec![1u16, 10, 16, 27, 42]);
    let day = 1u32..28;
    (value, category, 20u8..=127, day.clone(), day).prop_map(|(value, category, score, a, b)| {
        let (first, last) = (a.min(b), a.max(b));
        format!("{value},{category},{score},2020-01-{first:02},2020-01-{last:02},80")
    })
}

fn list(rows: &[String]) -> String {
    format!(
        "ip, category, score, first_seen, last_seen, ports (|)\n{}\n",
        rows.join("\n")
    )
}

fn documents(mapped: &MappedIndicators) -> Vec<(IndicatorKey, BatchIndicator)> {
    let mut documents: Vec<_> = mapped
        .iter()
        .map(|indicator| (indicator.key(), indicator.to_batch_indicator()))
        .collect();
    documents.sort_by(|a, b| a.0.cmp(&b.0));
    documents
}

fn confirmed(mapped: &MappedIndicators) -> HashMap<IndicatorKey, u64> {
    mapped
        .iter()
        .map(|indicator| (indicator.key(), indicator.fingerprint()))
        .collect()
}

fn both_lists() -> DiffOptions<'static> {
    DiffOptions::new([ListKind::Ip, ListKind::Domain])
}

proptest! {
    #[test]
    fn shuffling_the_rows_changes_nothing(
        (rows, shuffled) in prop::collection::vec(row(), 0..40)
            .prop_flat_map(|rows| (Just(rows.clone()), Just(rows).prop_shuffle()))
    ) {
        let config = default_config();
        let in_order = map_text(&config, &list(&rows));
        let reordered = map_text(&config, &list(&shuffled));

        prop_assert_eq!(documents(&in_order), documents(&reordered));
        let (a, b) = (in_order.counts(), reordered.counts());
        prop_assert_eq!(a.rows_read, b.rows_read);
        prop_assert_eq!(a.rows_grouped, b.rows_grouped);
        prop_assert_eq!(a.indicators, b.indicators);
        prop_assert_eq!(&a.unknown_category_ids, &b.unknown_category_ids);
        for reason in DropReason::ALL {
            prop_assert_eq!(a.rows_dropped.get(reason), b.rows_dropped.get(reason));
        }
    }

    #[test]
    fn a_diff_of_an_import_with_itself_is_empty(rows in prop::collection::vec(row(), 0..40)) {
        let mapped = map_text(&default_config(), &list(&rows));
        let diff = mapped.diff(&confirmed(&mapped), &both_lists());

        prop_assert_eq!(diff.to_send().count(), 0);
        prop_assert!(diff.removed().is_empty());
        prop_assert_eq!(diff.counts().unchanged.total(), mapped.len() as u64);
    }

    #[test]
    fn diff_counts_add_up(
        before in prop::collection::vec(row(), 0..40),
        after in prop::collection::vec(row(), 0..40),
        full_refresh in any::<bool>(),
    ) {
        let config = default_config();
        let previous = map_text(&config, &list(&before));
        let current = map_text(&config, &list(&after));
        let state = confirmed(&previous);
        let diff = current.diff(&state, &both_lists().full_refresh(full_refresh));
        let counts = diff.counts();

        for kind in IndicatorKind::ALL {
            let (added, changed) = (counts.added.get(kind), counts.changed.get(kind));
            let (unchanged, removed) = (counts.unchanged.get(kind), counts.removed.get(kind));
            prop_assert_eq!(added + changed + unchanged, counts.current.get(kind));
            prop_assert_eq!(changed + unchanged + removed, counts.previous.get(kind));
        }
        prop_assert_eq!(counts.current.total(), current.len() as u64);
        prop_assert_eq!(counts.previous.total(), state.len() as u64);

        let sent = diff.to_send().count() as u64;
        let expected = match full_refresh {
            true => counts.current.total(),
            false => counts.added.total() + counts.changed.total(),
        };
        prop_assert_eq!(sent, expected);

        let now: BTreeSet<_> = current.iter().map(|indicator| indicator.key()).collect();
        let gone: Vec<_> = state.keys().filter(|key| !now.contains(*key)).cloned().collect();
        let gone: BTreeSet<_> = gone.into_iter().collect();
        let removed: BTreeSet<_> = diff.removed().iter().cloned().collect();
        prop_assert_eq!(removed, gone);
    }

    #[test]
    fn two_spellings_of_one_address_are_one_key(
        bits in any::<u128>().prop_filter("an address, not the unspecified one", |bits| {
            let addr = Ipv6Addr::from(*bits);
            !addr.is_unspecified() && !addr.to_ipv4_mapped().is_some_and(|v4| v4.is_unspecified())
        })
    ) {
        let addr = Ipv6Addr::from(bits);
        let compressed = addr.to_string();
        let padded: Vec<String> = addr.segments().iter().map(|g| format!("{g:04X}")).collect();
        let padded = padded.join(":");

        let a = IndicatorKey::new(IndicatorKind::Address, &compressed).unwrap();
        let b = IndicatorKey::new(IndicatorKind::Address, &padded).unwrap();
        prop_assert_eq!(&a, &b);
        prop_assert_eq!(IndicatorKey::parse(a.as_str()).unwrap(), a.clone());

        // Grouped from two rows, the spellings are one indicator with that key.
        let text = format!("{compressed},1,50\n{padded},2,60\n");
        let mapped = map_text(&default_config(), &text);
        prop_assert_eq!(mapped.len(), 1);
        prop_assert_eq!(mapped.iter().next().unwrap().key(), a);
    }

    #[test]
    fn record_fingerprint_equals_document_fingerprint(rows in prop::collection::vec(row(), 0..40)) {
        let mapped = map_text(&default_config(), &list(&rows));
        for indicator in mapped.iter() {
            let document = indicator.to_batch_indicator();
            prop_assert_eq!(indicator.fingerprint(), fingerprint(&document));
        }
    }
}
