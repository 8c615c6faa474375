//! The chunker: the one place that decides where one batch job ends and the next begins.
//!
//! It is incremental. Each indicator is serialised straight into the byte buffer of the job
//! being filled; when the next indicator would take the job over its indicator count or its
//! byte size, the filled job comes out as a [`JobDocument`] and a new one starts. So a feed of
//! a million indicators is never held as documents, only as the one job being filled.
//!
//! The batch client and a dry run use the same chunker, so a dry run writes the very documents
//! a real run would upload.

use std::io::Write;
use std::ops::Range;

use bytes::Bytes;

use crate::document::BatchIndicator;
use crate::error::Error;

/// The most indicators the Batch API takes in one job.
pub const MAX_JOB_INDICATORS: usize = 25_000;

/// What every job document starts with.
const DOCUMENT_PREFIX: &[u8] = b"{\"indicator\":[";

/// What every job document ends with.
const DOCUMENT_SUFFIX: &[u8] = b"]}";

/// The smallest byte limit accepted: room for the document's frame and a small indicator.
const MIN_MAX_BYTES: usize = 256;

/// How large a job may grow: at most `max_indicators` indicators and `max_bytes` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    max_indicators: usize,
    max_bytes: usize,
}

impl ChunkLimits {
    /// The default indicator count of a job, as ThreatConnect's own framework chunks.
    pub const DEFAULT_MAX_INDICATORS: usize = 5_000;

    /// The default byte size of a job: 8 MB (8,000,000 bytes).
    pub const DEFAULT_MAX_BYTES: usize = 8_000_000;

    /// Limits of `max_indicators` indicators and `max_bytes` bytes a job.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidChunkLimit`] when `max_indicators` is 0 or above
    /// [`MAX_JOB_INDICATORS`], or `max_bytes` is below 256 bytes.
    pub fn new(max_indicators: usize, max_bytes: usize) -> Result<ChunkLimits, Error> {
        if max_indicators == 0 || max_indicators > MAX_JOB_INDICATORS {
            return Err(Error::InvalidChunkLimit {
                field: "max_indicators",
                value: max_indicators,
                max: MAX_JOB_INDICATORS,
            });
        }
        if max_bytes < MIN_MAX_BYTES {
            return Err(Error::InvalidChunkLimit {
                field: "max_bytes",
                value: max_bytes,
                max: usize::MAX,
            });
        }
        Ok(ChunkLimits {
            max_indicators,
            max_bytes,
        })
    }

    /// The most indicators in one job.
    pub fn max_indicators(&self) -> usize {
        self.max_indicators
    }

    /// The most bytes in one job document.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// These limits with a byte limit no larger than `max_bytes` (never below 256 bytes).
    pub fn lowered_bytes(self, max_bytes: usize) -> ChunkLimits {
        let max_bytes = self.max_bytes.min(max_bytes.max(MIN_MAX_BYTES));
        ChunkLimits { max_bytes, ..self }
    }

    /// These limits with an indicator limit no larger than `max_indicators` (never below 1).
    pub fn lowered_indicators(self, max_indicators: usize) -> ChunkLimits {
        let max_indicators = self.max_indicators.min(max_indicators.max(1));
        ChunkLimits {
            max_indicators,
            ..self
        }
    }
}

impl Default for ChunkLimits {
    fn default() -> ChunkLimits {
        ChunkLimits {
            max_indicators: ChunkLimits::DEFAULT_MAX_INDICATORS,
            max_bytes: ChunkLimits::DEFAULT_MAX_BYTES,
        }
    }
}

/// One job's document, serialised: `{"indicator":[...]}`, as the Batch API takes it.
///
/// It knows which positions of the input sequence it carries, so that a finished job can be
/// mapped back to what it held without keeping copies of the indicators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobDocument {
    body: Bytes,
    positions: Range<usize>,
    /// Where each indicator's JSON starts in `body`.
    offsets: Vec<usize>,
}

impl JobDocument {
    /// The document's bytes: valid JSON.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The document's size in bytes.
    pub fn len_bytes(&self) -> usize {
        self.body.len()
    }

    /// How many indicators the document holds.
    pub fn indicator_count(&self) -> usize {
        self.offsets.len()
    }

    /// The positions, in the input sequence, of the indicators the document holds.
    pub fn positions(&self) -> Range<usize> {
        self.positions.clone()
    }

    /// Writes the document to `writer`, as a dry run does.
    ///
    /// # Errors
    ///
    /// The writer's error.
    pub fn write_to<W: Write>(&self, mut writer: W) -> std::io::Result<()> {
        writer.write_all(&self.body)
    }

