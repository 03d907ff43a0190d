//! `customs.toml` / `[tool.customs]`: parsed raw, validated, unknown keys
//! rejected with the file and line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::finding::{RuleId, Severity};
use crate::lockfile::LineIndex;
use crate::package::PackageName;

/// A configuration error, naming the file and line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}{}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
pub struct ConfigError {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

/// A rule's configured level: a severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleLevel {
    /// The rule does not run / its findings are dropped.
    Off,
    /// Findings get this severity.
    Severity(Severity),
}

/// One `[[allow]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowEntry {
    /// The rule it allows.
    pub rule: RuleId,
    /// The package, if limited to one.
    pub package: Option<PackageName>,
    /// A version (`2.31.0`) or PEP 440 specifiers (`>=2,<3`), if limited.
    pub version: Option<String>,
    /// A path (or `*` glob) inside an archive, for scan findings.
    pub path: Option<String>,
    /// An advisory id (`GHSA-…`, `PYSEC-…`, `CVE-…`), for advisory findings:
    /// it matches the finding's advisory or any of its aliases.
    pub id: Option<String>,
    /// Why it is allowed (required).
    pub reason: String,
    /// The last day it applies (required), `YYYY-MM-DD`.
    pub expires: jiff::civil::Date,
    /// Where the entry is, for `allow-expired` / `allow-unused`.
    pub line: u32,
}

/// The validated configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// The file it came from (`None` for defaults).
    pub path: Option<PathBuf>,
    /// `cooldown`.
    pub cooldown: Option<String>,
    /// `fail-on`.
    pub fail_on: Option<Severity>,
    /// `fail-on-unknown`.
    pub fail_on_unknown: Option<bool>,
    /// `index-url`.
    pub index_url: Option<String>,
    /// `advisory-db`: the OSV export (a URL or a local zip).
    pub advisory_db: Option<String>,
    /// `[rules]`: per-rule severity or off.
    pub rules: BTreeMap<RuleId, RuleLevel>,
    /// `cooldown-exempt`: packages the cooldown does not apply to.
    pub cooldown_exempt: Vec<PackageName>,
    /// `require-attestations`: packages that must carry provenance.
    pub require_attestations: Vec<PackageName>,
    /// `typosquat-allow`: `[name, target]` pairs that are not typosquats.
    pub typosquat_allow: Vec<(PackageName, PackageName)>,
    /// `[[allow]]` entries.
    pub allow: Vec<AllowEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawConfig {
    cooldown: Option<Spanned<String>>,
    fail_on: Option<Spanned<String>>,
    fail_on_unknown: Option<bool>,
    index_url: Option<Spanned<String>>,
    advisory_db: Option<String>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    cooldown_exempt: Vec<Spanned<String>>,
    #[serde(default)]
    require_attestations: Vec<Spanned<String>>,
    #[serde(default)]
    typosquat_allow: Vec<Spanned<Vec<String>>>,
    #[serde(default)]
    allow: Vec<Spanned<RawAllow>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    rule: Spanned<String>,
    package: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    path: Option<String>,
    id: Option<String>,
    reason: Option<String>,
    expires: Option<Spanned<toml::Value>>,
}

#[derive(Debug, Deserialize)]
struct Pyproject {
    tool: Option<PyprojectTool>,
}

#[derive(Debug, Deserialize)]
struct PyprojectTool {
    customs: Option<toml::Value>,
}

struct Ctx<'a> {
    path: &'a Path,
    lines: LineIndex,
}

impl Ctx<'_> {
    fn err(&self, span: Option<std::ops::Range<usize>>, message: impl Into<String>) -> ConfigError {
        ConfigError {
            path: self.path.to_path_buf(),
            line: span.map(|s| self.lines.line_of(s.start)),
            message: message.into(),
            hint: None,
        }
    }
}

/// Parses a `customs.toml` (top-level keys).
pub fn parse_customs_toml(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let ctx = Ctx {
        path,
        lines: LineIndex::new(text),
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| toml_err(&ctx, &e))?;
    validate(&ctx, raw)
}

