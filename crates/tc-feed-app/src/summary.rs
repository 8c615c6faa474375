//! What `tc-feed state` prints: a summary for people, or the whole state as JSON for export.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::state::{ListRecord, Rejected, State};

/// A summary of the state.
#[derive(Debug, Serialize)]
struct Summary<'s> {
    path: String,
    url: &'s str,
    owner: &'s str,
    indicators_by_type: BTreeMap<&'static str, u64>,
    last_run: Option<String>,
    last_full_refresh: Option<String>,
    lists: &'s BTreeMap<String, ListRecord>,
    pending_removals: &'s BTreeMap<String, u64>,
    parked: BTreeMap<&'s str, &'s Rejected>,
    rejected_to_retry: BTreeMap<&'s str, &'s Rejected>,
}

fn summary(state: &State) -> Summary<'_> {
    let meta = state.meta();
    let mut by_type = BTreeMap::new();
    for (key, _) in state.entries() {
        *by_type.entry(key.kind().as_str()).or_insert(0) += 1;
    }
    let (parked, to_retry) = meta
        .rejected
        .iter()
        .map(|(key, r)| (key.as_str(), r))
        .partition(|(_, rejected): &(&str, &Rejected)| rejected.is_parked());
    Summary {
        path: state.path().display().to_string(),
        url: &meta.identity.url,
        owner: &meta.identity.owner,
        indicators_by_type: by_type,
        last_run: meta.last_run.map(|time| time.to_rfc3339()),
        last_full_refresh: meta.last_full_refresh.map(|time| time.to_rfc3339()),
        lists: &meta.lists,
        pending_removals: &meta.pending_removals,
        parked,
        rejected_to_retry: to_retry,
    }
}

/// Writes the summary for people.
///
/// # Errors
///
/// Where `out` cannot be written.
pub fn write_text(state: &State, mut out: impl Write) -> io::Result<()> {
    let summary = summary(state);
    writeln!(out, "state      {}", summary.path)?;
    writeln!(
        out,
        "belongs to owner {:?} at {}",
        summary.owner, summary.url
    )?;
    writeln!(
        out,
        "last run   {}",
        summary.last_run.as_deref().unwrap_or("never")
    )?;
    let full = summary.last_full_refresh.as_deref().unwrap_or("never");
    writeln!(out, "last full refresh {full}")?;
    writeln!(out, "indicators {}", state.len())?;
    for (kind, count) in &summary.indicators_by_type {
        writeln!(out, "  {kind:<8} {count}")?;
    }
    writeln!(out, "lists")?;
    for (name, record) in summary.lists {
        let md5 = record.md5.as_deref().unwrap_or("-");
        writeln!(
            out,
            "  {name}  md5 {md5}  committed {}",
            record.committed_at.to_rfc3339()
        )?;
    }
    for (name, count) in summary.pending_removals {
        writeln!(out, "  {name}: {count} removals held back")?;
    }
    writeln!(out, "parked values {}", summary.parked.len())?;
    for (key, rejected) in &summary.parked {
        writeln!(out, "  {}  {}", key.replace('\t', " "), rejected.reason)?;
    }
    if !summary.rejected_to_retry.is_empty() {
        writeln!(
            out,
            "rejected once, retried next run {}",
            summary.rejected_to_retry.len()
        )?;
    }
    Ok(())
}

/// The whole state as JSON: the summary's fields and every indicator with its fingerprint.
#[derive(Serialize)]
struct Export<'s> {
    #[serde(flatten)]
    summary: Summary<'s>,
    indicators: Vec<ExportedIndicator<'s>>,
}

#[derive(Serialize)]
struct ExportedIndicator<'s> {
    #[serde(rename = "type")]
    kind: &'static str,
    value: &'s str,
    fingerprint: String,
    sent_at: i64,
}

/// Writes the whole state as JSON.
///
/// # Errors
///
/// Where `out` cannot be written.
pub fn write_json(state: &State, mut out: impl Write) -> io::Result<()> {
    let mut indicators: Vec<ExportedIndicator<'_>> = state
        .entries()
        .map(|(key, entry)| ExportedIndicator {
            kind: key.kind().as_str(),
            value: key.value(),
            fingerprint: format!("{:016x}", entry.fingerprint),
            sent_at: entry.sent_at,
        })
        .collect();
    indicators.sort_unstable_by(|a, b| (a.kind, a.value).cmp(&(b.kind, b.value)));
    let export = Export {
        summary: summary(state),
        indicators,
    };
    serde_json::to_writer_pretty(&mut out, &export)?;
    writeln!(out)
}
