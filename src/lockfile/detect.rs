//! Which format a file is in: its name when the name says, else its content.
//!
//! Lockfiles are often saved under other names (`prod.lock`, `uv-py312.lock`,
//! `locks/poetry-2023.lock`, a renamed `Pipfile.lock`). The content decides
//! then, from the structure of the parsed document rather than from
//! substrings; a document that does not parse falls back to telling marks in
//! its text, so that the right parser reports the syntax error at its line.

use std::path::Path;

use super::Format;

/// The format chosen for a file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    /// The format.
    pub format: Format,
    /// What decided it.
    pub basis: Basis,
}

/// What decided a file's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// Its file name (`uv.lock`, `requirements-dev.txt`...).
    Name,
    /// Its content; the text says what in it, for people.
    Content(String),
    /// The user (`--format-of`).
    User,
}

impl Detection {
    fn new(format: Format, why: impl Into<String>) -> Self {
        Self {
            format,
            basis: Basis::Content(why.into()),
        }
    }

    /// A format decided by a file's name.
    pub fn by_name(format: Format) -> Self {
        Self {
            format,
            basis: Basis::Name,
        }
    }

    /// A format the user gave.
    pub fn by_user(format: Format) -> Self {
        Self {
            format,
            basis: Basis::User,
        }
    }
}

/// The format of an explicitly named file: a known name decides; otherwise
/// the content; a file with no lockfile structure is a requirements file.
pub fn detect(path: &Path, content: &str) -> Detection {
    if let Some(f) = path
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(Format::from_filename)
    {
        return Detection::by_name(f);
    }
    from_content(content).unwrap_or_else(|| {
        Detection::new(Format::Requirements, "no TOML or JSON lockfile structure")
    })
}

/// The format the content shows, if any.
pub fn from_content(content: &str) -> Option<Detection> {
    let text = content.trim_start_matches('\u{feff}');
    if text.trim_start().starts_with('{') {
        return from_json(text);
    }
    match toml::from_str::<toml::Table>(text) {
        Ok(table) => from_toml(&table),
        Err(_) => from_broken_toml(text),
    }
}

fn from_json(text: &str) -> Option<Detection> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) if map.contains_key("_meta") => Some(Detection::new(
            Format::PipfileLock,
            "a JSON document with `_meta` (Pipfile.lock)",
        )),
        Ok(_) => None,
        // Broken JSON that still names `_meta`: let the Pipfile.lock parser
        // say where it breaks.
        Err(_) if text.contains("\"_meta\"") => Some(Detection::new(
            Format::PipfileLock,
            "JSON text with a `_meta` key (Pipfile.lock)",
        )),
        Err(_) => None,
    }
}

fn from_toml(doc: &toml::Table) -> Option<Detection> {
    let packages = doc.get("package").and_then(toml::Value::as_array);
    if doc.contains_key("lock-version") {
        return Some(Detection::new(
            Format::Pylock,
            "a TOML document with `lock-version` at the top (PEP 751 pylock)",
        ));
    }
    if let Some(meta) = doc.get("metadata").and_then(toml::Value::as_table) {
        if meta.contains_key("lock_version") || meta.contains_key("content_hash") {
            return Some(Detection::new(
                Format::PdmLock,
                "`[metadata]` with `lock_version`/`content_hash` (pdm.lock)",
            ));
        }
        if [
            "content-hash",
            "lock-version",
            "files",
            "hashes",
            "python-versions",
        ]
        .iter()
        .any(|k| meta.contains_key(*k))
        {
            return Some(Detection::new(
                Format::PoetryLock,
                "`[metadata]` with `content-hash` (poetry.lock)",
            ));
        }
    }
    let versioned = doc.get("version").is_some_and(toml::Value::is_integer)
        || doc.get("revision").is_some_and(toml::Value::is_integer);
    let with_sources = packages.is_some_and(|p| {
        p.iter()
            .any(|e| e.get("source").is_some_and(toml::Value::is_table))
    });
    if versioned && (with_sources || doc.contains_key("requires-python") || packages.is_some()) {
        return Some(Detection::new(
            Format::UvLock,
            "`version` and `[[package]]` entries with `source` tables (uv.lock)",
        ));
    }
    if with_sources {
        return Some(Detection::new(
            Format::UvLock,
            "`[[package]]` entries with `source` tables (uv.lock)",
        ));
    }
    None
}

/// A TOML-looking file that does not parse: the telling marks in its text
/// choose the parser that will report the error at its line.
fn from_broken_toml(text: &str) -> Option<Detection> {
    let has_line = |prefix: &str| text.lines().any(|l| l.trim_start().starts_with(prefix));
    let why = |what: &str| format!("{what}, in text that is not valid TOML");
    if has_line("lock-version") && !has_line("[metadata]") {
        Some(Detection::new(
            Format::Pylock,
            why("`lock-version` (pylock)"),
        ))
    } else if text.contains("@generated by Poetry") || has_line("content-hash") {
        Some(Detection::new(
            Format::PoetryLock,
            why("`content-hash` (poetry.lock)"),
        ))
    } else if has_line("lock_version") || has_line("content_hash") {
        Some(Detection::new(
            Format::PdmLock,
            why("`lock_version` (pdm.lock)"),
        ))
    } else if has_line("[[package]]") {
        Some(Detection::new(
            Format::UvLock,
            why("`[[package]]` tables (uv.lock)"),
        ))
    } else {
        None
    }
}

