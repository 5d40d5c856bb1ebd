//! Every text harden prints that may come from outside (file names, server messages, tag and
//! branch names, `uses:` values, file contents in diffs) goes through here, in one place:
//!
//! - control characters (ESC, BEL, CR, LF, DEL, the C1 range), the characters YAML 1.1 parsers
//!   read as line breaks (U+2028, U+2029; U+0085 is C1), bidirectional overrides and the BOM
//!   become visible escapes (`\u{1b}`, `\n`), so nothing can move the cursor, recolour the
//!   terminal, hide text, or start a line of its own in a CI log (where a line starting with
//!   `::error` is a GitHub workflow command);
//! - user information in URLs (`https://user:token@host`) becomes `***`;
//! - in messages, a word longer than [`MAX_WORD`] characters (a 20,000-character `uses:`
//!   value) is shortened, with the number of characters left out.

use std::borrow::Cow;

/// The longest word a message shows whole.
pub(crate) const MAX_WORD: usize = 200;

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}'
        )
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `text` with control and invisible-formatting characters escaped: safe to print on one
/// line of a terminal or a CI log. Tabs stay.
pub(crate) fn text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if needs_escape(c) {
            escape_char(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A path for a message: displayed, then escaped like [`text`].
pub(crate) fn path(p: &std::path::Path) -> String {
    text(&p.display().to_string()).into_owned()
}

/// A finding's or a note's message: escaped, credentials removed from URLs, and overlong
/// words shortened.
pub(crate) fn message(message: &str) -> String {
    let redacted = if message.contains("://") {
        Cow::Owned(harden_github::redact_userinfo(message))
    } else {
        Cow::Borrowed(message)
    };
    shorten_words(&text(&redacted))
}

/// Words longer than [`MAX_WORD`] characters cut to their first 120 and last 20 characters.
fn shorten_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let count = word.chars().count();
        if count <= MAX_WORD {
            out.push_str(word);
            continue;
        }
        let head: String = word.chars().take(120).collect();
        let tail: String = word.chars().skip(count - 20).collect();
        out.push_str(&format!("{head}…[{} characters]…{tail}", count - 140));
    }
    out
}

/// One line of a diff (file content): escaped like [`text`], its line break kept.
pub(crate) fn diff_line(line: &str) -> Cow<'_, str> {
    let (body, end) = match line.strip_suffix('\n') {
        Some(b) => match b.strip_suffix('\r') {
            Some(b2) => (b2, "\r\n"),
            None => (b, "\n"),
        },
        None => (line, ""),
    };
    match text(body) {
        Cow::Borrowed(_) => Cow::Borrowed(line),
        Cow::Owned(mut s) => {
            s.push_str(end);
            Cow::Owned(s)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible() {
        assert_eq!(text("plain\ttext"), "plain\ttext");
        assert_eq!(text("a\nb"), "a\\nb");
        assert_eq!(text("\u{1b}[31mred\u{7}"), "\\u{1b}[31mred\\u{7}");
        assert_eq!(text("x\u{85}y\u{2028}z"), "x\\u{85}y\\u{2028}z");
        assert_eq!(text("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(
            path(std::path::Path::new("a\n::error ::owned.yml")),
            "a\\n::error ::owned.yml"
        );
    }

    #[test]
    fn messages_lose_credentials_and_overlong_words() {
        assert_eq!(
            message("cannot reach http://u:tok@h/x"),
            "cannot reach http://***@h/x"
        );
        let long = format!("`a/b@{}` is bad", "x".repeat(20_000));
        let short = message(&long);
        assert!(short.len() < 300, "{}", short.len());
        assert!(short.contains("characters]"), "{short}");
        assert!(short.ends_with("` is bad"));
    }

    #[test]
    fn diff_lines_keep_their_line_break() {
        assert_eq!(diff_line("+ok\n"), "+ok\n");
        assert_eq!(diff_line("+a\u{1b}b\r\n"), "+a\\u{1b}b\r\n");
    }
}
