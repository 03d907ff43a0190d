//! The HTTP client: one shared reqwest client (HTTP/2, the system's trusted
//! certificates, the usual proxy variables, gzip), a user agent naming customs,
//! timeouts, retries with backoff for 408/429/5xx honouring `Retry-After`, a
//! cap on document size, conditional requests against the disk cache.

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_RANGE, ETAG, HeaderMap, IF_NONE_MATCH, RANGE,
    RETRY_AFTER,
};
use url::Url;

use super::cache::{self, Cache, Entry};
use super::model::{Answer, ProjectFacts, ProvenanceListing};
use super::wire::{JsonProject, SimpleProject};
use crate::package::{PackageName, Version};

/// The largest index document customs reads (boto3's JSON is ~25 MB).
pub const MAX_DOCUMENT: usize = 96 * 1024 * 1024;

/// Client settings (from the command line and the config, in `app.rs`).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Per-request timeout (connect + whole response).
    pub timeout: Duration,
    /// How many requests run at once.
    pub concurrency: usize,
    /// Retries after the first attempt, for 408/429/5xx and connection errors.
    pub retries: u32,
    /// The longest `Retry-After` customs waits; a longer one gives up.
    pub max_retry_after: Duration,
    /// Base delay of the exponential backoff.
    pub backoff: Duration,
    /// No network at all: answer from the cache or say unknown.
    pub offline: bool,
    /// The cache root; `None` with `--no-cache`.
    pub cache_root: Option<PathBuf>,
    /// Credentials by host: sent only to their own host and port.
    pub credentials: super::Credentials,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            concurrency: 16,
            retries: 3,
            max_retry_after: Duration::from_secs(30),
            backoff: Duration::from_millis(250),
            offline: false,
            cache_root: None,
            credentials: super::Credentials::default(),
        }
    }
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot set up the HTTP client: {0}")]
pub struct ClientError(String);

/// An index: its Simple API root and the JSON API root derived from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexUrl {
    /// `https://host/simple/` (always ends with `/`).
    pub simple: Url,
    /// `https://host/pypi/` (always ends with `/`).
    pub json: Url,
    /// `https://host/integrity/`: PEP 740 provenance (Integrity API).
    pub integrity: Url,
}

impl IndexUrl {
    /// Parses a Simple index URL as pip and uv take it (`https://host/simple`).
    /// User info is dropped (the app moves it into [`super::Credentials`]
    /// first): an `IndexUrl` never carries a secret, so neither does anything
    /// built from it (request URLs, messages, cache keys).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let shown = crate::redact::url(raw.trim());
        let mut simple =
            Url::parse(raw.trim()).map_err(|e| format!("`{shown}` is not a URL: {e}"))?;
        if !matches!(simple.scheme(), "http" | "https") {
            return Err(format!("`{shown}` is not an http(s) URL"));
        }
        let _ = simple.set_username("");
        let _ = simple.set_password(None);
        if !simple.path().ends_with('/') {
            let p = format!("{}/", simple.path());
            simple.set_path(&p);
        }
        let path = simple.path().trim_end_matches('/');
        let root = path
            .strip_suffix("/simple")
            .or_else(|| path.strip_suffix("/+simple"))
            .unwrap_or(path);
        let mut json = simple.clone();
        json.set_path(&format!("{root}/pypi/"));
        let mut integrity = simple.clone();
        integrity.set_path(&format!("{root}/integrity/"));
        Ok(Self {
            simple,
            json,
            integrity,
        })
    }

    fn json_url(&self, name: &PackageName) -> Result<Url, url::ParseError> {
        self.json.join(&format!("{}/json", name.as_str()))
    }

    fn simple_url(&self, name: &PackageName) -> Result<Url, url::ParseError> {
        self.simple.join(&format!("{}/", name.as_str()))
    }
}

/// The shared client.
#[derive(Debug, Clone)]
pub struct IndexClient {
    http: reqwest::Client,
    config: ClientConfig,
}

