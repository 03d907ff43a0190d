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

/// The JSON Schema of the report (`customs schema report`).
pub fn schema() -> String {
    // The report is only ever serialised: fields skipped when empty are optional.
    let schema = schemars::generate::SchemaSettings::default()
        .for_serialize()
        .into_generator()
        .into_root_schema_for::<Report>();
    let mut out = serde_json::to_string_pretty(&schema)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise the schema: {e}\"}}"));
    out.push('\n');
    out
}
