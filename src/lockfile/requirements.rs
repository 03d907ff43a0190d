//! pip requirements files, read the way pip reads them
//! (`pip/_internal/req/req_file.py` is the reference).
//!
//! Logical lines are joined on a trailing `\` — but a comment line always ends
//! a continuation (pip's rule, which makes the pip-compile layout of a hash
//! continued into `# via` comments parse); comments are stripped, `${VAR}` is
//! expanded, then each line is either options (`-r`, `-c`, `-i`...) or a
//! requirement with per-requirement options (`--hash`, `--config-settings`).

mod line;
mod spec;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::{IndexRecord, Lockfile, LockfileError, ParseOptions};
use crate::finding::{Finding, RuleId};
use crate::package::{Artifact, Hash, Origin, Package};

/// Deepest `-r`/`-c` nesting followed.
const MAX_DEPTH: usize = 32;
/// Most files one top-level file may pull in.
const MAX_FILES: usize = 512;
/// Longest logical line read.
const MAX_LINE: usize = 1024 * 1024;

/// Parses a requirements file and everything it includes.
pub fn parse(
    path: &Path,
    content: &str,
    options: &ParseOptions,
) -> Result<Lockfile, LockfileError> {
    let mut p = Parser {
        env: &options.env,
        stack: Vec::new(),
        files: 0,
        lock: Lockfile::default(),
        constraints: Vec::new(),
        requirements: Vec::new(),
        indexes: BTreeMap::new(),
    };
    p.file(path, content, 0, false)?;
    Ok(p.finish())
}

struct Entry {
    package: Package,
    /// Whether the entry pins what will be installed (exact version, commit or hash).
    pinned: bool,
    /// Why it is not pinned, for the finding.
    why: String,
}

struct Parser<'a> {
    env: &'a BTreeMap<String, String>,
    /// Canonical paths of the files being read, for cycle detection.
    stack: Vec<PathBuf>,
    files: usize,
    lock: Lockfile,
    constraints: Vec<Entry>,
    requirements: Vec<Entry>,
    indexes: BTreeMap<(String, String), ()>,
}

