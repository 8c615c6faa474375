//! What ThreatConnect holds from this feed: the state one run leaves for the next.
//!
//! # Layout and crash behaviour
//!
//! The state is two files beside each other:
//!
//! - the **snapshot** (`<path>`): a header, the metadata as JSON, then one binary record per
//!   indicator (key, fingerprint, when it was last sent), and a 64-bit xxh3 checksum of all of
//!   it. It is written to a temporary name, synced, renamed over the old one, and the folder
//!   synced: a crash leaves either the old or the new snapshot, never a torn one.
//! - the **journal** (`<path>.journal`): one framed record per confirmed batch job (length,
//!   checksum, JSON), appended and synced before the job counts as committed. Loading replays
//!   the journal onto the snapshot; a record cut short by a crash fails its checksum and is
//!   dropped, which leaves that one job unconfirmed (it is sent again next run, which is
//!   harmless: a batch Create is an upsert).
//!
//! Every journal record sets values (it never adds to a counter), so replaying one twice gives
//! the same state. A snapshot names the journal generation it absorbed; a journal of an older
//! generation, left by a crash between the rename and the truncation, is ignored.
//!
//! Why not SQLite: both keep every confirmed job across a crash. At 1.3M indicators the
//! snapshot loads in a fraction of a second and a job commit costs one small append and one
//! `fsync`, with no C library to build; SQLite would add readability with `sqlite3`, which
//! `tc-feed state --json` gives instead. The figures are in `docs/operations.md`.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use reputation_mapper::IndicatorKey;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

/// The first bytes of a snapshot.
const SNAPSHOT_MAGIC: &[u8; 8] = b"TCFEEDS1";

/// The first bytes of a journal.
const JOURNAL_MAGIC: &[u8; 8] = b"TCFEEDJ1";

/// The largest journal record we accept; anything longer is a torn or foreign file.
const MAX_JOURNAL_RECORD: u32 = 1 << 30;

/// A failure to read or write the state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The file system failed.
    #[error("cannot {action} the state file {}", path.display())]
    Io {
        /// What was being done: "read", "write", ...
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },

    /// The snapshot is damaged or not a state file at all.
    #[error(
        "the state file {} is corrupt ({reason}); move it aside and run `tc-feed reconcile` \
         to rebuild it from what ThreatConnect holds, or restore a backup",
        path.display()
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// The state belongs to another ThreatConnect instance or owner.
    #[error(
        "the state file {} belongs to owner {state_owner:?} at {state_url}, not to owner \
         {owner:?} at {url}; use another state path for this destination",
        path.display()
    )]
    OtherIdentity {
        /// The file.
        path: PathBuf,
        /// The URL the state was built against.
        state_url: String,
        /// The owner the state was built for.
        state_owner: String,
        /// The URL of this run.
        url: String,
        /// The owner of this run.
        owner: String,
    },
}

/// Which destination a state belongs to. A run against another one is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The ThreatConnect API base URL (or `dry-run` for a dry-run folder).
    pub url: String,
    /// The owner the indicators belong to.
    pub owner: String,
}

/// What one list's last committed import knew of it: the validators the next run sends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListRecord {
    /// The MD5 of the list as served, lower-case hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// The list's `ETag`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The list's `Last-Modified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// When that import was committed.
    pub committed_at: DateTime<Utc>,
    /// A fingerprint of the mapping settings of that import: when the settings change, the
    /// next run downloads and diffs the list again even if the list did not change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
}

/// A value ThreatConnect rejected, with the content it rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// ThreatConnect's reason.
    pub reason: String,
    /// The fingerprint of what was sent.
    pub fingerprint: u64,
    /// How many runs in a row rejected it with this reason and content.
    pub times: u32,
    /// When it was last rejected.
    pub last_at: DateTime<Utc>,
}

impl Rejected {
    /// Whether the value is parked: rejected twice with the same reason and content, and so
    /// not retried each hour until its content changes.
    pub fn is_parked(&self) -> bool {
        self.times >= 2
    }
}

