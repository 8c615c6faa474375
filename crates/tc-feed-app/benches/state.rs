//! How fast the state loads, compacts and commits at the feed's scale (1.3M indicators).
//!
//! `cargo bench -p tc-feed-app --bench state`; `TC_FEED_BENCH_STATE_SIZE` changes the size.

use std::hint::black_box;

use criterion::{Criterion, criterion_main};
use reputation_mapper::IndicatorKey;
use tc_feed_app::state::{Identity, State, StateDelta};

fn size() -> usize {
    std::env::var("TC_FEED_BENCH_STATE_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_300_000)
}

fn filled_state(path: &std::path::Path, count: usize) -> State {
    let identity = Identity {
        url: "https://tc.example/api".into(),
        owner: "Bench Org".into(),
    };
    let mut state = State::create(path, identity);
    let upserted = (0..count)
        .map(|i| {
            let text = format!(
                "Address\t{}.{}.{}.{}",
                1 + i / 16_777_216,
                i / 65_536 % 256,
                i / 256 % 256,
                i % 256
            );
            (IndicatorKey::parse(&text).unwrap(), i as u64)
        })
        .collect();
    state
        .commit(StateDelta {
            upserted,
            sent_at: 1,
            ..StateDelta::default()
        })
        .unwrap();
    state.compact().unwrap();
    state
}

fn bench_state(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    let count = size();
    let mut state = filled_state(&path, count);

    let mut group = c.benchmark_group(format!("state_{count}"));
    group.sample_size(10);
    group.bench_function("load", |b| {
        b.iter(|| black_box(State::open(&path).unwrap()))
    });
    group.bench_function("compact", |b| b.iter(|| state.compact().unwrap()));
    group.bench_function("commit_5000", |b| {
        let upserted: Vec<(IndicatorKey, u64)> = (0..5000)
            .map(|i| {
                (
                    IndicatorKey::parse(&format!("Host\th{i}.example")).unwrap(),
                    i,
                )
            })
            .collect();
        b.iter(|| {
            let delta = StateDelta {
                upserted: upserted.clone(),
                sent_at: 2,
                ..Default::default()
            };
            state.commit(delta).unwrap();
        })
    });
    group.finish();
}

// criterion's macros generate undocumented public functions.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(benches, super::bench_state);
}
criterion_main!(harness::benches);
