//! PEP 740 provenance: the Integrity API's provenance objects, the Trusted
//! Publisher identity they name, and offline Sigstore verification of their
//! attestations against a trusted root embedded in the binary.
//!
//! A provenance object holds attestation bundles; each bundle names a
//! publisher (`GitHub pypa/sampleproject release.yml`) and carries
//! attestations: a DSSE envelope over an in-toto statement whose subject is the
//! file's sha256, signed with a short-lived Fulcio certificate and logged in
//! Rekor. Verification needs only the attestation and the sha256 the index
//! publishes: no download, no network.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A provenance object could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProvenanceError {
    /// Not a provenance object.
    #[error("not a PEP 740 provenance object: {0}")]
    Malformed(String),
    /// The trusted root could not be read.
    #[error("{path}: not a Sigstore trusted root: {reason}")]
    TrustedRoot {
        /// Where it was read from.
        path: String,
        /// Why it was rejected.
        reason: String,
    },
}

/// A Trusted Publisher identity as the index records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// `GitHub`, `GitLab`, `Google`, `CircleCI`, or another kind kept as given.
    pub kind: String,
    /// `owner/name` (GitHub, GitLab).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    /// The workflow file name (GitHub `workflow`, GitLab `workflow_filepath`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The deployment environment, when one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The service account email (Google).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every other field, as given (CircleCI and unknown kinds).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub other: std::collections::BTreeMap<String, String>,
}

impl Publisher {
    /// Reads the `publisher` object of an attestation bundle.
    pub fn from_json(v: &Value) -> Result<Self, ProvenanceError> {
        let obj = v
            .as_object()
            .ok_or_else(|| ProvenanceError::Malformed("`publisher` is not an object".into()))?;
        let kind = obj
            .get("kind")
            .and_then(Value::as_str)
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| ProvenanceError::Malformed("`publisher.kind` is missing".into()))?
            .to_string();
        let text = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let mut other = std::collections::BTreeMap::new();
        for (k, val) in obj {
            if matches!(
                k.as_str(),
                "kind"
                    | "repository"
                    | "workflow"
                    | "workflow_filepath"
                    | "environment"
                    | "email"
                    | "claims"
            ) {
                continue;
            }
            match val {
                Value::Null => {}
                Value::String(s) if s.is_empty() => {}
                Value::String(s) => {
                    other.insert(k.clone(), s.clone());
                }
                v => {
                    other.insert(k.clone(), v.to_string());
                }
            }
        }
        Ok(Self {
            kind,
            repository: text("repository"),
            workflow: text("workflow").or_else(|| text("workflow_filepath")),
            environment: text("environment"),
            email: text("email"),
            other,
        })
    }

    /// What two publishers must share to be "the same": kind, repository
    /// (case-insensitive, as the forges treat it), workflow, email, and the
    /// other fields of unknown kinds. The environment is not part of it.
    pub fn identity_key(&self) -> String {
        let mut key = format!(
            "{}|{}|{}|{}",
            self.kind.to_ascii_lowercase(),
            self.repository
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase(),
            self.workflow.as_deref().unwrap_or(""),
            self.email.as_deref().unwrap_or("").to_ascii_lowercase()
        );
        for (k, v) in &self.other {
            key.push_str(&format!("|{k}={v}"));
        }
        key
    }

    /// Whether two publishers are the same identity (see [`Self::identity_key`]).
    pub fn same_as(&self, other: &Publisher) -> bool {
        self.identity_key() == other.identity_key()
    }

    /// The source repository URL the publisher implies, when it names one.
    pub fn repository_url(&self) -> Option<String> {
        let repo = self.repository.as_deref()?;
        match self.kind.as_str() {
            "GitHub" => Some(format!("https://github.com/{repo}")),
            "GitLab" => Some(format!("https://gitlab.com/{repo}")),
            _ => None,
        }
    }
}

impl fmt::Display for Publisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        for part in [&self.repository, &self.workflow, &self.email]
            .into_iter()
            .flatten()
        {
            write!(f, " {part}")?;
        }
        if let Some(env) = &self.environment {
            write!(f, " (environment {env})")?;
        }
        for (k, v) in &self.other {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

/// One attestation bundle: a publisher and its attestations, kept raw for
/// verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// Who published.
    pub publisher: Publisher,
    /// The attestations, as the index served them.
    pub attestations: Vec<Value>,
}

