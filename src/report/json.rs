//! `--format json`: the versioned report, pretty-printed, one trailing newline.

use super::Report;

/// Renders the report as JSON.
pub fn render(report: &Report) -> String {
    // Serialising plain structs of strings, numbers and maps cannot fail.
    let mut out = serde_json::to_string_pretty(report)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the report: {e}\"}}"));
    out.push('\n');
    out
}
