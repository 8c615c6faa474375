//! A minimal reader of the list shapes, for the mapper's tests only.
//!
//! The real parser (`proofpoint-et-client`) is built elsewhere; once it lands, the integrator
//! switches these tests to it and deletes this file. It reads just enough: detailed and short
//! CSV (with or without a header; LF, CRLF or CR endings; `#` comments) and the JSON lists,
//! and reports a row it cannot read as a [`Rejection`] naming the field.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proofpoint_et_client::{
    CategoryRef, CidrBlock, Field, Indicator, Ports, Rejection, Row, RowSink, Score,
};

/// Pushes every row of `text` (a list in any shape) into `sink`.
pub fn read_list(text: &str, sink: &mut impl RowSink) {
    if text.trim_start().starts_with('{') {
        read_json(text, sink);
    } else {
        read_csv(text, sink);
    }
}

fn read_csv(text: &str, sink: &mut impl RowSink) {
    let lines = text.split('\n').flat_map(|line| line.split('\r'));
    for (index, line) in lines.enumerate() {
        let line_number = index as u64 + 1;
        let line = line.trim();
        let is_header = line.starts_with("ip,") || line.starts_with("domain,");
        if line.is_empty() || line.starts_with('#') || is_header {
            continue;
        }
        match csv_row(line) {
            Ok(row) => sink.row(row),
            Err((field, reason)) => sink.rejection(Rejection {
                line: line_number,
                field,
                reason,
            }),
        }
    }
}

fn csv_row(line: &str) -> Result<Row<'_>, (Field, String)> {
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    if fields.len() < 3 {
        return Err((Field::Line, format!("{} fields, not 3 or 6", fields.len())));
    }
    // An extra comma shows first as a category that is no number, as the lists break.
    let category = fields[1].parse::<u16>().map_err(|_| {
        (
            Field::Category,
            format!("{:?} is not a category ID", fields[1]),
        )
    })?;
    if fields.len() != 3 && fields.len() != 6 {
        return Err((Field::Line, format!("{} fields, not 3 or 6", fields.len())));
    }
    let score = score(fields[2])?;
    let (first_seen, last_seen, ports) = match fields.len() {
        6 => (
            date(fields[3], Field::FirstSeen)?,
            date(fields[4], Field::LastSeen)?,
            fields[5],
        ),
        _ => (None, None, ""),
    };
    Ok(Row {
        indicator: indicator(fields[0]),
        category: CategoryRef::Id(category),
        score,
        first_seen,
        last_seen,
        ports: Ports::new(ports),
    })
}

fn indicator(text: &str) -> Indicator<'_> {
    if let Ok(v4) = text.parse::<Ipv4Addr>() {
        return Indicator::Ipv4(v4);
    }
    if let Ok(v6) = text.parse::<Ipv6Addr>() {
        return Indicator::Ipv6(v6);
    }
    if let Some((addr, prefix)) = text.split_once('/')
        && let (Ok(addr), Ok(prefix)) = (addr.parse::<IpAddr>(), prefix.parse::<u8>())
    {
        return Indicator::Cidr(CidrBlock { addr, prefix });
    }
    if text.contains('*') {
        Indicator::Wildcard(text)
    } else {
        Indicator::Domain(text)
    }
}

fn score(text: &str) -> Result<Score, (Field, String)> {
    text.trim()
        .parse::<u8>()
        .ok()
        .and_then(Score::new)
        .ok_or_else(|| (Field::Score, format!("{text:?} is not a score")))
}

fn date(text: &str, field: Field) -> Result<Option<chrono::NaiveDate>, (Field, String)> {
    text.parse()
        .map(Some)
        .map_err(|_| (field, format!("{text:?} is not a date")))
}

/// JSON lists: `{"<value>": {"<category name>": "<score>", ...}, ...}`, with a leftover header
/// entry (`"ip"` or `"domain"`) that is not an indicator.
fn read_json(text: &str, sink: &mut impl RowSink) {
    let document: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(text).expect("the JSON fixtures are well formed");
    for (value, categories) in &document {
        if value == "ip" || value == "domain" {
            continue;
        }
        let categories = categories.as_object().expect("categories are an object");
        for (name, score_text) in categories {
            let score_text = score_text.as_str().unwrap_or_default();
            match score(score_text) {
                Ok(score) => sink.row(Row {
                    indicator: indicator(value),
                    category: CategoryRef::Name(name),
                    score,
                    first_seen: None,
                    last_seen: None,
                    ports: Ports::default(),
                }),
                Err((field, reason)) => sink.rejection(Rejection {
                    line: 0,
                    field,
                    reason,
                }),
            }
        }
    }
}
