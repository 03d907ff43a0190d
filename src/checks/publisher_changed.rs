//! `publisher-changed`: the Trusted Publisher differs from the previous attested
//! release, is inconsistent within the release, does not match the project's
//! source repository, or does not match what pylock.toml recorded.

use super::RuleMeta;
use super::provenance::Observed;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;
use crate::provenance::Publisher;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::PublisherChanged,
    summary: "The release's Trusted Publisher differs from the previous release, within the release, from the source repository or from pylock.toml",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# publisher-changed

## What it does
Reads the publisher of each attested pinned file (PEP 740: for GitHub the repository and workflow,
for GitLab the repository and workflow file, for Google the service account) and reports:

- a publisher that the previous attested release did not have (the publishers of its sdist and of
  one wheel per platform family are compared, as far as their attestations verify) (high);
- more than one publisher within the locked release, unless the previous attested release had the
  same ones (high; medium when there is no earlier attested release to compare with);
- a `pylock.toml` `attestation-identities` entry that no publisher matches (high);
- a publisher repository that none of the project's source URLs on the same forge names (medium,
  low confidence: project URLs are written by the project and go stale after renames).

The JSON report lists the publishers of every package in `packages[].provenance.publishers`.

## Why it matters
An attacker who gets upload rights may publish from their own repository or workflow with Trusted
Publishing set up on the project, so the release is attested, but by someone else. A change of
repository or workflow between releases is rare and deserves a look.

## Example
```text
sampleproject 4.0.1 was published by GitHub evil/sampleproject release.yml; the previous attested
release 4.0.0 by GitHub pypa/sampleproject release.yml
```

## How to fix
Check the project's announcements or changelog for a move (a renamed organisation, a new release
workflow). If the change is legitimate, add an `[[allow]]` entry for `publisher-changed` with the
package, version, a reason and an expiry; for pylock.toml, re-lock to record the new identity.
"#,
};

