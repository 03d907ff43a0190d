//! `cooldown`: the locked release is younger than the cooldown window.

use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp, Unit};

use super::RuleMeta;
use super::release::ReleaseView;
use crate::finding::{Confidence, Finding, RuleId, Severity};
use crate::package::Package;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    id: RuleId::Cooldown,
    summary: "The locked release was uploaded less than the cooldown window ago",
    severity: Severity::High,
    confidence: Confidence::High,
    docs: r#"# cooldown

## What it does
For every locked package, takes the earliest upload time of the files the lockfile pins (or of the
release, when it pins no files) and reports the package when that is less than the cooldown window
before now (`--as-of` moves "now"). The window comes from `--cooldown` or `cooldown` in the config
and defaults to 7 days; it may also be an absolute cutoff date, like uv's `exclude-newer`. The
finding says when the release becomes eligible and names the newest release that already is.

uv.lock and pylock.toml record upload times, so this check works `--offline` for them.

## Why it matters
Most malicious releases are found and removed within hours or days. A release uploaded with a
phished maintainer's token is typically live for less than a day. Not being the first to install
a fresh release is the cheapest defence there is.

## Example
```text
urllib3 2.8.0 was uploaded 2026-09-15T10:00:00Z, 2 days before 2026-09-17: it becomes eligible
on 2026-09-22T10:00:00Z; the newest release already past the cooldown is 2.7.1
```

## How to fix
Lock the previous release (`uv lock --upgrade-package urllib3==2.7.1`, or set `exclude-newer` /
a cooldown in your resolver) and wait. If you need the new release now (a security fix), add an
`[[allow]]` entry for `cooldown` with the package, version, a reason and a short expiry, or list the
package in `cooldown-exempt`.
"#,
};

/// The cooldown policy: a window before now, or an absolute cutoff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cooldown {
    /// Releases younger than this are in their cooldown.
    Window(SignedDuration),
    /// Releases uploaded after this instant are in their cooldown.
    Cutoff(Timestamp),
}

impl Default for Cooldown {
    fn default() -> Self {
        Self::Window(SignedDuration::from_hours(7 * 24))
    }
}

impl std::fmt::Display for Cooldown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Window(d) => write!(f, "{}", human(*d)),
            Self::Cutoff(t) => write!(f, "uploaded after {t}"),
        }
    }
}

fn human(d: SignedDuration) -> String {
    let secs = d.as_secs();
    if secs % 86_400 == 0 {
        let days = secs / 86_400;
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    } else if secs % 3600 == 0 {
        let h = secs / 3600;
        format!("{h} hour{}", if h == 1 { "" } else { "s" })
    } else {
        format!("{secs} s")
    }
}

/// Parses a cooldown as uv accepts `exclude-newer`-like values: a friendly
/// duration (`7 days`, `36 hours`, `1 week`, `3d`), an ISO 8601 duration
/// (`P7D`, `PT36H`), or an absolute date or RFC 3339 time (a cutoff).
pub fn parse(text: &str) -> Result<Cooldown, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("the cooldown is empty; try `7 days`".into());
    }
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Ok(Cooldown::Cutoff(ts));
    }
    if let Ok(date) = t.parse::<jiff::civil::Date>()
        && let Ok(z) = date.to_zoned(jiff::tz::TimeZone::UTC)
    {
        return Ok(Cooldown::Cutoff(z.timestamp()));
    }
    let span: Span = t.parse().map_err(|_| {
        format!("`{t}` is neither a duration (`7 days`, `36 hours`, `P7D`) nor a date (`2026-09-01`) or time (`2026-09-01T00:00:00Z`)")
    })?;
    if span.get_months() != 0 || span.get_years() != 0 {
        return Err(format!(
            "`{t}`: months and years have no fixed length; give the cooldown in days or weeks"
        ));
    }
    let secs = span
        .total((Unit::Second, SpanRelativeTo::days_are_24_hours()))
        .map_err(|e| format!("`{t}`: {e}"))?;
    if secs < 0.0 {
        return Err(format!("`{t}`: a cooldown cannot be negative"));
    }
    if secs > 366.0 * 86_400.0 {
        return Err(format!(
            "`{t}`: a cooldown longer than a year is surely a mistake"
        ));
    }
    // Truncation to whole seconds is intended.
    #[allow(clippy::cast_possible_truncation)]
    Ok(Cooldown::Window(SignedDuration::from_secs(secs as i64)))
}

