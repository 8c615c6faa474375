//! The row half of the field cases of `../shared/field-cases.md` that this crate owns: each
//! test is named for what broke elsewhere and says which input broke it.

mod common;

use common::{parse_fixture, parse_in_chunks};
use proofpoint_et_client::{CategoryTable, Error, Field, OwnedIndicator};

#[test]
fn f01_a_row_shifted_by_an_extra_comma_is_rejected_without_failing_the_list() {
    // F01: `beta.example, gamma.example.net,31,...` puts a domain in the category field.
    let (summary, sink) = parse_fixture("f01/domain-with-shifted-row.txt");
    let summary = summary.unwrap();

    assert_eq!(
        sink.rendered_rows(),
        [
            "alpha.example 27 58 2019-04-13 2019-11-14 [80]",
            "alpha.example 4 122 2020-01-19 2020-01-21 [80]",
        ]
    );
    assert_eq!(sink.rejections.len(), 1);
    assert_eq!(sink.rejections[0].line, 3);
    assert_eq!(sink.rejections[0].field, Field::Category);
    assert_eq!((summary.rows, summary.rejected), (2, 1));
}

#[test]
fn f03_every_row_of_one_address_in_several_categories_is_kept() {
    // F03: 203.0.113.5 on four rows, categories 16, 23, 10 and 10 again.
    let (summary, sink) = parse_fixture("f03/one-address-four-rows.txt");

    assert_eq!(
        sink.rendered_rows(),
        [
            "203.0.113.5 16 42 2019-12-20 2019-12-31 []",
            "203.0.113.5 23 87 2020-01-16 2020-01-20 []",
            "203.0.113.5 10 92 2019-12-28 2020-01-15 [9001]",
            "203.0.113.5 10 122 2018-01-15 2020-01-22 [9001 9030]",
        ]
    );
    assert_eq!(summary.unwrap().rejected, 0);
}

#[test]
fn f04_cr_crlf_and_lf_endings_read_alike() {
    // F04: the same three rows ending in LF, CRLF, and CR without a final newline.
    let (_, lf) = parse_fixture("f04/lf.txt");
    let want = [
        "192.0.2.4 1 101 - - []",
        "192.0.2.5 1 101 - - []",
        "198.51.100.7 6 88 - - []",
    ];
    assert_eq!(lf.rendered_rows(), want);

    for name in ["f04/crlf.txt", "f04/cr.txt"] {
        let (summary, sink) = parse_fixture(name);
        let summary = summary.unwrap();
        assert_eq!(sink.rows, lf.rows, "{name}");
        assert_eq!(
            (summary.lines, summary.rows, summary.rejected),
            (3, 3, 0),
            "{name}"
        );
    }
}

#[test]
fn f04_categories_with_crlf_endings_give_names_without_cr() {
    // F04: categories.txt written with CRLF endings.
    let text = std::fs::read(common::fixture("f04/categories-crlf.txt")).unwrap();
    let table = CategoryTable::parse(&text);

    assert_eq!(table.name(1), Some("CnC"));
    assert_eq!(table.name(6), Some("OnlineGaming"));
    assert_eq!(table.get(2).unwrap().description, "Known Infected Bot");
    assert!(
        table
            .iter()
            .all(|c| !c.name.contains('\r') && !c.description.contains('\r'))
    );
    assert!(table.rejections().is_empty());
}

#[test]
fn f06_ipv6_rows_are_addresses() {
    // F06: an IPv6 address written out in full, one written short, and an IPv4 address.
    let (summary, sink) = parse_fixture("f06/ipv6.txt");

    let values: Vec<OwnedIndicator> = sink.rows.iter().map(|row| row.indicator.clone()).collect();
    assert_eq!(
        values,
        [
            OwnedIndicator::Ipv6("2000::1".parse().unwrap()),
            OwnedIndicator::Ipv6("4000::1".parse().unwrap()),
            OwnedIndicator::Ipv4("192.0.2.10".parse().unwrap()),
        ]
    );
    assert_eq!(summary.unwrap().rejected, 0);
}

#[test]
fn f08_a_gzip_cut_in_its_compressed_data_is_refused_as_truncated() {
    // F08: the first 40 of 53 bytes of a gzip list.
    let bytes = std::fs::read(common::fixture("f08/cut-in-deflate.gz")).unwrap();
    for chunk_len in [1, 8, bytes.len()] {
        let (result, _) = parse_in_chunks(&bytes, chunk_len);
        let error = result.unwrap_err();
        assert!(matches!(error, Error::TruncatedGzip { .. }), "{error:?}");
        assert!(
            error.to_string().starts_with("test-list is truncated"),
            "{error}"
        );
    }
}

#[test]
fn f08_a_gzip_without_its_trailer_is_refused_as_truncated() {
    // F08: the first 48 of 53 bytes: every row inflates, the CRC and length are missing.
    let bytes = std::fs::read(common::fixture("f08/cut-in-trailer.gz")).unwrap();
    for chunk_len in [1, 8, bytes.len()] {
        let (result, sink) = parse_in_chunks(&bytes, chunk_len);
        assert!(
            matches!(result, Err(Error::TruncatedGzip { .. })),
            "{result:?}"
        );
        // Rows went to the sink as they came; the error is what tells the caller to drop them.
        assert!(sink.rows.len() <= 2);
    }

    let (whole, sink) = parse_fixture("f08/full.gz");
    assert_eq!(whole.unwrap().rows, 2);
    assert_eq!(
        sink.rendered_rows(),
        ["198.51.100.23 1 98 - - []", "203.0.113.9 3 41 - - []"]
    );
}

#[test]
fn f16_a_byte_that_is_not_utf8_rejects_its_line_and_nothing_is_guessed() {
    // F16(a): `caf\xe9.example` on line 3 of a detailed domain list.
    let (summary, sink) = parse_fixture("f16/domain-with-latin1-byte.txt");

    assert_eq!(
        sink.rendered_rows(),
        [
            "alpha.example 27 58 2019-04-13 2019-11-14 [80]",
            "beta.example 4 122 2020-01-19 2020-01-21 [80]",
        ]
    );
    assert_eq!(
        sink.rendered_rejections(),
        ["line 3: line: invalid utf-8 at byte 4 of the line (trimmed)"]
    );
    assert!(!sink.rendered_rejections()[0].contains('\u{fffd}'));
    assert_eq!(summary.unwrap().rejected, 1);
}

#[test]
fn f16_a_gzip_body_under_a_plain_text_name_is_read_by_its_magic_bytes() {
    // F16(b): the gzip of `198.51.100.23,1,98` saved as iprepdata.txt.
    let (summary, sink) = parse_fixture("f16/iprepdata-gzip-served-as-text.txt");

    assert_eq!(sink.rendered_rows(), ["198.51.100.23 1 98 - - []"]);
    assert!(sink.rejections.is_empty());
    assert!(summary.unwrap().gzip);
}

#[test]
fn f16_garbage_after_a_gzip_stream_fails_the_list_instead_of_giving_rows() {
    // F16(b), the other way round: bytes after the gzip trailer that are not another member.
    let mut bytes = std::fs::read(common::fixture("f08/full.gz")).unwrap();
    bytes.extend_from_slice(b"192.0.2.1,1,50\n");
    let (result, _) = parse_in_chunks(&bytes, 16);
    assert!(result.is_err(), "{result:?}");
}
