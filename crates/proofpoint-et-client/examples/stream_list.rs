//! Streams a list file from a loopback server through `HttpSource`, to measure memory.
//!
//! ```sh
//! python3 ../shared/tools/gen-et-lists --out /tmp/et --ips 1000000 --gzip
//! cargo build --release -p proofpoint-et-client --example stream_list
//! /usr/bin/time -v target/release/examples/stream_list /tmp/et/detailed-iprepdata.txt.gz
//! ```
//!
//! The server (on 127.0.0.1, in this process) answers every list request with the file and
//! has no sidecars; the rows are counted and dropped, as a caller that groups them would.

use std::time::Instant;

use proofpoint_et_client::{
    FetchOutcome, HttpSource, ListFile, ListSource, Rejection, Row, RowSink, SubscriptionCode,
    Validators,
};
use test_support::raw_http::{RawServer, Step};

#[derive(Default)]
struct Count {
    rows: u64,
    rejected: u64,
}

impl RowSink for Count {
    fn row(&mut self, _row: Row<'_>) {
        self.rows += 1;
    }

    fn rejection(&mut self, _rejection: Rejection) {
        self.rejected += 1;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: stream_list LIST-FILE")?;
    let length = std::fs::metadata(&path)?.len();
    let server = RawServer::start(move |request_path| {
        if request_path.ends_with(".md5sum") {
            return vec![Step::send(
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            )];
        }
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n");
        vec![Step::send(head), Step::SendFile(path.clone().into())]
    });

    let source = HttpSource::builder(server.url(), SubscriptionCode::new("example-code")?)
        .proxy_from_env(false)
        .build()?;
    let started = Instant::now();
    let mut count = Count::default();
    let file = ListFile::DETAILED_IP.gzipped();
    let outcome = source
        .fetch(file, &Validators::default(), &mut count)
        .await?;

    let FetchOutcome::Complete { summary, .. } = outcome else {
        return Err("the server said not modified".into());
    };
    println!(
        "{} rows, {} rejected, gzip {}, {:.2} s",
        count.rows,
        count.rejected,
        summary.gzip,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
