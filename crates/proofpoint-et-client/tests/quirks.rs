//! Each quirk of the published lists, and each shape, from fixtures written for this crate.

mod common;

use common::{Collected, parse_fixture, parse_in_chunks};
use proofpoint_et_client::{Error, Field, ListKind, ListShape, ListSummary};

fn summary(relative: &str) -> (ListSummary, Collected) {
    let (summary, sink) = parse_fixture(relative);
    (summary.expect("the list parses"), sink)
}

#[test]
fn detailed_ip_list_with_every_quirk_of_the_published_file() {
    let (summary, sink) = summary("detailed-ip-quirks.txt");

    assert_eq!(
        sink.rendered_rows(),
        [
            "192.0.2.10 16 42 2019-12-20 2019-12-31 []",
            "192.0.2.10 10 92 2019-12-28 2020-01-15 [9001]",
            "192.0.2.10 10 122 2018-01-15 2020-01-22 [9001 9030]",
            "198.51.100.7 2 50 2020-02-01 2020-02-02 [80 443]",
            "203.0.113.9 3 41 2020-03-01 2020-03-02 [25]",
            "2001:db8::5 1 100 2020-04-01 2020-04-02 []",
            "198.51.100.0/24 6 88 2020-05-01 2020-05-02 []",
            "203.0.113.77 21 60 2020-06-01 2020-06-02 [22]",
            "192.0.2.10 10 122 2018-01-15 2020-01-22 [9001 9030]",
        ]
    );
    assert!(sink.rejections.is_empty(), "{:?}", sink.rejections);
    assert_eq!(summary.kind, Some(ListKind::Ip));
    assert_eq!(summary.shape, Some(ListShape::Detailed));
    assert!(summary.has_header);
    assert!(!summary.gzip);
    assert_eq!((summary.lines, summary.rows, summary.rejected), (13, 9, 0));
}

#[test]
fn detailed_domain_list_keeps_wildcards_case_and_a_last_line_without_newline() {
    let (summary, sink) = summary("detailed-domain-quirks.txt");

    assert_eq!(
        sink.rendered_rows(),
        [
            "alpha.example 27 58 2019-04-13 2019-11-14 [80]",
            "Upper.Example 4 122 2020-01-19 2020-01-21 [80]",
            "*lead.example 27 119 2020-02-12 2020-02-14 [80]",
            "*.sub.example 27 119 2020-02-14 2020-02-14 [80]",
            "mid*dle.example 27 119 2020-01-10 2020-02-14 [80]",
        ]
    );
    let wildcards = sink.rows.iter().filter(|row| {
        matches!(
            row.indicator,
            proofpoint_et_client::OwnedIndicator::Wildcard(_)
        )
    });
    assert_eq!(wildcards.count(), 3);
    assert_eq!(
        sink.rendered_rejections(),
        ["line 3: category: `gamma.example.net` is not a category id"]
    );
    assert_eq!(summary.kind, Some(ListKind::Domain));
    assert_eq!((summary.lines, summary.rows, summary.rejected), (7, 5, 1));
}

#[test]
fn short_list_without_header_takes_its_kind_from_the_values() {
    let (summary, sink) = summary("iprepdata-no-header.txt");

    assert_eq!(
        sink.rendered_rows(),
        [
            "192.0.2.4 1 101 - - []",
            "192.0.2.5 1 101 - - []",
            "198.51.100.7 6 88 - - []",
        ]
    );
    assert_eq!(summary.kind, Some(ListKind::Ip));
    assert_eq!(summary.shape, Some(ListShape::Short));
    assert!(!summary.has_header);
}

#[test]
fn short_list_with_header_crlf_ipv6_and_cidr() {
    let (summary, sink) = summary("iprepdata-header.csv");

    assert_eq!(
        sink.rendered_rows(),
        [
            "192.0.2.4 1 101 - - []",
            "2001:db8::1 5 100 - - []",
            "203.0.113.0/24 2 30 - - []",
        ]
    );
    assert!(summary.has_header);
    assert_eq!(summary.shape, Some(ListShape::Short));
}

