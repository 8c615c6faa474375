//! Grouping and diffing synthetic lists of 250k and 1M indicators, to show the cost per
//! indicator and that it stays the same as the list grows.
//!
//! ```sh
//! cargo bench -p reputation-mapper --bench group_diff
//! ```
//!
//! The lists are made in code: three IPv4 addresses in four, a few IPv6 addresses, the rest
//! host names; every other indicator on two rows. The previous import for the diff is the
//! same list with 2% of fingerprints changed, 1% of keys missing and 1% extra.

use std::collections::HashMap;
use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use chrono::NaiveDate;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_main};
use proofpoint_et_client::{CategoryRef, Indicator, ListKind, Ports, Row, RowSink, Score};
use reputation_mapper::{
    CategoryNames, DiffOptions, Grouper, IndicatorKey, MappedIndicators, MapperConfig, Plan,
};
use rustc_hash::FxBuildHasher;

const SIZES: [usize; 3] = [250_000, 500_000, 1_000_000];

/// The published category table's IDs, with its gaps.
const IDS: [u16; 33] = [
    1, 2, 3, 4, 5, 6, 7, 9, 10, 13, 15, 16, 17, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 33,
    34, 35, 37, 38, 39, 40, 41,
];

/// Names every category `C<id>`: the bench measures the mapper, not a table.
struct Names(Vec<String>);

impl Names {
    fn new() -> Names {
        Names((0..=41).map(|id| format!("C{id}")).collect())
    }
}

impl CategoryNames for Names {
    fn name(&self, id: u16) -> Option<&str> {
        IDS.contains(&id).then(|| self.0[usize::from(id)].as_str())
    }

    fn id_by_name(&self, name: &str) -> Option<u16> {
        name.strip_prefix('C')?
            .parse()
            .ok()
            .filter(|id| IDS.contains(id))
    }
}

/// The values of a synthetic list; rows borrow the host names from it.
struct Values {
    hosts: Vec<String>,
    count: usize,
}

impl Values {
    fn new(count: usize) -> Values {
        let hosts = (0..count / 4)
            .map(|n| format!("h{n:x}.s{}.example", n % 97))
            .collect();
        Values { hosts, count }
    }

    fn rows(&self) -> Vec<Row<'_>> {
        let day0 = NaiveDate::from_ymd_opt(2019, 1, 1).unwrap();
        let mut rows = Vec::with_capacity(self.count * 3 / 2);
        for n in 0..self.count {
            let indicator = self.indicator(n);
            let first = day0 + chrono::Days::new((n % 400) as u64);
            let last = first + chrono::Days::new((n % 30) as u64);
            rows.push(row(
                indicator,
                IDS[n % IDS.len()],
                20 + (n * 7 % 108) as u8,
                first,
                last,
            ));
            if n % 2 == 0 {
                let other = IDS[(n / 2 + 5) % IDS.len()];
                rows.push(row(
                    indicator,
                    other,
                    20 + (n * 13 % 108) as u8,
                    first,
                    last,
                ));
            }
        }
        rows
    }

    fn indicator(&self, n: usize) -> Indicator<'_> {
        match n % 4 {
            3 => Indicator::Domain(&self.hosts[n / 4]),
            _ if n % 50 == 1 => Indicator::Ipv6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | n as u128)),
            // An odd multiplier spreads the addresses over the space without repeating one.
            _ => Indicator::Ipv4(Ipv4Addr::from((n as u32 + 1).wrapping_mul(2_654_435_761))),
        }
    }
}

fn row<'a>(
    indicator: Indicator<'a>,
    id: u16,
    score: u8,
    first: NaiveDate,
    last: NaiveDate,
) -> Row<'a> {
    Row {
        indicator,
        category: CategoryRef::Id(id),
        score: Score::new(score).unwrap(),
        first_seen: Some(first),
        last_seen: Some(last),
        ports: Ports::default(),
    }
}