/// A provenance object (Integrity API:
/// `/integrity/<project>/<version>/<filename>/provenance`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The attestation bundles.
    pub bundles: Vec<Bundle>,
}

/// Limits on what customs reads from one provenance object.
const MAX_BUNDLES: usize = 16;
const MAX_ATTESTATIONS: usize = 16;

impl Provenance {
    /// Parses a provenance object.
    pub fn parse(bytes: &[u8]) -> Result<Self, ProvenanceError> {
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| ProvenanceError::Malformed(format!("not JSON: {e}")))?;
        let version = doc.get("version").and_then(Value::as_i64);
        if version != Some(1) {
            return Err(ProvenanceError::Malformed(format!(
                "`version` is {}, customs reads version 1",
                doc.get("version")
                    .map_or("missing".into(), Value::to_string)
            )));
        }
        let bundles = doc
            .get("attestation_bundles")
            .and_then(Value::as_array)
            .ok_or_else(|| ProvenanceError::Malformed("no `attestation_bundles` list".into()))?;
        if bundles.len() > MAX_BUNDLES {
            return Err(ProvenanceError::Malformed(format!(
                "{} attestation bundles, more than the {MAX_BUNDLES} customs reads",
                bundles.len()
            )));
        }
        let mut out = Vec::with_capacity(bundles.len());
        for (i, b) in bundles.iter().enumerate() {
            let publisher = Publisher::from_json(b.get("publisher").unwrap_or(&Value::Null))
                .map_err(|e| ProvenanceError::Malformed(format!("bundle {}: {e}", i + 1)))?;
            let attestations =
                b.get("attestations")
                    .and_then(Value::as_array)
                    .ok_or_else(|| {
                        ProvenanceError::Malformed(format!(
                            "bundle {}: no `attestations` list",
                            i + 1
                        ))
                    })?;
            if attestations.len() > MAX_ATTESTATIONS {
                return Err(ProvenanceError::Malformed(format!(
                    "bundle {}: {} attestations, more than the {MAX_ATTESTATIONS} customs reads",
                    i + 1,
                    attestations.len()
                )));
            }
            out.push(Bundle {
                publisher,
                attestations: attestations.clone(),
            });
        }
        Ok(Self { bundles: out })
    }

    /// The distinct publishers, in order of appearance.
    pub fn publishers(&self) -> Vec<&Publisher> {
        let mut seen: Vec<&Publisher> = Vec::new();
        for b in &self.bundles {
            if !seen.iter().any(|p| p.same_as(&b.publisher)) {
                seen.push(&b.publisher);
            }
        }
        seen
    }
}

/// The outcome of verifying one attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signature, certificate chain, transparency log, subject digest and
    /// identity all check out.
    Verified {
        /// The certificate identity (SAN).
        identity: String,
    },
    /// Something does not check out: the attestation does not prove what it claims.
    Invalid(String),
    /// Cannot be decided with this trusted root (it predates the entry).
    Unverifiable(String),
}

/// Verifies attestations offline against one Sigstore trusted root.
pub struct Verifier {
    inner: sigstore_verify::Verifier,
    /// The newest validity start of any key or CA in the root.
    newest_key: Option<Timestamp>,
    /// Where the root came from, for messages.
    source: String,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("source", &self.source)
            .field("newest_key", &self.newest_key)
            .finish_non_exhaustive()
    }
}

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const GITLAB_ISSUER: &str = "https://gitlab.com";
const GOOGLE_ISSUER: &str = "https://accounts.google.com";

impl Verifier {
    /// The Sigstore public-good root embedded in customs.
    pub fn embedded() -> Result<Self, ProvenanceError> {
        Self::from_json(
            sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT,
            "the embedded Sigstore public-good trusted root",
        )
    }

