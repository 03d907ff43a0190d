//! Provenance inside `customs audit`: for each locked release, learn from the
//! index's Simple API which files carry PEP 740 provenance, fetch the
//! provenance objects of the pinned files (and of the last attested earlier
//! release, for its publisher), verify every attestation offline, and hand
//! what was observed to the four provenance rules.
//!
//! An index whose Simple API predates 1.3 cannot say: provenance is then
//! `unknown`, never `none`.

use std::sync::Arc;

use futures::StreamExt;
use jiff::Timestamp;

use super::{provenance_invalid, provenance_missing, provenance_regressed, publisher_changed};
use crate::finding::Finding;
use crate::index::model::{FileLink, ProvenanceListing, ReleaseAttestation};
use crate::index::{Answer, IndexClient, IndexUrl, ProjectFacts};
use crate::package::{Package, PackageName, SourceKind};
use crate::provenance::{Provenance, Publisher, Verdict, Verifier};

/// At most this many pinned files of one release have their provenance
/// fetched and verified; the others are judged by the index's listing.
pub const MAX_FETCHED_FILES: usize = 4;

/// Provenance settings.
#[derive(Debug, Clone)]
pub struct ProvenanceSettings {
    /// The verifier (trusted root).
    pub verifier: Arc<Verifier>,
    /// Packages that must carry provenance (`require-attestations`).
    pub require: Vec<PackageName>,
}

/// What customs learned about one pinned file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileState {
    /// The index has provenance for it.
    Attested {
        /// Its publishers (empty when the object was not fetched).
        publishers: Vec<Publisher>,
        /// One verdict per attestation (empty when not fetched).
        verdicts: Vec<Verdict>,
    },
    /// The index says it has none.
    None,
    /// Nobody can tell.
    Unknown(String),
}

/// One pinned file and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct FileObservation {
    /// The file name.
    pub filename: String,
    /// What was learned.
    pub state: FileState,
}

/// An earlier release's provenance, for comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierRelease {
    /// Its version.
    pub version: String,
    /// When it was first uploaded.
    pub uploaded: Option<Timestamp>,
    /// Its publishers, as far as their attestations could be fetched and verified.
    pub publishers: Vec<Publisher>,
}

/// Everything the provenance rules look at for one package.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// Not a registry package, or no pinned version.
    NotApplicable(&'static str),
    /// The index answered about the project but cannot say about provenance
    /// (no Simple API 1.3, its page unreachable...).
    Unknown(String),
    /// The index could not answer at all (`index-unavailable` reports it).
    IndexUnavailable(String),
    /// The index's Simple API predates provenance (1.3): no project there can say.
    Unsupported(String),
    /// What the index says.
    Observed(Observed),
}

/// The observed provenance of one locked release.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The pinned files (all files of the release when the lock pins none).
    pub files: Vec<FileObservation>,
    /// The most recent earlier release that had provenance.
    pub last_attested: Option<EarlierRelease>,
    /// Releases uploaded between that one and this one (none attested).
    pub unattested_since: usize,
    /// The project's source repository URLs (from the JSON API).
    pub project_urls: Vec<String>,
    /// Whether the lockfile pins files (else every file of the release is judged).
    pub pinned: bool,
}

/// A release's provenance state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Every pinned file is attested.
    Full,
    /// Some are, some are not.
    Partial,
    /// None is.
    None,
    /// Cannot tell.
    Unknown,
}

impl State {
    /// The report's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Partial => "partial",
            Self::None => "none",
            Self::Unknown => "unknown",
        }
    }
}

impl Observed {
    /// (attested, without, unknown) counts of the pinned files.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut c = (0, 0, 0);
        for f in &self.files {
            match &f.state {
                // An attestation that cannot be verified proves nothing either way.
                FileState::Attested { verdicts, .. }
                    if verdicts
                        .iter()
                        .any(|v| matches!(v, Verdict::Unverifiable(_)))
                        && !verdicts.iter().any(|v| matches!(v, Verdict::Invalid(_))) =>
                {
                    c.2 += 1;
                }
                FileState::Attested { .. } => c.0 += 1,
                FileState::None => c.1 += 1,
                FileState::Unknown(_) => c.2 += 1,
            }
        }
        c
    }

    /// The release's state.
    pub fn state(&self) -> State {
        match self.counts() {
            (a, n, _) if a > 0 && n > 0 => State::Partial,
            (a, 0, 0) if a > 0 => State::Full,
            (0, n, 0) if n > 0 => State::None,
            // Some files could not be checked: no claim about the release.
            _ => State::Unknown,
        }
    }

    /// The distinct publishers of the pinned files, in file order.
    pub fn publishers(&self) -> Vec<&Publisher> {
        let mut out: Vec<&Publisher> = Vec::new();
        for f in &self.files {
            if let FileState::Attested {
                publishers,
                verdicts,
            } = &f.state
                && verdicts
                    .iter()
                    .all(|v| matches!(v, Verdict::Verified { .. }))
            {
                for p in publishers {
                    if !out.iter().any(|q| q.same_as(p)) {
                        out.push(p);
                    }
                }
            }
        }
        out
    }
}