enum Fetched {
    Ok {
        body: Vec<u8>,
        headers: HeaderMap,
        url: Url,
    },
    NotModified {
        headers: HeaderMap,
    },
    NotFound,
}

/// Why a range read did not give the bytes asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The server answers ranges with the whole file (it ignores `Range`).
    #[error("{0}: the server ignores range requests (it answered HTTP 200 with the whole file)")]
    Ignored(String),
    /// The answer is not the range asked for (`Content-Range` or length).
    #[error("{0}")]
    Wrong(String),
    /// The request failed (network, HTTP error).
    #[error("{0}")]
    Failed(String),
}

impl IndexClient {
    /// Builds the client.
    pub fn new(config: ClientConfig) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "customs/",
                env!("CARGO_PKG_VERSION"),
                " (+supply-chain audit)"
            ))
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .timeout(config.timeout)
            .pool_max_idle_per_host(config.concurrency)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| ClientError(e.to_string()))?;
        Ok(Self { http, config })
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The disk cache of `index`, unless caching is off.
    fn cache(&self, index: &IndexUrl) -> Option<Cache> {
        self.config
            .cache_root
            .as_ref()
            .map(|root| Cache::new(root, index.simple.as_str()))
    }

    /// What `index` knows about `name`: from the cache when fresh, else asked
    /// (the JSON API, or the Simple API when the JSON API has no answer).
    ///
    /// Answers are compacted to what the checks of `versions` need (see
    /// [`ProjectFacts::compact`]) before they are cached and returned; a cached
    /// answer that lacks the files of one of `versions` is refetched.
    pub async fn project(
        &self,
        index: &IndexUrl,
        name: &PackageName,
        versions: &[Version],
    ) -> Answer {
        let cache = self.cache(index);
        let mut cached = cache.as_ref().and_then(|c| c.get(name));
        let covered = cached
            .as_ref()
            .is_none_or(|e| e.facts.as_ref().is_none_or(|f| f.covers(versions)));
        let now = Timestamp::now();
        if self.config.offline {
            return match cached {
                Some(e) if covered => entry_answer(e, versions),
                Some(_) => Answer::Unavailable {
                    reason: "offline, and the cache does not hold this version's files".into(),
                },
                None => Answer::Unavailable {
                    reason: "offline, and not in the cache".into(),
                },
            };
        }
        if !covered {
            // Neither fresh nor revalidatable: the cached copy lacks files we need.
            cached = None;
        }
        if let Some(e) = &cached
            && e.is_fresh(now)
        {
            return entry_answer(e.clone(), versions);
        }
        let json_url = match index.json_url(name) {
            Ok(u) => u,
            Err(e) => {
                return Answer::Unavailable {
                    reason: format!("cannot build the URL for {name}: {e}"),
                };
            }
        };
        let etag = cached.as_ref().and_then(|e| e.etag.clone());
        let answer = match self
            .get(&json_url, etag.as_deref(), false, MAX_DOCUMENT)
            .await
        {
            Err(reason) => return Answer::Unavailable { reason },
            Ok(Fetched::NotModified { headers }) => {
                let Some(mut e) = cached else {
                    return Answer::Unavailable {
                        reason: format!("{json_url}: 304 without a cached copy"),
                    };
                };
                e.fetched_at = now;
                e.max_age = max_age(&headers);
                store(cache.as_ref(), name, &e);
                return entry_answer(e, versions);
            }
            Ok(Fetched::Ok { body, headers, url }) => {
                match serde_json::from_slice::<JsonProject>(&body) {
                    Ok(doc) => (doc.into_facts(&url), headers),
                    Err(e) => {
                        return Answer::Unavailable {
                            reason: crate::redact::text(&format!(
                                "{url}: not a JSON API document: {e}"
                            )),
                        };
                    }
                }
            }
            Ok(Fetched::NotFound) => {
                // Not in the JSON API: gone, never existed, or a mirror without
                // the JSON API. The Simple API tells these apart.
                match self.simple(index, name).await {
                    Ok(Some((facts, headers))) => (facts, headers),
                    Ok(None) => {
                        let e = Entry {
                            url: json_url.to_string(),
                            fetched_at: now,
                            etag: None,
                            max_age: cache::DEFAULT_TTL_SECS,
                            facts: None,
                        };
                        store(cache.as_ref(), name, &e);
                        return Answer::NotFound {
                            url: json_url.to_string(),
                        };
                    }
                    Err(reason) => return Answer::Unavailable { reason },
                }
            }
        };
        let (mut facts, headers) = answer;
        facts.compact(versions);
        let e = Entry {
            url: facts.url.clone(),
            fetched_at: now,
            etag: header(&headers, ETAG),
            max_age: max_age(&headers),
            facts: Some(facts),
        };
        store(cache.as_ref(), name, &e);
        entry_answer(e, versions)
    }

    /// What the index's Simple API says about a project's provenance
    /// (PEP 740), from the cache when fresh. `Ok(None)`: the index has no such
    /// project. Releases in `keep` keep every file link.
    pub async fn listing(
        &self,
        index: &IndexUrl,
        name: &PackageName,
        keep: &[Version],
    ) -> Result<Option<ProvenanceListing>, String> {
        let cache = self.cache(index);
        let cached = cache.as_ref().and_then(|c| c.get_listing(name));
        // A cached listing serves the kept versions only if it kept their links.
        let covers = |l: &ProvenanceListing| {
            keep.iter()
                .all(|v| l.release(v).is_none_or(|r| r.links.len() as u32 == r.files))
        };
        let usable = cached.filter(|e| e.facts.as_ref().is_none_or(covers));
        let now = Timestamp::now();
        if self.config.offline {
            return match usable {
                Some(e) => Ok(e.facts),
                None => Err("offline, and the provenance listing is not in the cache".into()),
            };
        }
        if let Some(e) = &usable
            && e.is_fresh(now)
        {
            return Ok(e.facts.clone());
        }
        let url = index
            .simple_url(name)
            .map_err(|e| format!("cannot build the URL for {name}: {e}"))?;
        let etag = usable.as_ref().and_then(|e| e.etag.clone());
        let (listing, headers) = match self.get(&url, etag.as_deref(), true, MAX_DOCUMENT).await? {
            Fetched::NotFound => (None, HeaderMap::new()),
            Fetched::NotModified { headers } => {
                let Some(e) = usable else {
                    return Err(format!("{url}: 304 without a cached copy"));
                };
                (e.facts, headers)
            }
            Fetched::Ok { body, headers, url } => {
                let doc: SimpleProject = serde_json::from_slice(&body).map_err(|e| {
                    format!("{url}: the Simple API page is not PEP 691 JSON ({e}), so provenance cannot be read")
                })?;
                (
                    Some(doc.into_listing(&url, &index.integrity, keep)),
                    headers,
                )
            }
        };
        if let Some(c) = &cache {
            let _ = c.put_listing(
                name,
                &Entry {
                    url: url.to_string(),
                    fetched_at: now,
                    etag: header(&headers, ETAG),
                    max_age: max_age(&headers),
                    facts: listing.clone(),
                },
            );
        }
        Ok(listing)
    }

    /// A provenance object; `Ok(None)` when the index answers 404 (no
    /// provenance for the file). Cached for good once fetched.
    pub async fn provenance_document(
        &self,
        index: &IndexUrl,
        url: &str,
    ) -> Result<Option<Vec<u8>>, String> {
        let cache = self.cache(index);
        if let Some(body) = cache.as_ref().and_then(|c| c.get_document(url)) {
            return Ok(Some(body));
        }
        if self.config.offline {
            return Err("offline, and the provenance object is not in the cache".into());
        }
        let parsed = Url::parse(url)
            .map_err(|e| crate::redact::text(&format!("`{url}` is not a URL: {e}")))?;
        match self.get(&parsed, None, false, MAX_DOCUMENT).await? {
            Fetched::NotFound => Ok(None),
            Fetched::NotModified { .. } => {
                Err(crate::redact::text(&format!("{url}: unexpected 304")))
            }
            Fetched::Ok { body, .. } => {
                // Stored only once it parses: a broken answer is asked again next time.
                if let Some(c) = &cache
                    && crate::provenance::Provenance::parse(&body).is_ok()
                {
                    let _ = c.put_document(url, &body);
                }
                Ok(Some(body))
            }
        }
    }

    /// Drops a cached provenance object (one that did not verify).
    pub fn forget_provenance_document(&self, index: &IndexUrl, url: &str) {
        if let Some(c) = self.cache(index) {
            c.forget_document(url);
        }
    }

    /// The Simple JSON API page of a project; `Ok(None)` for a 404.
    async fn simple(
        &self,
        index: &IndexUrl,
        name: &PackageName,
    ) -> Result<Option<(ProjectFacts, HeaderMap)>, String> {
        let url = index
            .simple_url(name)
            .map_err(|e| format!("cannot build the URL for {name}: {e}"))?;
        match self.get(&url, None, true, MAX_DOCUMENT).await? {
            Fetched::NotFound => Ok(None),
            Fetched::NotModified { .. } => Err(format!("{url}: unexpected 304")),
            Fetched::Ok { body, headers, url } => {
                let doc: SimpleProject = serde_json::from_slice(&body).map_err(|e| {
                    format!("{url}: the index has no JSON API for {name} and its Simple page is not PEP 691 JSON ({e})")
                })?;
                let _ = doc.api_version();
                Ok(Some((doc.into_facts(&url), headers)))
            }
        }
    }

    /// One GET with retries. 404 and 410 are answers, not errors.
    async fn get(
        &self,
        url: &Url,
        etag: Option<&str>,
        simple: bool,
        cap: usize,
    ) -> Result<Fetched, String> {
        self.get_with(url, etag, simple, cap, None, None)
            .await?
            .ok_or_else(|| format!("{}: unexpected answer", crate::redact::url(url.as_str())))
    }

    /// [`get`](Self::get), optionally of the bytes `first..=last` only;
    /// `Ok(None)` when a range was asked for and the server answered with
    /// the whole file (HTTP 200; its body is not read).
    async fn get_with(
        &self,
        url: &Url,
        etag: Option<&str>,
        simple: bool,
        cap: usize,
        range: Option<(u64, u64)>,
        mut sink: Option<&mut dyn Body>,
    ) -> Result<Option<Fetched>, String> {
        let mut attempt = 0u32;
        // User info in a URL (a file URL an index gave) is sent as a header,
        // never shown; else the host's own credentials, if any.
        let mut url = url.clone();
        let inline = (!url.username().is_empty()).then(|| super::Credential {
            username: crate::lockfile::text::percent_decode(url.username()),
            password: url.password().map(crate::lockfile::text::percent_decode),
        });
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let credential = inline
            .as_ref()
            .filter(|c| {
                c.username != crate::redact::MASK
                    && c.password.as_deref() != Some(crate::redact::MASK)
            })
            .or_else(|| self.config.credentials.for_url(&url));
        let shown = crate::redact::url(url.as_str());
        loop {
            let mut req = self.http.get(url.clone());
            if let Some(c) = credential {
                req = req.basic_auth(&c.username, c.password.as_ref());
            }
            if simple {
                req = req.header(ACCEPT, "application/vnd.pypi.simple.v1+json");
            } else {
                req = req.header(ACCEPT, "application/json");
            }
            if let Some(tag) = etag {
                req = req.header(IF_NONE_MATCH, tag);
            }
            if let Some(t) = sink.as_deref().and_then(Body::timeout) {
                req = req.timeout(t);
            }
            if let Some((first, last)) = range {
                // Ranges count bytes of the file itself, never of an encoding.
                req = req
                    .header(RANGE, format!("bytes={first}-{last}"))
                    .header(ACCEPT_ENCODING, "identity");
            }
            // A failure: (reason, Retry-After, worth retrying).
            let (reason, wait, retryable) = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    let final_url = resp.url().clone();
                    if status == StatusCode::NOT_MODIFIED {
                        return Ok(Some(Fetched::NotModified { headers }));
                    }
                    if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
                        return Ok(Some(Fetched::NotFound));
                    }
                    if range.is_some()
                        && status.is_success()
                        && status != StatusCode::PARTIAL_CONTENT
                    {
                        return Ok(None);
                    }
                    if status.is_success() {
                        let read = match sink.as_deref_mut() {
                            Some(sink) => read_into(resp, cap, sink).await.map(|()| Vec::new()),
                            None => read_capped(resp, cap).await,
                        };
                        match read {
                            Ok(body) => {
                                return Ok(Some(Fetched::Ok {
                                    body,
                                    headers,
                                    url: final_url,
                                }));
                            }
                            // A body over the cap is over it again: not retried.
                            Err(e) => {
                                let again = !e.contains("larger than")
                                    && sink.as_deref().is_none_or(Body::retries);
                                (format!("{shown}: {e}"), None, again)
                            }
                        }
                    } else {
                        let retryable = status == StatusCode::REQUEST_TIMEOUT
                            || status == StatusCode::TOO_MANY_REQUESTS
                            || status.is_server_error();
                        (
                            format!("{shown}: HTTP {status}"),
                            retry_after(&headers),
                            retryable,
                        )
                    }
                }
                Err(e) => (
                    format!("{shown}: {}", crate::redact::text(&describe(&e))),
                    None,
                    !e.is_redirect() && !e.is_builder(),
                ),
            };
            if !retryable || attempt >= self.config.retries {
                let tries = attempt + 1;
                return Err(if tries > 1 {
                    format!("{reason} (after {tries} attempts)")
                } else {
                    reason
                });
            }
            let delay = match wait {
                Some(w) if w > self.config.max_retry_after => {
                    return Err(format!(
                        "{reason}: the index asks to wait {} s (Retry-After), longer than the {} s customs waits",
                        w.as_secs(),
                        self.config.max_retry_after.as_secs()
                    ));
                }
                Some(w) => w,
                None => self
                    .config
                    .backoff
                    .saturating_mul(2u32.saturating_pow(attempt)),
            };
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Downloads a file unless it is unchanged since the download that
    /// answered with `etag` (`Ok(None)`: HTTP 304), with its new ETag.
    pub async fn download_if_changed(
        &self,
        url: &str,
        cap: usize,
        etag: Option<&str>,
    ) -> Result<Option<(Vec<u8>, Option<String>)>, String> {
        if self.config.offline {
            return Err("offline".into());
        }
        let shown = crate::redact::url(url);
        let url = Url::parse(url).map_err(|e| format!("`{shown}` is not a URL: {e}"))?;
        match self.get(&url, etag, false, cap).await? {
            Fetched::Ok { body, headers, .. } => {
                let tag = headers
                    .get(reqwest::header::ETAG)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                Ok(Some((body, tag)))
            }
            Fetched::NotModified { .. } => Ok(None),
            Fetched::NotFound => Err(format!("{shown}: HTTP 404")),
        }
    }

    /// Downloads a file (an archive to scan) with a size cap, handing its
    /// bytes to `body` as they arrive (started again if the download is).
    pub async fn download_into(
        &self,
        url: &str,
        cap: usize,
        body: &mut dyn Body,
    ) -> Result<(), String> {
        if self.config.offline {
            return Err("offline".into());
        }
        let shown = crate::redact::url(url);
        let url = Url::parse(url).map_err(|e| format!("`{shown}` is not a URL: {e}"))?;
        match self
            .get_with(&url, None, false, cap, None, Some(body))
            .await?
        {
            Some(Fetched::Ok { .. }) => Ok(()),
            Some(Fetched::NotFound) => Err(format!("{shown}: HTTP 404")),
            Some(Fetched::NotModified { .. }) => Err(format!("{shown}: unexpected 304")),
            None => Err(format!("{shown}: unexpected answer")),
        }
    }
}

