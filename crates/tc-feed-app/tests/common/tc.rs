//! A stand-in for ThreatConnect's Batch API that keeps what it was sent: it checks each
//! request's signature, creates jobs (`createAndUpload`, or create then upload), applies their
//! documents to the indicators it holds as the write types say, refuses the values a test
//! names, and answers status and error polls as the service does.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use threatconnect_client::{SecretString, sign};
use wiremock::matchers::path_regex;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// The API user's access id (not a secret).
pub const ACCESS_ID: &str = "71000000000000000017";

/// The API user's secret key. Distinctive, so that a scan for it finds every leak.
pub const SECRET_KEY: &str = "TCSECRETv8Lq3Nz6HwPb";

/// The owner the feed writes to.
pub const OWNER: &str = "Example Org";

/// One job the fake received.
#[derive(Debug, Clone)]
pub struct Job {
    /// Its id.
    pub id: i64,
    /// Its settings, as sent.
    pub settings: Value,
    /// Whether it came through `createAndUpload`.
    pub create_and_upload: bool,
    /// Its indicators, as sent (empty until uploaded).
    pub indicators: Vec<Value>,
    /// The values it refused, with the reasons.
    pub errors: Vec<(String, String)>,
    /// The values it left unprocessed (counted, not named).
    pub unprocessed: Vec<String>,
    /// Status polls answered.
    polls: usize,
}

impl Job {
    /// `Create` or `Delete`.
    pub fn action(&self) -> &str {
        self.settings["action"].as_str().unwrap_or("Create")
    }

    /// The owner it was sent for.
    pub fn owner(&self) -> &str {
        self.settings["owner"].as_str().unwrap_or_default()
    }