/// The state's metadata: everything but the per-indicator records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateMeta {
    /// The destination this state belongs to.
    pub identity: Identity,
    /// Per list file name, what its last committed import knew of it.
    #[serde(default)]
    pub lists: BTreeMap<String, ListRecord>,
    /// When the last run finished, whatever its outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
    /// When the last full refresh was committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_full_refresh: Option<DateTime<Utc>>,
    /// Values ThreatConnect rejected, by indicator key.
    #[serde(default)]
    pub rejected: BTreeMap<String, Rejected>,
    /// Removals that a run planned but did not apply (held back by the guard, or their jobs
    /// failed), by list file name.
    #[serde(default)]
    pub pending_removals: BTreeMap<String, u64>,
}

impl StateMeta {
    fn new(identity: Identity) -> StateMeta {
        StateMeta {
            identity,
            lists: BTreeMap::new(),
            last_run: None,
            last_full_refresh: None,
            rejected: BTreeMap::new(),
            pending_removals: BTreeMap::new(),
        }
    }
}

/// What the state knows of one indicator ThreatConnect holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The fingerprint of what was last sent and confirmed.
    pub fingerprint: u64,
    /// When it was sent, in Unix seconds.
    pub sent_at: i64,
}

/// One committed change: what a confirmed job (or the end of a run) changes in the state.
///
/// Every field sets values; applying a delta twice gives the same state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDelta {
    /// Indicators confirmed as sent: key, fingerprint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upserted: Vec<(IndicatorKey, u64)>,
    /// When they were sent, in Unix seconds.
    #[serde(default)]
    pub sent_at: i64,
    /// Indicators that no longer count as held (removed, or left alone by `keep`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<IndicatorKey>,
    /// Rejections to record, replacing what was recorded for those keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<(String, Rejected)>,
    /// Keys whose rejection record is cleared (confirmed since, or gone from the list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unrejected: Vec<String>,
    /// List records to set, by list file name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<(String, ListRecord)>,
    /// Pending removal counts to set, by list file name (0 clears).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending_removals: Vec<(String, u64)>,
    /// A new time of the last run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
    /// A new time of the last full refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_full_refresh: Option<DateTime<Utc>>,
}

impl StateDelta {
    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        self == &StateDelta::default()
    }
}

/// The state: metadata and one entry per indicator, loaded whole, changed by journalled
/// deltas.
#[derive(Debug)]
pub struct State {
    path: PathBuf,
    meta: StateMeta,
    entries: FxHashMap<IndicatorKey, Entry>,
    generation: u64,
    journal: Option<File>,
}

impl State {
    /// A new, empty state for a first run. Nothing is written until the first commit.
    pub fn create(path: impl Into<PathBuf>, identity: Identity) -> State {
        State {
            path: path.into(),
            meta: StateMeta::new(identity),
            entries: FxHashMap::default(),
            generation: 0,
            journal: None,
        }
    }

    /// Loads the state at `path`, journal included; `None` where there is none (a first run).
    ///
    /// # Errors
    ///
    /// [`StateError::Corrupt`] where the snapshot is damaged, [`StateError::Io`] where it
    /// cannot be read.
    pub fn open(path: impl Into<PathBuf>) -> Result<Option<State>, StateError> {
        let path = path.into();
        let file = match File::open(&path) {
            Ok(file) => Some(file),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(source) => return Err(io_error("read", &path, source)),
        };

        let mut state = match file {
            Some(file) => read_snapshot(&path, file)?,
            None if journal_path(&path).exists() => {
                return Err(StateError::Corrupt {
                    path,
                    reason: "a journal exists without its snapshot".to_owned(),
                });
            }
            None => return Ok(None),
        };
        state.replay_journal()?;
        Ok(Some(state))
    }

    /// Loads the state at `path` and checks that it belongs to `identity`, or creates an
    /// empty one where there is none.
    ///
    /// # Errors
    ///
    /// As [`State::open`], and [`StateError::OtherIdentity`] for a state of another
    /// destination.
    pub fn open_for(path: impl Into<PathBuf>, identity: &Identity) -> Result<State, StateError> {
        let path = path.into();
        let Some(state) = State::open(&path)? else {
            return Ok(State::create(path, identity.clone()));
        };
        if &state.meta.identity != identity {
            return Err(StateError::OtherIdentity {
                path,
                state_url: state.meta.identity.url.clone(),
                state_owner: state.meta.identity.owner.clone(),
                url: identity.url.clone(),
                owner: identity.owner.clone(),
            });
        }
        Ok(state)
    }

    /// Where the snapshot lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata.
    pub fn meta(&self) -> &StateMeta {
        &self.meta
    }

