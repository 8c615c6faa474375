//! The whole-job measurements that `scripts/bench` drives: not a criterion benchmark, but a
//! small program the script builds in release mode and runs on generated lists.
//!
//! ```text
//! scale parse-group FILE [--threads N] [--group-only]
//!                                        parse, group and finish one list (or only parse
//!                                        and group); prints the counts as
//!                                        ../shared/tools/baseline-parse does
//! scale push DIR                         map the detailed lists of DIR and push every
//!                                        indicator through the ThreatConnect client to a
//!                                        loopback stand-in of the Batch API; prints JSON
//! ```
//!
//! Run it through the script (`scripts/bench`); `cargo bench` alone runs nothing long: with
//! no command (as `cargo bench` calls it) it prints its usage and exits.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::StreamExt;
use futures::channel::mpsc;
use proofpoint_et_client::{
    CATEGORIES_FILE, CategoryTable, DirectorySource, ListKind, ListSummary,
};
use reputation_mapper::{DiffOptions, Grouper, IndicatorKey, MappedIndicators, MapperConfig, Plan};
use threatconnect_client::{BatchIndicator, Client, Credentials};

/// The owner the bench maps for; it only goes into the documents.
const OWNER: &str = "Bench Org";

/// The most indicators waiting between the plan and the client, as in the job.
const SEND_QUEUE: usize = 1024;

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("parse-group") => parse_group_command(&args[1..]),
        Some("push") => push_command(&args[1..]),
        _ => {
            eprintln!(
                "usage: scale parse-group FILE [--threads N] [--group-only] | scale push DIR"
            );
            eprintln!("(driven by scripts/bench; nothing to do under a plain `cargo bench`)");
            Ok(())
        }
    };
    if let Err(error) = result {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
}

/// `categories.txt` beside `file`, or the built-in table, as a list folder reads it.
fn categories_beside(file: &Path) -> CategoryTable {
    let folder = file.parent().unwrap_or(Path::new("."));
    DirectorySource::new(folder)
        .categories_blocking()
        .unwrap_or_else(|_| CategoryTable::builtin())
}

/// One list parsed and grouped, with how long each step took.
struct Grouped {
    /// The finished indicators, unless only grouping was asked for.
    mapped: Option<MappedIndicators>,
    values_grouped: usize,
    summary: ListSummary,
    read_ms: f64,
    parse_ms: f64,
    merge_ms: f64,
    finish_ms: f64,
}

/// Reads `file` whole, parses it in `threads` parts into a grouper each, merges them in list
/// order and, if `finish`, finishes the result (ratings, fingerprints).
fn parse_and_group(
    file: &Path,
    threads: usize,
    finish: bool,
    config: &MapperConfig,
    names: &CategoryTable,
) -> Result<Grouped, Failure> {
    let started = Instant::now();
    let text = read_in_parts(file, threads)
        .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
    let read = started.elapsed();

    let mut groupers = (0..threads)
        .map(|_| Grouper::new(config, names))
        .collect::<Result<Vec<_>, _>>()?;
    let name = file.display().to_string();
    let summary = proofpoint_et_client::parse_in_parts(&text, &name, &mut groupers)?;
    let parsed = started.elapsed();
    drop(text);

    let mut groupers = groupers.into_iter();
    let mut grouper = groupers.next().expect("one thread at least");
    for later in groupers {
        grouper.merge(later);
    }
    let merged = started.elapsed();
    let values_grouped = grouper.len();
    let mapped = finish.then(|| grouper.finish());
    let finished = started.elapsed();

    Ok(Grouped {
        mapped,
        values_grouped,
        summary,
        read_ms: ms(read),
        parse_ms: ms(parsed - read),
        merge_ms: ms(merged - parsed),
        finish_ms: ms(finished - merged),
    })
}

