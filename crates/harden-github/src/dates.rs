//! Release dates: when a tag was made, read from GitHub's REST API one object at a time (an
//! annotated tag's tagger date, else its commit's committer date) and cached forever by SHA
//! (an object's date never changes), under `<cache>/dates/<sha>`.

use std::collections::HashMap;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::ResolverConfig;
use crate::error::{Error, FetchError};
use crate::http::Http;
use crate::plumbing::{write_atomically, Fsync};
use crate::refs::{is_full_sha, TagRef};
use crate::repo_id::RepoId;
use crate::stats::Counters;

/// Unauthenticated REST requests GitHub allows per hour.
pub const UNAUTHENTICATED_QUOTA: u64 = 60;

/// Reads and caches release dates (unix seconds). Share it between threads.
#[derive(Debug)]
pub struct ReleaseDates {
    api_url: String,
    token: Option<String>,
    offline: bool,
    recorded: bool,
    cache: Option<PathBuf>,
    http: Http,
    memory: Mutex<HashMap<String, i64>>,
    requests: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl ReleaseDates {
    /// A reader with the API URL, token, cache, offline, timeout and recorded settings of
    /// `config`.
    pub fn new(config: &ResolverConfig) -> Result<Self, Error> {
        Ok(ReleaseDates {
            api_url: config.api_url.trim().trim_end_matches('/').to_string(),
            token: config.token.clone(),
            offline: config.offline,
            recorded: config.recorded.is_some(),
            cache: config.cache_dir.as_ref().map(|d| d.join("dates")),
            http: Http::new(config, Arc::new(Counters::default()))?,
            memory: Mutex::new(HashMap::new()),
            requests: AtomicU64::new(0),
        })
    }

    /// True when requests carry a token (GitHub then allows 5,000 an hour, not 60).
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// REST requests sent so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// True when the date of `tag` is known without a request (memory or disk cache).
    pub fn is_cached(&self, tag: &TagRef) -> bool {
        let sha = dated_object(tag).to_ascii_lowercase();
        lock(&self.memory).contains_key(&sha) || self.load(&sha).is_some()
    }

    /// The release date of `tag` of `repo`, in unix seconds: its tagger date when it is an
    /// annotated tag, else its commit's committer date.
    pub fn date(&self, repo: &RepoId, tag: &TagRef) -> Result<i64, FetchError> {
        let sha = dated_object(tag).to_ascii_lowercase();
        if !is_full_sha(&sha) {
            return Err(FetchError::BadResponse(format!("`{sha}` is not a SHA")));
        }
        if let Some(date) = lock(&self.memory).get(&sha) {
            return Ok(*date);
        }
        if let Some(date) = self.load(&sha) {
            lock(&self.memory).insert(sha, date);
            return Ok(date);
        }
        if self.offline || self.recorded {
            return Err(FetchError::NotCached);
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let text = crate::rest::object_date(
            &self.http,
            &self.api_url,
            repo,
            self.token.as_deref(),
            &sha,
            tag.tag_object.is_some(),
        )?;
        let date = parse_rfc3339(&text)
            .ok_or_else(|| FetchError::BadResponse(format!("`{text}` is not an RFC 3339 date")))?;
        lock(&self.memory).insert(sha.clone(), date);
        if let Some(path) = self.path(&sha) {
            // A lost entry only costs one request later.
            let _ = path
                .parent()
                .map(fs::create_dir_all)
                .transpose()
                .and_then(|_| write_atomically(&path, date.to_string().as_bytes(), Fsync::No));
        }
        Ok(date)
    }

    fn path(&self, sha: &str) -> Option<PathBuf> {
        self.cache.as_ref().map(|dir| dir.join(sha))
    }

    fn load(&self, sha: &str) -> Option<i64> {
        let text = fs::read_to_string(self.path(sha)?).ok()?;
        text.trim().parse().ok()
    }
}

/// The object whose date is the release date: the tag object of an annotated tag, else the
/// commit.
fn dated_object(tag: &TagRef) -> &str {
    tag.tag_object.as_deref().unwrap_or(&tag.commit)
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian calendar).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds of an RFC 3339 date as GitHub writes them (`2024-05-01T12:00:00Z`, or with
/// fractional seconds or a `+02:00` offset).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let text = text.trim();
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if text.len() < 20
        || separators.iter().any(|(i, c)| text.as_bytes()[*i] != *c)
        || !matches!(text.as_bytes()[10], b'T' | b't' | b' ')
    {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        rest = &fraction[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hours: i64 = rest[1..3].parse().ok()?;
            let minutes: i64 = rest[4..6].parse().ok()?;
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second.min(60) - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_github_dates() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00Z"), Some(1_704_067_200));
        assert_eq!(
            parse_rfc3339("2024-01-01T02:00:00+02:00"),
            Some(1_704_067_200)
        );
        assert_eq!(
            parse_rfc3339("2024-01-01T00:00:00.123Z"),
            Some(1_704_067_200)
        );
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2024-01-01T00:00:00"), None);
    }
}