    /// A trusted root read from a file (`--trusted-root`).
    pub fn from_file(path: &Path) -> Result<Self, ProvenanceError> {
        let text = std::fs::read_to_string(path).map_err(|e| ProvenanceError::TrustedRoot {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    fn from_json(json: &str, source: &str) -> Result<Self, ProvenanceError> {
        let bad = |reason: String| ProvenanceError::TrustedRoot {
            path: source.to_string(),
            reason,
        };
        let root = sigstore_verify::trust_root::TrustedRoot::from_json(json)
            .map_err(|e| bad(e.to_string()))?;
        let inner = sigstore_verify::Verifier::new(&root).map_err(|e| bad(e.to_string()))?;
        let doc: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let mut starts = Vec::new();
        collect_starts(&doc, &mut starts);
        Ok(Self {
            inner,
            newest_key: starts.into_iter().max(),
            source: source.to_string(),
        })
    }

    /// Where the root came from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Verifies one attestation (an element of a bundle's `attestations`) of
    /// the file with sha256 `sha256`, published by `publisher`.
    pub fn verify(&self, attestation: &Value, sha256: &str, publisher: &Publisher) -> Verdict {
        let parsed = match Attestation::parse(attestation) {
            Ok(a) => a,
            Err(e) => return Verdict::Invalid(format!("malformed attestation: {e}")),
        };
        let want = sha256.to_ascii_lowercase();
        if !parsed.subject_sha256.contains(&want) {
            return Verdict::Invalid(format!(
                "the statement's subject ({}) is not this file (sha256 {want})",
                if parsed.subject_sha256.is_empty() {
                    "no sha256".to_string()
                } else {
                    format!("sha256 {}", parsed.subject_sha256.join(", "))
                }
            ));
        }
        let bundle = match sigstore_verify::types::Bundle::from_json(&parsed.bundle_json) {
            Ok(b) => b,
            Err(e) => return Verdict::Invalid(format!("malformed attestation: {e}")),
        };
        let digest = match sigstore_verify::types::Sha256Hash::from_hex(&want) {
            Ok(d) => d,
            Err(e) => return Verdict::Invalid(format!("the index's sha256 is not valid: {e}")),
        };
        let policy = sigstore_verify::VerificationPolicy::any_identity();
        let result = match self.inner.verify(digest, &bundle, &policy) {
            Ok(r) => r,
            Err(e) => {
                return self.classify(&e, parsed.integrated_time, Timestamp::now(), Some(&parsed));
            }
        };
        let identity = result.identity().map(|s| s.as_str().to_string());
        let claims = result.certificate().map(|c| &c.ci_claims);
        let signer = Signer {
            identity: identity.as_deref().unwrap_or(""),
            issuer: result.issuer().unwrap_or(""),
            source_repository: claims.and_then(|c| c.source_repository_uri.as_deref()),
            build_config: claims.and_then(|c| c.build_config_uri.as_deref()),
        };
        match identity_matches(publisher, &signer) {
            Ok(true) => Verdict::Verified {
                identity: signer.identity.to_string(),
            },
            Ok(false) => Verdict::Unverifiable(format!(
                "the signature verifies, but customs cannot tie a {} publisher to the certificate identity {}",
                publisher.kind, signer.identity
            )),
            Err(why) => Verdict::Invalid(why),
        }
    }

    fn classify(
        &self,
        e: &sigstore_verify::Error,
        integrated: Option<Timestamp>,
        now: Timestamp,
        attestation: Option<&Attestation>,
    ) -> Verdict {
        use sigstore_verify::{CertificateError, Error, TransparencyLogError};
        // Only "the root holds no key for this": an unknown log, no log key
        // valid at the entry's time, no CA valid then. Every other failure
        // (a bad SET, a bad inclusion proof, a bad signature...) is invalid.
        let no_key = match e {
            Error::TransparencyLog(TransparencyLogError::UnknownLog { .. })
            | Error::Certificate(CertificateError::NoValidAuthority { .. }) => true,
            Error::TransparencyLog(TransparencyLogError::InclusionPromise(m)) => {
                m.contains("No log key valid")
            }
            _ => false,
        };
        // The entry's time is the attacker's to write: it must lie after every
        // key of the root (a newer key would explain the failure) and not in
        // the future.
        let plausible = match (integrated, self.newest_key) {
            (Some(t), Some(newest)) => {
                t > newest && t <= now + jiff::SignedDuration::from_hours(24)
            }
            _ => false,
        };
        if no_key && plausible {
            // Before calling it "newer than the root", check what can be checked
            // without the log: a signature that does not verify is a forgery.
            if let Some(a) = attestation
                && let Err(why) = a.signature_holds()
            {
                return Verdict::Invalid(why);
            }
            Verdict::Unverifiable(format!(
                "{e}: the entry is newer than every key of {} (update customs, or pass a current root with --trusted-root)",
                self.source
            ))
        } else {
            Verdict::Invalid(e.to_string())
        }
    }
}

fn collect_starts(v: &Value, out: &mut Vec<Timestamp>) {
    match v {
        Value::Object(map) => {
            if let Some(start) = map
                .get("validFor")
                .and_then(|f| f.get("start"))
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<Timestamp>().ok())
            {
                out.push(start);
            }
            for child in map.values() {
                collect_starts(child, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                collect_starts(child, out);
            }
        }
        _ => {}
    }
}

/// What the certificate says about who signed.
#[derive(Debug, Default)]
struct Signer<'a> {
    /// The SAN (for GitHub, the job's workflow ref, which may be a reusable workflow).
    identity: &'a str,
    /// The OIDC issuer.
    issuer: &'a str,
    /// Fulcio's Source Repository URI claim.
    source_repository: Option<&'a str>,
    /// Fulcio's Build Config URI claim: the top-level workflow, which is what a
    /// Trusted Publisher names.
    build_config: Option<&'a str>,
}

/// Whether the certificate is the publisher's. `Ok(false)`: customs cannot
/// tell for this kind of publisher.
fn identity_matches(publisher: &Publisher, signer: &Signer<'_>) -> Result<bool, String> {
    let forge = |host: &str, issuer: &str, sep: &str| -> Result<bool, String> {
        let (Some(repo), Some(workflow)) = (&publisher.repository, &publisher.workflow) else {
            return Err(format!(
                "the publisher ({publisher}) lacks a repository or workflow"
            ));
        };
        if signer.issuer != issuer {
            return Err(format!(
                "the certificate was issued by {:?}, not the {} issuer {issuer}",
                signer.issuer, publisher.kind
            ));
        }
        let repo_url = format!("https://{host}/{repo}");
        if let Some(source) = signer.source_repository
            && !source.eq_ignore_ascii_case(&repo_url)
        {
            return Err(format!(
                "the certificate's source repository {source} is not the publisher {publisher}"
            ));
        }
        // The workflow that ran: the Build Config URI where Fulcio gives it
        // (a reusable workflow's ref is in the SAN then), else the SAN.
        let ran = signer.build_config.unwrap_or(signer.identity);
        let prefix = format!("{repo_url}/{sep}{workflow}@");
        if !starts_with_ignore_case(ran, &prefix, repo_url.len()) {
            return Err(format!(
                "the certificate's workflow {ran} is not the publisher {publisher}"
            ));
        }
        Ok(true)
    };
    match publisher.kind.as_str() {
        "GitHub" => forge("github.com", GITHUB_ISSUER, ".github/workflows/"),
        "GitLab" => forge("gitlab.com", GITLAB_ISSUER, "/"),
        "Google" => {
            let Some(email) = &publisher.email else {
                return Err(format!("the publisher ({publisher}) lacks an email"));
            };
            if signer.issuer != GOOGLE_ISSUER {
                return Err(format!(
                    "the certificate was issued by {:?}, not the Google issuer {GOOGLE_ISSUER}",
                    signer.issuer
                ));
            }
            if !signer.identity.eq_ignore_ascii_case(email) {
                return Err(format!(
                    "the certificate identity {} is not the publisher {publisher}",
                    signer.identity
                ));
            }
            Ok(true)
        }
        // Any Fulcio certificate verifies without an identity policy, and
        // anyone can get one: for kinds customs cannot map to a certificate
        // identity, a valid signature proves nothing about the publisher.
        _ => Ok(false),
    }
}

/// `prefix` must match `s`; its first `fold` bytes (the host and repository,
/// which the forges treat case-insensitively) ignoring ASCII case, the rest exactly.
fn starts_with_ignore_case(s: &str, prefix: &str, fold: usize) -> bool {
    if s.len() < prefix.len() || !s.is_char_boundary(prefix.len()) {
        return false;
    }
    let head = &s[..prefix.len()];
    let fold = fold.min(prefix.len());
    if !head.is_char_boundary(fold) || !prefix.is_char_boundary(fold) {
        return false;
    }
    head[..fold].eq_ignore_ascii_case(&prefix[..fold]) && head[fold..] == prefix[fold..]
}

/// What verification needs of one PEP 740 attestation object.
struct Attestation {
    /// The attestation rewritten as a Sigstore bundle (v0.3).
    bundle_json: String,
    /// The statement's bytes, the signature and the certificate (DER).
    statement: Vec<u8>,
    signature: Vec<u8>,
    certificate: Vec<u8>,
    /// The sha256 digests of the statement's subjects.
    subject_sha256: Vec<String>,
    /// The Rekor integrated time of the first entry.
    integrated_time: Option<Timestamp>,
}

impl Attestation {
    fn parse(v: &Value) -> Result<Self, String> {
        if v.get("version").and_then(Value::as_i64) != Some(1) {
            return Err("`version` is not 1".into());
        }
        let s = |path: &[&str]| -> Result<&str, String> {
            let mut cur = v;
            for p in path {
                cur = cur
                    .get(p)
                    .ok_or_else(|| format!("`{}` is missing", path.join(".")))?;
            }
            cur.as_str()
                .ok_or_else(|| format!("`{}` is not a string", path.join(".")))
        };
        let statement_b64 = s(&["envelope", "statement"])?;
        let signature = s(&["envelope", "signature"])?;
        let certificate = s(&["verification_material", "certificate"])?;
        let entries = v
            .get("verification_material")
            .and_then(|m| m.get("transparency_entries"))
            .and_then(Value::as_array)
            .ok_or("`verification_material.transparency_entries` is missing")?;
        if entries.is_empty() {
            return Err("no transparency log entry".into());
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let statement_bytes = b64
            .decode(statement_b64)
            .map_err(|e| format!("the statement is not base64: {e}"))?;
        let signature_bytes = b64
            .decode(signature)
            .map_err(|e| format!("the signature is not base64: {e}"))?;
        let certificate_bytes = b64
            .decode(certificate)
            .map_err(|e| format!("the certificate is not base64: {e}"))?;
        let statement: Value = serde_json::from_slice(&statement_bytes)
            .map_err(|e| format!("the statement is not JSON: {e}"))?;
        let subject_sha256 = statement
            .get("subject")
            .and_then(Value::as_array)
            .map(|subjects| {
                subjects
                    .iter()
                    .filter_map(|s| s.get("digest")?.get("sha256")?.as_str())
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let integrated_time = entries[0]
            .get("integratedTime")
            .and_then(|t| {
                t.as_str()
                    .and_then(|s| s.parse::<i64>().ok())
                    .or_else(|| t.as_i64())
            })
            .and_then(|secs| Timestamp::from_second(secs).ok());
        let bundle = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "verificationMaterial": {
                "certificate": { "rawBytes": certificate },
                "tlogEntries": entries,
            },
            "dsseEnvelope": {
                "payload": statement_b64,
                "payloadType": "application/vnd.in-toto+json",
                "signatures": [{ "sig": signature }],
            },
        });
        Ok(Self {
            bundle_json: bundle.to_string(),
            statement: statement_bytes,
            signature: signature_bytes,
            certificate: certificate_bytes,
            subject_sha256,
            integrated_time,
        })
    }

    /// Whether the signature over the statement (DSSE PAE) verifies with the
    /// certificate's key: what can be checked without the log and the CA.
    fn signature_holds(&self) -> Result<(), String> {
        use sigstore_verify::types::{DerCertificate, SignatureBytes, pae};
        let cert = DerCertificate::from_bytes(&self.certificate);
        let info = sigstore_verify::crypto::parse_certificate_info(&cert)
            .map_err(|e| format!("the certificate does not parse: {e}"))?;
        let message = pae("application/vnd.in-toto+json", &self.statement);
        sigstore_verify::crypto::verify_signature(
            &info.public_key,
            &message,
            &SignatureBytes::from_bytes(&self.signature),
            info.key_algorithm.default_signing_scheme(),
        )
        .map_err(|e| format!("the signature over the statement does not verify: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishers_of_every_kind() {
        let gh = Publisher::from_json(&serde_json::json!({
            "kind": "GitHub", "repository": "pypa/sampleproject",
            "workflow": "release.yml", "environment": "", "claims": null
        }))
        .unwrap();
        assert_eq!(gh.to_string(), "GitHub pypa/sampleproject release.yml");
        assert_eq!(
            gh.repository_url().as_deref(),
            Some("https://github.com/pypa/sampleproject")
        );
        let gl = Publisher::from_json(&serde_json::json!({
            "kind": "GitLab", "repository": "group/proj",
            "workflow_filepath": ".gitlab-ci.yml", "environment": "release"
        }))
        .unwrap();
        assert_eq!(
            gl.to_string(),
            "GitLab group/proj .gitlab-ci.yml (environment release)"
        );
        let google = Publisher::from_json(&serde_json::json!({
            "kind": "Google", "email": "ci@proj.iam.gserviceaccount.com"
        }))
        .unwrap();
        assert_eq!(google.to_string(), "Google ci@proj.iam.gserviceaccount.com");
        let odd = Publisher::from_json(&serde_json::json!({
            "kind": "Forgejo", "instance": "codeberg.org", "n": 3
        }))
        .unwrap();
        assert_eq!(odd.to_string(), "Forgejo instance=codeberg.org n=3");
        assert!(Publisher::from_json(&serde_json::json!({"repository": "x"})).is_err());
        assert!(Publisher::from_json(&serde_json::json!("GitHub")).is_err());
        // The environment is not part of the identity; repository case is not either.
        let mut other = gh.clone();
        other.environment = Some("pypi".into());
        other.repository = Some("PyPA/SampleProject".into());
        assert_eq!(gh.identity_key(), other.identity_key());
        other.workflow = Some("publish.yml".into());
        assert_ne!(gh.identity_key(), other.identity_key());
    }

    #[test]
    fn malformed_documents_are_errors() {
        for bad in [
            &b"not json"[..],
            b"{}",
            b"{\"version\": 2, \"attestation_bundles\": []}",
            b"{\"version\": 1}",
            b"{\"version\": 1, \"attestation_bundles\": [{\"attestations\": []}]}",
            b"{\"version\": 1, \"attestation_bundles\": [{\"publisher\": {\"kind\": \"GitHub\"}}]}",
        ] {
            assert!(
                Provenance::parse(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let ok = Provenance::parse(
            b"{\"version\": 1, \"attestation_bundles\": [{\"publisher\": {\"kind\": \"GitHub\", \"repository\": \"a/b\", \"workflow\": \"w.yml\"}, \"attestations\": []}]}",
        )
        .unwrap();
        assert_eq!(ok.publishers().len(), 1);
    }

    #[test]
    fn identities() {
        let gh = Publisher {
            kind: "GitHub".into(),
            repository: Some("pypa/sampleproject".into()),
            workflow: Some("release.yml".into()),
            environment: None,
            email: None,
            other: Default::default(),
        };
        let signer = |identity, issuer, source, build| Signer {
            identity,
            issuer,
            source_repository: source,
            build_config: build,
        };
        let san =
            "https://github.com/PyPA/sampleproject/.github/workflows/release.yml@refs/tags/v4.0.0";
        assert_eq!(
            identity_matches(&gh, &signer(san, GITHUB_ISSUER, None, None)),
            Ok(true)
        );
        assert!(identity_matches(&gh, &signer(san, GITLAB_ISSUER, None, None)).is_err());
        let other =
            "https://github.com/evil/sampleproject/.github/workflows/release.yml@refs/tags/v4.0.0";
        assert!(identity_matches(&gh, &signer(other, GITHUB_ISSUER, None, None)).is_err());
        let wf = "https://github.com/pypa/sampleproject/.github/workflows/release.yml.evil@x";
        assert!(identity_matches(&gh, &signer(wf, GITHUB_ISSUER, None, None)).is_err());
        assert!(identity_matches(&gh, &signer("", "", None, None)).is_err());
        // A reusable workflow: the SAN names it, the Build Config URI the caller.
        let reusable =
            "https://github.com/org/shared/.github/workflows/publish.yml@refs/heads/main";
        assert_eq!(
            identity_matches(
                &gh,
                &signer(
                    reusable,
                    GITHUB_ISSUER,
                    Some("https://github.com/pypa/sampleproject"),
                    Some(san)
                )
            ),
            Ok(true)
        );
        // The source repository claim must agree too.
        assert!(
            identity_matches(
                &gh,
                &signer(
                    san,
                    GITHUB_ISSUER,
                    Some("https://github.com/evil/x"),
                    Some(san)
                )
            )
            .is_err()
        );
        // Kinds customs cannot map are never "verified".
        let odd = Publisher {
            kind: "ActiveState".into(),
            ..gh.clone()
        };
        assert_eq!(
            identity_matches(&odd, &signer(san, GITHUB_ISSUER, None, None)),
            Ok(false)
        );
        assert!(!starts_with_ignore_case("é", "abc", 2));
    }
}
