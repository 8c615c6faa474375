//! F13: list bodies that end early or stall, served by a raw TCP server on 127.0.0.1.

#![cfg(feature = "http")]

mod common;

use std::time::{Duration, Instant};

use common::http::{assert_masked, builder, fetch};
use proofpoint_et_client::{Error, FetchOutcome, ListFile, Validators};
use test_support::raw_http::{RawServer, Step};

const LINES: [&str; 3] = [
    "198.51.100.1,1,50\n",
    "198.51.100.2,1,50\n",
    "203.0.113.77,1,50\n",
];

fn whole_body() -> String {
    LINES.concat()
}

fn not_found() -> Vec<Step> {
    vec![Step::send(
        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )]
}

/// A server that has no sidecars and answers the list with `body_steps`.
fn server(body_steps: impl Fn() -> Vec<Step> + Send + Sync + 'static) -> RawServer {
    RawServer::start(move |path| {
        if path.ends_with(".md5sum") {
            not_found()
        } else {
            body_steps()
        }
    })
}

fn head_with_length() -> Step {
    Step::send(format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        whole_body().len()
    ))
}

fn assert_cut(outcome: &Result<FetchOutcome, Error>) {
    let Err(error) = outcome else {
        panic!("a cut body must fail the fetch: {outcome:?}")
    };
    let Error::Transport { what, file, .. } = error else {
        panic!("{error:?}")
    };
    assert_eq!((*what, file.as_str()), ("downloading", "iprepdata.txt"));
    assert_masked(error);
}

#[tokio::test]
async fn f13_a_body_shorter_than_its_content_length_fails_the_download() {
    // F13 (a): 54 bytes declared, the first two lines sent, then the connection closes.
    let server = server(|| {
        vec![
            head_with_length(),
            Step::send(LINES[0]),
            Step::send(LINES[1]),
        ]
    });

    let (outcome, _) = fetch(
        &builder(&server.url()).build().unwrap(),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    assert_cut(&outcome);
}

#[tokio::test]
async fn f13_a_chunked_body_without_its_last_chunk_fails_the_download() {
    // F13 (b): chunked, the first two lines as one chunk, then the connection closes.
    let server = server(|| {
        let first = format!("{}{}", LINES[0], LINES[1]);
        vec![
            Step::send(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
            ),
            Step::send(format!("{:x}\r\n{first}\r\n", first.len())),
        ]
    });

    let (outcome, _) = fetch(
        &builder(&server.url()).build().unwrap(),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    assert_cut(&outcome);
}

#[tokio::test]
async fn f13_a_body_that_stalls_fails_within_the_idle_timeout() {
    // F13 (c): 54 bytes declared, two lines sent, then silence.
    let server = server(|| {
        vec![
            head_with_length(),
            Step::send(LINES[0]),
            Step::send(LINES[1]),
            Step::Pause(Duration::from_secs(5)),
        ]
    });
    let source = builder(&server.url())
        .read_timeout(Duration::from_millis(500))
        .build()
        .unwrap();

    let started = Instant::now();
    let (outcome, _) = fetch(&source, ListFile::SHORT_IP, &Validators::default()).await;
    assert_cut(&outcome);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "ended by the idle timeout, not the server"
    );
    let Err(Error::Transport { source, .. }) = &outcome else {
        unreachable!()
    };
    assert!(source.is_timeout(), "{source:?}");
}

#[tokio::test]
async fn f13_a_slow_body_that_keeps_arriving_is_not_cut_off() {
    // F13 (d), at a short interval: a line every 400 ms, longer in all than the idle timeout.
    let server = server(|| {
        let mut steps = vec![head_with_length()];
        for line in LINES {
            steps.push(Step::Pause(Duration::from_millis(400)));
            steps.push(Step::send(line));
        }
        steps
    });
    let source = builder(&server.url())
        .read_timeout(Duration::from_millis(800))
        .build()
        .unwrap();

    let started = Instant::now();
    let (outcome, sink) = fetch(&source, ListFile::SHORT_IP, &Validators::default()).await;
    assert!(
        matches!(outcome, Ok(FetchOutcome::Complete { .. })),
        "{outcome:?}"
    );
    assert!(
        started.elapsed() > Duration::from_millis(800),
        "longer than the idle timeout"
    );
    assert_eq!(sink.rows.len(), 3);
}

#[tokio::test]
async fn f16_a_gzip_body_served_as_plain_text_is_read_by_its_magic_bytes() {
    // F16 (b): the gzip of a one-line list served as iprepdata.txt, no Content-Encoding.
    let gzip = std::fs::read(common::fixture("f16/iprepdata-gzip-served-as-text.txt")).unwrap();
    let server = server(move || {
        vec![
            Step::send(format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                gzip.len()
            )),
            Step::Send(gzip.clone()),
        ]
    });

    let (outcome, sink) = fetch(
        &builder(&server.url()).build().unwrap(),
        ListFile::SHORT_IP,
        &Validators::default(),
    )
    .await;
    let Ok(FetchOutcome::Complete { summary, .. }) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(summary.gzip);
    assert_eq!(sink.rendered_rows(), ["198.51.100.23 1 98 - - []"]);
}