/// Whether `content` is a TOML document with tables or keys (so not a
/// requirements file) that no lockfile format claims.
pub fn unknown_toml(content: &str) -> bool {
    let text = content.trim_start_matches('\u{feff}');
    from_content(text).is_none() && toml::from_str::<toml::Table>(text).is_ok_and(|t| !t.is_empty())
}

/// Parses a `--format-of` format name: the report's names (`uv-lock`) or the
/// tool's (`uv`).
pub fn parse_format(s: &str) -> Option<Format> {
    match s.trim().to_ascii_lowercase().as_str() {
        "uv" | "uv-lock" | "uv.lock" => Some(Format::UvLock),
        "poetry" | "poetry-lock" | "poetry.lock" => Some(Format::PoetryLock),
        "pdm" | "pdm-lock" | "pdm.lock" => Some(Format::PdmLock),
        "pipfile" | "pipenv" | "pipfile-lock" | "pipfile.lock" => Some(Format::PipfileLock),
        "pylock" | "pylock.toml" | "pep751" => Some(Format::Pylock),
        "requirements" | "pip" | "requirements.txt" | "pip-compile" => Some(Format::Requirements),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(text: &str) -> Option<Format> {
        from_content(text).map(|d| d.format)
    }

    #[test]
    fn every_format_is_told_by_its_content() {
        let cases: &[(&str, Option<Format>)] = &[
            (
                "version = 1\nrevision = 3\nrequires-python = \">=3.12\"\n\n[[package]]\nname = \"a\"\nversion = \"1\"\nsource = { registry = \"https://index.example/simple\" }\n",
                Some(Format::UvLock),
            ),
            (
                "version = 1\nrequires-python = \">=3.8\"\n",
                Some(Format::UvLock),
            ),
            (
                "[[package]]\nname = \"six\"\nversion = \"1.16.0\"\n\n[metadata]\nlock-version = \"1.1\"\npython-versions = \"*\"\ncontent-hash = \"abc\"\n",
                Some(Format::PoetryLock),
            ),
            (
                "[[package]]\ncategory = \"main\"\nname = \"six\"\nversion = \"1.16.0\"\n\n[metadata]\ncontent-hash = \"abc\"\npython-versions = \"*\"\n\n[metadata.hashes]\nsix = [\"abc\"]\n",
                Some(Format::PoetryLock),
            ),
            (
                "[metadata]\ngroups = [\"default\"]\nlock_version = \"4.4\"\ncontent_hash = \"sha256:00\"\n\n[[package]]\nname = \"a\"\nversion = \"1\"\n",
                Some(Format::PdmLock),
            ),
            (
                "[[package]]\nname = \"a\"\nversion = \"1\"\n\n[metadata]\nlock_version = \"3.1\"\ncontent_hash = \"sha256:00\"\n",
                Some(Format::PdmLock),
            ),
            (
                "lock-version = \"1.0\"\n[[packages]]\nname = \"a\"\n",
                Some(Format::Pylock),
            ),
            (
                "{\n  \"_meta\": {\"hash\": {}},\n  \"default\": {}\n}\n",
                Some(Format::PipfileLock),
            ),
            ("{\"_meta\": {,\n", Some(Format::PipfileLock)),
            ("{\"name\": 1}", None),
            ("requests==2.31.0\nsix\n", None),
            ("# only a comment\n", None),
            ("", None),
            (
                "-e .[cli]\n--index-url https://index.example/simple\n",
                None,
            ),
            // Broken TOML still goes to the parser that names the line.
            ("version = 1\n[[package]]\nname = \n", Some(Format::UvLock)),
            (
                "[[package]]\nname = \"a\n[metadata]\ncontent-hash = \"x\"\n",
                Some(Format::PoetryLock),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(content(text), *want, "{text}");
        }
    }

    #[test]
    fn the_name_wins_and_the_reason_is_given() {
        let d = detect(Path::new("locks/poetry.lock"), "version = 1\n");
        assert_eq!(d.format, Format::PoetryLock);
        assert_eq!(d.basis, Basis::Name);
        let d = detect(
            Path::new("prod.lock"),
            "version = 1\n[[package]]\nname = \"a\"\nversion = \"1\"\nsource = { registry = \"x\" }\n",
        );
        assert_eq!(d.format, Format::UvLock);
        assert!(
            matches!(&d.basis, Basis::Content(w) if w.contains("source")),
            "{d:?}"
        );
        let d = detect(Path::new("deps.lock"), "six==1.16.0\n");
        assert_eq!(d.format, Format::Requirements);
    }

    #[test]
    fn toml_nobody_claims_is_not_read_as_requirements() {
        assert!(unknown_toml("[metadata]\nname = \"x\"\n"));
        assert!(!unknown_toml("requests==2.31.0\n"));
        assert!(!unknown_toml("# comment only\n"));
        assert!(!unknown_toml("version = 1\nrequires-python = \">=3.8\"\n"));
    }

    #[test]
    fn format_names() {
        assert_eq!(parse_format("uv"), Some(Format::UvLock));
        assert_eq!(parse_format("Poetry-Lock"), Some(Format::PoetryLock));
        assert_eq!(parse_format("pipenv"), Some(Format::PipfileLock));
        assert_eq!(parse_format("npm"), None);
    }
}