    /// How many indicators the state says ThreatConnect holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the state holds no indicator.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// What the state knows of one indicator.
    pub fn get(&self, key: &str) -> Option<Entry> {
        self.entries.get(key).copied()
    }

    /// Every indicator the state holds, in no order.
    pub fn entries(&self) -> impl Iterator<Item = (&IndicatorKey, Entry)> + '_ {
        self.entries.iter().map(|(key, entry)| (key, *entry))
    }

    /// Commits one delta: appends it to the journal, syncs, then applies it in memory.
    ///
    /// # Errors
    ///
    /// [`StateError::Io`] where the journal cannot be written; the state in memory is then
    /// unchanged.
    pub fn commit(&mut self, delta: StateDelta) -> Result<(), StateError> {
        if delta.is_empty() {
            return Ok(());
        }
        let payload = serde_json::to_vec(&delta).expect("a state delta always serialises");
        self.append_journal(&payload)?;
        self.apply(delta);
        Ok(())
    }

    /// Writes a new snapshot that absorbs the journal, then empties the journal.
    ///
    /// # Errors
    ///
    /// [`StateError::Io`] where a file cannot be written; the previous snapshot and journal
    /// then still hold everything committed.
    pub fn compact(&mut self) -> Result<(), StateError> {
        let next_generation = self.generation + 1;
        write_snapshot(&self.path, &self.meta, &self.entries, next_generation)?;
        self.generation = next_generation;

        self.journal = None;
        let journal = journal_path(&self.path);
        match fs::remove_file(&journal) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(io_error("remove", &journal, source)),
        }
    }

    fn apply(&mut self, delta: StateDelta) {
        for (key, fingerprint) in delta.upserted {
            let entry = Entry {
                fingerprint,
                sent_at: delta.sent_at,
            };
            self.entries.insert(key, entry);
        }
        for key in &delta.removed {
            self.entries.remove(key.as_str());
        }
        for (key, rejected) in delta.rejected {
            self.meta.rejected.insert(key, rejected);
        }
        for key in &delta.unrejected {
            self.meta.rejected.remove(key);
        }
        for (list, record) in delta.lists {
            self.meta.lists.insert(list, record);
        }
        for (list, count) in delta.pending_removals {
            if count == 0 {
                self.meta.pending_removals.remove(&list);
            } else {
                self.meta.pending_removals.insert(list, count);
            }
        }
        if delta.last_run.is_some() {
            self.meta.last_run = delta.last_run;
        }
        if delta.last_full_refresh.is_some() {
            self.meta.last_full_refresh = delta.last_full_refresh;
        }
    }

    fn append_journal(&mut self, payload: &[u8]) -> Result<(), StateError> {
        let path = journal_path(&self.path);
        if self.journal.is_none() {
            self.journal = Some(self.open_journal_for_append(&path)?);
        }
        let journal = self.journal.as_mut().expect("opened above");

        let mut record = Vec::with_capacity(payload.len() + 12);
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&xxhash_rust::xxh3::xxh3_64(payload).to_le_bytes());
        record.extend_from_slice(payload);
        journal
            .write_all(&record)
            .and_then(|()| journal.sync_data())
            .map_err(|source| io_error("append to", &path, source))
    }

    /// Opens the journal for appending, writing its header where it is new. A snapshot must
    /// exist for the journal to mean anything, so a first commit writes an empty one.
    fn open_journal_for_append(&mut self, path: &Path) -> Result<File, StateError> {
        if !self.path.exists() {
            self.generation += 1;
            write_snapshot(&self.path, &self.meta, &self.entries, self.generation)?;
        }

        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(|source| io_error("open", path, source))?;
        let length = file
            .metadata()
            .map_err(|source| io_error("read", path, source))?
            .len();
        if length == 0 {
            let mut header = Vec::with_capacity(16);
            header.extend_from_slice(JOURNAL_MAGIC);
            header.extend_from_slice(&self.generation.to_le_bytes());
            file.write_all(&header)
                .and_then(|()| file.sync_data())
                .map_err(|source| io_error("write", path, source))?;
        }
        Ok(file)
    }

    fn replay_journal(&mut self) -> Result<(), StateError> {
        let path = journal_path(&self.path);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(io_error("read", &path, source)),
        };

        let replay = parse_journal(&bytes, self.generation);
        for delta in replay.deltas {
            self.apply(delta);
        }
        if replay.valid_length < bytes.len() {
            tracing::debug!(
                journal = %path.display(),
                dropped_bytes = bytes.len() - replay.valid_length,
                "dropped the torn tail of the state journal (a job that was not committed)"
            );
            truncate(&path, replay.valid_length)?;
        }
        Ok(())
    }
}

