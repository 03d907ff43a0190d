//! Finding the lockfiles in a directory.
//!
//! A lockfile wins over the input it was compiled from: `uv.lock` over
//! `pyproject.toml`, `requirements.txt` over `requirements.in`, `Pipfile.lock`
//! over `Pipfile`; a requirements file exported from a lockfile that is also
//! present is skipped so that packages are not counted twice. Every skipped
//! file is reported with the reason.

use std::path::{Path, PathBuf};

use super::{Format, LockfileError};

/// A file discovery decided not to read, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was not read.
    pub reason: String,
}

/// What discovery found in a directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Files to read, sorted by path.
    pub files: Vec<(PathBuf, Format)>,
    /// Files seen and deliberately not read.
    pub skipped: Vec<Skipped>,
}

/// Directories below the given one that are searched too.
const SUBDIRS: &[&str] = &["requirements", "reqs"];

/// Finds the lockfiles in `dir` (and in a `requirements/` folder inside it).
pub fn discover(dir: &Path) -> Result<Discovery, LockfileError> {
    let mut names = list(dir)?;
    for sub in SUBDIRS {
        let p = dir.join(sub);
        if p.is_dir() {
            names.extend(list(&p)?);
        }
    }
    names.sort();

    let mut out = Discovery::default();
    let has = |name: &str| {
        names
            .iter()
            .any(|p| p.parent() == Some(dir) && file_name(p) == name)
    };
    let lock_present: Vec<&str> = [
        "uv.lock",
        "poetry.lock",
        "pdm.lock",
        "Pipfile.lock",
        "pylock.toml",
    ]
    .into_iter()
    .filter(|n| has(n))
    .collect();

    for path in &names {
        let name = file_name(path);
        let lower = name.to_ascii_lowercase();
        let in_subdir = path.parent() != Some(dir);
        let format = Format::from_filename(name)
            .or_else(|| (in_subdir && lower.ends_with(".txt")).then_some(Format::Requirements));
        if let Some(format) = format {
            if let Some(lock) = (format == Format::Requirements)
                .then(|| exported_from(path, &lock_present))
                .flatten()
            {
                out.skipped.push(Skipped {
                    path: path.clone(),
                    reason: format!("exported from {lock}, which is read instead"),
                });
                continue;
            }
            out.files.push((path.clone(), format));
        } else if lower.ends_with(".in") && lower.starts_with("requirements") {
            let compiled = path.with_extension("txt");
            if compiled.is_file() {
                out.skipped.push(Skipped {
                    path: path.clone(),
                    reason: format!("input of {}, which is read instead", file_name(&compiled)),
                });
            } else {
                out.files.push((path.clone(), Format::Requirements));
            }
        } else if path.parent() == Some(dir) && (name == "pyproject.toml" || name == "Pipfile") {
            let reason = match lock_present.first() {
                Some(lock) => format!("compiled into {lock}, which is read instead"),
                None => "not a lockfile: lock it (`uv lock`, `poetry lock`, `pipenv lock`) and audit the lock".into(),
            };
            out.skipped.push(Skipped {
                path: path.clone(),
                reason,
            });
        }
    }
    Ok(out)
}

fn list(dir: &Path) -> Result<Vec<PathBuf>, LockfileError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| LockfileError::new(dir, None, format!("cannot list directory: {e}")))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() {
            out.push(path);
        }
    }
    Ok(out)
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

/// If a requirements file says it was exported from a lockfile that is present,
/// the lockfile's name.
fn exported_from<'a>(path: &Path, locks: &[&'a str]) -> Option<&'a str> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(2048)
        .read_to_end(&mut head)
        .ok()?;
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let wrote = |needle: &str| {
        head.lines()
            .take(10)
            .any(|l| l.starts_with('#') && l.contains(needle))
    };
    locks.iter().copied().find(|lock| match *lock {
        "uv.lock" => wrote("uv export"),
        "poetry.lock" => wrote("poetry export"),
        "pdm.lock" => wrote("pdm export"),
        "Pipfile.lock" => wrote("pipenv requirements") || wrote("pipenv lock -r"),
        "pylock.toml" => false,
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, name: &str, content: &str) {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    #[test]
    fn lockfiles_win_over_their_inputs() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        touch(d, "uv.lock", "version = 1\n");
        touch(d, "pyproject.toml", "[project]\n");
        touch(d, "requirements.in", "django\n");
        touch(d, "requirements.txt", "django==5.0\n");
        touch(d, "requirements/dev.txt", "pytest==8\n");
        touch(
            d,
            "requirements-export.txt",
            "# This file was autogenerated by uv via the following command:\n#    uv export\nsix==1\n",
        );
        touch(d, "README.md", "hi");
        let found = discover(d).unwrap();
        let read: Vec<_> = found
            .files
            .iter()
            .map(|(p, f)| (p.strip_prefix(d).unwrap().to_str().unwrap().to_string(), *f))
            .collect();
        assert_eq!(
            read,
            vec![
                ("requirements/dev.txt".to_string(), Format::Requirements),
                ("requirements.txt".to_string(), Format::Requirements),
                ("uv.lock".to_string(), Format::UvLock),
            ]
        );
        let skipped: Vec<_> = found
            .skipped
            .iter()
            .map(|s| s.path.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(
            skipped,
            vec![
                "pyproject.toml",
                "requirements-export.txt",
                "requirements.in"
            ]
        );
    }
}