impl Observation {
    /// The report's view.
    pub fn status(&self) -> ProvenanceStatus {
        match self {
            Self::NotApplicable(why) => ProvenanceStatus {
                state: "not-applicable",
                reason: Some((*why).to_string()),
                publishers: Vec::new(),
                files: Vec::new(),
            },
            Self::Unknown(why) | Self::IndexUnavailable(why) | Self::Unsupported(why) => {
                ProvenanceStatus {
                    state: "unknown",
                    reason: Some(why.clone()),
                    publishers: Vec::new(),
                    files: Vec::new(),
                }
            }
            Self::Observed(o) => {
                let unknown: Vec<&str> = o
                    .files
                    .iter()
                    .filter_map(|f| match &f.state {
                        FileState::Unknown(why) => Some(why.as_str()),
                        FileState::Attested { verdicts, .. } => {
                            verdicts.iter().find_map(|v| match v {
                                Verdict::Unverifiable(why) => Some(why.as_str()),
                                _ => None,
                            })
                        }
                        FileState::None => None,
                    })
                    .collect();
                ProvenanceStatus {
                    state: o.state().as_str(),
                    reason: unknown
                        .first()
                        .map(|w| format!("{} file(s) could not be checked: {w}", unknown.len())),
                    publishers: o.publishers().iter().map(ToString::to_string).collect(),
                    files: o
                        .files
                        .iter()
                        .map(|f| FileStatus {
                            filename: f.filename.clone(),
                            state: match f.state {
                                FileState::Attested { .. } => "attested",
                                FileState::None => "none",
                                FileState::Unknown(_) => "unknown",
                            },
                            publishers: match &f.state {
                                FileState::Attested { publishers, .. } => {
                                    publishers.iter().map(ToString::to_string).collect()
                                }
                                _ => Vec::new(),
                            },
                            verification: verification_word(&f.state),
                        })
                        .collect(),
                }
            }
        }
    }
}

fn verification_word(state: &FileState) -> Option<String> {
    let FileState::Attested { verdicts, .. } = state else {
        return None;
    };
    if verdicts.is_empty() {
        return Some(format!(
            "not checked (customs verifies the first {MAX_FETCHED_FILES} pinned files of a release)"
        ));
    }
    if let Some(why) = verdicts.iter().find_map(|v| match v {
        Verdict::Invalid(w) => Some(w),
        _ => None,
    }) {
        return Some(format!("invalid: {why}"));
    }
    if let Some(why) = verdicts.iter().find_map(|v| match v {
        Verdict::Unverifiable(w) => Some(w),
        _ => None,
    }) {
        return Some(format!("unverifiable: {why}"));
    }
    Some(format!("verified ({} attestation(s))", verdicts.len()))
}

/// The provenance of one package, as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenanceStatus {
    /// `full`, `partial`, `none`, `unknown` or `not-applicable`.
    pub state: &'static str,
    /// Why unknown or not applicable.
    pub reason: Option<String>,
    /// The release's publishers (`GitHub pypa/sampleproject release.yml`).
    pub publishers: Vec<String>,
    /// Per pinned file.
    pub files: Vec<FileStatus>,
}

/// One file's provenance in the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    /// The file name.
    pub filename: String,
    /// `attested`, `none` or `unknown`.
    pub state: &'static str,
    /// Its publishers.
    pub publishers: Vec<String>,
    /// `verified (...)`, `invalid: ...`, `unverifiable: ...` or `not checked ...`.
    pub verification: Option<String>,
}

