//! A stand-in for the ET Intelligence list server: `/<code>/reputation/<file>`, with `.md5sum`
//! sidecars, `ETag` and `Last-Modified`, answering 304 to a request that carries the list's
//! current validator.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use proofpoint_et_client::Md5Digest;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The subscription code the fake server accepts. Distinctive, so that a scan for it finds
/// every leak.
pub const CODE: &str = "ETCODEq7Zr4xW9kv2M";

/// One list as the server publishes it.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The bytes served.
    pub body: Vec<u8>,
    /// The `ETag`, where the server gives one.
    pub etag: Option<String>,
    /// The `Last-Modified`, where the server gives one.
    pub last_modified: Option<String>,
    /// Whether the `.md5sum` sidecar exists.
    pub sidecar: bool,
}

impl Published {
    /// `body` with a sidecar and no validators.
    pub fn with_sidecar(body: impl Into<Vec<u8>>) -> Published {
        Published {
            body: body.into(),
            sidecar: true,
            ..Published::default()
        }
    }

    /// `body` with an `ETag` and no sidecar.
    pub fn with_etag(body: impl Into<Vec<u8>>, etag: &str) -> Published {
        Published {
            body: body.into(),
            etag: Some(format!("\"{etag}\"")),
            ..Published::default()
        }
    }
}

/// One request the server answered.
#[derive(Debug, Clone)]
pub struct Served {
    /// The file asked for (a list, a sidecar, `categories.txt`).
    pub file: String,
    /// The `If-None-Match` it carried.
    pub if_none_match: Option<String>,
    /// The `If-Modified-Since` it carried.
    pub if_modified_since: Option<String>,
    /// The status answered.
    pub status: u16,
}

#[derive(Debug, Default)]
struct Inner {
    lists: HashMap<String, Published>,
    served: Vec<Served>,
    refuse_the_code: bool,
}

/// The fake server's behaviour, shared with the test that changes what it publishes.
#[derive(Debug, Clone, Default)]
pub struct FakeEt {
    inner: Arc<Mutex<Inner>>,
}

impl FakeEt {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Publishes `list` under `file`, replacing what was there.
    pub fn publish(&self, file: &str, list: Published) {
        self.lock().lists.insert(file.to_owned(), list);
    }

    /// Takes `file` down: 404 from now on.
    pub fn unpublish(&self, file: &str) {
        self.lock().lists.remove(file);
    }

    /// Whether the server refuses the code (401, echoing the path it refused).
    pub fn refuse_the_code(&self, refuse: bool) {
        self.lock().refuse_the_code = refuse;
    }

    /// Every request answered so far.
    pub fn served(&self) -> Vec<Served> {
        self.lock().served.clone()
    }

    /// How many times the body of `file` was sent (200 answers to the list itself).
    pub fn bodies_sent(&self, file: &str) -> usize {
        self.lock()
            .served
            .iter()
            .filter(|served| served.file == file && served.status == 200)
            .count()
    }

    /// The requests for `file` itself (not its sidecar).
    pub fn requests_for(&self, file: &str) -> Vec<Served> {
        self.lock()
            .served
            .iter()
            .filter(|served| served.file == file)
            .cloned()
            .collect()
    }

    /// How many requests were answered.
    pub fn request_count(&self) -> usize {
        self.lock().served.len()
    }

    /// The status and the answer for `file`.
    fn answer(&self, file: &str, request: &Request) -> (u16, ResponseTemplate) {
        let not_found = || (404, ResponseTemplate::new(404).set_body_string("not found"));
        let lists = &self.lock().lists;
        if file == "categories.txt" {
            let table = std::fs::read(super::fixture("categories.txt")).unwrap();
            return (200, ResponseTemplate::new(200).set_body_bytes(table));
        }
        if let Some(list_name) = file.strip_suffix(".md5sum") {
            return match lists.get(list_name) {
                Some(list) if list.sidecar => {
                    let md5 = Md5Digest::of(&list.body);
                    let sidecar = format!("{md5}  {list_name}\n");
                    (200, ResponseTemplate::new(200).set_body_string(sidecar))
                }
                _ => not_found(),
            };
        }
        let Some(list) = lists.get(file) else {
            return not_found();
        };

        let header = |name| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let etag_matches = list.etag.is_some() && header("if-none-match") == list.etag.as_deref();
        let date_matches = list.last_modified.is_some()
            && header("if-modified-since") == list.last_modified.as_deref();
        let status = if etag_matches || date_matches {
            304
        } else {
            200
        };
        let mut template = ResponseTemplate::new(status);
        if status == 200 {
            template = template.set_body_bytes(list.body.clone());
        }
        if let Some(etag) = &list.etag {
            template = template.insert_header("ETag", etag.as_str());
        }
        if let Some(date) = &list.last_modified {
            template = template.insert_header("Last-Modified", date.as_str());
        }
        (status, template)
    }
}

impl Respond for FakeEt {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let mut segments = path.trim_start_matches('/').splitn(3, '/');
        let (code, folder, file) = (segments.next(), segments.next(), segments.next());

        let refused = self.lock().refuse_the_code;
        let (status, template) = match (code, folder, file) {
            (Some(CODE), Some("reputation"), Some(file)) if !refused => self.answer(file, request),
            // A server that echoes the path it refused, subscription code included: what the
            // client shows of it must be masked.
            _ => {
                let refusal = format!("no subscription for {path}");
                (401, ResponseTemplate::new(401).set_body_string(refusal))
            }
        };

        let header = |name| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let served = Served {
            file: file.unwrap_or_default().to_owned(),
            if_none_match: header("if-none-match"),
            if_modified_since: header("if-modified-since"),
            status,
        };
        self.lock().served.push(served);
        template
    }
}

/// The fake ET server and its behaviour.
pub struct EtServer {
    /// The server.
    pub server: MockServer,
    /// What it publishes and what it served.
    pub fake: FakeEt,
}

impl EtServer {
    /// Starts a server that publishes nothing yet.
    pub async fn start() -> EtServer {
        let server = MockServer::start().await;
        let fake = FakeEt::default();
        Mock::given(method("GET"))
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        EtServer { server, fake }
    }

    /// The base URL, without the code.
    pub fn url(&self) -> String {
        self.server.uri()
    }
}
