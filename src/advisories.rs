//! Known bad releases: advisories in the OSV format (malicious packages and
//! vulnerabilities), matched against locked releases offline.

pub mod db;
pub mod osv;