impl IndexClient {
    /// The bytes `first..=last` of a file of `total` bytes, by an HTTP range
    /// request. The answer must be exactly that range: HTTP 206, a
    /// `Content-Range` naming the same bytes of a file of the same length,
    /// and a body of that length. Anything else is refused, never used.
    pub async fn range(
        &self,
        url: &str,
        first: u64,
        last: u64,
        total: u64,
    ) -> Result<Vec<u8>, RangeError> {
        let shown = crate::redact::url(url);
        if self.config.offline {
            return Err(RangeError::Failed(format!("{shown}: offline")));
        }
        let parsed = Url::parse(url)
            .map_err(|e| RangeError::Failed(format!("`{shown}` is not a URL: {e}")))?;
        if first > last || last >= total {
            return Err(RangeError::Wrong(format!(
                "{shown}: bytes {first}-{last} are not inside a file of {total} bytes"
            )));
        }
        let want = last - first + 1;
        let cap = usize::try_from(want)
            .map_err(|_| RangeError::Failed(format!("{shown}: range too large")))?;
        let fetched = self
            .get_with(&parsed, None, false, cap, Some((first, last)), None)
            .await
            .map_err(RangeError::Failed)?;
        let (body, headers) = match fetched {
            None => return Err(RangeError::Ignored(shown)),
            Some(Fetched::Ok { body, headers, .. }) => (body, headers),
            Some(Fetched::NotFound) => {
                return Err(RangeError::Failed(format!("{shown}: HTTP 404")));
            }
            Some(Fetched::NotModified { .. }) => {
                return Err(RangeError::Failed(format!("{shown}: unexpected 304")));
            }
        };
        let said = header(&headers, CONTENT_RANGE).unwrap_or_default();
        if parse_content_range(&said) != Some((first, last, total)) {
            return Err(RangeError::Wrong(format!(
                "{shown}: asked for bytes {first}-{last}/{total}, the server says it sent `{said}`"
            )));
        }
        if body.len() as u64 != want {
            return Err(RangeError::Wrong(format!(
                "{shown}: asked for {want} bytes ({first}-{last}), the server sent {}",
                body.len()
            )));
        }
        Ok(body)
    }
}