/// Parses `[tool.customs]` from a `pyproject.toml`; `Ok(None)` when it has none.
pub fn parse_pyproject(path: &Path, text: &str) -> Result<Option<Config>, ConfigError> {
    let ctx = Ctx {
        path,
        lines: LineIndex::new(text),
    };
    let doc: Pyproject = toml::from_str(text).map_err(|e| toml_err(&ctx, &e))?;
    if doc.tool.and_then(|t| t.customs).is_none() {
        return Ok(None);
    }
    // Re-read the section with spans relative to the whole file: deserialising
    // `{tool: {customs: RawConfig}}` keeps the byte offsets of the real file.
    #[derive(Deserialize)]
    struct Whole {
        tool: WholeTool,
    }
    #[derive(Deserialize)]
    struct WholeTool {
        customs: RawConfig,
    }
    let whole: Whole = toml::from_str(text).map_err(|e| toml_err(&ctx, &e))?;
    validate(&ctx, whole.tool.customs).map(Some)
}

fn toml_err(ctx: &Ctx<'_>, e: &toml::de::Error) -> ConfigError {
    let message = e
        .message()
        .lines()
        .next()
        .unwrap_or("invalid TOML")
        .trim()
        .to_string();
    let mut err = ctx.err(e.span(), message.clone());
    if message.contains("unknown field") {
        err.hint = Some(
            "known keys: cooldown, fail-on, fail-on-unknown, index-url, advisory-db, rules, cooldown-exempt, require-attestations, typosquat-allow, allow (with rule, package, version, path, id, reason, expires)".into(),
        );
    }
    err
}

fn name(ctx: &Ctx<'_>, s: &Spanned<String>) -> Result<PackageName, ConfigError> {
    PackageName::new(s.get_ref()).map_err(|e| ctx.err(Some(s.span()), e.to_string()))
}