/// The whole file, its `parts` parts read at once, one thread each.
fn read_in_parts(file: &Path, parts: usize) -> std::io::Result<Vec<u8>> {
    let opened = std::fs::File::open(file)?;
    let length = usize::try_from(opened.metadata()?.len()).map_err(std::io::Error::other)?;
    let mut text = vec![0; length];
    let part_length = length.div_ceil(parts.max(1)).max(1);
    std::thread::scope(|scope| {
        let readers: Vec<_> = text
            .chunks_mut(part_length)
            .enumerate()
            .map(|(index, part)| {
                let opened = &opened;
                scope.spawn(move || opened.read_exact_at(part, (index * part_length) as u64))
            })
            .collect();
        readers
            .into_iter()
            .try_for_each(|reader| reader.join().expect("a reader thread panicked"))
    })?;
    Ok(text)
}

fn ms(duration: std::time::Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn parse_group_command(args: &[String]) -> Result<(), Failure> {
    let file = PathBuf::from(args.first().ok_or("parse-group needs a FILE")?);
    let mut threads = 1;
    let mut finish = true;
    let mut flags = args[1..].iter();
    while let Some(flag) = flags.next() {
        match flag.as_str() {
            "--threads" => threads = flags.next().ok_or("--threads needs N")?.parse()?,
            "--group-only" => finish = false,
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let config = MapperConfig::builder(OWNER).build()?;
    let names = categories_beside(&file);

    let grouped = parse_and_group(&file, threads.max(1), finish, &config, &names)?;
    let summary = &grouped.summary;
    // The line baseline-parse prints: every data row counts, rejected or not.
    let indicators = match &grouped.mapped {
        Some(mapped) => mapped.len(),
        None => grouped.values_grouped,
    };
    println!(
        "rows {} indicators {indicators} rejected {}",
        summary.rows + summary.rejected,
        summary.rejected
    );
    eprintln!(
        "threads {threads}: read {:.1} ms, parse and group {:.1} ms, merge {:.1} ms, \
         finish {:.1} ms",
        grouped.read_ms, grouped.parse_ms, grouped.merge_ms, grouped.finish_ms
    );
    Ok(())
}

fn push_command(args: &[String]) -> Result<(), Failure> {
    let dir = PathBuf::from(args.first().ok_or("push needs a DIR")?);
    let config = MapperConfig::builder(OWNER).build()?;
    let names = categories_beside(&dir.join(CATEGORIES_FILE));

    let started = Instant::now();
    let lists = ["detailed-iprepdata.txt", "detailed-domainrepdata.txt"];
    let mut grouped = Vec::new();
    for list in lists {
        grouped.push(parse_and_group(&dir.join(list), 2, true, &config, &names)?);
    }
    let mapped_ms = ms(started.elapsed());
    let [ips, domains] = <[Grouped; 2]>::try_from(grouped).map_err(|_| "two lists")?;

    let stand_in = StandIn::start()?;
    let client = Client::builder(
        &format!("http://{}/api", stand_in.address),
        Credentials::hmac("bench-access-id", "bench-secret-key"),
    )
    // Loopback needs no proxy, whatever the environment names; everything else is default.
    .proxy_from_env(false)
    .build()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;

    let mut pushes = Vec::new();
    for (grouped, kind) in [(&ips, ListKind::Ip), (&domains, ListKind::Domain)] {
        let mapped = grouped.mapped.as_ref().expect("finished");
        pushes.push(runtime.block_on(push_all(&client, mapped, kind))?);
    }
    let total = Push::sum(&pushes);
    let received = stand_in.totals();

    let result = serde_json::json!({
        "indicators": total.indicators,
        "jobs": total.jobs,
        "jobs_clean": total.jobs_clean,
        "failed_jobs": total.failed_jobs,
        "success_count": total.success_count,
        "seconds": total.seconds,
        "map_ms": mapped_ms,
        "requests": received.requests,
        "bytes_uploaded": received.body_bytes,
        "indicators_received": received.indicators,
    });
    println!("{result}");
    Ok(())
}

/// What one push did.
#[derive(Debug, Default)]
struct Push {
    indicators: u64,
    jobs: u64,
    jobs_clean: u64,
    failed_jobs: u64,
    success_count: u64,
    seconds: f64,
}

impl Push {
    fn sum(pushes: &[Push]) -> Push {
        let mut total = Push::default();
        for push in pushes {
            total.indicators += push.indicators;
            total.jobs += push.jobs;
            total.jobs_clean += push.jobs_clean;
            total.failed_jobs += push.failed_jobs;
            total.success_count += push.success_count;
            total.seconds += push.seconds;
        }
        total
    }
}

/// Sends every indicator of `mapped` as the job sends a first import: the plan of a diff
/// against an empty state, its upserts built one at a time and streamed into
/// [`Client::submit`] with the plan's job settings. Timed from the first indicator built to
/// the last job's outcome.
async fn push_all(
    client: &Client,
    mapped: &MappedIndicators,
    kind: ListKind,
) -> Result<Push, Failure> {
    let nothing_before: HashMap<IndicatorKey, u64> = HashMap::new();
    let diff = mapped.diff(&nothing_before, &DiffOptions::new([kind]));
    let plan = Plan::new(&diff);

    let started = Instant::now();
    let (mut sender, receiver) = mpsc::channel::<BatchIndicator>(SEND_QUEUE);
    let mut outcomes = client.submit(plan.upsert_settings(), receiver);
    let produce = async move {
        for upsert in plan.upserts() {
            if futures::SinkExt::send(&mut sender, upsert.indicator)
                .await
                .is_err()
            {
                break;
            }
        }
    };
    let consume = async {
        let mut push = Push::default();
        while let Some(outcome) = outcomes.next().await {
            push.jobs += 1;
            match outcome {
                Ok(outcome) => {
                    push.indicators += outcome.indicator_count() as u64;
                    push.success_count += outcome.success_count;
                    push.jobs_clean += u64::from(outcome.is_clean());
                }
                Err(failure) => {
                    eprintln!("{failure}: {}", failure.error);
                    push.failed_jobs += 1;
                }
            }
        }
        push
    };
    let ((), mut push) = futures::join!(produce, consume);
    push.seconds = started.elapsed().as_secs_f64();
    Ok(push)
}

/// A loopback stand-in of the Batch API: every request is answered at once with a job that
/// completed and wrote every indicator the upload carried. Bodies are read, counted and
/// dropped as they arrive; nothing is kept.
struct StandIn {
    address: std::net::SocketAddr,
    totals: Arc<Totals>,
}

#[derive(Debug, Default)]
struct Totals {
    requests: AtomicU64,
    body_bytes: AtomicU64,
    indicators: AtomicU64,
    next_batch_id: AtomicU64,
}

/// What the stand-in received.
struct Received {
    requests: u64,
    body_bytes: u64,
    indicators: u64,
}

impl StandIn {
    fn start() -> std::io::Result<StandIn> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let address = listener.local_addr()?;
        let totals = Arc::new(Totals::default());
        let shared = Arc::clone(&totals);
        std::thread::spawn(move || {
            for connection in listener.incoming().flatten() {
                let totals = Arc::clone(&shared);
                std::thread::spawn(move || {
                    if let Err(error) = serve_connection(connection, &totals) {
                        eprintln!("stand-in: {error}");
                    }
                });
            }
        });
        Ok(StandIn { address, totals })
    }

    fn totals(&self) -> Received {
        Received {
            requests: self.totals.requests.load(Ordering::Relaxed),
            body_bytes: self.totals.body_bytes.load(Ordering::Relaxed),
            indicators: self.totals.indicators.load(Ordering::Relaxed),
        }
    }
}

/// Answers the requests of one keep-alive connection until the client closes it.
fn serve_connection(connection: TcpStream, totals: &Totals) -> std::io::Result<()> {
    let mut writer = connection.try_clone()?;
    let mut reader = BufReader::with_capacity(256 * 1024, connection);
    while let Some(head) = read_head(&mut reader)? {
        let mut counter = IndicatorCounter::default();
        let body_bytes = if head.chunked {
            read_chunked(&mut reader, &mut counter)?
        } else {
            read_exactly(&mut reader, head.content_length, &mut counter)?
        };
        totals.requests.fetch_add(1, Ordering::Relaxed);
        totals.body_bytes.fetch_add(body_bytes, Ordering::Relaxed);
        totals
            .indicators
            .fetch_add(counter.count, Ordering::Relaxed);

        let id = totals.next_batch_id.fetch_add(1, Ordering::Relaxed) + 1;
        let (status, body) = answer(&head, id, counter.count);
        write!(
            writer,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )?;
        writer.write_all(body.as_bytes())?;
        writer.flush()?;
    }
    Ok(())
}

/// The answer to one request: a completed job for an upload (and, should the client poll,
/// for a status request), 404 for anything else.
fn answer(head: &RequestHead, id: u64, indicators: u64) -> (&'static str, String) {
    let completed = format!(
        "{{\"status\":\"Success\",\"data\":{{\"batchStatus\":{{\"id\":{id},\
         \"status\":\"Completed\",\"errorCount\":0,\"successCount\":{indicators},\
         \"unprocessCount\":0}}}}}}"
    );
    if head.method == "POST" && head.path.contains("/v2/batch/createAndUpload") {
        ("201 Created", completed)
    } else if head.method == "GET" && head.path.contains("/v2/batch/") {
        ("200 OK", completed)
    } else {
        ("404 Not Found", "{\"status\":\"Failure\"}".to_owned())
    }
}

/// The request line and the headers that say how long the body is.
struct RequestHead {
    method: String,
    path: String,
    content_length: u64,
    chunked: bool,
}

/// The next request's head, or `None` where the client closed the connection.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<RequestHead>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut words = line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let mut head = RequestHead {
        method,
        path,
        content_length: 0,
        chunked: false,
    };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            return Ok(Some(head));
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            head.content_length = value.parse().unwrap_or(0);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
}