/// `bytes FIRST-LAST/TOTAL` (RFC 9110 §14.4); an unknown total (`*`) is no answer.
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    Some((
        first.trim().parse().ok()?,
        last.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_redirect() {
        "too many redirects"
    } else if e.is_decode() || e.is_body() {
        "broken response body"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({detail})")
    }
}

/// Where a download's bytes go as they arrive.
pub trait Body: Send {
    /// The next bytes; an error stops the download.
    fn push(&mut self, chunk: &[u8]) -> Result<(), String>;
    /// Forgets what came: the download starts again.
    fn restart(&mut self);
    /// Waits until the body can take the next chunk (`None`: at once). A
    /// body that hands its bytes to a reader working as they come holds the
    /// download back while the reader is behind.
    fn room(&mut self) -> Option<futures::future::BoxFuture<'_, ()>> {
        None
    }
    /// How long the whole request may take (`None`: the client's timeout).
    /// A body that waits for its reader ([`Body::room`]) needs the time
    /// the reader takes too.
    fn timeout(&self) -> Option<Duration> {
        None
    }
    /// Whether a download that broke off is tried again from the start
    /// (a body whose reader has taken bytes may have nothing to gain).
    fn retries(&self) -> bool {
        true
    }
}

/// Hands a response's body to `body` as it arrives, at most `cap` bytes:
/// more is an error (one that says "larger than", so it is not retried).
async fn read_into(
    mut resp: reqwest::Response,
    cap: usize,
    body: &mut dyn Body,
) -> Result<(), String> {
    let too_big = || format!("document larger than {} MiB", cap / 1024 / 1024);
    if resp.content_length().is_some_and(|l| l > cap as u64) {
        return Err(too_big());
    }
    body.restart();
    let mut got = 0usize;
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                got = got.saturating_add(chunk.len());
                if got > cap {
                    return Err(too_big());
                }
                if let Some(room) = body.room() {
                    room.await;
                }
                body.push(&chunk)?;
            }
            Ok(None) => return Ok(()),
            Err(e) => return Err(describe(&e)),
        }
    }
}