/// Reports publisher changes for one release.
pub fn check(pkg: &Package, o: &Observed) -> Vec<Finding> {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let mut out = Vec::new();
    let now = o.publishers();
    let list = |ps: &[&Publisher]| {
        ps.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    // A publisher the previous attested release did not have (its sdist's and
    // a wheel's publishers are known).
    let new: Vec<&Publisher> = match &o.last_attested {
        Some(last) if !last.publishers.is_empty() => now
            .iter()
            .filter(|p| !last.publishers.iter().any(|q| q.same_as(p)))
            .copied()
            .collect(),
        _ => Vec::new(),
    };
    // Several publishers in one release, unless the previous attested release
    // had the same ones (a project whose sdist and wheels come from two workflows).
    let usual = o
        .last_attested
        .as_ref()
        .is_some_and(|l| !l.publishers.is_empty() && new.is_empty());
    if now.len() > 1 && !usual {
        let mut f = Finding::for_package(RuleId::PublisherChanged, pkg);
        // Without a baseline (no earlier attested release, or its publishers
        // could not be fetched), it may be how the project always publishes.
        if o.last_attested
            .as_ref()
            .is_none_or(|l| l.publishers.is_empty())
        {
            f = f.severity(Severity::Medium).confidence(Confidence::Medium);
        }
        for p in &now {
            f = f.evidence("publisher", p.to_string());
        }
        out.push(f.message(format!(
            "the pinned files of {} {version} name {} different publishers: {}",
            pkg.name,
            now.len(),
            list(&now)
        )));
    }
    if let Some(last) = &o.last_attested
        && !new.is_empty()
    {
        let before: Vec<&Publisher> = last.publishers.iter().collect();
        out.push(
            Finding::for_package(RuleId::PublisherChanged, pkg)
                .evidence("publisher", list(&new))
                .evidence("previous-publisher", list(&before))
                .evidence("previous-release", last.version.clone())
                .message(format!(
                    "{} {version} was published by {}; the previous attested release {} by {}",
                    pkg.name,
                    list(&new),
                    last.version,
                    list(&before)
                )),
        );
    }
    for recorded in &pkg.attestation_identities {
        if now.is_empty() {
            break;
        }
        if !now.iter().any(|p| identity_matches(recorded, p)) {
            out.push(
                Finding::for_package(RuleId::PublisherChanged, pkg)
                    .evidence("recorded", recorded.to_string())
                    .evidence("publisher", list(&now))
                    .message(format!(
                        "pylock.toml records the attestation identity {} for {} {version}, but the index names {}",
                        describe(recorded),
                        pkg.name,
                        list(&now)
                    )),
            );
        }
    }
    if let Some(f) = source_mismatch(pkg, o, &now) {
        out.push(f);
    }
    out
}

/// A recorded `attestation-identities` entry matches a publisher when every
/// field it gives (kind, repository, workflow, environment, email) agrees.
fn identity_matches(recorded: &serde_json::Value, p: &Publisher) -> bool {
    let field = |k: &str| recorded.get(k).and_then(|v| v.as_str());
    let eq = |want: Option<&str>, have: Option<&str>, fold: bool| match want {
        None | Some("") => true,
        Some(w) => have.is_some_and(|h| {
            if fold {
                h.eq_ignore_ascii_case(w)
            } else {
                h == w
            }
        }),
    };
    eq(field("kind"), Some(&p.kind), true)
        && eq(field("repository"), p.repository.as_deref(), true)
        && eq(
            field("workflow").or_else(|| field("workflow_filepath")),
            p.workflow.as_deref(),
            false,
        )
        && eq(field("environment"), p.environment.as_deref(), false)
        && eq(field("email"), p.email.as_deref(), true)
}

fn describe(recorded: &serde_json::Value) -> String {
    let field = |k: &str| recorded.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let parts: Vec<&str> = [
        field("kind"),
        field("repository"),
        field("workflow"),
        field("workflow_filepath"),
        field("email"),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect();
    parts.join(" ")
}

/// `owner/name` of a forge URL on `host`, lowercased, without `.git`.
fn repo_of(url: &str, host: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if !parsed.host_str()?.eq_ignore_ascii_case(host)
        && !parsed
            .host_str()?
            .eq_ignore_ascii_case(&format!("www.{host}"))
    {
        return None;
    }
    let mut segs = parsed.path_segments()?.filter(|s| !s.is_empty());
    let owner = segs.next()?;
    let name = segs.next()?.trim_end_matches(".git");
    Some(format!("{owner}/{name}").to_ascii_lowercase())
}

fn source_mismatch(pkg: &Package, o: &Observed, now: &[&Publisher]) -> Option<Finding> {
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    for p in now {
        let host = match p.kind.as_str() {
            "GitHub" => "github.com",
            "GitLab" => "gitlab.com",
            _ => continue,
        };
        let Some(repo) = p.repository.as_deref().map(str::to_ascii_lowercase) else {
            continue;
        };
        let named: Vec<String> = o
            .project_urls
            .iter()
            .filter_map(|u| repo_of(u, host))
            .collect();
        if named.is_empty() || named.contains(&repo) {
            continue;
        }
        let mut shown = named.clone();
        shown.sort();
        shown.dedup();
        return Some(
            Finding::for_package(RuleId::PublisherChanged, pkg)
                .severity(Severity::Medium)
                .confidence(Confidence::Low)
                .evidence("publisher", p.to_string())
                .evidence("project-urls", shown.join(", "))
                .message(format!(
                    "{} {version} was published by {p}, but the project's URLs on {host} name {}",
                    pkg.name,
                    shown.join(", ")
                )),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_urls() {
        assert_eq!(
            repo_of("https://github.com/PyPA/sampleproject/issues", "github.com").as_deref(),
            Some("pypa/sampleproject")
        );
        assert_eq!(
            repo_of("https://www.github.com/a/b.git", "github.com").as_deref(),
            Some("a/b")
        );
        assert_eq!(repo_of("https://github.com/a", "github.com"), None);
        assert_eq!(repo_of("https://gitlab.com/a/b", "github.com"), None);
        assert_eq!(repo_of("not a url", "github.com"), None);
    }

    #[test]
    fn recorded_identities() {
        let p = Publisher::from_json(&serde_json::json!({
            "kind": "GitHub", "repository": "python-attrs/attrs", "workflow": "pypi-package.yml"
        }))
        .unwrap();
        assert!(identity_matches(
            &serde_json::json!({"kind": "GitHub", "repository": "Python-Attrs/attrs"}),
            &p
        ));
        assert!(identity_matches(
            &serde_json::json!({"kind": "GitHub", "repository": "python-attrs/attrs", "workflow": "pypi-package.yml"}),
            &p
        ));
        assert!(!identity_matches(
            &serde_json::json!({"kind": "GitHub", "repository": "evil/attrs"}),
            &p
        ));
        assert!(!identity_matches(
            &serde_json::json!({"kind": "GitLab", "repository": "python-attrs/attrs"}),
            &p
        ));
        assert!(!identity_matches(
            &serde_json::json!({"repository": "python-attrs/attrs", "workflow": "other.yml"}),
            &p
        ));
    }
}
