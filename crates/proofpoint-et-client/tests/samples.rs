//! The public sample lists of `../shared/et-samples/public`, read row by row.

mod common;

use common::Collected;
use proofpoint_et_client::{CategoryTable, Field, ListKind, ListShape, ListSummary, parse_path};

fn parse_sample(name: &str) -> Option<(ListSummary, Collected)> {
    let path = test_support::et_sample(&format!("public/{name}"))?;
    let mut sink = Collected::default();
    let summary = parse_path(&path, &mut sink).expect("the sample parses");
    Some((summary, sink))
}

#[test]
fn detailed_ip_sample_gives_its_four_rows() {
    let Some((summary, sink)) = parse_sample("detailed-iprepdata.txt") else {
        return;
    };

    assert_eq!(
        sink.rendered_rows(),
        [
            "5.5.5.5 16 42 2019-12-20 2019-12-31 []",
            "5.5.5.5 23 87 2020-01-16 2020-01-20 []",
            "5.5.5.5 10 92 2019-12-28 2020-01-15 [9001]",
            "5.5.5.5 10 122 2018-01-15 2020-01-22 [9001 9030]",
        ]
    );
    assert!(sink.rejections.is_empty());
    assert_eq!(summary.kind, Some(ListKind::Ip));
    assert_eq!(summary.shape, Some(ListShape::Detailed));
    assert_eq!((summary.lines, summary.rows, summary.rejected), (5, 4, 0));
}

#[test]
fn detailed_domain_sample_gives_its_rows_wildcards_and_unterminated_last_line() {
    let Some((summary, sink)) = parse_sample("detailed-domainrepdata.txt") else {
        return;
    };

    assert_eq!(
        sink.rendered_rows(),
        [
            "domain.com 27 58 2019-04-13 2019-11-14 [80]",
            "domain.com 27 31 2019-10-18 2019-10-18 [80]",
            "domain.com 4 122 2020-01-19 2020-01-21 [80]",
            "domain.com 27 56 2019-11-12 2019-11-12 [80]",
            "domain.com 27 50 2019-11-06 2019-11-06 [80]",
            "domain.com 27 92 2019-12-17 2019-12-18 [80]",
            "domain.com 1 122 2018-03-11 2020-01-22 [80]",
            "domain.com 1 127 2018-03-11 2018-06-18 []",
            "domain.com 27 119 2020-01-14 2020-01-14 [80]",
            "*domain.com 27 119 2020-02-12 2020-02-14 [80]",
            "*.domain.com 27 119 2020-02-14 2020-02-14 [80]",
            "d*domain.com 27 119 2020-01-10 2020-02-14 [80]",
        ]
    );
    assert!(sink.rejections.is_empty());
    assert_eq!(summary.kind, Some(ListKind::Domain));
    assert_eq!((summary.lines, summary.rows), (13, 12));
}

#[test]
fn domain_with_invalid_category_sample_rejects_line_3_naming_the_category() {
    let Some((summary, sink)) = parse_sample("domain-with-invalid-category.txt") else {
        return;
    };

    assert_eq!(
        sink.rendered_rows(),
        [
            "domain.com 27 58 2019-04-13 2019-11-14 [80]",
            "domain.com 4 122 2020-01-19 2020-01-21 [80]",
        ]
    );
    assert_eq!(sink.rejections.len(), 1);
    let rejection = &sink.rejections[0];
    assert_eq!((rejection.line, rejection.field), (3, Field::Category));
    assert_eq!(
        rejection.reason,
        "`ambermoon.hamazo.tv` is not a category id"
    );
    assert_eq!((summary.rows, summary.rejected), (2, 1));
}

#[test]
fn ip_json_sample_gives_names_and_scores_and_skips_the_header_entry() {
    let Some((summary, sink)) = parse_sample("iprepdata.json") else {
        return;
    };

    let rows = sink.rendered_rows();
    assert_eq!(rows.len(), 29);
    assert_eq!(rows[0], "10.0.0.1 IPCheck 100 - - []");
    assert_eq!(
        rows[rows.len() - 2..],
        ["172.20.0.1 DynDNS 120 - - []", "172.20.0.1 VPN 110 - - []"]
    );
    assert!(sink.rejections.is_empty());
    assert_eq!(summary.kind, Some(ListKind::Ip));
    assert_eq!(summary.shape, Some(ListShape::Json));
    assert!(summary.has_header);
}

#[test]
fn domain_json_sample_gives_names_and_scores_and_skips_the_header_entry() {
    let Some((summary, sink)) = parse_sample("domainrepdata.json") else {
        return;
    };

    let rows = sink.rendered_rows();
    assert_eq!(
        rows[..2],
        [
            "exemple.example1-domain.com CnC 95 - - []",
            "exemple.example1-domain.com IPCheck 55 - - []"
        ]
    );
    assert_eq!(
        rows.last().unwrap(),
        "exemple.new-domain123.xyz DynDNS 120 - - []"
    );
    assert!(rows.iter().all(|row| !row.starts_with("domain ")));
    assert!(sink.rejections.is_empty());
    assert_eq!(summary.kind, Some(ListKind::Domain));
    assert_eq!((summary.rows, rows.len()), (37, 37));
}

#[test]
fn the_sample_categories_match_the_builtin_table() {
    let Some(path) = test_support::et_sample("categories.txt") else {
        return;
    };
    let read = CategoryTable::parse(&std::fs::read(path).unwrap());

    let builtin = CategoryTable::builtin();
    assert!(read.rejections().is_empty());
    assert_eq!(
        read.iter().collect::<Vec<_>>(),
        builtin.iter().collect::<Vec<_>>()
    );
    assert!(!read.is_builtin());
}