/// Reports the package if its release is still cooling down at `as_of`.
pub fn check(
    pkg: &Package,
    view: &ReleaseView<'_>,
    cooldown: &Cooldown,
    as_of: Timestamp,
) -> Option<Finding> {
    let uploaded = view.upload_time()?;
    let (in_cooldown, eligible) = match cooldown {
        Cooldown::Window(w) => {
            let eligible = uploaded.checked_add(*w).ok()?;
            (eligible > as_of, Some(eligible))
        }
        Cooldown::Cutoff(c) => (uploaded > *c, None),
    };
    if !in_cooldown {
        return None;
    }
    let age = as_of.duration_since(uploaded);
    let newest = view.newest_eligible(cooldown, as_of);
    let version = pkg.version.as_ref().map_or("", |v| v.as_str());
    let mut message = match (cooldown, eligible) {
        (Cooldown::Window(w), Some(e)) => format!(
            "{} {version} was uploaded {}, {} before {as_of}; the cooldown is {}: it becomes eligible on {e}",
            pkg.name,
            uploaded,
            age_text(age),
            human(*w)
        ),
        (Cooldown::Cutoff(c), _) => format!(
            "{} {version} was uploaded {uploaded}, after the cooldown cutoff {c}",
            pkg.name
        ),
        _ => format!("{} {version} is in its cooldown", pkg.name),
    };
    match &newest {
        Some(n) => message.push_str(&format!("; the newest release past the cooldown is {n}")),
        None if view.facts().is_some() => {
            message.push_str("; no earlier release is past the cooldown")
        }
        None => {}
    }
    let mut f = Finding::for_package(RuleId::Cooldown, pkg)
        .evidence("upload-time", uploaded.to_string())
        .evidence("age", age_text(age))
        .evidence("cooldown", cooldown.to_string())
        .evidence("upload-time-source", view.upload_time_source());
    if let Some(e) = eligible {
        f = f.evidence("eligible", e.to_string());
    }
    if let Some(n) = newest {
        f = f.evidence("newest-eligible", n);
    }
    Some(f.message(message))
}

fn age_text(d: SignedDuration) -> String {
    let mins = d.as_secs() / 60;
    if mins < 120 {
        format!("{mins} minutes")
    } else if mins < 48 * 60 {
        format!("{} hours", mins / 60)
    } else {
        format!("{} days", mins / 60 / 24)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_cutoffs_parse_like_uv() {
        assert_eq!(
            parse("7 days").unwrap(),
            Cooldown::Window(SignedDuration::from_hours(168))
        );
        assert_eq!(
            parse("36 hours").unwrap(),
            Cooldown::Window(SignedDuration::from_hours(36))
        );
        assert_eq!(
            parse("P7D").unwrap(),
            Cooldown::Window(SignedDuration::from_hours(168))
        );
        assert_eq!(
            parse("1 week").unwrap(),
            Cooldown::Window(SignedDuration::from_hours(168))
        );
        assert_eq!(
            parse("3d").unwrap(),
            Cooldown::Window(SignedDuration::from_hours(72))
        );
        assert!(matches!(parse("2026-09-01").unwrap(), Cooldown::Cutoff(_)));
        assert!(matches!(
            parse("2026-09-01T12:00:00Z").unwrap(),
            Cooldown::Cutoff(_)
        ));
        assert!(parse("1 month").unwrap_err().contains("days"));
        assert!(parse("soon").unwrap_err().contains("duration"));
        assert!(parse("").is_err());
        assert!(parse("-3 days").is_err());
        assert_eq!(Cooldown::default().to_string(), "7 days");
    }
}
