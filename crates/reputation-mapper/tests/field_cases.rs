//! The indicator half of the field cases of `../shared/field-cases.md` that concern mapping.
//! Each test is named for what broke elsewhere and says which input broke it.

mod support;

use std::collections::HashMap;

use proofpoint_et_client::{Field, ListKind};
use reputation_mapper::{
    CidrPolicy, DiffOptions, DropReason, IndicatorKey, IndicatorKind, MappedIndicators,
    MapperConfig, Plan, WildcardPolicy,
};
use support::{OWNER, default_config, map_text};

fn fixture(name: &str) -> String {
    let path = test_support::fixture(env!("CARGO_MANIFEST_DIR"), name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn values(mapped: &MappedIndicators) -> Vec<String> {
    mapped.iter().map(|indicator| indicator.value()).collect()
}

/// F01: `beta.example, gamma.example.net,31,...` shifted the fields of line 3.
#[test]
fn broken_row_is_counted_and_its_neighbours_still_grouped() {
    let mapped = map_text(&default_config(), &fixture("f01-broken-row.txt"));

    let counts = mapped.counts();
    assert_eq!(counts.rows_rejected, 1);
    assert_eq!(counts.rejected_by_field.get(&Field::Category), Some(&1));
    assert_eq!(counts.first_rejections[0].line, 3);
    assert_eq!(values(&mapped), ["alpha.example"]);

    let alpha = mapped.iter().next().unwrap();
    assert_eq!(alpha.tags(), ["AbusedTLD", "Drop"]);
    assert_eq!(alpha.external_score(), 122);
}

/// F02: `*lead.example`, `*.sub.example` and `mid*dle.example` were sent as hosts.
#[test]
fn wildcard_patterns_are_never_hosts() {
    let mapped = map_text(&default_config(), &fixture("f02-wildcards.txt"));

    assert_eq!(values(&mapped), ["plain.example"]);
    let dropped = &mapped.counts().rows_dropped;
    assert_eq!(dropped.get(DropReason::Wildcard), 3);
    let examples: Vec<&str> = dropped
        .examples(DropReason::Wildcard)
        .iter()
        .map(|e| e.value.as_str())
        .collect();
    assert_eq!(
        examples,
        ["*lead.example", "*.sub.example", "mid*dle.example"]
    );
}

/// F02: only the explicit option turns `*.sub.example` into `sub.example`.
#[test]
fn only_a_leading_star_dot_becomes_the_base_domain() {
    let config = MapperConfig::builder(OWNER)
        .wildcards(WildcardPolicy::BaseDomain)
        .build()
        .unwrap();
    let mapped = map_text(&config, &fixture("f02-wildcards.txt"));

    assert_eq!(values(&mapped), ["plain.example", "sub.example"]);
    assert_eq!(mapped.counts().wildcards_rewritten, 1);
    assert_eq!(mapped.counts().rows_dropped.get(DropReason::Wildcard), 2);
    assert!(
        mapped
            .iter()
            .all(|indicator| !indicator.value().contains('*'))
    );
}

/// F03: four rows of `203.0.113.5` in categories 16, 23 and twice 10.
#[test]
fn address_in_several_categories_loses_none() {
    let text = fixture("f03-several-categories.txt");
    let mut lines: Vec<&str> = text.lines().collect();
    let header = lines.remove(0);

    // Every order of the four rows gives the same document.
    let mut documents = Vec::new();
    for rotation in 0..lines.len() {
        lines.rotate_left(1);
        for reversed in [false, true] {
            let mut rows = lines.clone();
            if reversed {
                rows.reverse();
            }
            let list = format!("{header}\n{}\n", rows.join("\n"));
            let mapped = map_text(&default_config(), &list);
            assert_eq!(mapped.len(), 1, "rotation {rotation}");
            documents.push(mapped.iter().next().unwrap().to_batch_indicator());
        }
    }
    assert!(documents.windows(2).all(|pair| pair[0] == pair[1]));

    let document = &documents[0];
    let tags: Vec<&str> = document.tag.iter().map(|tag| tag.name.as_str()).collect();
    assert_eq!(tags, ["Brute_Forcer", "Proxy", "TorNode"]);
    let attributes: Vec<(&str, &str)> = document
        .attribute
        .iter()
        .map(|a| (a.kind.as_str(), a.value.as_str()))
        .collect();
    assert_eq!(
        attributes,
        [
            ("External Score", "122"),
            ("First Seen", "2018-01-15"),
            ("Last Seen", "2020-01-22")
        ]
    );
}

/// F04: the same three rows with LF, CRLF and CR endings.
#[test]
fn line_endings_do_not_reach_values_or_tags() {
    let mut documents = Vec::new();
    for name in ["f04-lf.txt", "f04-crlf.txt", "f04-cr.txt"] {
        let mapped = map_text(&default_config(), &fixture(name));
        assert_eq!(mapped.counts().rows_rejected, 0, "{name}");
        assert_eq!(
            values(&mapped),
            ["192.0.2.4", "192.0.2.5", "198.51.100.7"],
            "{name}"
        );
        let scores: Vec<u8> = mapped.iter().map(|i| i.external_score()).collect();
        assert_eq!(scores, [101, 101, 88], "{name}");

        let json = serde_json::to_string(
            &mapped
                .iter()
                .map(|i| i.to_batch_indicator())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        assert!(!json.contains("\\r"), "{name}: {json}");
        documents.push(json);
    }
    assert!(documents.windows(2).all(|pair| pair[0] == pair[1]));
}

/// F06: `2000:0000:...:0001` and `4000::1` were refused or sent in a form ThreatConnect does
/// not store.
#[test]
fn ipv6_rows_are_addresses_written_out_in_full() {
    let mapped = map_text(&default_config(), &fixture("f06-ipv6.txt"));

    assert_eq!(mapped.counts().rows_rejected, 0);
    assert_eq!(mapped.counts().rows_dropped.total(), 0);
    // IPv4 addresses come first in documents, then IPv6.
    assert_eq!(
        values(&mapped),
        ["192.0.2.10", "2000:0:0:0:0:0:0:1", "4000:0:0:0:0:0:0:1"]
    );
    assert!(
        mapped
            .iter()
            .all(|indicator| indicator.kind() == IndicatorKind::Address)
    );
}

/// F09: `198.51.100.0/24` with CIDR import off was sent as an Address.
#[test]
fn cidr_block_is_skipped_by_default_and_never_an_address() {
    let mapped = map_text(&default_config(), &fixture("f09-cidr.txt"));

    assert!(mapped.is_empty());
    assert_eq!(mapped.counts().rows_dropped.get(DropReason::Cidr), 1);
}

/// F09: with CIDR import on, the document holds the block unencoded.
#[test]
fn cidr_block_is_sent_as_cidr_when_turned_on() {
    let config = MapperConfig::builder(OWNER)
        .cidr(CidrPolicy::Send)
        .build()
        .unwrap();
    let mapped = map_text(&config, &fixture("f09-cidr.txt"));

    let document = mapped.iter().next().unwrap().to_batch_indicator();
    assert_eq!(document.summary, "198.51.100.0/24");
    let json = serde_json::to_string(&document).unwrap();
    assert!(json.contains(r#""summary":"198.51.100.0/24""#), "{json}");
    assert!(json.contains(r#""type":"CIDR""#), "{json}");
}

/// The state after a run that ThreatConnect confirmed in full.
fn confirmed(mapped: &MappedIndicators) -> HashMap<IndicatorKey, u64> {
    mapped
        .iter()
        .map(|indicator| (indicator.key(), indicator.fingerprint()))
        .collect()
}

/// F14: ten addresses, then a list with the header only, then nine of the ten.
#[test]
fn near_empty_list_never_empties_the_feed() {
    let config = default_config();
    let imported = DiffOptions::new([ListKind::Ip]);

    let run1 = map_text(&config, &fixture("f14-ten.txt"));
    let state = confirmed(&run1);
    assert_eq!(state.len(), 10);

    // Run 3: the header only. Every address looks removed; the guard holds them all.
    let run3 = map_text(&config, &fixture("f14-header-only.txt"));
    let diff = run3.diff(&state, &imported);
    let plan = Plan::new(&diff);
    assert_eq!(plan.removed_keys().len(), 10);
    assert!(plan.removals_held_back());
    assert_eq!(plan.removal_count(), 0);
    assert!(plan.removal_settings().is_none());
    assert_eq!(plan.removals().count(), 0);
    assert_eq!(plan.upserts().count(), 0);

    // Run 4: rows 1 to 9. Only 198.51.100.10 is removed, and the action applies to it.
    let run4 = map_text(&config, &fixture("f14-nine.txt"));
    let diff = run4.diff(&state, &imported);
    let plan = Plan::new(&diff);
    assert!(!plan.removals_held_back());
    let removals: Vec<_> = plan.removals().collect();
    assert_eq!(removals.len(), 1);
    assert_eq!(removals[0].indicator.summary, "198.51.100.10");
    assert_eq!(removals[0].indicator.active, Some(false));
    assert_eq!(plan.upserts().count(), 0);
}