/// The journal beside a snapshot.
pub fn journal_path(snapshot: &Path) -> PathBuf {
    with_suffix(snapshot, ".journal")
}

/// `<path><suffix>`, for the files that live beside the snapshot.
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> StateError {
    StateError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

struct Replay {
    deltas: Vec<StateDelta>,
    valid_length: usize,
}

/// Reads the journal's records up to the first one that is torn; a journal of another
/// generation holds nothing for this snapshot.
fn parse_journal(bytes: &[u8], generation: u64) -> Replay {
    let empty = Replay {
        deltas: Vec::new(),
        valid_length: 0,
    };
    if bytes.len() < 16 || &bytes[..8] != JOURNAL_MAGIC {
        return empty;
    }
    let journal_generation = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
    if journal_generation != generation {
        return empty;
    }

    let mut deltas = Vec::new();
    let mut at = 16;
    while let Some((delta, next)) = parse_record(bytes, at) {
        deltas.push(delta);
        at = next;
    }
    Replay {
        deltas,
        valid_length: at,
    }
}

fn parse_record(bytes: &[u8], at: usize) -> Option<(StateDelta, usize)> {
    let header = bytes.get(at..at + 12)?;
    let length = u32::from_le_bytes(header[..4].try_into().ok()?);
    if length > MAX_JOURNAL_RECORD {
        return None;
    }
    let checksum = u64::from_le_bytes(header[4..12].try_into().ok()?);
    let payload = bytes.get(at + 12..at + 12 + length as usize)?;
    if xxhash_rust::xxh3::xxh3_64(payload) != checksum {
        return None;
    }
    let delta = serde_json::from_slice(payload).ok()?;
    Some((delta, at + 12 + length as usize))
}

fn truncate(path: &Path, length: usize) -> Result<(), StateError> {
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|source| io_error("open", path, source))?;
    file.set_len(length as u64)
        .and_then(|()| file.sync_data())
        .map_err(|source| io_error("truncate", path, source))
}

/// A writer that checksums what passes through it.
struct Checksummed<W> {
    inner: W,
    hasher: Xxh3,
}

impl<W: Write> Write for Checksummed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn write_snapshot(
    path: &Path,
    meta: &StateMeta,
    entries: &FxHashMap<IndicatorKey, Entry>,
    generation: u64,
) -> Result<(), StateError> {
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        fs::create_dir_all(folder)
            .map_err(|source| io_error("create the folder of", path, source))?;
    }
    let temporary = with_suffix(path, ".tmp");
    let file = File::create(&temporary).map_err(|source| io_error("create", &temporary, source))?;

    let mut out = Checksummed {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Xxh3::new(),
    };
    write_snapshot_body(&mut out, meta, entries, generation)
        .map_err(|source| io_error("write", &temporary, source))?;
    let checksum = out.hasher.digest();
    let mut writer = out.inner;
    writer
        .write_all(&checksum.to_le_bytes())
        .and_then(|()| writer.flush())
        .map_err(|source| io_error("write", &temporary, source))?;
    let file = writer
        .into_inner()
        .map_err(|err| io_error("write", &temporary, err.into_error()))?;
    file.sync_all()
        .map_err(|source| io_error("sync", &temporary, source))?;
    drop(file);

    fs::rename(&temporary, path).map_err(|source| io_error("replace", path, source))?;
    sync_folder(path)
}

fn write_snapshot_body(
    out: &mut impl Write,
    meta: &StateMeta,
    entries: &FxHashMap<IndicatorKey, Entry>,
    generation: u64,
) -> io::Result<()> {
    let meta_json = serde_json::to_vec(meta).expect("state metadata always serialises");
    out.write_all(SNAPSHOT_MAGIC)?;
    out.write_all(&generation.to_le_bytes())?;
    out.write_all(&(meta_json.len() as u64).to_le_bytes())?;
    out.write_all(&meta_json)?;
    out.write_all(&(entries.len() as u64).to_le_bytes())?;
    for (key, entry) in entries {
        let key = key.as_str();
        out.write_all(&(key.len() as u16).to_le_bytes())?;
        out.write_all(key.as_bytes())?;
        out.write_all(&entry.fingerprint.to_le_bytes())?;
        out.write_all(&entry.sent_at.to_le_bytes())?;
    }
    Ok(())
}