/// A response's whole body, at most `cap` bytes ([`read_into`]).
async fn read_capped(resp: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    // Sized once when the server says how long the body is (a document is
    // not copied as it doubles); a length over the cap is refused unread.
    let declared = resp.content_length().and_then(|l| usize::try_from(l).ok());
    let mut body = Vec::with_capacity(declared.filter(|l| *l <= cap).unwrap_or(0));
    read_into(resp, cap, &mut body).await?;
    Ok(body)
}

impl Body for Vec<u8> {
    fn push(&mut self, chunk: &[u8]) -> Result<(), String> {
        self.extend_from_slice(chunk);
        Ok(())
    }

    fn restart(&mut self) {
        self.clear();
    }
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn max_age(headers: &HeaderMap) -> i64 {
    header(headers, CACHE_CONTROL)
        .and_then(|cc| {
            cc.split(',').find_map(|d| {
                let d = d.trim();
                if d == "no-store" || d == "no-cache" {
                    return Some(0);
                }
                d.strip_prefix("max-age=")
                    .and_then(|v| v.trim().parse::<i64>().ok())
            })
        })
        .unwrap_or(cache::DEFAULT_TTL_SECS)
        .clamp(0, 24 * 3600)
}

fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = header(headers, RETRY_AFTER)?;
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    // An HTTP date.
    let when = jiff::fmt::rfc2822::parse(v.trim()).ok()?.timestamp();
    let secs = (when.as_second() - Timestamp::now().as_second()).max(0);
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

fn store(cache: Option<&Cache>, name: &PackageName, entry: &Entry) {
    if let Some(c) = cache {
        // A cache that cannot be written costs speed, never correctness.
        let _ = c.put(name, entry);
    }
}

/// The answer a cache entry gives, held for this run: compacted to the
/// `versions` the run locks.
fn entry_answer(e: Entry, versions: &[Version]) -> Answer {
    match e.facts {
        Some(mut f) => {
            f.compact_for_run(versions);
            Answer::Found(f)
        }
        None => Answer::NotFound { url: e.url },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_urls() {
        let i = IndexUrl::parse("https://index.example/simple").unwrap();
        assert_eq!(i.simple.as_str(), "https://index.example/simple/");
        assert_eq!(i.json.as_str(), "https://index.example/pypi/");
        assert_eq!(i.integrity.as_str(), "https://index.example/integrity/");
        let n = PackageName::new("Foo_Bar").unwrap();
        assert_eq!(
            i.json_url(&n).unwrap().as_str(),
            "https://index.example/pypi/foo-bar/json"
        );
        assert_eq!(
            i.simple_url(&n).unwrap().as_str(),
            "https://index.example/simple/foo-bar/"
        );
        let m = IndexUrl::parse("http://127.0.0.1:8080/mirror/simple/").unwrap();
        assert_eq!(m.json.as_str(), "http://127.0.0.1:8080/mirror/pypi/");
        assert!(IndexUrl::parse("ftp://x/simple").is_err());
        assert!(IndexUrl::parse("not a url").is_err());
    }

    #[test]
    fn cache_control() {
        let mut h = HeaderMap::new();
        assert_eq!(max_age(&h), 900);
        h.insert(CACHE_CONTROL, "public, max-age=60".parse().unwrap());
        assert_eq!(max_age(&h), 60);
        h.insert(CACHE_CONTROL, "no-cache".parse().unwrap());
        assert_eq!(max_age(&h), 0);
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
    }
}