    /// The document cut into two of half the indicators each (the first takes the smaller
    /// half), or `None` for a document of one indicator.
    pub fn split_in_half(&self) -> Option<(JobDocument, JobDocument)> {
        let count = self.offsets.len();
        if count < 2 {
            return None;
        }

        let middle = count / 2;
        let items_end = self.body.len() - DOCUMENT_SUFFIX.len();
        let comma_before_middle = self.offsets[middle] - 1;
        let first_positions = self.positions.start..self.positions.start + middle;
        let second_positions = self.positions.start + middle..self.positions.end;

        let first = self.part(
            self.offsets[0]..comma_before_middle,
            0..middle,
            first_positions,
        );
        let second = self.part(
            self.offsets[middle]..items_end,
            middle..count,
            second_positions,
        );
        Some((first, second))
    }

    /// A new document of the indicators `items` (their bytes `bytes` in this body).
    fn part(
        &self,
        bytes: Range<usize>,
        items: Range<usize>,
        positions: Range<usize>,
    ) -> JobDocument {
        let mut body = Vec::with_capacity(DOCUMENT_PREFIX.len() + bytes.len() + 2);
        body.extend_from_slice(DOCUMENT_PREFIX);
        body.extend_from_slice(&self.body[bytes.clone()]);
        body.extend_from_slice(DOCUMENT_SUFFIX);

        let offsets = self.offsets[items]
            .iter()
            .map(|offset| offset - bytes.start + DOCUMENT_PREFIX.len())
            .collect();
        JobDocument {
            body: Bytes::from(body),
            positions,
            offsets,
        }
    }
}

/// Splits a sequence of indicators into job documents; see the [module docs](self).
///
/// ```
/// use threatconnect_client::{BatchIndicator, ChunkLimits, Chunker, IndicatorType};
///
/// let mut chunker = Chunker::new(ChunkLimits::new(2, 8_000_000)?);
/// let mut jobs = Vec::new();
/// for address in ["192.0.2.1", "192.0.2.2", "192.0.2.3"] {
///     let indicator = BatchIndicator::new(IndicatorType::Address, address);
///     jobs.extend(chunker.push(&indicator)?);
/// }
/// jobs.extend(chunker.finish());
///
/// assert_eq!(jobs.len(), 2);
/// assert_eq!(jobs[0].positions(), 0..2);
/// assert_eq!(jobs[1].positions(), 2..3);
/// # Ok::<(), threatconnect_client::Error>(())
/// ```
#[derive(Debug)]
pub struct Chunker {
    limits: ChunkLimits,
    buffer: Vec<u8>,
    offsets: Vec<usize>,
    first_position: usize,
    next_position: usize,
    /// A job cut short by a refused indicator, handed out by the next `push` or `finish`.
    ready: Option<JobDocument>,
    last_job_bytes: usize,
}

