//! The fingerprint and the xid: pinned forms, and what changes them.

mod support;

use chrono::{TimeZone, Utc};
use reputation_mapper::{IndicatorKind, canonical_form, fingerprint, xid};
use serde_json::json;
use support::{default_config, map_text};
use threatconnect_client::{Attribute, BatchIndicator, Confidence, Rating, SecurityLabel, Tag};

const F03: &str = "\
ip, category, score, first_seen, last_seen, ports (|)
203.0.113.5,16,42,2019-12-20,2019-12-31,
203.0.113.5,23,87,2020-01-16,2020-01-20,
203.0.113.5,10,92,2019-12-28,2020-01-15,9001
203.0.113.5,10,122,2018-01-15,2020-01-22,9001 9030
";

fn document() -> BatchIndicator {
    let mapped = map_text(&default_config(), F03);
    mapped.iter().next().unwrap().to_batch_indicator()
}

#[test]
fn canonical_form_is_pinned() {
    let mapped = map_text(&default_config(), F03);
    let indicator = mapped.iter().next().unwrap();
    let canonical = indicator.canonical_form();

    insta::assert_json_snapshot!(json!({
        "canonical_form": canonical.lines().collect::<Vec<_>>(),
        "fingerprint": format!("{:016x}", indicator.fingerprint()),
    }));
}

#[test]
fn xid_is_pinned() {
    let cases = [
        ("Example Org", IndicatorKind::Address, "203.0.113.5"),
        (
            "Example Org",
            IndicatorKind::Address,
            "2001:db8:0:0:0:0:0:1000",
        ),
        ("Example Org", IndicatorKind::Host, "alpha.example"),
        ("Example Org", IndicatorKind::Cidr, "198.51.100.0/24"),
        ("Other Org", IndicatorKind::Host, "alpha.example"),
    ];
    let xids: Vec<_> = cases
        .iter()
        .map(|(owner, kind, value)| {
            json!({"owner": owner, "type": kind, "value": value, "xid": xid(owner, *kind, value)})
        })
        .collect();
    insta::assert_json_snapshot!(xids);
}

#[test]
fn fingerprint_of_the_record_equals_that_of_its_document() {
    let mapped = map_text(&default_config(), F03);
    let indicator = mapped.iter().next().unwrap();
    let document = indicator.to_batch_indicator();

    assert_eq!(indicator.canonical_form(), canonical_form(&document));
    assert_eq!(indicator.fingerprint(), fingerprint(&document));
}

/// A named change to one field of a document.
type FieldChange = (&'static str, fn(&mut BatchIndicator));

/// Every way of changing one stored field, each applied to the document on its own.
fn one_field_changes() -> Vec<FieldChange> {
    vec![
        ("active off", |d| d.active = Some(false)),
        ("active absent", |d| d.active = None),
        ("rating", |d| d.rating = Rating::new(4)),
        ("rating absent", |d| d.rating = None),
        ("confidence", |d| d.confidence = Confidence::new(51)),
        ("confidence absent", |d| d.confidence = None),
        ("first seen", |d| {
            d.first_seen = Some(Utc.with_ymd_and_hms(2018, 1, 16, 0, 0, 0).unwrap())
        }),
        ("first seen absent", |d| d.first_seen = None),
        ("last seen", |d| {
            d.last_seen = Some(Utc.with_ymd_and_hms(2020, 1, 23, 0, 0, 0).unwrap())
        }),
        ("last seen absent", |d| d.last_seen = None),
        ("attribute value", |d| d.attribute[0].value = "121".into()),
        ("attribute type", |d| d.attribute[0].kind = "Score".into()),
        ("attribute hidden", |d| d.attribute[0].displayed = false),
        ("attribute removed", |d| {
            d.attribute.pop();
        }),
        ("attribute added", |d| {
            d.attribute.push(Attribute {
                kind: "Note".into(),
                value: "x".into(),
                displayed: true,
            });
        }),
        ("tag renamed", |d| d.tag[0].name = "Brute_forcer".into()),
        ("tag removed", |d| {
            d.tag.pop();
        }),
        ("tag added", |d| {
            d.tag.push(Tag {
                name: "ET Reputation".into(),
            })
        }),
        ("security label added", |d| {
            d.security_label.push(SecurityLabel {
                name: "TLP:AMBER".into(),
            })
        }),
    ]
}

#[test]
fn changing_any_one_stored_field_changes_the_fingerprint() {
    let base = document();
    let mut seen = vec![("unchanged", fingerprint(&base))];
    for (what, change) in one_field_changes() {
        let mut changed = base.clone();
        change(&mut changed);
        let changed = fingerprint(&changed);
        for (other, earlier) in &seen {
            assert_ne!(changed, *earlier, "{what} gives the fingerprint of {other}");
        }
        seen.push((what, changed));
    }
}

#[test]
fn identity_and_order_do_not_change_the_fingerprint() {
    let base = document();

    let mut renamed = base.clone();
    renamed.summary = "203.0.113.6".into();
    renamed.xid = Some("et-rep-other".into());
    assert_eq!(fingerprint(&renamed), fingerprint(&base));

    let mut reordered = base.clone();
    reordered.tag.reverse();
    reordered.attribute.reverse();
    reordered.tag.push(reordered.tag[0].clone());
    assert_eq!(fingerprint(&reordered), fingerprint(&base));
}

#[test]
fn text_that_looks_like_a_line_break_cannot_forge_another_field() {
    let mut one_tag = document();
    one_tag.tag = vec![Tag {
        name: "Proxy\ntag\tTorNode".into(),
    }];
    let mut two_tags = document();
    two_tags.tag = vec![
        Tag {
            name: "Proxy".into(),
        },
        Tag {
            name: "TorNode".into(),
        },
    ];
    assert_ne!(fingerprint(&one_tag), fingerprint(&two_tags));
}
