//! The package phase of `audit` and `check`: the offline name checks, then ask
//! the index and run the release, provenance and archive checks.

use super::*;

/// The index to ask for a package: its recorded index, unless that is the
/// public default and the user named a mirror; else the user's; else the default.
pub(super) fn index_for(pkg: &Package, user: Option<&IndexUrl>, default: &IndexUrl) -> IndexUrl {
    let recorded = pkg
        .index_url
        .as_deref()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
        .and_then(|u| IndexUrl::parse(u).ok());
    match (recorded, user) {
        (Some(r), Some(u)) if r == *default => u.clone(),
        (Some(r), _) => r,
        (None, Some(u)) => u.clone(),
        (None, None) => default.clone(),
    }
}

pub(super) fn cache_root(args: &ReportArgs) -> Option<PathBuf> {
    if args.no_cache {
        return None;
    }
    if let Some(d) = &args.cache_dir {
        return Some(d.clone());
    }
    default_cache_root().ok()
}

/// The platform cache directory's `customs` folder.
pub(super) fn default_cache_root() -> Result<PathBuf, etcetera::HomeDirError> {
    use etcetera::BaseStrategy;
    etcetera::choose_base_strategy().map(|b| b.cache_dir().join("customs"))
}

/// What the index checks produced: findings, and per package the index
/// status, the scan status (`None` with `--no-scan`) and the provenance status
/// (`None` with `--no-provenance`).
pub(super) struct IndexOutcome {
    pub(super) findings: Vec<Finding>,
    pub(super) statuses: Vec<IndexStatus>,
    pub(super) scans: Option<Vec<ScanStatus>>,
    pub(super) provenance: Option<Vec<ProvenanceStatus>>,
    pub(super) advisories: Option<crate::advisories::RunStatus>,
}