impl Chunker {
    /// A chunker with these limits, whose first indicator is input position 0.
    pub fn new(limits: ChunkLimits) -> Chunker {
        Chunker {
            limits,
            buffer: Vec::new(),
            offsets: Vec::new(),
            first_position: 0,
            next_position: 0,
            ready: None,
            last_job_bytes: 0,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> ChunkLimits {
        self.limits
    }

    /// Changes the limits from the next indicator on. A job already larger than the new limits
    /// is handed out as it is by the next `push`.
    pub fn set_limits(&mut self, limits: ChunkLimits) {
        self.limits = limits;
    }

    /// The input position the next pushed indicator gets.
    pub fn next_position(&self) -> usize {
        self.next_position
    }

    /// Adds the next indicator; returns a finished job when this indicator did not fit in it.
    ///
    /// Every call takes the next input position, refused or not. A refused indicator ends the
    /// job being filled, so that each job's positions stay one contiguous range that never
    /// holds a refused one.
    ///
    /// # Errors
    ///
    /// [`Error::IndicatorTooLarge`] when this indicator alone is larger than a job may be, and
    /// [`Error::Serialize`] if it cannot be serialised. The indicator is left out; the chunker
    /// stays usable.
    pub fn push(&mut self, indicator: &BatchIndicator) -> Result<Option<JobDocument>, Error> {
        let position = self.next_position;
        self.next_position += 1;

        let mark = self.buffer.len();
        let start = self.append(indicator).inspect_err(|_| self.refuse(mark))?;

        let size = self.buffer.len() - start;
        if DOCUMENT_PREFIX.len() + size + DOCUMENT_SUFFIX.len() > self.limits.max_bytes {
            self.refuse(mark);
            return Err(Error::IndicatorTooLarge {
                position,
                summary: indicator.summary.clone(),
                size,
                limit: self.limits.max_bytes,
            });
        }

        if self.offsets.is_empty() {
            self.first_position = position;
            self.offsets.push(start);
            return Ok(self.ready.take());
        }

        let fits = self.offsets.len() < self.limits.max_indicators
            && self.buffer.len() + DOCUMENT_SUFFIX.len() <= self.limits.max_bytes;
        if fits {
            self.offsets.push(start);
            return Ok(None);
        }

        let finished = self.move_last_to_new_job(mark, start, position);
        Ok(Some(finished))
    }

    /// The last job, if any indicator is left in it.
    pub fn finish(mut self) -> Option<JobDocument> {
        if let Some(ready) = self.ready.take() {
            return Some(ready);
        }
        self.take_job()
    }

    /// Serialises `indicator` at the end of the buffer; returns where its JSON starts.
    fn append(&mut self, indicator: &BatchIndicator) -> Result<usize, Error> {
        if self.offsets.is_empty() {
            self.buffer.clear();
            self.buffer
                .reserve(self.last_job_bytes.min(self.limits.max_bytes));
            self.buffer.extend_from_slice(DOCUMENT_PREFIX);
        } else {
            self.buffer.push(b',');
        }

        let start = self.buffer.len();
        serde_json::to_writer(&mut self.buffer, indicator).map_err(|source| Error::Serialize {
            what: "a batch indicator",
            source,
        })?;
        Ok(start)
    }

    /// Drops what was written of a refused indicator and ends the job being filled.
    fn refuse(&mut self, mark: usize) {
        self.buffer.truncate(mark);
        if self.ready.is_none() {
            self.ready = self.take_job();
        }
    }

    /// Ends the job being filled before its last indicator, which starts the next job.
    fn move_last_to_new_job(&mut self, mark: usize, start: usize, position: usize) -> JobDocument {
        let last_indicator = self.buffer.split_off(start);
        self.buffer.truncate(mark);
        let finished = self
            .take_job()
            .expect("a job that did not fit holds indicators");

        self.buffer.reserve(self.last_job_bytes);
        self.buffer.extend_from_slice(DOCUMENT_PREFIX);
        self.offsets.push(self.buffer.len());
        self.buffer.extend_from_slice(&last_indicator);
        self.first_position = position;
        finished
    }

    /// The job being filled, closed, or `None` when it is empty.
    fn take_job(&mut self) -> Option<JobDocument> {
        if self.offsets.is_empty() {
            self.buffer.clear();
            return None;
        }

        self.buffer.extend_from_slice(DOCUMENT_SUFFIX);
        let body = std::mem::take(&mut self.buffer);
        let offsets = std::mem::take(&mut self.offsets);
        let positions = self.first_position..self.first_position + offsets.len();
        self.last_job_bytes = body.len();
        tracing::trace!(
            indicators = offsets.len(),
            bytes = body.len(),
            first_position = positions.start,
            "job document finished"
        );
        Some(JobDocument {
            body: Bytes::from(body),
            positions,
            offsets,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{BatchDocument, IndicatorType};

    fn address(n: usize) -> BatchIndicator {
        BatchIndicator::new(
            IndicatorType::Address,
            format!("2001:db8:0:0:0:0:{:x}:{:x}", n >> 16, n & 0xffff),
        )
    }

    fn chunk_all(limits: ChunkLimits, indicators: &[BatchIndicator]) -> Vec<JobDocument> {
        let mut chunker = Chunker::new(limits);
        let mut jobs = Vec::new();
        for indicator in indicators {
            jobs.extend(chunker.push(indicator).unwrap());
        }
        jobs.extend(chunker.finish());
        jobs
    }

    fn summaries(job: &JobDocument) -> Vec<String> {
        let document: BatchDocument = serde_json::from_slice(job.body()).unwrap();
        document
            .indicator
            .into_iter()
            .map(|indicator| indicator.summary)
            .collect()
    }

    #[test]
    fn jobs_are_cut_by_indicator_count() {
        let indicators: Vec<_> = (0..7).map(address).collect();

        let jobs = chunk_all(ChunkLimits::new(3, 1_000_000).unwrap(), &indicators);

        let counts: Vec<usize> = jobs.iter().map(JobDocument::indicator_count).collect();
        let positions: Vec<_> = jobs.iter().map(JobDocument::positions).collect();
        assert_eq!(counts, [3, 3, 1]);
        assert_eq!(positions, [0..3, 3..6, 6..7]);
    }

    #[test]
    fn jobs_are_cut_by_bytes_and_never_exceed_them() {
        let indicators: Vec<_> = (0..500).map(address).collect();
        let limits = ChunkLimits::new(5_000, 2_000).unwrap();

        let jobs = chunk_all(limits, &indicators);

        assert!(jobs.len() > 10);
        for job in &jobs {
            assert!(
                job.len_bytes() <= 2_000,
                "a job of {} bytes",
                job.len_bytes()
            );
        }
        let all: Vec<String> = jobs.iter().flat_map(summaries).collect();
        let expected: Vec<String> = indicators.iter().map(|i| i.summary.clone()).collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn each_job_is_the_json_document_the_batch_api_expects() {
        let indicators: Vec<_> = (0..5).map(address).collect();

        let jobs = chunk_all(ChunkLimits::new(2, 1_000_000).unwrap(), &indicators);

        let document: BatchDocument = serde_json::from_slice(jobs[1].body()).unwrap();
        assert_eq!(document.indicator, indicators[2..4]);
        assert!(jobs[1].body().starts_with(b"{\"indicator\":["));
        assert!(jobs[1].body().ends_with(b"]}"));
    }

    #[test]
    fn a_job_never_holds_more_than_25000_indicators() {
        let indicators: Vec<_> = (0..25_001).map(address).collect();
        let limits = ChunkLimits::new(MAX_JOB_INDICATORS, usize::MAX).unwrap();

        let jobs = chunk_all(limits, &indicators);

        let counts: Vec<usize> = jobs.iter().map(JobDocument::indicator_count).collect();
        assert_eq!(counts, [25_000, 1]);
        assert!(ChunkLimits::new(25_001, 8_000_000).is_err());
        assert!(ChunkLimits::new(0, 8_000_000).is_err());
    }

    #[test]
    fn the_defaults_are_5000_indicators_and_8_mb() {
        let limits = ChunkLimits::default();

        assert_eq!(limits.max_indicators(), 5_000);
        assert_eq!(limits.max_bytes(), 8_000_000);
    }

    #[test]
    fn an_indicator_larger_than_a_job_is_an_error_that_cuts_the_job() {
        let mut huge = address(99);
        huge.tag = vec![crate::document::Tag {
            name: "x".repeat(1_000),
        }];
        let limits = ChunkLimits::new(100, 600).unwrap();
        let mut chunker = Chunker::new(limits);

        assert!(chunker.push(&address(0)).unwrap().is_none());
        assert!(chunker.push(&address(1)).unwrap().is_none());
        let error = chunker.push(&huge).unwrap_err();
        let before = chunker
            .push(&address(3))
            .unwrap()
            .expect("the job before the refusal");
        let after = chunker.finish().expect("the job after the refusal");

        assert!(
            matches!(error, Error::IndicatorTooLarge { position: 2, .. }),
            "{error:?}"
        );
        assert_eq!(before.positions(), 0..2);
        assert_eq!(after.positions(), 3..4);
        assert_eq!(summaries(&after), [address(3).summary]);
    }

    #[test]
    fn a_refused_last_indicator_still_hands_out_the_job_before_it() {
        let mut huge = address(9);
        huge.tag = vec![crate::document::Tag {
            name: "x".repeat(1_000),
        }];
        let mut chunker = Chunker::new(ChunkLimits::new(100, 600).unwrap());

        chunker.push(&address(0)).unwrap();
        assert!(chunker.push(&huge).is_err());

        assert_eq!(chunker.finish().map(|job| job.positions()), Some(0..1));
    }

    #[test]
    fn no_indicator_gives_no_job() {
        assert_eq!(Chunker::new(ChunkLimits::default()).finish(), None);
    }

    #[test]
    fn halves_of_a_job_are_valid_documents_with_their_positions() {
        let indicators: Vec<_> = (10..15).map(address).collect();
        let mut chunker = Chunker::new(ChunkLimits::default());
        for indicator in &indicators {
            chunker.push(indicator).unwrap();
        }
        let job = chunker.finish().unwrap();

        let (first, second) = job.split_in_half().unwrap();

        assert_eq!(first.positions(), 0..2);
        assert_eq!(second.positions(), 2..5);
        assert_eq!(
            summaries(&first),
            [indicators[0].summary.clone(), indicators[1].summary.clone()]
        );
        let (third, fourth) = second.split_in_half().unwrap();
        assert_eq!(summaries(&third), [indicators[2].summary.clone()]);
        assert_eq!(fourth.positions(), 3..5);
        assert_eq!(summaries(&fourth).len(), 2);
        assert!(third.split_in_half().is_none());
    }

    #[test]
    fn lowered_limits_apply_to_the_next_jobs() {
        let indicators: Vec<_> = (0..100).map(address).collect();
        let mut chunker = Chunker::new(ChunkLimits::new(50, 1_000_000).unwrap());
        let mut jobs = Vec::new();
        for (index, indicator) in indicators.iter().enumerate() {
            if index == 10 {
                chunker.set_limits(chunker.limits().lowered_indicators(5));
            }
            jobs.extend(chunker.push(indicator).unwrap());
        }
        jobs.extend(chunker.finish());

        let counts: Vec<usize> = jobs.iter().map(JobDocument::indicator_count).collect();
        assert_eq!(counts[0], 10);
        assert!(counts[1..].iter().all(|&count| count == 5), "{counts:?}");
    }
}