/// Runs the provenance rules on one package's observation.
pub fn evaluate(
    pkg: &Package,
    observation: &Observation,
    settings: &ProvenanceSettings,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let required = settings.require.contains(&pkg.name) || !pkg.attestation_identities.is_empty();
    match observation {
        Observation::NotApplicable(_) | Observation::IndexUnavailable(_) => {}
        Observation::Unknown(why) | Observation::Unsupported(why) => {
            if required {
                out.push(provenance_missing::unknown(pkg, why));
            }
        }
        Observation::Observed(o) => {
            out.extend(provenance_invalid::check(pkg, o));
            out.extend(provenance_regressed::check(pkg, o));
            out.extend(publisher_changed::check(pkg, o));
            if required {
                out.extend(provenance_missing::check(pkg, o));
            }
        }
    }
    out
}

/// Observes and evaluates every package: findings, and a status per package.
pub async fn check_all(
    client: &IndexClient,
    packages: &[Package],
    indexes: &[IndexUrl],
    answers: &[Option<&Answer>],
    settings: &ProvenanceSettings,
) -> (Vec<Finding>, Vec<ProvenanceStatus>) {
    let limit = client.config().concurrency.max(1);
    let ask = |i: usize| {
        observe(
            client,
            &packages[i],
            indexes.get(i),
            answers.get(i).copied().flatten(),
            settings,
        )
    };
    // One package per index first: an index whose Simple API predates 1.3
    // (most mirrors) cannot say for any project, so the others are not asked.
    let mut first: std::collections::BTreeMap<&IndexUrl, usize> = Default::default();
    for (i, index) in indexes.iter().enumerate().take(packages.len()) {
        if matches!(answers.get(i).copied().flatten(), Some(Answer::Found(_)))
            && packages[i].version.is_some()
            && packages[i].source.kind == SourceKind::Registry
        {
            first.entry(index).or_insert(i);
        }
    }
    let probes: Vec<(usize, Observation)> = futures::stream::iter(first.values().copied())
        .map(|i| async move { (i, ask(i).await) })
        .buffer_unordered(limit)
        .collect()
        .await;
    let mut unsupported: std::collections::BTreeMap<&IndexUrl, String> = Default::default();
    for (i, o) in &probes {
        if let Observation::Unsupported(why) = o {
            unsupported.insert(&indexes[*i], why.clone());
        }
    }
    let mut probed: std::collections::BTreeMap<usize, Observation> = probes.into_iter().collect();
    // Unordered, then put back in order: an ordered stream keeps a slow
    // answer's followers in their slots, and fewer requests are in flight.
    let mut observations: Vec<(usize, Observation)> = futures::stream::iter(0..packages.len())
        .map(|i| {
            let known = probed.remove(&i).or_else(|| {
                let why = indexes.get(i).and_then(|x| unsupported.get(x))?;
                let pkg = &packages[i];
                (matches!(answers.get(i).copied().flatten(), Some(Answer::Found(_)))
                    && pkg.version.is_some()
                    && pkg.source.kind == SourceKind::Registry)
                    .then(|| Observation::Unsupported(why.clone()))
            });
            async move {
                let o = match known {
                    Some(o) => o,
                    None => ask(i).await,
                };
                (i, o)
            }
        })
        .buffer_unordered(limit)
        .collect()
        .await;
    observations.sort_by_key(|(i, _)| *i);
    let observations: Vec<Observation> = observations.into_iter().map(|(_, o)| o).collect();
    let mut findings = Vec::new();
    let mut statuses = Vec::with_capacity(packages.len());
    for (pkg, o) in packages.iter().zip(&observations) {
        findings.extend(evaluate(pkg, o, settings));
        statuses.push(o.status());
    }
    (findings, statuses)
}