/// Asks the index about every checkable package and runs the release checks.
pub(super) fn release_checks(
    packages: &[Package],
    args: &ReportArgs,
    settings: &RunSettings,
    config: &Config,
    as_of: Timestamp,
    messages: &mut Vec<String>,
) -> Result<IndexOutcome> {
    let default = IndexUrl::parse(crate::index::DEFAULT_INDEX_URL).map_err(anyhow::Error::msg)?;
    let user = settings
        .user_index
        .as_deref()
        .map(IndexUrl::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let mut by_key: BTreeMap<(IndexUrl, PackageName), Vec<crate::package::Version>> =
        BTreeMap::new();
    for p in packages
        .iter()
        .filter(|p| p.source.kind == SourceKind::Registry)
    {
        let versions = by_key
            .entry((index_for(p, user.as_ref(), &default), p.name.clone()))
            .or_default();
        versions.extend(p.version.clone());
    }
    let wanted: Vec<(IndexUrl, PackageName, Vec<crate::package::Version>)> =
        by_key.into_iter().map(|((i, n), v)| (i, n, v)).collect();
    let in_use: Vec<&IndexUrl> = wanted.iter().map(|(i, _, _)| i).collect();
    let credentials = credentials(packages, settings, &in_use, messages);
    let client = IndexClient::new(ClientConfig {
        timeout: Duration::from_secs(args.timeout.max(1)),
        offline: args.offline,
        cache_root: cache_root(args),
        credentials,
        ..ClientConfig::default()
    })?;
    let bar = progress_bar(wanted.len());
    // One worker thread: the archives fetched as answers arrive keep
    // moving while this thread runs the synchronous checks between the
    // phases (a current-thread runtime would freeze them, and their
    // request timeouts would keep counting).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The archives are fetched and scanned as each package's answer
    // arrives, while the index is still being asked.
    let scanner = (!args.no_scan).then(|| {
        checks::archives::Scanner::new(
            &client,
            ScanSettings {
                all_wheels: args.scan_all_wheels,
                sdists: args.scan_sdists,
                cache_root: cache_root(args),
                range_reads_over: args.range_reads_over,
            },
        )
    });
    let indexes: Vec<IndexUrl> = packages
        .iter()
        .map(|p| index_for(p, user.as_ref(), &default))
        .collect();
    let answers = if wanted.is_empty() {
        BTreeMap::new()
    } else {
        let arrived = |index: &IndexUrl, name: &PackageName, answer: &crate::index::Answer| {
            if let Some(b) = &bar {
                b.inc(1);
            }
            if let Some(scanner) = &scanner {
                for (p, _) in packages
                    .iter()
                    .zip(&indexes)
                    .filter(|(p, i)| p.name == *name && *i == index)
                {
                    scanner.start(p, Some(answer));
                }
            }
        };
        runtime.block_on(crate::index::ask_all(&client, wanted, &arrived))
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let keyed: Vec<Option<&crate::index::Answer>> = packages
        .iter()
        .zip(&indexes)
        .map(|(p, i)| answers.get(&(i.clone(), p.name.clone())))
        .collect();
    let release_settings = ReleaseSettings {
        as_of,
        cooldown: settings.cooldown.clone(),
        cooldown_exempt: config.cooldown_exempt.clone(),
    };
    // The offline name checks first: they need no index and run for every
    // command that reads packages (audit, check), on this one path.
    let mut findings = name_checks(packages, config);
    // A name with a history of its own on the index is weighed by it.
    for f in findings
        .iter_mut()
        .filter(|f| f.rule == crate::finding::RuleId::Typosquat)
    {
        let Some((p, key)) = packages.iter().zip(&indexes).find(|(p, _)| {
            f.package.as_ref() == Some(&p.name)
                && f.version.as_deref() == p.version.as_ref().map(|v| v.as_str())
        }) else {
            continue;
        };
        if let Some(crate::index::Answer::Found(facts)) =
            answers.get(&(key.clone(), p.name.clone()))
        {
            checks::typosquat::weigh_history(f, p, facts);
        }
    }
    let mut statuses = Vec::with_capacity(packages.len());
    for p in packages {
        let key = (index_for(p, user.as_ref(), &default), p.name.clone());
        let (f, status) = checks::release::check(p, answers.get(&key), &release_settings);
        findings.extend(f);
        statuses.push(status);
    }
    let unknown = statuses
        .iter()
        .filter(|s| matches!(s, IndexStatus::Unknown(_)))
        .count();
    if unknown > 0 {
        messages.push(format!(
            "warning: {unknown} package(s) could not be checked against the index (see index-unavailable){}",
            if settings.fail_on_unknown { "; --fail-on-unknown makes this fail the run" } else { "" }
        ));
    }
    let provenance = if args.no_provenance {
        None
    } else {
        let verifier = match &args.trusted_root {
            Some(path) => crate::provenance::Verifier::from_file(path)?,
            None => crate::provenance::Verifier::embedded()?,
        };
        let settings = ProvenanceSettings {
            verifier: std::sync::Arc::new(verifier),
            require: config.require_attestations.clone(),
        };
        let (f, s) = runtime.block_on(checks::provenance::check_all(
            &client, packages, &indexes, &keyed, &settings,
        ));
        findings.extend(f);
        let unverifiable = s
            .iter()
            .flat_map(|p| &p.files)
            .filter(|f| {
                f.verification
                    .as_deref()
                    .is_some_and(|v| v.starts_with("unverifiable"))
            })
            .count();
        if unverifiable > 0 {
            messages.push(format!(
                "warning: {unverifiable} attested file(s) could not be verified with {} (see packages[].provenance in the JSON report)",
                settings.verifier.source()
            ));
        }
        Some(s)
    };
    let (advisory_findings, advisories) = super::advisories::findings(
        packages,
        args,
        config.advisory_db.as_deref(),
        &client,
        &runtime,
        messages,
    );
    findings.extend(advisory_findings);
    let Some(scanner) = scanner else {
        return Ok(IndexOutcome {
            findings,
            statuses,
            scans: None,
            provenance,
            advisories,
        });
    };
    let (scan_findings, scans) =
        runtime.block_on(checks::archives::scan_all(&scanner, packages, &keyed));
    findings.extend(scan_findings);
    checks::archives::no_reputation_across_new_hands(&mut findings);
    let unscanned = scans.iter().filter(|s| s.status == "unknown").count();
    if unscanned > 0 {
        messages.push(format!(
            "warning: the archives of {unscanned} package(s) could not be scanned (see packages[].scan in the JSON report)"
        ));
    }
    Ok(IndexOutcome {
        findings,
        statuses,
        scans: Some(scans),
        provenance,
        advisories,
    })
}

/// The credentials of this run, by host: the user info of the index URLs
/// (the user's and those lockfiles record), uv's `UV_INDEX_<NAME>_*`
/// variables for named indexes, then `.netrc` for the hosts in use. Warns
/// once per host when they would go over plain HTTP to anything but loopback.
fn credentials(
    packages: &[Package],
    settings: &RunSettings,
    in_use: &[&IndexUrl],
    messages: &mut Vec<String>,
) -> crate::index::Credentials {
    let mut creds = crate::index::Credentials::default();
    let parse = |u: &str| url::Url::parse(u.trim()).ok();
    // The user's own index URL first.
    if let Some(url) = settings.user_index.as_deref().and_then(parse) {
        creds.take_userinfo(&url);
    }
    // uv's per-index variables, for named indexes on a host the user configured.
    let trusted: Vec<url::Url> = settings
        .trusted_indexes
        .iter()
        .filter_map(|u| parse(u))
        .collect();
    let same_host = |a: &url::Url, b: &url::Url| {
        a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
    };
    for (name, u) in &settings.named_indexes {
        let prefix = crate::index::auth::uv_env_prefix(name);
        let user = settings.uv_index_env.get(&format!("{prefix}USERNAME"));
        let password = settings.uv_index_env.get(&format!("{prefix}PASSWORD"));
        let Some(url) = parse(u) else { continue };
        if user.is_none() && password.is_none() {
            continue;
        }
        if !trusted.iter().any(|t| same_host(t, &url)) {
            messages.push(format!(
                "warning: {prefix}USERNAME/PASSWORD not sent to {}: a pyproject.toml names that index, but no index you configured (--index-url, PIP_INDEX_URL, UV_INDEX...) is on that host",
                url.host_str().unwrap_or_default()
            ));
            continue;
        }
        creds.add(
            &url,
            crate::index::Credential {
                username: user.cloned().unwrap_or_default(),
                password: password.cloned(),
            },
        );
    }
    // Then the user info lockfiles record (their authors wrote it for that host).
    for url in packages
        .iter()
        .filter_map(|p| p.index_url.as_deref())
        .filter_map(parse)
    {
        creds.take_userinfo(&url);
    }
    if let Some(text) = &settings.netrc {
        let hosts: Vec<url::Url> = in_use.iter().map(|i| i.simple.clone()).collect();
        creds.add_netrc(text, &hosts);
    }
    let mut warned = std::collections::BTreeSet::new();
    for index in in_use {
        let url = &index.simple;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        if url.scheme() == "http"
            && !loopback
            && creds.for_url(url).is_some()
            && warned.insert(url.host_str().unwrap_or_default().to_string())
        {
            messages.push(format!(
                "warning: credentials for {} are sent over plain HTTP: anyone on the network path can read them; use https",
                url.host_str().unwrap_or_default()
            ));
        }
    }
    creds
}

pub(super) fn progress_bar(len: usize) -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    if len < 2 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} asking the index {pos}/{len} {wide_bar}")
    {
        bar.set_style(style);
    }
    Some(bar)
}
