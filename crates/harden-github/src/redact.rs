//! Credentials never appear in a message: `scheme://user:password@host` becomes
//! `scheme://***@host` wherever it occurs in a text (a configured URL, a server's redirect
//! target, an error from the HTTP client).

/// `text` with the user information of every URL in it replaced by `***`.
pub fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        // The authority ends at the first `/`, `?`, `#`, blank, quote or angle bracket; its
        // user information at its last `@`.
        let end = tail
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '`') || c.is_whitespace()
            })
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str("***");
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_credentials_from_urls() {
        assert_eq!(
            redact_userinfo("invalid server URL \"http://user:token@ghes.example/x\": y"),
            "invalid server URL \"http://***@ghes.example/x\": y"
        );
        assert_eq!(redact_userinfo("https://tok@h"), "https://***@h");
        assert_eq!(
            redact_userinfo("a https://u:p@a.b:1/ and http://c:d@e?x"),
            "a https://***@a.b:1/ and http://***@e?x"
        );
        assert_eq!(redact_userinfo("no url here"), "no url here");
        assert_eq!(
            redact_userinfo("https://github.com/a@b"),
            "https://github.com/a@b",
            "an @ in the path is no user information"
        );
        assert_eq!(redact_userinfo("x://"), "x://");
    }
}