/// Syncs the folder that holds `path`, so that a rename in it survives a power loss.
fn sync_folder(path: &Path) -> Result<(), StateError> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    File::open(folder)
        .and_then(|folder| folder.sync_all())
        .map_err(|source| io_error("sync the folder of", path, source))
}

fn read_snapshot(path: &Path, file: File) -> Result<State, StateError> {
    let mut bytes = Vec::new();
    BufReader::new(file)
        .read_to_end(&mut bytes)
        .map_err(|source| io_error("read", path, source))?;
    let corrupt = |reason: &str| StateError::Corrupt {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };

    if bytes.len() < 8 + 8 + 8 + 8 + 8 || &bytes[..8] != SNAPSHOT_MAGIC {
        return Err(corrupt("not a tc-feed state file"));
    }
    let (body, trailer) = bytes.split_at(bytes.len() - 8);
    let checksum = u64::from_le_bytes(trailer.try_into().expect("8 bytes"));
    if xxhash_rust::xxh3::xxh3_64(body) != checksum {
        return Err(corrupt("its checksum does not match its content"));
    }

    let mut reader = SnapshotReader { bytes: body, at: 8 };
    let parsed = reader
        .read_state()
        .ok_or_else(|| corrupt("a record is cut short"))?;
    let (generation, meta_json, entries) = parsed;
    let meta: StateMeta = serde_json::from_slice(meta_json)
        .map_err(|err| corrupt(&format!("its metadata does not parse: {err}")))?;
    Ok(State {
        path: path.to_owned(),
        meta,
        entries,
        generation,
        journal: None,
    })
}

struct SnapshotReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

type ParsedSnapshot<'a> = (u64, &'a [u8], FxHashMap<IndicatorKey, Entry>);

impl<'a> SnapshotReader<'a> {
    fn take(&mut self, length: usize) -> Option<&'a [u8]> {
        let slice = self.bytes.get(self.at..self.at.checked_add(length)?)?;
        self.at += length;
        Some(slice)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn read_state(&mut self) -> Option<ParsedSnapshot<'a>> {
        let generation = self.u64()?;
        let meta_length = usize::try_from(self.u64()?).ok()?;
        let meta_json = self.take(meta_length)?;
        let count = usize::try_from(self.u64()?).ok()?;

        // The count comes from the file: cap the up-front reservation by what the bytes left
        // could hold, so that a damaged count cannot ask for absurd memory.
        let mut entries = FxHashMap::default();
        entries.reserve(count.min(self.bytes.len() / 18));
        for _ in 0..count {
            let key_length = usize::from(self.u16()?);
            let key = std::str::from_utf8(self.take(key_length)?).ok()?;
            let fingerprint = self.u64()?;
            let sent_at = self.u64()? as i64;
            let key = IndicatorKey::parse(key).ok()?;
            entries.insert(
                key,
                Entry {
                    fingerprint,
                    sent_at,
                },
            );
        }
        (self.at == self.bytes.len()).then_some((generation, meta_json, entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            url: "https://tc.example/api".to_owned(),
            owner: "Example Org".to_owned(),
        }
    }

    fn k(text: &str) -> IndicatorKey {
        IndicatorKey::parse(text).unwrap()
    }

    fn upsert(keys: &[(&str, u64)], sent_at: i64) -> StateDelta {
        StateDelta {
            upserted: keys.iter().map(|(key, fp)| (k(key), *fp)).collect(),
            sent_at,
            ..StateDelta::default()
        }
    }

    #[test]
    fn missing_state_is_a_first_run() {
        let dir = tempfile::tempdir().unwrap();
        assert!(State::open(dir.path().join("state")).unwrap().is_none());
    }

    #[test]
    fn committed_jobs_survive_without_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut state = State::create(&path, identity());
        state
            .commit(upsert(&[("Address\t192.0.2.1", 7)], 100))
            .unwrap();
        state
            .commit(upsert(&[("Host\tbeta.example", 9)], 200))
            .unwrap();
        drop(state);