async fn observe(
    client: &IndexClient,
    pkg: &Package,
    index: Option<&IndexUrl>,
    answer: Option<&Answer>,
    settings: &ProvenanceSettings,
) -> Observation {
    if pkg.source.kind != SourceKind::Registry {
        return Observation::NotApplicable("not from a package index");
    }
    let Some(version) = &pkg.version else {
        return Observation::NotApplicable("no pinned version");
    };
    let facts = match answer {
        Some(Answer::Found(f)) => Some(f),
        Some(Answer::NotFound { .. }) => {
            return Observation::NotApplicable("the index has no such project");
        }
        Some(Answer::Unavailable { reason }) => {
            return Observation::IndexUnavailable(reason.clone());
        }
        None => return Observation::IndexUnavailable("the index was not asked".into()),
    };
    let Some(index) = index else {
        return Observation::NotApplicable("no index");
    };
    let listing = match client
        .listing(index, &pkg.name, std::slice::from_ref(version))
        .await
    {
        Ok(Some(l)) => l,
        Ok(None) => {
            return Observation::Unknown("the index's Simple API has no such project".into());
        }
        Err(why) => return Observation::Unknown(why),
    };
    if !listing.supported {
        return Observation::Unsupported(format!(
            "the index's Simple API is version {}; provenance needs 1.3 or later (PEP 740)",
            listing.api_version.as_deref().unwrap_or("(not given)")
        ));
    }
    let Some(release) = listing.release(version) else {
        return Observation::Unknown(format!(
            "the index's Simple API lists no files for {} {version}",
            pkg.name
        ));
    };
    let pinned = pinned_links(pkg, release);
    // A package that must be attested has every pinned file checked.
    let required = settings.require.contains(&pkg.name) || !pkg.attestation_identities.is_empty();
    let cap = if required {
        usize::MAX
    } else {
        MAX_FETCHED_FILES
    };
    let page_lists = listing.lists_provenance();
    let mut files = Vec::with_capacity(pinned.len());
    for (n, link) in pinned.into_iter().enumerate() {
        let sha = link
            .sha256
            .clone()
            .or_else(|| sha_from(pkg, facts, &link.filename));
        let state = file_state(
            client,
            index,
            &link,
            sha.as_deref(),
            n < cap,
            page_lists,
            settings,
        )
        .await;
        files.push(FileObservation {
            filename: link.filename.clone(),
            state,
        });
    }
    let (last_attested, unattested_since) = earlier(&listing, release);
    let last_attested = match last_attested {
        None => None,
        Some(r) => {
            let mut publishers: Vec<Publisher> = Vec::new();
            for link in &r.links {
                let (Some(url), Some(sha)) = (&link.provenance, &link.sha256) else {
                    continue;
                };
                let Ok(Some(body)) = client.provenance_document(index, url).await else {
                    continue;
                };
                let Ok(doc) = Provenance::parse(&body) else {
                    continue;
                };
                // The baseline counts only as far as it verifies: a served-up
                // publisher must not hide (or fake) a change.
                for b in &doc.bundles {
                    let proven = !b.attestations.is_empty()
                        && b.attestations.iter().all(|a| {
                            matches!(
                                settings.verifier.verify(a, sha, &b.publisher),
                                Verdict::Verified { .. }
                            )
                        });
                    if proven && !publishers.iter().any(|q| q.same_as(&b.publisher)) {
                        publishers.push(b.publisher.clone());
                    }
                }
            }
            Some(EarlierRelease {
                version: r.version.clone(),
                uploaded: r.first_upload,
                publishers,
            })
        }
    };
    Observation::Observed(Observed {
        files,
        last_attested,
        unattested_since,
        project_urls: facts.map(|f| f.project_urls.clone()).unwrap_or_default(),
        pinned: !pkg.artifacts.is_empty(),
    })
}

/// The release's links for the files the lockfile pins (by name, else by
/// sha256), or every file when it pins none; sdists first.
fn pinned_links(pkg: &Package, release: &ReleaseAttestation) -> Vec<FileLink> {
    let mut links: Vec<FileLink> = if pkg.artifacts.is_empty() {
        release.links.clone()
    } else {
        release
            .links
            .iter()
            .filter(|l| pkg.pins_file(&l.filename, l.sha256.as_deref()))
            .cloned()
            .collect()
    };
    links.sort_by(|a, b| {
        let wheel = |l: &FileLink| l.filename.ends_with(".whl");
        (wheel(a), &a.filename).cmp(&(wheel(b), &b.filename))
    });
    links
}

fn sha_from(pkg: &Package, facts: Option<&ProjectFacts>, filename: &str) -> Option<String> {
    if let Some(f) = facts
        .and_then(|f| pkg.version.as_ref().and_then(|v| f.release(v)))
        .and_then(|r| r.files.iter().find(|f| f.filename == filename))
        && let Some(s) = &f.sha256
    {
        return Some(s.clone());
    }
    pkg.pinned_sha256(filename).map(str::to_string)
}