#[test]
fn short_domain_list_keeps_upper_case_as_written() {
    let (summary, sink) = summary("domainrepdata-short.txt");

    assert_eq!(
        sink.rendered_rows(),
        [
            "alpha.example 27 58 - - []",
            "BETA.EXAMPLE 3 41 - - []",
            "*.wild.example 27 90 - - []",
        ]
    );
    assert_eq!(summary.kind, Some(ListKind::Domain));
}

#[test]
fn a_bom_before_the_csv_header_is_skipped() {
    let (summary, sink) = summary("bom-detailed-ip.txt");

    assert_eq!(
        sink.rendered_rows(),
        ["192.0.2.1 1 90 2020-01-01 2020-01-02 []"]
    );
    assert!(summary.has_header);
    assert_eq!(summary.shape, Some(ListShape::Detailed));
}

#[test]
fn a_bom_before_json_is_skipped() {
    let (summary, sink) = summary("bom-ip.json");

    assert_eq!(sink.rendered_rows(), ["192.0.2.1 CnC 95 - - []"]);
    assert!(!summary.has_header, "this one has no leftover header entry");
    assert_eq!(summary.shape, Some(ListShape::Json));
    assert_eq!(summary.kind, Some(ListKind::Ip));
}

#[test]
fn json_list_gives_names_and_string_scores_and_skips_the_leftover_header_entry() {
    let (summary, sink) = summary("iprepdata-quirks.json");

    assert_eq!(
        sink.rendered_rows(),
        [
            "192.0.2.1 CnC 95 - - []",
            "192.0.2.1 IPCheck 55 - - []",
            "198.51.100.2 Scanner 70 - - []",
        ]
    );
    assert_eq!(
        sink.rendered_rejections(),
        [
            "line 6: value: `not-an-ip` is not an ip address or cidr block",
            "line 9: score: score 300 is above 127",
        ]
    );
    assert_eq!(summary.kind, Some(ListKind::Ip));
    assert!(summary.has_header);
    assert_eq!((summary.lines, summary.rows, summary.rejected), (16, 3, 2));
}