    /// The summaries of its indicators.
    pub fn summaries(&self) -> Vec<String> {
        self.indicators
            .iter()
            .map(|indicator| indicator["summary"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Written, refused, unprocessed.
    fn counts(&self) -> (usize, usize, usize) {
        let (errors, unprocessed) = (self.errors.len(), self.unprocessed.len());
        (
            self.indicators.len() - errors - unprocessed,
            errors,
            unprocessed,
        )
    }
}

#[derive(Debug, Default)]
struct Inner {
    next_id: i64,
    jobs: BTreeMap<i64, Job>,
    /// What the instance holds, by summary.
    held: BTreeMap<String, Value>,
    /// Values to refuse in Create jobs, with the reason.
    refuse: HashMap<String, String>,
    /// Values to leave unprocessed in Create jobs.
    leave_unprocessed: Vec<String>,
    /// Answer 401 to every request.
    refuse_credentials: bool,
    /// Uploads larger than this are refused as the service does.
    max_upload_bytes: Option<usize>,
    /// Uploads refused for their size.
    oversize_refusals: usize,
    /// Uploads holding this value fail with a 500.
    fail_uploads_holding: Option<String>,
    /// Whether createAndUpload answers with the finished job (as for small jobs).
    complete_in_upload: bool,
    /// Status polls answered `Running` before `Completed`.
    running_polls: usize,
    /// Requests seen, as `METHOD path`.
    requests: Vec<String>,
}

/// The fake Batch API, shared with the test that reads what it holds.
#[derive(Debug, Clone)]
pub struct FakeTc {
    inner: Arc<Mutex<Inner>>,
}

impl Default for FakeTc {
    fn default() -> FakeTc {
        let inner = Inner {
            next_id: 100,
            complete_in_upload: true,
            ..Inner::default()
        };
        FakeTc {
            inner: Arc::new(Mutex::new(inner)),
        }
    }
}

impl FakeTc {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Refuses `value` in every Create job with `reason`.
    pub fn refuse(&self, value: &str, reason: &str) {
        self.lock()
            .refuse
            .insert(value.to_owned(), reason.to_owned());
    }

    /// Leaves `value` unprocessed in every Create job: counted in `unprocessCount`, named
    /// nowhere.
    pub fn leave_unprocessed(&self, value: &str) {
        self.lock().leave_unprocessed.push(value.to_owned());
    }

    /// Processes every value from now on.
    pub fn process_everything(&self) {
        self.lock().leave_unprocessed.clear();
    }

    /// Refuses uploads larger than `bytes` with the service's 400 answer (F11).
    pub fn limit_uploads_to(&self, bytes: usize) {
        self.lock().max_upload_bytes = Some(bytes);
    }

    /// How many uploads were refused for their size.
    pub fn oversize_refusals(&self) -> usize {
        self.lock().oversize_refusals
    }

    /// Answers 500 to every createAndUpload whose document holds `value`; `None` stops it.
    pub fn fail_uploads_holding(&self, value: Option<&str>) {
        self.lock().fail_uploads_holding = value.map(str::to_owned);
    }

    /// Answers 401 to every request from now on.
    pub fn refuse_credentials(&self) {
        self.lock().refuse_credentials = true;
    }

    /// Jobs answer `Queued` to their upload and `Running` to the first `polls` status polls.
    pub fn finish_after_polls(&self, polls: usize) {
        let mut inner = self.lock();
        inner.complete_in_upload = false;
        inner.running_polls = polls;
    }

    /// Every job received, in order.
    pub fn jobs(&self) -> Vec<Job> {
        self.lock().jobs.values().cloned().collect()
    }

    /// The jobs received after the first `skip`.
    pub fn jobs_after(&self, skip: usize) -> Vec<Job> {
        self.jobs().into_iter().skip(skip).collect()
    }

    /// What the instance holds for `summary`.
    pub fn held(&self, summary: &str) -> Option<Value> {
        self.lock().held.get(summary).cloned()
    }

    /// Every summary the instance holds.
    pub fn held_summaries(&self) -> Vec<String> {
        self.lock().held.keys().cloned().collect()
    }

    /// Forgets `summary`, as if someone deleted it in ThreatConnect.
    pub fn forget(&self, summary: &str) {
        self.lock().held.remove(summary);
    }

    /// Requests seen, as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    fn new_job(&self, settings: Value, create_and_upload: bool) -> i64 {
        let mut inner = self.lock();
        inner.next_id += 1;
        let id = inner.next_id;
        let job = Job {
            id,
            settings,
            create_and_upload,
            indicators: Vec::new(),
            errors: Vec::new(),
            unprocessed: Vec::new(),
            polls: 0,
        };
        inner.jobs.insert(id, job);
        id
    }

    /// Takes a job's document and applies it to what the instance holds.
    fn upload(&self, id: i64, document: &[u8]) {
        let document: Value = serde_json::from_slice(document).expect("a JSON document");
        let indicators = document["indicator"].as_array().expect("an indicator list");
        let mut inner = self.lock();
        let settings = inner.jobs[&id].settings.clone();
        let mut errors = Vec::new();
        let mut unprocessed = Vec::new();
        for indicator in indicators {
            let value = indicator["summary"].as_str().unwrap().to_owned();
            let create = settings["action"] != "Delete";
            if create && inner.leave_unprocessed.contains(&value) {
                unprocessed.push(value);
            } else if let Err(reason) = apply(&mut inner, &settings, indicator) {
                errors.push((value, reason));
            }
        }
        let job = inner.jobs.get_mut(&id).unwrap();
        job.indicators = indicators.clone();
        job.errors = errors;
        job.unprocessed = unprocessed;
    }

    fn finished_status(&self, id: i64) -> Value {
        let inner = self.lock();
        let job = &inner.jobs[&id];
        let (success, errors, unprocessed) = job.counts();
        json!({
            "status": "Success",
            "data": {"batchStatus": {
                "id": id, "status": "Completed",
                "errorCount": errors, "successCount": success, "unprocessCount": unprocessed
            }}
        })
    }

    fn status(&self, id: i64) -> ResponseTemplate {
        let running = {
            let mut inner = self.lock();
            let running_polls = inner.running_polls;
            let Some(job) = inner.jobs.get_mut(&id) else {
                return ResponseTemplate::new(404).set_body_string("no such batch job");
            };
            job.polls += 1;
            job.polls <= running_polls
        };
        if running {
            return ResponseTemplate::new(200).set_body_json(json!({
                "status": "Success",
                "data": {"batchStatus": {"id": id, "status": "Running"}}
            }));
        }
        ResponseTemplate::new(200).set_body_json(self.finished_status(id))
    }

    fn errors(&self, id: i64) -> ResponseTemplate {
        let inner = self.lock();
        let Some(job) = inner.jobs.get(&id).filter(|job| !job.errors.is_empty()) else {
            return ResponseTemplate::new(404).set_body_string("no errors");
        };
        let errors: Vec<Value> = job
            .errors
            .iter()
            .map(|(value, reason)| json!({"errorReason": reason, "errorSource": value}))
            .collect();
        ResponseTemplate::new(200)
            .insert_header("Content-Type", "text/plain")
            .set_body_string(Value::Array(errors).to_string())
    }

    /// The answer to an upload that is not taken, if it is not.
    fn refusal(&self, document: &[u8]) -> Option<ResponseTemplate> {
        let mut inner = self.lock();
        if let Some(limit) = inner
            .max_upload_bytes
            .filter(|limit| document.len() > *limit)
        {
            inner.oversize_refusals += 1;
            let description = format!("File size greater than allowable limit of {limit}");
            let answer = json!({"status": "Invalid", "description": description});
            return Some(ResponseTemplate::new(400).set_body_json(answer));
        }
        let failing = inner.fail_uploads_holding.as_deref()?;
        let needle = format!("\"summary\":\"{failing}\"");
        find(document, needle.as_bytes())?;
        let answer = json!({"status": "Failure", "message": "Internal server error"});
        Some(ResponseTemplate::new(500).set_body_json(answer))
    }

    fn create_and_upload(&self, request: &Request) -> ResponseTemplate {
        let (config, content) = form_parts(request);
        if let Some(refusal) = self.refusal(&content) {
            return refusal;
        }
        let settings: Value = serde_json::from_slice(&config).expect("JSON job settings");
        let id = self.new_job(settings, true);
        self.upload(id, &content);
        if self.lock().complete_in_upload {
            return ResponseTemplate::new(201).set_body_json(self.finished_status(id));
        }
        ResponseTemplate::new(201).set_body_json(json!({
            "status": "Success",
            "data": {"batchStatus": {"id": id, "status": "Queued"}}
        }))
    }
}

/// Applies one indicator of a job to what the instance holds; `Err` with the reason where it
/// is refused.
fn apply(inner: &mut Inner, settings: &Value, indicator: &Value) -> Result<(), String> {
    let summary = indicator["summary"].as_str().unwrap().to_owned();
    if settings["action"] == "Delete" {
        return match inner.held.remove(&summary) {
            Some(_) => Ok(()),
            None => Err(format!("Error (0x1007): Item {summary} not found.")),
        };
    }
    if let Some(reason) = inner.refuse.get(&summary) {
        return Err(reason.clone());
    }

    let replace = settings["attributeWriteType"] == "Replace";
    match inner.held.get_mut(&summary) {
        Some(held) if !replace => append(held, indicator),
        _ => {
            inner.held.insert(summary, indicator.clone());
        }
    }
    Ok(())
}

/// Merges an `Append` document into what is held: lists grow, other fields are set.
fn append(held: &mut Value, indicator: &Value) {
    let (Some(held), Some(fields)) = (held.as_object_mut(), indicator.as_object()) else {
        return;
    };
    for (name, value) in fields {
        match (held.get_mut(name), value) {
            (Some(Value::Array(items)), Value::Array(more)) => {
                for item in more {
                    if !items.contains(item) {
                        items.push(item.clone());
                    }
                }
            }
            _ => {
                held.insert(name.clone(), value.clone());
            }
        }
    }
}

/// The `config` and `content` parts of a createAndUpload form.
fn form_parts(request: &Request) -> (Vec<u8>, Vec<u8>) {
    let content_type = request.headers["content-type"].to_str().unwrap();
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a multipart boundary")
        .trim_matches('"');
    let delimiter = format!("--{boundary}");
    let body = &request.body;

    let mut parts = HashMap::new();
    for part in split(body, delimiter.as_bytes()) {
        let Some(head_end) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..head_end]);
        let content = part[head_end + 4..]
            .strip_suffix(b"\r\n")
            .unwrap_or(&part[head_end + 4..]);
        for name in ["config", "content"] {
            if head.contains(&format!("name=\"{name}\"")) {
                parts.insert(name, content.to_vec());
            }
        }
    }
    (
        parts.remove("config").expect("a config part"),
        parts.remove("content").expect("a content part"),
    )
}