async fn file_state(
    client: &IndexClient,
    index: &IndexUrl,
    link: &FileLink,
    sha256: Option<&str>,
    fetch: bool,
    page_lists: bool,
    settings: &ProvenanceSettings,
) -> FileState {
    let Some(url) = &link.provenance else {
        return FileState::None;
    };
    if link.listed && !fetch {
        return FileState::Attested {
            publishers: Vec::new(),
            verdicts: Vec::new(),
        };
    }
    if !link.listed && !fetch {
        return FileState::Unknown(format!(
            "the index does not list its provenance, and customs asks the Integrity API for the first {MAX_FETCHED_FILES} files only"
        ));
    }
    let body = match client.provenance_document(index, url).await {
        Ok(Some(b)) => b,
        // The Integrity API's 404 is an answer: no provenance. A URL the index
        // listed that then 404s is not.
        Ok(None) if !link.listed && page_lists => return FileState::None,
        Ok(None) if !link.listed => {
            return FileState::Unknown(format!(
                "the index's Simple API lists no provenance for any file and {url} answers 404: the index may not serve the Integrity API"
            ));
        }
        Ok(None) => {
            return FileState::Unknown(format!("the index lists {url} but answers 404"));
        }
        Err(why) => return FileState::Unknown(why),
    };
    let doc = match Provenance::parse(&body) {
        Ok(d) => d,
        Err(e) => {
            return FileState::Attested {
                publishers: Vec::new(),
                verdicts: vec![Verdict::Invalid(format!("{url}: {e}"))],
            };
        }
    };
    let mut verdicts = Vec::new();
    for b in &doc.bundles {
        for a in &b.attestations {
            verdicts.push(match sha256 {
                Some(sha) => settings.verifier.verify(a, sha, &b.publisher),
                None => Verdict::Unverifiable(
                    "neither the index nor the lockfile gives the file's sha256".into(),
                ),
            });
        }
    }
    if verdicts.is_empty() {
        verdicts.push(Verdict::Invalid(format!(
            "{url}: the provenance object holds no attestation"
        )));
    }
    if !verdicts
        .iter()
        .all(|v| matches!(v, Verdict::Verified { .. }))
    {
        // Not kept: a bad answer is asked again next time instead of sticking.
        client.forget_provenance_document(index, url);
    }
    FileState::Attested {
        publishers: doc.publishers().into_iter().cloned().collect(),
        verdicts,
    }
}

