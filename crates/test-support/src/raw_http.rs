//! A small HTTP/1.1 server on 127.0.0.1 that answers with raw bytes, step by step.
//!
//! Mock servers answer whole; this one can send part of a body and close, stop sending and
//! stay silent, or send slowly: what a download cut or stalled mid-body looks like.
//!
//! ```no_run
//! use std::time::Duration;
//! use test_support::raw_http::{RawServer, Step};
//!
//! let server = RawServer::start(|_path| {
//!     vec![
//!         Step::send("HTTP/1.1 200 OK\r\nContent-Length: 52\r\n\r\n"),
//!         Step::send("198.51.100.1,1,50\n"),
//!         Step::Pause(Duration::from_secs(5)),
//!     ]
//! });
//! let url = server.url();
//! # let _ = url;
//! ```

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// One step of an answer. The connection closes after the last step.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Send this file, in chunks.
    SendFile(PathBuf),
    /// Send nothing for this long.
    Pause(Duration),
}

impl Step {
    /// Send `bytes`.
    pub fn send(bytes: impl AsRef<[u8]>) -> Step {
        Step::Send(bytes.as_ref().to_vec())
    }
}

/// The server; it runs until the test process ends.
#[derive(Debug)]
pub struct RawServer {
    addr: SocketAddr,
}

type Reply = dyn Fn(&str) -> Vec<Step> + Send + Sync;

impl RawServer {
    /// Starts a server that answers each request for a path with the steps `reply` gives.
    ///
    /// # Panics
    ///
    /// Panics where no port on 127.0.0.1 can be bound.
    pub fn start(reply: impl Fn(&str) -> Vec<Step> + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let reply: Arc<Reply> = Arc::new(reply);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let reply = Arc::clone(&reply);
                thread::spawn(move || answer(stream, &*reply));
            }
        });
        RawServer { addr }
    }

    /// The server's base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn answer(mut stream: TcpStream, reply: &Reply) {
    let Some(path) = read_request_path(&mut stream) else {
        return;
    };
    for step in reply(&path) {
        let sent = match step {
            Step::Send(bytes) => stream.write_all(&bytes).and_then(|()| stream.flush()),
            Step::SendFile(path) => send_file(&mut stream, &path),
            Step::Pause(wait) => {
                thread::sleep(wait);
                Ok(())
            }
        };
        if sent.is_err() {
            return;
        }
    }
}

fn send_file(stream: &mut TcpStream, path: &PathBuf) -> std::io::Result<()> {
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            return stream.flush();
        }
        stream.write_all(&buffer[..read])?;
    }
}

/// Reads a request's head and gives its path.
fn read_request_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let request_line = head.lines().next()?;
    request_line.split(' ').nth(1).map(str::to_owned)
}
