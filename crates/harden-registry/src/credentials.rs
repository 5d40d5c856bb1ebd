//! Registry credentials from Docker's `config.json` (`auths`), used only for the hosts they are
//! written for. Credential helpers (`credsStore`, `credHelpers`) are not run.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// A user name and password (or token) for one registry host. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password or token.
    pub secret: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The host a `config.json` key names: scheme and path dropped, lowercase; Docker Hub's keys
/// (`https://index.docker.io/v1/`) name `registry-1.docker.io`, the host harden contacts.
pub fn credential_host(key: &str) -> String {
    let key = key.trim();
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key).to_ascii_lowercase();
    match host.as_str() {
        "index.docker.io" | "docker.io" | "registry.hub.docker.com" => {
            "registry-1.docker.io".to_owned()
        }
        _ => host,
    }
}

/// The `auths` of a Docker `config.json`, by host. An unreadable or invalid file gives none.
pub fn load_docker_config(path: &Path) -> BTreeMap<String, Credentials> {
    let mut out = BTreeMap::new();
    let Ok(bytes) = std::fs::read(path) else {
        return out;
    };
    if bytes.len() > 1 << 20 {
        return out;
    }
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return out;
    };
    let Some(auths) = json.get("auths").and_then(|a| a.as_object()) else {
        return out;
    };
    for (key, entry) in auths {
        let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).unwrap_or_default();
        let pair = if !field("auth").is_empty() {
            base64_decode(field("auth"))
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|text| {
                    text.split_once(':')
                        .map(|(u, p)| (u.to_owned(), p.to_owned()))
                })
        } else if !field("username").is_empty() {
            Some((field("username").to_owned(), field("password").to_owned()))
        } else {
            None
        };
        if let Some((user, secret)) = pair.filter(|(u, s)| !u.is_empty() && !s.is_empty()) {
            out.insert(credential_host(key), Credentials { user, secret });
        }
    }
    out
}

/// Standard base64 (padding optional); `None` on any other character.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let digits: Vec<u8> = text.trim().trim_end_matches('=').bytes().collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut acc: u32 = 0;
        for (i, c) in chunk.iter().enumerate() {
            acc |= value(*c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_auths() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNzOndvcmQ="},
                "ghcr.io": {"username": "me", "password": "tok"},
                "quay.io": {}}, "credsStore": "desktop"}"#,
        )
        .expect("write");
        let creds = load_docker_config(&path);
        assert_eq!(creds.len(), 2);
        let hub = &creds["registry-1.docker.io"];
        assert_eq!(
            (hub.user.as_str(), hub.secret.as_str()),
            ("user", "pass:word")
        );
        assert_eq!(creds["ghcr.io"].secret, "tok");
        assert!(!format!("{hub:?}").contains("pass:word"));
        assert!(load_docker_config(&dir.path().join("missing.json")).is_empty());
        assert_eq!(base64_decode("YQ"), Some(b"a".to_vec()));
        assert_eq!(base64_decode("a*"), None);
    }
}