fn group(config: &MapperConfig, names: &Names, rows: &[Row<'_>]) -> MappedIndicators {
    let mut grouper = Grouper::new(config, names).unwrap();
    for row in rows {
        grouper.row(*row);
    }
    grouper.finish()
}

type State = HashMap<IndicatorKey, u64, FxBuildHasher>;

/// The previous import: this one with 2% changed, 1% missing, 1% extra.
fn previous_import(mapped: &MappedIndicators) -> State {
    let mut state = State::default();
    for (n, indicator) in mapped.iter().enumerate() {
        match n % 100 {
            0 => {}
            1 | 2 => {
                state.insert(indicator.key(), indicator.fingerprint() ^ 1);
            }
            _ => {
                state.insert(indicator.key(), indicator.fingerprint());
            }
        }
    }
    for n in 0..mapped.len() / 100 {
        let key = IndicatorKey::parse(&format!("Host\tgone{n}.example")).unwrap();
        state.insert(key, 1);
    }
    state
}

/// The resident set size, where the system says (Linux).
fn resident_mib() -> Option<f64> {
    status_mib("VmRSS:")
}

/// The peak resident set size so far, where the system says (Linux).
fn peak_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

fn status_mib(field: &str) -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: f64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn report_memory(count: usize, config: &MapperConfig, names: &Names) {
    let values = Values::new(count);
    let rows = values.rows();
    let before = resident_mib();
    let mapped = group(config, names, &rows);
    let (grouped, peak) = (resident_mib(), peak_mib());
    let state = previous_import(&mapped);
    let with_state = resident_mib();
    if let (Some(before), Some(grouped), Some(peak), Some(with_state)) =
        (before, grouped, peak, with_state)
    {
        let per_indicator = (grouped - before) * 1024.0 * 1024.0 / mapped.len() as f64;
        eprintln!(
            "{count} indicators from {} rows: grouped {:.0} MiB ({per_indicator:.0} bytes per \
             indicator, peak {:.0} MiB while grouping); a HashMap<IndicatorKey, u64> state of \
             them {:.0} MiB more",
            rows.len(),
            grouped - before,
            peak - before,
            with_state - grouped,
        );
    }
    drop(state);
}

fn benches(c: &mut Criterion) {
    let config = MapperConfig::builder("Example Org").build().unwrap();
    let names = Names::new();
    let imported = DiffOptions::new([ListKind::Ip, ListKind::Domain]);
    report_memory(SIZES[2], &config, &names);

    let mut grouping = c.benchmark_group("group");
    grouping
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for count in SIZES {
        let values = Values::new(count);
        let rows = values.rows();
        grouping.throughput(Throughput::Elements(count as u64));
        grouping.bench_with_input(BenchmarkId::from_parameter(count), &rows, |b, rows| {
            b.iter(|| black_box(group(&config, &names, rows)));
        });
    }
    grouping.finish();

    let mut diffing = c.benchmark_group("diff");
    diffing
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for count in SIZES {
        let values = Values::new(count);
        let mapped = group(&config, &names, &values.rows());
        let state = previous_import(&mapped);
        diffing.throughput(Throughput::Elements(count as u64));
        diffing.bench_with_input(BenchmarkId::from_parameter(count), &state, |b, state| {
            b.iter(|| black_box(mapped.diff(state, &imported).counts().to_send.total()));
        });
    }
    diffing.finish();

    // The documents of a full refresh, serialised: what a dry run writes on top of the diff.
    let mut documents = c.benchmark_group("full_refresh_documents");
    documents
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    for count in SIZES {
        let values = Values::new(count);
        let mapped = group(&config, &names, &values.rows());
        let state = previous_import(&mapped);
        let diff = mapped.diff(&state, &imported.full_refresh(true));
        documents.throughput(Throughput::Elements(count as u64));
        documents.bench_function(BenchmarkId::from_parameter(count), |b| {
            b.iter(|| {
                let plan = Plan::new(&diff);
                let mut sink = std::io::sink();
                for upsert in plan.upserts() {
                    serde_json::to_writer(&mut sink, &upsert.indicator).unwrap();
                }
            });
        });
    }
    documents.finish();
}

// The macro makes a public function it cannot document.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(group_diff, super::benches);
}

criterion_main!(harness::group_diff);