fn validate(ctx: &Ctx<'_>, raw: RawConfig) -> Result<Config, ConfigError> {
    let mut cfg = Config {
        path: Some(ctx.path.to_path_buf()),
        fail_on_unknown: raw.fail_on_unknown,
        ..Config::default()
    };
    if let Some(c) = raw.cooldown {
        if c.get_ref().trim().is_empty() {
            return Err(ctx.err(Some(c.span()), "`cooldown` is empty"));
        }
        cfg.cooldown = Some(c.into_inner());
    }
    if let Some(f) = raw.fail_on {
        cfg.fail_on = Some(
            f.get_ref()
                .parse()
                .map_err(|e: String| ctx.err(Some(f.span()), e))?,
        );
    }
    if let Some(u) = raw.index_url {
        url::Url::parse(u.get_ref())
            .map_err(|e| ctx.err(Some(u.span()), format!("`index-url` is not a URL: {e}")))?;
        cfg.index_url = Some(u.into_inner());
    }
    if let Some(a) = raw
        .advisory_db
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
    {
        cfg.advisory_db = Some(a);
    }
    for (rule, level) in &raw.rules {
        let id: RuleId = rule.get_ref().parse().map_err(|_| {
            let mut e = ctx.err(
                Some(rule.span()),
                format!("unknown rule `{}` in [rules]", rule.get_ref()),
            );
            e.hint = Some("`customs rules` lists the rule ids".into());
            e
        })?;
        let lvl = if level.get_ref() == "off" {
            RuleLevel::Off
        } else {
            RuleLevel::Severity(
                level
                    .get_ref()
                    .parse()
                    .map_err(|e: String| ctx.err(Some(level.span()), format!("{e}, or off")))?,
            )
        };
        cfg.rules.insert(id, lvl);
    }
    for n in &raw.cooldown_exempt {
        cfg.cooldown_exempt.push(name(ctx, n)?);
    }
    for n in &raw.require_attestations {
        cfg.require_attestations.push(name(ctx, n)?);
    }
    for pair in &raw.typosquat_allow {
        match pair.get_ref().as_slice() {
            [a, b] => {
                let span = Some(pair.span());
                let a = PackageName::new(a).map_err(|e| ctx.err(span.clone(), e.to_string()))?;
                let b = PackageName::new(b).map_err(|e| ctx.err(span.clone(), e.to_string()))?;
                cfg.typosquat_allow.push((a, b));
            }
            _ => {
                return Err(ctx.err(
                    Some(pair.span()),
                    "`typosquat-allow` entries are pairs: [\"name\", \"popular-name\"]",
                ));
            }
        }
    }
    for entry in raw.allow {
        let span = entry.span();
        let line = ctx.lines.line_of(span.start);
        let e = entry.into_inner();
        let rule: RuleId = e.rule.get_ref().parse().map_err(|_| {
            let mut err = ctx.err(
                Some(e.rule.span()),
                format!("unknown rule `{}` in [[allow]]", e.rule.get_ref()),
            );
            err.hint = Some("`customs rules` lists the rule ids".into());
            err
        })?;
        let reason = e.reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
            let mut err = ctx.err(Some(span.clone()), "[[allow]] entry has no `reason`");
            err.hint = Some("say why this finding is acceptable: reviewers read it".into());
            err
        })?;
        let expires_raw = e.expires.ok_or_else(|| {
            let mut err = ctx.err(Some(span.clone()), "[[allow]] entry has no `expires`");
            err.hint =
                Some("add `expires = \"YYYY-MM-DD\"`: exceptions must be reviewed again".into());
            err
        })?;
        let expires = parse_date(expires_raw.get_ref()).ok_or_else(|| {
            ctx.err(
                Some(expires_raw.span()),
                "`expires` must be a date, `YYYY-MM-DD`",
            )
        })?;
        let package = e.package.as_ref().map(|p| name(ctx, p)).transpose()?;
        let version = match e.version {
            Some(v) => {
                let text = v.get_ref().trim().to_string();
                if version_matcher(&text).is_none() {
                    return Err(ctx.err(
                        Some(v.span()),
                        format!("`version` `{text}` is neither a version nor PEP 440 specifiers"),
                    ));
                }
                Some(text)
            }
            None => None,
        };
        cfg.allow.push(AllowEntry {
            rule,
            package,
            version,
            path: e.path,
            id: e.id.map(|i| i.trim().to_string()).filter(|i| !i.is_empty()),
            reason,
            expires,
            line,
        });
    }
    Ok(cfg)
}

fn parse_date(v: &toml::Value) -> Option<jiff::civil::Date> {
    match v {
        toml::Value::String(s) => s.trim().parse().ok(),
        toml::Value::Datetime(d) => {
            let date = d.date?;
            jiff::civil::Date::new(
                i16::try_from(date.year).ok()?,
                i8::try_from(date.month).ok()?,
                i8::try_from(date.day).ok()?,
            )
            .ok()
        }
        _ => None,
    }
}

/// How an allow entry's `version` matches: an exact version or specifiers.
#[derive(Debug, Clone)]
pub enum VersionMatcher {
    /// `2.31.0`: PEP 440 equality.
    Exact(crate::package::Version),
    /// `>=2,<3`.
    Specifiers(pep440_rs::VersionSpecifiers),
}

/// Parses an allow entry's `version` value.
pub fn version_matcher(text: &str) -> Option<VersionMatcher> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if t.starts_with(|c: char| c.is_ascii_digit()) && !t.contains(',') {
        return Some(VersionMatcher::Exact(crate::package::Version::new(t)));
    }
    t.parse::<pep440_rs::VersionSpecifiers>()
        .ok()
        .map(VersionMatcher::Specifiers)
}

impl VersionMatcher {
    /// Whether a version string matches.
    pub fn matches(&self, version: &str) -> bool {
        let v = crate::package::Version::new(version);
        match self {
            Self::Exact(want) => *want == v,
            Self::Specifiers(s) => v.pep440().is_some_and(|p| s.contains(p)),
        }
    }
}

