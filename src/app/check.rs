//! `customs check NAME[==VERSION]...`.

use super::*;

/// `customs check NAME[==VERSION]...`: the name checks, and with a version the
/// release checks, for names nobody has locked yet.
pub(super) fn check(args: &crate::cli::CheckArgs) -> Result<Outcome> {
    let now = Timestamp::now();
    let r = &args.report;
    let as_of = as_of(r, now)?;
    let config = load_config(r)?;
    let settings = resolve_settings(r, &config)?;
    let origin_file = PathBuf::from("<command line>");
    let mut packages = Vec::with_capacity(args.names.len());
    for (i, raw) in args.names.iter().enumerate() {
        let (name, version) = match raw.split_once("==") {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (raw.trim(), None),
        };
        let name =
            PackageName::new(name).map_err(|e| anyhow::anyhow!("argument {}: {e}", i + 1))?;
        if version.is_some_and(str::is_empty) {
            bail!(
                "argument {}: `{raw}` has an empty version\n  hint: write NAME or NAME==VERSION",
                i + 1
            );
        }
        packages.push(Package::new(
            name,
            version.map(crate::package::Version::new),
            crate::package::Origin {
                file: origin_file.clone(),
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
            },
        ));
    }
    let mut messages = Vec::new();
    let outcome = release_checks(&packages, r, &settings, &config, as_of, &mut messages)?;
    let findings = outcome.findings;
    let inputs = vec![Input {
        path: report::display_path(&origin_file),
        format: Format::Names,
        packages: packages.len(),
        indexes: Vec::new(),
        includes: Vec::new(),
        options: BTreeMap::new(),
    }];
    finish(FinishArgs {
        args: r,
        config: &config,
        settings: &settings,
        inputs,
        skipped: Vec::new(),
        packages: &packages,
        statuses: &outcome.statuses,
        scans: outcome.scans.as_deref(),
        provenance: outcome.provenance.as_deref(),
        advisories: outcome.advisories.as_ref(),
        findings,
        diff: None,
        as_of,
        now,
        messages,
    })
}