#[test]
fn broken_json_fails_the_list_naming_the_line() {
    let (result, _) = parse_in_chunks(b"{\n  \"192.0.2.1\": {\"CnC\": \"95\"},\n  oops\n}", 4);

    let error = result.unwrap_err();
    assert!(matches!(error, Error::Json { line: 3, .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "test-list is not a valid json list (line 3, column 3)"
    );
}

#[test]
fn rows_with_too_few_or_too_many_fields_are_rejected_naming_the_line() {
    let list = b"ip, category, score, first_seen, last_seen, ports (|)\n\
        192.0.2.1,1,50\n\
        192.0.2.2,1,50,2020-01-01,2020-01-02,80,extra\n\
        192.0.2.3,1,50,2020-01-01,2020-01-02\n\
        192.0.2.4,1\n";
    let (summary, sink) = parse_in_chunks(list, 9);

    assert_eq!(
        sink.rendered_rows(),
        ["192.0.2.3 1 50 2020-01-01 2020-01-02 []"]
    );
    assert_eq!(
        sink.rendered_rejections(),
        [
            "line 2: line: 3 fields where a detailed row has 6",
            "line 3: line: 7 fields where a detailed row has 6",
            "line 5: line: 2 fields where a detailed row has 6",
        ]
    );
    assert_eq!(summary.unwrap().rejected, 3);
}

#[test]
fn every_field_has_its_own_rejection() {
    let list = b"ip, category, score, first_seen, last_seen, ports (|)\n\
        192.0.2.300,1,50,2020-01-01,2020-01-02,\n\
        192.0.2.1,65536,50,2020-01-01,2020-01-02,\n\
        192.0.2.1,1,128,2020-01-01,2020-01-02,\n\
        192.0.2.1,1,50,2020-13-01,2020-01-02,\n\
        192.0.2.1,1,50,2020-01-01,yesterday,\n";
    let (_, sink) = parse_in_chunks(list, list.len());

    let fields: Vec<Field> = sink.rejections.iter().map(|r| r.field).collect();
    assert_eq!(
        fields,
        [
            Field::Value,
            Field::Category,
            Field::Score,
            Field::FirstSeen,
            Field::LastSeen
        ]
    );
    assert!(sink.rows.is_empty());
}

#[test]
fn an_ip_in_a_domain_list_or_a_name_in_an_ip_list_is_rejected_not_guessed() {
    let (_, domains) = parse_in_chunks(
        b"domain,category,score\nalpha.example,1,50\n192.0.2.1,1,50\n",
        5,
    );
    assert_eq!(
        domains.rendered_rejections(),
        ["line 3: value: `192.0.2.1` is an ip address or a number, not a domain name"]
    );

    let (_, ips) = parse_in_chunks(b"192.0.2.1,1,50\nalpha.example,1,50\n", 5);
    assert_eq!(
        ips.rendered_rejections(),
        ["line 2: value: `alpha.example` is not an ip address or cidr block"]
    );
}

#[test]
fn an_empty_list_and_a_header_only_list_are_read_without_rows() {
    let (empty, sink) = parse_in_chunks(b"", 1);
    let empty = empty.unwrap();
    assert_eq!(
        (empty.kind, empty.shape, empty.rows, empty.lines),
        (None, None, 0, 0)
    );
    assert!(sink.rows.is_empty());

    let (header, _) = parse_in_chunks(
        b"ip, category, score, first_seen, last_seen, ports (|)\n",
        3,
    );
    let header = header.unwrap();
    assert_eq!(header.kind, Some(ListKind::Ip));
    assert_eq!(header.shape, Some(ListShape::Detailed));
    assert_eq!(header.rows, 0);
}

#[test]
fn other_compressions_are_refused_as_a_whole() {
    let (result, sink) = parse_in_chunks(b"BZh91AY&SY\x00\x00\x00", 2);
    assert!(matches!(
        result,
        Err(Error::UnsupportedCompression {
            format: "bzip2",
            ..
        })
    ));
    assert!(sink.rows.is_empty() && sink.rejections.is_empty());
}

#[test]
fn gzip_of_each_shape_reads_like_the_plain_file() {
    for name in [
        "detailed-ip-quirks.txt",
        "detailed-domain-quirks.txt",
        "iprepdata-header.csv",
        "iprepdata-quirks.json",
        "bom-ip.json",
    ] {
        let plain = std::fs::read(common::fixture(name)).unwrap();
        let gzip = gzip(&plain);
        let (plain_summary, plain_sink) = parse_in_chunks(&plain, plain.len());
        for chunk_len in [1, 7, 4096] {
            let (gzip_summary, gzip_sink) = parse_in_chunks(&gzip, chunk_len);
            let gzip_summary = gzip_summary.unwrap();
            assert!(gzip_summary.gzip);
            let plain_summary = plain_summary.as_ref().unwrap();
            assert_eq!(
                (gzip_summary.rows, gzip_summary.lines),
                (plain_summary.rows, plain_summary.lines)
            );
            assert_eq!(gzip_sink.rows, plain_sink.rows, "{name}");
            assert_eq!(gzip_sink.rejections, plain_sink.rejections, "{name}");
        }
    }
}

#[test]
fn a_large_gzip_list_decodes_across_many_chunks() {
    let mut plain = String::from("ip, category, score, first_seen, last_seen, ports (|)\n");
    for i in 0..20_000u32 {
        let [_, _, c, d] = i.to_be_bytes();
        plain.push_str(&format!(
            "198.51.{c}.{d},{},{},2020-01-01,2020-01-02,80\n",
            i % 40 + 1,
            i % 128
        ));
    }
    let gzip = gzip(plain.as_bytes());
    let (summary, sink) = parse_in_chunks(&gzip, 1000);
    let summary = summary.unwrap();
    assert_eq!(summary.rows, 20_000);
    assert_eq!(sink.rows.len(), 20_000);
    assert!(sink.rejections.is_empty());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