/// Finds the configuration: `customs.toml`, else `[tool.customs]` in
/// `pyproject.toml`, from `start` upward, stopping at the repository root (the
/// first directory with `.git`). Never looks inside scanned dependencies.
pub fn discover(start: &Path) -> Result<Option<Config>, ConfigError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let customs = d.join("customs.toml");
        if customs.is_file() {
            return load(&customs).map(Some);
        }
        let pyproject = d.join("pyproject.toml");
        if pyproject.is_file() {
            let text = read(&pyproject)?;
            if let Some(cfg) = parse_pyproject(&pyproject, &text)? {
                return Ok(Some(cfg));
            }
        }
        if d.join(".git").exists() {
            break;
        }
        dir = d.parent();
    }
    Ok(None)
}

/// Loads an explicit `--config FILE` (a `pyproject.toml` means its `[tool.customs]`).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text = read(path)?;
    if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        return parse_pyproject(path, &text)?.ok_or_else(|| ConfigError {
            path: path.to_path_buf(),
            line: None,
            message: "has no [tool.customs] table".into(),
            hint: None,
        });
    }
    parse_customs_toml(path, &text)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    crate::lockfile::read_text(path).map_err(|e| ConfigError {
        path: path.to_path_buf(),
        line: e.line,
        message: e.message,
        hint: e.hint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        parse_customs_toml(Path::new("customs.toml"), text)
    }

    #[test]
    fn full_config_parses() {
        let cfg = parse(
            r#"
cooldown = "7 days"
fail-on = "medium"
fail-on-unknown = true
index-url = "https://index.example/simple"
cooldown-exempt = ["My_Pkg"]
require-attestations = ["sampleproject"]
typosquat-allow = [["reqeusts", "requests"]]

[rules]
unpinned-requirement = "critical"
allow-unused = "off"

[[allow]]
rule = "unpinned-requirement"
package = "Requests"
version = ">=2,<3"
reason = "internal fork, reviewed"
expires = 2027-01-31
"#,
        )
        .unwrap();
        assert_eq!(cfg.fail_on, Some(Severity::Medium));
        assert_eq!(cfg.cooldown_exempt[0].as_str(), "my-pkg");
        assert_eq!(cfg.allow.len(), 1);
        assert_eq!(cfg.allow[0].line, 14);
        assert_eq!(cfg.allow[0].package.as_ref().unwrap().as_str(), "requests");
        assert_eq!(cfg.allow[0].expires.to_string(), "2027-01-31");
    }

    #[test]
    fn errors_name_the_line() {
        let e = parse("cooldown = \"1 day\"\nfail-of = \"high\"\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.to_string().contains("fail-of"), "{e}");
        let e = parse("[[allow]]\nrule = \"unpinned-requirement\"\nexpires = \"2027-01-01\"\n")
            .unwrap_err();
        assert!(e.message.contains("reason"), "{e}");
        assert_eq!(e.line, Some(1));
        let e = parse("[[allow]]\nrule = \"nope\"\nreason = \"x\"\nexpires = \"2027-01-01\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = parse(
            "[[allow]]\nrule = \"unpinned-requirement\"\nreason = \"x\"\nexpires = \"soon\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, Some(4));
        let e = parse("fail-on = \"urgent\"\n").unwrap_err();
        assert!(e.message.contains("urgent"));
    }

    #[test]
    fn pyproject_section_is_found_and_validated() {
        let p = Path::new("pyproject.toml");
        assert!(
            parse_pyproject(p, "[project]\nname='x'\n")
                .unwrap()
                .is_none()
        );
        let cfg = parse_pyproject(
            p,
            "[project]\nname='x'\n[tool.customs]\nfail-on = \"low\"\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(cfg.fail_on, Some(Severity::Low));
        let e =
            parse_pyproject(p, "[project]\nname='x'\n\n[tool.customs]\nbogus = 1\n").unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
    }

    #[test]
    fn version_matchers() {
        assert!(version_matcher("2.31.0").unwrap().matches("2.31"));
        assert!(version_matcher(">=2,<3").unwrap().matches("2.5"));
        assert!(!version_matcher(">=2,<3").unwrap().matches("3.0"));
        assert!(version_matcher("").is_none());
    }
}
