//! Asking the package index: PyPI's JSON API and the Simple JSON API, a disk
//! cache, retries, offline mode. Knows only the package model.

pub mod auth;
pub mod cache;
pub mod client;
pub mod model;
mod wire;

use std::collections::BTreeMap;

use futures::StreamExt;

pub use auth::{Credential, Credentials};
pub use client::{Body, ClientConfig, ClientError, IndexClient, IndexUrl, RangeError};
pub use model::{Answer, FileFacts, ProjectFacts, ProjectStatus, ReleaseFacts};

use crate::package::PackageName;

/// The public index, used when nothing else is configured.
pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple";

/// Asks `index` about every `(index, name)` pair at once, with bounded
/// concurrency; `arrived` is called with each answer as it arrives (work
/// that needs only that answer can start). Each answer is compacted to what
/// the checks of the given versions need.
pub async fn ask_all(
    client: &IndexClient,
    wanted: Vec<(IndexUrl, PackageName, Vec<crate::package::Version>)>,
    arrived: &(dyn Fn(&IndexUrl, &PackageName, &Answer) + Sync),
) -> BTreeMap<(IndexUrl, PackageName), Answer> {
    let limit = client.config().concurrency.max(1);
    futures::stream::iter(wanted)
        .map(|(index, name, versions)| async move {
            let answer = client.project(&index, &name, &versions).await;
            arrived(&index, &name, &answer);
            ((index, name), answer)
        })
        .buffer_unordered(limit)
        .collect()
        .await
}