        let reopened = State::open(&path).unwrap().unwrap();
        assert_eq!(reopened.len(), 2);
        assert_eq!(
            reopened.get("Host\tbeta.example"),
            Some(Entry {
                fingerprint: 9,
                sent_at: 200
            })
        );
    }

    #[test]
    fn compaction_keeps_everything_and_empties_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut state = State::create(&path, identity());
        state
            .commit(upsert(
                &[("Address\t192.0.2.1", 7), ("Address\t192.0.2.2", 8)],
                1,
            ))
            .unwrap();
        state
            .commit(StateDelta {
                removed: vec![k("Address\t192.0.2.1")],
                ..Default::default()
            })
            .unwrap();
        state.compact().unwrap();
        assert!(!journal_path(&path).exists());

        let reopened = State::open(&path).unwrap().unwrap();
        assert_eq!(reopened.len(), 1);
        assert!(reopened.get("Address\t192.0.2.2").is_some());
    }

    #[test]
    fn torn_journal_tail_drops_only_the_last_job() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut state = State::create(&path, identity());
        state
            .commit(upsert(&[("Address\t192.0.2.1", 7)], 1))
            .unwrap();
        state
            .commit(upsert(&[("Address\t192.0.2.2", 8)], 1))
            .unwrap();
        drop(state);

        let journal = journal_path(&path);
        let length = fs::metadata(&journal).unwrap().len();
        OpenOptions::new()
            .write(true)
            .open(&journal)
            .unwrap()
            .set_len(length - 3)
            .unwrap();

        let mut reopened = State::open(&path).unwrap().unwrap();
        assert_eq!(reopened.len(), 1);
        assert!(reopened.get("Address\t192.0.2.1").is_some());

        // The torn tail is cut off, so later commits append after the good records.
        reopened
            .commit(upsert(&[("Address\t192.0.2.3", 9)], 2))
            .unwrap();
        drop(reopened);
        assert_eq!(State::open(&path).unwrap().unwrap().len(), 2);
    }

    #[test]
    fn journal_of_an_older_generation_is_not_replayed_twice() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut state = State::create(&path, identity());
        state
            .commit(upsert(&[("Address\t192.0.2.1", 7)], 1))
            .unwrap();
        let stale_journal = fs::read(journal_path(&path)).unwrap();
        state
            .commit(StateDelta {
                removed: vec![k("Address\t192.0.2.1")],
                ..Default::default()
            })
            .unwrap();
        state.compact().unwrap();

        // A crash between the snapshot's rename and the journal's removal leaves the old
        // journal behind: it must not bring the removed indicator back.
        fs::write(journal_path(&path), stale_journal).unwrap();
        assert!(State::open(&path).unwrap().unwrap().is_empty());
    }

    #[test]
    fn corrupt_snapshot_is_an_error_that_says_how_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut state = State::create(&path, identity());
        state
            .commit(upsert(&[("Address\t192.0.2.1", 7)], 1))
            .unwrap();
        state.compact().unwrap();

        let mut bytes = fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(&path, bytes).unwrap();

        let error = State::open(&path).unwrap_err();
        assert!(matches!(error, StateError::Corrupt { .. }));
        assert!(error.to_string().contains("reconcile"), "{error}");
    }

    #[test]
    fn state_of_another_owner_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut state = State::create(&path, identity());
        state
            .commit(upsert(&[("Address\t192.0.2.1", 7)], 1))
            .unwrap();

        let other = Identity {
            owner: "Other Org".to_owned(),
            ..identity()
        };
        let error = State::open_for(&path, &other).unwrap_err();
        assert!(matches!(error, StateError::OtherIdentity { .. }), "{error}");
    }

    #[test]
    fn replaying_a_delta_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state");
        let mut state = State::create(&path, identity());
        let delta = StateDelta {
            upserted: vec![(k("Host\talpha.example"), 3)],
            sent_at: 5,
            pending_removals: vec![("detailed-iprepdata.txt".into(), 4)],
            ..Default::default()
        };
        state.commit(delta.clone()).unwrap();
        let once = (state.len(), state.meta().clone());
        state.commit(delta).unwrap();
        assert_eq!((state.len(), state.meta().clone()), once);
    }
}