/// The most recent release uploaded before `this` that had provenance, and how
/// many releases without provenance were uploaded in between.
fn earlier<'a>(
    listing: &'a ProvenanceListing,
    this: &ReleaseAttestation,
) -> (Option<&'a ReleaseAttestation>, usize) {
    let Some(t) = this.first_upload else {
        return (None, 0);
    };
    let mut before: Vec<&ReleaseAttestation> = listing
        .releases
        .iter()
        .filter(|r| r.first_upload.is_some_and(|u| u < t) && r.files > 0 && !r.yanked)
        .collect();
    before.sort_by_key(|r| std::cmp::Reverse(r.first_upload));
    let mut between = 0;
    for r in before {
        if r.attested > 0 {
            return (Some(r), between);
        }
        between += 1;
    }
    (None, between)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::RuleId;
    use crate::package::{Origin, Version};

    fn publisher(repo: &str, workflow: &str) -> Publisher {
        Publisher::from_json(&serde_json::json!({
            "kind": "GitHub", "repository": repo, "workflow": workflow
        }))
        .unwrap()
    }

    fn attested(name: &str, p: &Publisher) -> FileObservation {
        FileObservation {
            filename: name.into(),
            state: FileState::Attested {
                publishers: vec![p.clone()],
                verdicts: vec![Verdict::Verified {
                    identity: "x".into(),
                }],
            },
        }
    }

    fn none(name: &str) -> FileObservation {
        FileObservation {
            filename: name.into(),
            state: FileState::None,
        }
    }

    fn pkg() -> Package {
        Package::new(
            PackageName::new("demo").unwrap(),
            Some(Version::new("2.0")),
            Origin {
                file: "requirements.txt".into(),
                line: 3,
            },
        )
    }

    fn settings(require: &[&str]) -> ProvenanceSettings {
        ProvenanceSettings {
            verifier: Arc::new(Verifier::embedded().unwrap()),
            require: require
                .iter()
                .map(|n| PackageName::new(n).unwrap())
                .collect(),
        }
    }

    fn rules(findings: &[Finding]) -> Vec<(RuleId, crate::finding::Severity)> {
        let mut v: Vec<_> = findings.iter().map(|f| (f.rule, f.severity)).collect();
        v.sort();
        v
    }

    fn earlier_release(repo: &str, workflows: &[&str]) -> EarlierRelease {
        EarlierRelease {
            version: "1.0".into(),
            uploaded: "2025-01-01T00:00:00Z".parse().ok(),
            publishers: workflows.iter().map(|w| publisher(repo, w)).collect(),
        }
    }

    #[test]
    fn states_and_what_each_rule_says() {
        use crate::finding::Severity::{Critical, High, Medium};
        let ok = publisher("org/demo", "release.yml");
        let wheels = publisher("org/demo", "wheels.yml");
        let s = settings(&[]);
        let observed = |files, last| {
            Observation::Observed(Observed {
                files,
                last_attested: last,
                unattested_since: 0,
                project_urls: vec!["https://github.com/org/demo".into()],
                pinned: true,
            })
        };
        // Full, same publishers as before (sdist and wheels from two workflows): nothing.
        let o = observed(
            vec![
                attested("demo-2.0.tar.gz", &ok),
                attested("demo-2.0-py3-none-any.whl", &wheels),
            ],
            Some(earlier_release("org/demo", &["release.yml", "wheels.yml"])),
        );
        assert_eq!(o.status().state, "full");
        assert_eq!(rules(&evaluate(&pkg(), &o, &s)), vec![]);
        // Two workflows within a release that the previous release did not have.
        let o = observed(
            vec![
                attested("demo-2.0.tar.gz", &ok),
                attested("demo-2.0-py3-none-any.whl", &wheels),
            ],
            Some(earlier_release("org/demo", &["release.yml"])),
        );
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &s)),
            vec![
                (RuleId::PublisherChanged, High),
                (RuleId::PublisherChanged, High)
            ]
        );
        let o = observed(
            vec![
                attested("demo-2.0.tar.gz", &ok),
                attested("demo-2.0-py3-none-any.whl", &wheels),
            ],
            None,
        );
        // No baseline to compare with: medium.
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &s)),
            vec![(RuleId::PublisherChanged, Medium)]
        );
        // Lost provenance.
        let o = observed(
            vec![none("demo-2.0.tar.gz")],
            Some(earlier_release("org/demo", &["release.yml"])),
        );
        assert_eq!(o.status().state, "none");
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &s)),
            vec![(RuleId::ProvenanceRegressed, High)]
        );
        // Never had any: nothing, unless required.
        let o = observed(vec![none("demo-2.0.tar.gz")], None);
        assert_eq!(rules(&evaluate(&pkg(), &o, &s)), vec![]);
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &settings(&["demo"]))),
            vec![(RuleId::ProvenanceMissing, High)]
        );
        // Partial.
        let o = observed(
            vec![
                attested("demo-2.0.tar.gz", &ok),
                none("demo-2.0-py3-none-any.whl"),
            ],
            None,
        );
        assert_eq!(o.status().state, "partial");
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &s)),
            vec![(RuleId::ProvenanceRegressed, Medium)]
        );
        // A new publisher, and one that is not the project's repository.
        let evil = publisher("evil/demo", "release.yml");
        let o = observed(
            vec![attested("demo-2.0.tar.gz", &evil)],
            Some(earlier_release("org/demo", &["release.yml"])),
        );
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &s)),
            vec![
                (RuleId::PublisherChanged, Medium),
                (RuleId::PublisherChanged, High)
            ]
        );
        // An invalid attestation.
        let o = observed(
            vec![FileObservation {
                filename: "demo-2.0.tar.gz".into(),
                state: FileState::Attested {
                    publishers: vec![ok.clone()],
                    verdicts: vec![Verdict::Invalid("bad".into())],
                },
            }],
            None,
        );
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &s)),
            vec![(RuleId::ProvenanceInvalid, Critical)]
        );
        assert!(
            o.status().files[0]
                .verification
                .as_deref()
                .unwrap()
                .starts_with("invalid: bad")
        );
        // Unknown: never a finding unless required; a dead index never (index-unavailable says it).
        let o = Observation::Unknown("mirror".into());
        assert_eq!(rules(&evaluate(&pkg(), &o, &s)), vec![]);
        assert_eq!(
            rules(&evaluate(&pkg(), &o, &settings(&["demo"]))),
            vec![(RuleId::ProvenanceMissing, Medium)]
        );
        let o = Observation::IndexUnavailable("down".into());
        assert_eq!(rules(&evaluate(&pkg(), &o, &settings(&["demo"]))), vec![]);
        assert_eq!(o.status().state, "unknown");
    }

    #[test]
    fn unverifiable_files_count_as_unknown_and_partial_needs_pins() {
        use crate::finding::Severity::Medium;
        let ok = publisher("org/demo", "release.yml");
        let s = settings(&[]);
        let unverifiable = FileObservation {
            filename: "demo-2.0.tar.gz".into(),
            state: FileState::Attested {
                publishers: vec![publisher("evil/demo", "release.yml")],
                verdicts: vec![Verdict::Unverifiable("newer than the root".into())],
            },
        };
        let o = Observed {
            files: vec![unverifiable],
            last_attested: Some(earlier_release("org/demo", &["release.yml"])),
            unattested_since: 0,
            project_urls: Vec::new(),
            pinned: true,
        };
        assert_eq!(o.state(), State::Unknown);
        // Its publisher is not trusted: no publisher-changed on its word.
        assert!(o.publishers().is_empty());
        let obs = Observation::Observed(o);
        assert_eq!(
            rules(&evaluate(&pkg(), &obs, &s)),
            vec![(RuleId::ProvenanceInvalid, Medium)]
        );
        assert!(obs.status().reason.unwrap().contains("newer than the root"));
        // Required: it cannot be checked.
        assert_eq!(
            rules(&evaluate(&pkg(), &obs, &settings(&["demo"]))),
            vec![
                (RuleId::ProvenanceMissing, Medium),
                (RuleId::ProvenanceInvalid, Medium)
            ]
        );
        // Partial provenance over files nobody pinned is not a finding.
        let o = Observation::Observed(Observed {
            files: vec![
                attested("demo-2.0.tar.gz", &ok),
                none("demo-2.0-cp312-win_amd64.whl"),
            ],
            last_attested: None,
            unattested_since: 0,
            project_urls: Vec::new(),
            pinned: false,
        });
        assert_eq!(o.status().state, "partial");
        assert_eq!(rules(&evaluate(&pkg(), &o, &s)), vec![]);
        // A backport after an attested later version: medium, low confidence.
        let mut later = earlier_release("org/demo", &["release.yml"]);
        later.version = "3.0".into();
        let o = Observation::Observed(Observed {
            files: vec![none("demo-2.0.tar.gz")],
            last_attested: Some(later),
            unattested_since: 0,
            project_urls: Vec::new(),
            pinned: true,
        });
        let f = evaluate(&pkg(), &o, &s);
        assert_eq!(rules(&f), vec![(RuleId::ProvenanceRegressed, Medium)]);
        assert!(
            f[0].message.contains("a later version uploaded before it"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn the_last_attested_release_is_found_by_upload_time() {
        let r = |v: &str, t: Option<&str>, attested: u32| ReleaseAttestation {
            version: v.into(),
            first_upload: t.and_then(|t| t.parse().ok()),
            yanked: false,
            files: 1,
            attested,
            unlisted: 0,
            links: Vec::new(),
        };
        let listing = ProvenanceListing {
            api_version: Some("1.4".into()),
            supported: true,
            url: String::new(),
            releases: vec![
                r("1.0", Some("2024-01-01T00:00:00Z"), 1),
                r("1.1", Some("2024-02-01T00:00:00Z"), 0),
                // A backport uploaded after 2.0: not "earlier".
                r("1.0.1", Some("2024-06-01T00:00:00Z"), 1),
                r("2.0", Some("2024-03-01T00:00:00Z"), 0),
                r("0.9", None, 1),
            ],
        };
        let this = listing.release(&Version::new("2.0")).unwrap().clone();
        let (last, between) = earlier(&listing, &this);
        assert_eq!(
            (last.map(|r| r.version.as_str()), between),
            (Some("1.0"), 1)
        );
        // A yanked release is no baseline.
        let mut listing = listing.clone();
        let mut yanked = r("1.5", Some("2024-02-15T00:00:00Z"), 1);
        yanked.yanked = true;
        listing.releases.push(yanked);
        let (last, _) = earlier(&listing, &this);
        assert_eq!(last.map(|r| r.version.as_str()), Some("1.0"));
        let first = listing.release(&Version::new("1.0")).unwrap();
        assert_eq!(earlier(&listing, first).0, None);
    }
}
