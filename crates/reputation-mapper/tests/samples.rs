//! The documents built from each public sample list, pinned by snapshots.
//!
//! The samples live outside the repository (`test_support::et_samples_dir()`); without them
//! these tests are skipped with a line on stderr, unless CI requires them.

mod support;

use std::path::Path;

use reputation_mapper::{DropReason, MappedIndicators};
use serde_json::json;
use support::{default_config, map_text};

const SAMPLES: [&str; 5] = [
    "detailed-iprepdata.txt",
    "detailed-domainrepdata.txt",
    "domain-with-invalid-category.txt",
    "iprepdata.json",
    "domainrepdata.json",
];

fn map_sample(name: &str) -> Option<MappedIndicators> {
    let dir = test_support::et_samples_dir()?;
    let path = Path::new(&dir).join("public").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    Some(map_text(&default_config(), &text))
}

fn documents(mapped: &MappedIndicators) -> serde_json::Value {
    let indicators: Vec<_> = mapped
        .iter()
        .map(|indicator| indicator.to_batch_indicator())
        .collect();
    json!({
        "counts": mapped.counts(),
        "summary": mapped.counts().to_string(),
        "indicator": indicators,
    })
}

#[test]
fn documents_of_each_sample_list() {
    for name in SAMPLES {
        let Some(mapped) = map_sample(name) else {
            return;
        };
        insta::assert_json_snapshot!(name, documents(&mapped));
    }
}

#[test]
fn address_with_several_categories_keeps_them_all() {
    let Some(mapped) = map_sample("detailed-iprepdata.txt") else {
        return;
    };
    let indicator = mapped.iter().next().expect("one indicator");
    let document = indicator.to_batch_indicator();

    assert_eq!(document.summary, "5.5.5.5");
    assert_eq!(indicator.tags(), ["Brute_Forcer", "Proxy", "TorNode"]);
    assert_eq!(indicator.external_score(), 122);
    let attributes: Vec<(&str, &str)> = document
        .attribute
        .iter()
        .map(|attribute| (attribute.kind.as_str(), attribute.value.as_str()))
        .collect();
    assert_eq!(
        attributes,
        [
            ("External Score", "122"),
            ("First Seen", "2018-01-15"),
            ("Last Seen", "2020-01-22")
        ]
    );
    assert_eq!(mapped.len(), 1);
}

#[test]
fn domain_score_comes_from_the_latest_row_not_the_highest() {
    // domain.com has category 1 at 127 last seen 2018-06-18 and at 122 last seen 2020-01-22.
    let Some(mapped) = map_sample("detailed-domainrepdata.txt") else {
        return;
    };
    let indicator = mapped.iter().next().expect("one indicator");

    assert_eq!(indicator.value(), "domain.com");
    assert_eq!(indicator.external_score(), 122);
    assert_eq!(indicator.tags(), ["AbusedTLD", "CnC", "Drop"]);
    assert_eq!(mapped.counts().rows_dropped.get(DropReason::Wildcard), 3);
    assert_eq!(mapped.len(), 1);
}

#[test]
fn json_lists_name_categories_and_carry_no_dates() {
    let Some(mapped) = map_sample("domainrepdata.json") else {
        return;
    };
    for indicator in mapped.iter() {
        let document = indicator.to_batch_indicator();
        assert_eq!(document.first_seen, None);
        assert_eq!(document.last_seen, None);
        assert_eq!(document.attribute.len(), 1, "{}", document.summary);
    }
    assert!(mapped.counts().unknown_category_names.is_empty());
}
