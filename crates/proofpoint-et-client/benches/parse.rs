//! Parsing speed of a detailed IP list.
//!
//! `ET_BENCH_LIST` names the list to parse, such as the one `../shared/tools/gen-et-lists
//! --out DIR --ips 1000000` writes; the same run then times `wc -l` on that file, so that the
//! two figures can be compared. Without it, a small list made here is parsed, so that a plain
//! `cargo bench` works anywhere.
//!
//! ```sh
//! ET_BENCH_LIST=/tmp/et/detailed-iprepdata.txt cargo bench -p proofpoint-et-client
//! ```

// criterion_group! and criterion_main! make public functions that cannot carry docs.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use proofpoint_et_client::{ListParser, Rejection, Row, RowSink};

/// A sink that looks at every row, as a grouper would, and keeps nothing.
#[derive(Default)]
struct Touch {
    score_sum: u64,
    rejected: u64,
}

impl RowSink for Touch {
    fn row(&mut self, row: Row<'_>) {
        self.score_sum += u64::from(row.score.get());
        black_box(&row);
    }

    fn rejection(&mut self, _rejection: Rejection) {
        self.rejected += 1;
    }
}

/// A detailed IP list of `rows` rows, made up from documentation-like addresses.
fn made_up_list(rows: u32) -> Vec<u8> {
    let mut list = String::from("ip, category, score, first_seen, last_seen, ports (|)\n");
    for i in 0..rows {
        let [a, b, c, d] = (i.wrapping_mul(2_654_435_761)).to_be_bytes();
        let category = [1, 2, 3, 10, 13, 21, 23, 33][i as usize % 8];
        list.push_str(&format!(
            "{}.{b}.{c}.{d},{category},{},2020-0{}-1{},2020-1{}-2{},{}\n",
            a.max(1),
            20 + i % 108,
            1 + i % 9,
            i % 10,
            i % 3,
            i % 10,
            ["", "80", "443 8080", "22|23"][i as usize % 4],
        ));
    }
    list.into_bytes()
}

fn parse_all(list: &[u8]) -> Touch {
    let mut sink = Touch::default();
    let mut parser = ListParser::named("bench");
    for chunk in list.chunks(256 * 1024) {
        parser.feed(chunk, &mut sink).expect("the list parses");
    }
    parser.finish(&mut sink).expect("the list parses");
    sink
}

fn count_lines(list: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', list).count() as u64
}

fn bench_parse(c: &mut Criterion) {
    let path = std::env::var_os("ET_BENCH_LIST").map(PathBuf::from);
    let list = match &path {
        Some(path) => std::fs::read(path).expect("ET_BENCH_LIST names a readable file"),
        None => made_up_list(20_000),
    };
    let rows = count_lines(&list).saturating_sub(1);

    let mut group = c.benchmark_group("detailed-ip");
    group.throughput(Throughput::Elements(rows));
    if path.is_some() {
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(20));
    }

    group.bench_function("parse", |b| b.iter(|| parse_all(black_box(&list))));

    if let Some(path) = &path {
        group.bench_function("wc -l", |b| {
            b.iter(|| {
                let output = Command::new("wc")
                    .arg("-l")
                    .arg(path)
                    .output()
                    .expect("wc runs");
                assert!(output.status.success());
                black_box(output.stdout)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
