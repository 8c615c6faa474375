//! The batch document and the job settings as the service receives them.

use chrono::{TimeZone, Utc};
use threatconnect_client::{
    Attribute, BatchDocument, BatchIndicator, ChunkLimits, Chunker, Confidence, IndicatorType,
    JobSettings, Rating, Tag,
};

fn attribute(kind: &str, value: &str) -> Attribute {
    Attribute {
        kind: kind.to_owned(),
        value: value.to_owned(),
        displayed: true,
    }
}

fn tag(name: &str) -> Tag {
    Tag {
        name: name.to_owned(),
    }
}

fn address_and_host() -> BatchDocument {
    let mut address = BatchIndicator::new(IndicatorType::Address, "203.0.113.5");
    address.rating = Rating::new(4);
    address.confidence = Confidence::new(87);
    address.xid = Some("et-rep:Address:203.0.113.5".to_owned());
    address.active = Some(true);
    address.first_seen = Some(Utc.with_ymd_and_hms(2018, 1, 15, 0, 0, 0).unwrap());
    address.last_seen = Some(Utc.with_ymd_and_hms(2020, 1, 22, 0, 0, 0).unwrap());
    address.attribute = vec![
        attribute("External Score", "122"),
        attribute("First Seen", "2018-01-15"),
        attribute("Last Seen", "2020-01-22"),
    ];
    address.tag = vec![tag("ET Reputation"), tag("ET: TorNode")];

    let mut host = BatchIndicator::new(IndicatorType::Host, "alpha.example");
    host.rating = Rating::new(2);
    host.confidence = Confidence::new(58);
    host.attribute = vec![attribute("External Score", "58")];
    host.tag = vec![tag("ET Reputation"), tag("ET: CnC")];

    BatchDocument {
        indicator: vec![address, host],
        group: Vec::new(),
    }
}

#[test]
fn a_document_with_an_address_and_a_host_serialises_as_the_service_expects() {
    let document = address_and_host();

    let mut written = Vec::new();
    document.write_to(&mut written).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&written).unwrap();

    insta::assert_json_snapshot!("address_and_host_document", json);
}

#[test]
fn the_chunker_writes_the_same_bytes_as_the_document() {
    let document = address_and_host();
    let mut chunker = Chunker::new(ChunkLimits::default());
    for indicator in &document.indicator {
        assert!(chunker.push(indicator).unwrap().is_none());
    }

    let job = chunker.finish().unwrap();

    let mut written = Vec::new();
    document.write_to(&mut written).unwrap();
    assert_eq!(job.body().as_ref(), written.as_slice());
}

#[test]
fn optional_fields_are_left_out_never_null() {
    let bare = BatchIndicator::new(IndicatorType::Host, "beta.example");

    let json = serde_json::to_string(&bare).unwrap();

    assert_eq!(json, r#"{"summary":"beta.example","type":"Host"}"#);
}

#[test]
fn the_job_settings_serialise_with_playbooks_off() {
    let settings = JobSettings::new("Example Org");

    insta::assert_json_snapshot!("job_settings", settings);
}
