//! A tiny HTTP/1.1 test server on 127.0.0.1 that serves recorded index answers
//! and scripted failures. Each connection gets one response (`Connection: close`).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One scripted response.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Sleep before answering.
    pub delay: Duration,
    /// How a `Range` request is answered.
    pub ranges: Ranges,
}

/// How the server answers a `Range: bytes=A-B` (or `bytes=-N`) request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranges {
    /// Ignored: 200 with the whole body (many servers).
    Ignore,
    /// 206 with the bytes asked for and a true `Content-Range`.
    Honour,
    /// 206 with the bytes asked for, but a `Content-Range` that names
    /// other bytes (one further on).
    LieInHeader,
}

impl Reply {
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
            ranges: Ranges::Ignore,
        }
    }

    /// A 200 with a binary body.
    pub fn bytes(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "application/octet-stream".into())],
            body: body.into(),
            delay: Duration::ZERO,
            ranges: Ranges::Ignore,
        }
    }

    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
            ranges: Ranges::Ignore,
        }
    }

    /// Answers range requests as `ranges` says.
    pub fn ranges(mut self, ranges: Ranges) -> Self {
        self.ranges = ranges;
        self
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

/// A request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub headers: HashMap<String, String>,
}

type Routes = HashMap<String, Vec<Reply>>;

/// The server; stops when dropped (its thread ends with the test process).
pub struct Server {
    pub port: u16,
    routes: Arc<Mutex<Routes>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    sent: Arc<Mutex<HashMap<String, u64>>>,
}

impl Server {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let sent: Arc<Mutex<HashMap<String, u64>>> = Arc::default();
        let (r, s, b) = (routes.clone(), seen.clone(), sent.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, s, b) = (r.clone(), s.clone(), b.clone());
                thread::spawn(move || handle(stream, &r, &s, &b));
            }
        });
        Self {
            port,
            routes,
            seen,
            sent,
        }
    }

    /// `http://127.0.0.1:PORT/simple`.
    pub fn index_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple", self.port)
    }

    /// Serves `replies` in order for `path`; the last one repeats.
    pub fn route(&self, path: &str, replies: Vec<Reply>) -> &Self {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), replies);
        self
    }

    /// Serves a recorded JSON API answer from `testdata/index/json/<name>.json`.
    pub fn project(&self, name: &str) -> &Self {
        let body =
            std::fs::read(crate::common::testdata(&format!("index/json/{name}.json"))).unwrap();
        self.route(&format!("/pypi/{name}/json"), vec![Reply::json(body)])
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.seen().iter().filter(|s| s.path == path).count()
    }

    /// Body bytes written for `path` so far.
    pub fn bytes_sent(&self, path: &str) -> u64 {
        self.sent.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` of a body of `len` bytes, as
/// (first, last); `None` when not satisfiable or not one range.
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (first, last) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (len.saturating_sub(n), len - 1)
    } else {
        let first: u64 = a.parse().ok()?;
        let last = if b.is_empty() {
            len - 1
        } else {
            b.parse::<u64>().ok()?.min(len - 1)
        };
        (first, last)
    };
    (first <= last && first < len).then_some((first, last))
}

/// The reply to send, given a `Range` header: a 206 of the part asked for
/// when the route honours ranges (truthfully or not).
fn answer_range(reply: Reply, range: Option<&String>) -> Reply {
    let len = reply.body.len() as u64;
    let Some((first, last)) = range.and_then(|r| parse_range(r, len)) else {
        return reply;
    };
    if reply.status != 200 || reply.ranges == Ranges::Ignore {
        return reply;
    }
    let (a, b) = if reply.ranges == Ranges::LieInHeader {
        (first + 1, last + 1)
    } else {
        (first, last)
    };
    let mut part = reply.clone();
    part.status = 206;
    part.body = reply.body[first as usize..=last as usize].to_vec();
    part.headers
        .push(("Content-Range".into(), format!("bytes {a}-{b}/{len}")));
    part
}

fn handle(
    stream: TcpStream,
    routes: &Mutex<Routes>,
    seen: &Mutex<Vec<Seen>>,
    sent: &Mutex<HashMap<String, u64>>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        headers: headers.clone(),
    });
    let reply = {
        let mut r = routes.lock().unwrap();
        match r.get_mut(&path) {
            Some(list) if list.len() > 1 => list.remove(0),
            Some(list) if !list.is_empty() => list[0].clone(),
            _ => Reply::status(404),
        }
    };
    // A conditional request for an ETag we serve gets a 304.
    let etag = reply
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
        .map(|(_, v)| v.clone());
    let reply = match (etag, headers.get("if-none-match")) {
        (Some(tag), Some(sent)) if &tag == sent => Reply::status(304).header("ETag", &tag),
        _ => reply,
    };
    let reply = answer_range(reply, headers.get("range"));
    thread::sleep(reply.delay);
    let mut out = stream;
    let reason = match reply.status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nConnection: close\r\n",
        reply.status
    );
    let has_length = reply
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    for (k, v) in &reply.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_length {
        head.push_str(&format!("Content-Length: {}\r\n", reply.body.len()));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    // Counted as written (a client that hangs up early is not counted for
    // what it did not take).
    for piece in reply.body.chunks(16 * 1024) {
        if out.write_all(piece).is_err() {
            break;
        }
        *sent.lock().unwrap().entry(path.clone()).or_default() += piece.len() as u64;
    }
    let _ = out.flush();
    // Drain anything left so the client sees a clean close.
    let mut sink = [0u8; 64];
    let _ = reader
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(10)));
    let _ = reader.read(&mut sink);
}