fn split<'a>(haystack: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = haystack;
    while let Some(at) = find(rest, delimiter) {
        parts.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    parts.push(rest);
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Whether the request carries a valid signature over its own path, query and timestamp.
fn signed(request: &Request) -> bool {
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    let (Some(timestamp), Some(authorization)) = (header("timestamp"), header("authorization"))
    else {
        return false;
    };
    let Ok(timestamp) = timestamp.parse::<i64>() else {
        return false;
    };
    let signed_path = match request.url.query() {
        Some(query) => format!("{}?{query}", request.url.path()),
        None => request.url.path().to_owned(),
    };
    let signature = sign(
        &SecretString::new(SECRET_KEY),
        &signed_path,
        request.method.as_str(),
        timestamp,
    );
    authorization == format!("TC {ACCESS_ID}:{signature}")
}

fn unauthorized() -> ResponseTemplate {
    ResponseTemplate::new(401).set_body_json(json!({
        "status": "Failure",
        "message": "Signature Data Did Not Match Expected Result"
    }))
}

impl Respond for FakeTc {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        let method = request.method.as_str().to_owned();
        self.lock().requests.push(format!("{method} {path}"));
        if self.lock().refuse_credentials || !signed(request) {
            return unauthorized();
        }

        let segments: Vec<&str> = path
            .trim_start_matches("/api/v2/batch")
            .split('/')
            .collect();
        match (method.as_str(), segments.as_slice()) {
            ("POST", ["", "createAndUpload"]) => self.create_and_upload(request),
            ("POST", [""]) => {
                let settings = serde_json::from_slice(&request.body).expect("JSON job settings");
                let id = self.new_job(settings, false);
                ResponseTemplate::new(201)
                    .set_body_json(json!({"status": "Success", "data": {"batchId": id}}))
            }
            ("POST", ["", id]) => {
                if let Some(refusal) = self.refusal(&request.body) {
                    return refusal;
                }
                self.upload(id.parse().unwrap(), &request.body);
                ResponseTemplate::new(202).set_body_json(json!({"status": "Queued"}))
            }
            ("GET", ["", id]) => self.status(id.parse().unwrap()),
            ("GET", ["", id, "errors"]) => self.errors(id.parse().unwrap()),
            _ => ResponseTemplate::new(404).set_body_string(format!("no route for {path}")),
        }
    }
}

/// The fake ThreatConnect and its behaviour.
pub struct TcServer {
    /// The server.
    pub server: MockServer,
    /// What it holds and what it received.
    pub fake: FakeTc,
}

impl TcServer {
    /// Starts an instance that holds nothing yet.
    pub async fn start() -> TcServer {
        let server = MockServer::start().await;
        let fake = FakeTc::default();
        Mock::given(path_regex("^/api/"))
            .respond_with(fake.clone())
            .mount(&server)
            .await;
        TcServer { server, fake }
    }

    /// The API base URL, `http://127.0.0.1:<port>/api`.
    pub fn url(&self) -> String {
        format!("{}/api", self.server.uri())
    }
}