impl Parser<'_> {
    fn file(
        &mut self,
        path: &Path,
        content: &str,
        depth: usize,
        constraint: bool,
    ) -> Result<(), LockfileError> {
        self.files += 1;
        if self.files > MAX_FILES {
            return Err(LockfileError::new(
                path,
                None,
                format!("more than {MAX_FILES} requirements files are included"),
            ));
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.stack.push(canonical);
        let mut index_url: Option<String> = None;
        for (number, text) in line::logical_lines(content) {
            if text.len() > MAX_LINE {
                return Err(LockfileError::new(
                    path,
                    Some(number),
                    "line longer than 1 MiB",
                ));
            }
            let text = line::strip_comment(&text);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let text = line::expand_env(text, self.env);
            let err = |msg: String| LockfileError::new(path, Some(number), msg);
            let (args, opts) = line::break_args_options(&text);
            let opts = line::parse_options(&opts).map_err(err)?;
            if args.is_empty() {
                self.options_line(path, number, &opts, depth, constraint, &mut index_url)?;
            } else {
                if let Some((name, _)) = opts.line_only.first() {
                    return Err(err(format!(
                        "option `{name}` cannot follow a requirement on the same line"
                    )));
                }
                let entry =
                    spec::requirement(path, number, &args, &opts, index_url.as_deref(), false)?;
                self.push(entry, constraint);
            }
        }
        self.stack.pop();
        Ok(())
    }

    fn options_line(
        &mut self,
        path: &Path,
        number: u32,
        opts: &line::Options,
        depth: usize,
        constraint: bool,
        index_url: &mut Option<String>,
    ) -> Result<(), LockfileError> {
        let err = |msg: String| LockfileError::new(path, Some(number), msg);
        if !opts.hashes.is_empty() || !opts.per_requirement.is_empty() {
            return Err(err(
                "`--hash` and per-requirement options need a requirement on the same line".into(),
            ));
        }
        for (name, value) in &opts.line_only {
            match name.as_str() {
                "-r" | "--requirement" | "-c" | "--constraint" => {
                    let nested_constraint = constraint || name == "-c" || name == "--constraint";
                    self.include(path, number, value, depth, nested_constraint)?;
                }
                "-e" | "--editable" => {
                    let entry =
                        spec::requirement(path, number, value, opts, index_url.as_deref(), true)?;
                    self.push(entry, constraint);
                }
                "-i" | "--index-url" => {
                    *index_url = Some(value.clone());
                    self.indexes.insert((value.clone(), "index-url".into()), ());
                }
                "--extra-index-url" => {
                    self.indexes
                        .insert((value.clone(), "extra-index-url".into()), ());
                }
                "-f" | "--find-links" => {
                    self.indexes
                        .insert((value.clone(), "find-links".into()), ());
                }
                "--trusted-host" => {
                    self.lock
                        .options
                        .insert("trusted-host".into(), value.clone());
                }
                "--no-index" | "--pre" | "--prefer-binary" | "--require-hashes" => {
                    self.lock
                        .options
                        .insert(name.trim_start_matches('-').to_string(), "true".into());
                }
                "--only-binary" | "--no-binary" | "--use-feature" => {
                    self.lock
                        .options
                        .insert(name.trim_start_matches('-').to_string(), value.clone());
                }
                other => return Err(err(format!("unsupported option `{other}`"))),
            }
        }
        Ok(())
    }

    fn include(
        &mut self,
        from: &Path,
        number: u32,
        target: &str,
        depth: usize,
        constraint: bool,
    ) -> Result<(), LockfileError> {
        let err = |msg: String| LockfileError::new(from, Some(number), msg);
        if target.contains("://") && !target.starts_with("file:") {
            return Err(err(format!(
                "`{target}` is a remote requirements file; customs does not fetch them"
            ))
            .with_hint("download it and audit the local copy"));
        }
        if depth + 1 > MAX_DEPTH {
            return Err(err(format!(
                "requirements files are nested more than {MAX_DEPTH} deep"
            )));
        }
        let target = target
            .strip_prefix("file://")
            .or_else(|| target.strip_prefix("file:"))
            .unwrap_or(target);
        let dir = from.parent().unwrap_or(Path::new(""));
        let nested = if Path::new(target).is_absolute() {
            PathBuf::from(target)
        } else {
            dir.join(target)
        };
        let canonical = std::fs::canonicalize(&nested).unwrap_or_else(|_| nested.clone());
        if self.stack.contains(&canonical) {
            return Err(err(format!(
                "`{}` includes itself (an include cycle)",
                nested.display()
            )));
        }
        let content = super::read_text(&nested).map_err(|e| {
            err(format!(
                "cannot read included file {}: {}",
                nested.display(),
                e.message
            ))
        })?;
        self.lock.includes.push(nested.clone());
        self.file(&nested, &content, depth + 1, constraint)
    }

    fn push(&mut self, mut entry: Entry, constraint: bool) {
        if constraint {
            entry.package.groups.push("constraint".into());
            self.constraints.push(entry);
        } else {
            self.requirements.push(entry);
        }
    }

    fn finish(mut self) -> Lockfile {
        let constrained: BTreeMap<String, &Entry> = self
            .constraints
            .iter()
            .filter(|c| c.pinned && c.package.version.is_some())
            .map(|c| (c.package.name.to_string(), c))
            .collect();
        let mut required: HashSet<(String, Option<String>)> = HashSet::new();
        for mut e in std::mem::take(&mut self.requirements) {
            // A constraint that pins an unpinned registry requirement pins it.
            if !e.pinned
                && e.package.version.is_none()
                && e.package.source.kind == crate::package::SourceKind::Registry
                && let Some(c) = constrained.get(e.package.name.as_str())
            {
                e.package.version.clone_from(&c.package.version);
                e.package
                    .artifacts
                    .extend(c.package.artifacts.iter().cloned());
                e.pinned = true;
            }
            if !e.pinned {
                self.lock.findings.push(
                    Finding::for_package(RuleId::UnpinnedRequirement, &e.package)
                        .evidence(
                            "requirement",
                            e.package.requirement.clone().unwrap_or_default(),
                        )
                        .message(e.why.clone()),
                );
            }
            required.insert((
                e.package.name.to_string(),
                e.package.version.as_ref().map(|v| v.as_str().to_string()),
            ));
            self.lock.packages.push(e.package);
        }
        for c in std::mem::take(&mut self.constraints) {
            let key = (
                c.package.name.to_string(),
                c.package.version.as_ref().map(|v| v.as_str().to_string()),
            );
            if !required.contains(&key) && !required.contains(&(key.0.clone(), None)) {
                self.lock.packages.push(c.package);
            }
        }
        self.lock.indexes = self
            .indexes
            .into_keys()
            .map(|(url, role)| IndexRecord { url, role })
            .collect();
        self.lock
    }
}

/// Builds the artifacts for a requirement's `--hash` values.
fn hash_artifacts(
    path: &Path,
    number: u32,
    hashes: &[String],
) -> Result<Vec<Artifact>, LockfileError> {
    hashes
        .iter()
        .map(|h| {
            Hash::parse(h).map(Artifact::from_hash).ok_or_else(|| {
                LockfileError::new(
                    path,
                    Some(number),
                    format!("invalid --hash `{h}`; expected `algorithm:hexdigest`"),
                )
            })
        })
        .collect()
}

fn origin(path: &Path, line: u32) -> Origin {
    Origin {
        file: path.to_path_buf(),
        line,
    }
}

#[cfg(test)]
mod tests;