/// Reads and drops `length` bytes of body, counting the indicators in them.
fn read_exactly(
    reader: &mut impl BufRead,
    length: u64,
    counter: &mut IndicatorCounter,
) -> std::io::Result<u64> {
    let mut left = length;
    while left > 0 {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let take = buffer
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        counter.feed(&buffer[..take]);
        reader.consume(take);
        left -= take as u64;
    }
    Ok(length)
}

/// Reads and drops a chunked body, counting the indicators in it.
fn read_chunked(reader: &mut impl BufRead, counter: &mut IndicatorCounter) -> std::io::Result<u64> {
    let mut total = 0;
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let size = line.trim().split(';').next().unwrap_or_default();
        let size = u64::from_str_radix(size, 16)
            .map_err(|_| std::io::Error::other(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            break;
        }
        total += read_exactly(reader, size, counter)?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf)?;
    }
    // The trailer, up to its empty line.
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            return Ok(total);
        }
    }
}

/// Counts `{"summary":`, which opens every indicator of a batch document, across the pieces
/// a body arrives in.
#[derive(Default)]
struct IndicatorCounter {
    count: u64,
    /// The end of the previous piece, where a marker may have started.
    tail: Vec<u8>,
}

const MARKER: &[u8] = b"{\"summary\":";

impl IndicatorCounter {
    fn feed(&mut self, piece: &[u8]) {
        let keep = MARKER.len() - 1;
        let mut joined = std::mem::take(&mut self.tail);
        let head = &piece[..piece.len().min(keep)];
        joined.extend_from_slice(head);
        self.count += memchr::memmem::find_iter(&joined, MARKER).count() as u64;
        self.count += memchr::memmem::find_iter(piece, MARKER).count() as u64;

        self.tail = if piece.len() >= keep {
            piece[piece.len() - keep..].to_vec()
        } else {
            // A piece shorter than a marker: the bytes before it still count.
            joined[joined.len().saturating_sub(keep)..].to_vec()
        };
    }
}
