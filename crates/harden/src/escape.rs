//! Every text harden prints or writes that may come from outside (file names, server
//! messages, tag and branch names, `uses:` values, job ids, file contents in diffs) goes
//! through here, one function per channel:
//!
//! | channel | function |
//! | --- | --- |
//! | terminal, CI log, GitHub annotations (then `formats::escape_data`) | [`text`], [`path`], [`message`] |
//! | diffs shown (`--dry-run`, JSON `diff`) | [`diff_line`], names through [`path`] |
//! | patches `git apply` reads (`--patch-dir`) | [`git_path`] for names |
//! | JSON and SARIF | [`json`] on the encoded document |
//! | Markdown (`harden audit --format markdown`) | [`markdown`] |
//! | commit messages and patch subjects | [`commit_line`] per value, [`commit_message`] on the whole |
//! | comments written into workflows | `harden_yaml::render::one_line` (same character list) |
//!
//! - control characters (NUL, ESC, BEL, CR, LF, DEL, the C1 range), the characters YAML 1.1
//!   parsers read as line breaks (U+2028, U+2029; U+0085 is C1), bidirectional controls and
//!   invisible formatting characters (zero-width, BOM; `harden_yaml::invisible`) become visible
//!   escapes (`\u{1b}`, `\n`), so nothing can move the cursor, recolour the terminal, hide or
//!   reorder text, or start a line of its own in a CI log (where a line starting with
//!   `::error` is a GitHub workflow command) or in a commit message (where a line starting with
//!   `diff --git` starts a patch for `git am`);
//! - user information in URLs (`https://user:token@host`) becomes `***`;
//! - in messages, a word longer than [`MAX_WORD`] characters (a 20,000-character `uses:`
//!   value) is shortened, with the number of characters left out.

use std::borrow::Cow;

/// The longest word a message shows whole.
pub(crate) const MAX_WORD: usize = 200;

/// Whether `c` never passes raw: controls (C0, C1, DEL), line and paragraph separators, bidi
/// and zero-width characters.
pub(crate) fn needs_escape(c: char) -> bool {
    harden_yaml::invisible::is_unsafe(c)
}

fn escape_char(c: char, out: &mut String) {
    out.push_str(&harden_yaml::invisible::visible(c));
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

/// A JSON document as `serde_json` wrote it, with every character of [`text`]'s list that
/// JSON allows raw (DEL, C1, U+2028, U+2029, bidirectional and invisible characters) written
/// as a `\uXXXX` escape: the values read back the same, and no raw byte of them reaches a
/// terminal, a log or a JavaScript reader. Such characters only occur inside strings (the
/// document's own syntax is ASCII), where the escape is valid.
pub(crate) fn json(document: String) -> String {
    if !document.chars().any(|c| c != '\n' && needs_escape(c)) {
        return document;
    }
    let mut out = String::with_capacity(document.len() + 64);
    for c in document.chars() {
        if c != '\n' && needs_escape(c) {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Text for Markdown (a table cell, a list item, a heading): escaped like [`text`], then the
/// characters that open code spans, links and images (`` ` ``, `[`, `]`), emphasis and
/// strikethrough (`*`, `_`, `~`), math (`$`), table cells (`|`), and GitHub's references and
/// mentions (`#`, `@`) backslash-escaped, and `<`, `>`, `&` as entities (no HTML).
pub(crate) fn markdown(value: &str) -> String {
    let safe = text(value);
    let mut out = String::with_capacity(safe.len() + 16);
    for c in safe.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '$' | '#' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// One value inside a commit message or patch subject (a subject, a path, a job id, a
/// finding): on one line, controls (NUL too, which git refuses in a message) shown as escapes,
/// credentials removed, overlong words shortened, as [`message`].
pub(crate) fn commit_line(value: &str) -> String {
    message(value)
}

/// Whether a line of a commit message would start a patch or a message for `git am` and
/// `git apply`, or an in-body header: `diff -`, `---`, `+++`, `Index: `, `@@ `, `From ` (an
/// mbox separator), `From:`/`Subject:`/`Date:`, `\ No newline`, and the scissors `-- >8 --`.
pub(crate) fn starts_patch(line: &str) -> bool {
    let line = line.trim_start();
    const STARTS: &[&str] = &[
        "diff ",
        "diff\t",
        "---",
        "+++",
        "Index:",
        "@@",
        "From ",
        "From:",
        ">From ",
        "Subject:",
        "Date:",
        "\\ ",
        "-- >8",
        "-- 8<",
        "-->8",
        "--8<",
        "rename ",
        "copy ",
        "new file mode",
        "deleted file mode",
        "old mode",
        "new mode",
        "similarity index",
        "index ",
        "GIT binary patch",
        "Binary files",
    ];
    STARTS.iter().any(|s| line.starts_with(s))
}

/// A whole commit message (or a patch's body) made safe: every line escaped like [`text`],
/// and a line that would start a patch, an mbox message or an in-body header for `git am`
/// (see `starts_patch`) quoted with `> `, so no value a message quotes can carry a hunk that
/// `git am` applies. The line structure harden gave the message is kept.
pub(crate) fn commit_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 16);
    for line in message.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(b) => (b.strip_suffix('\r').unwrap_or(b), "\n"),
            None => (line, ""),
        };
        if starts_patch(body) {
            out.push_str("> ");
        }
        out.push_str(&text(body));
        out.push_str(end);
    }
    out
}

/// A path for a patch that `git apply` and `git am` read: as it is when it holds nothing
/// unusual, else in git's C-style quotes (`"a/x\nb"`, as `git diff` writes such names), so a
/// line break in a file name cannot end the `diff --git` line and start another.
pub(crate) fn git_path(prefix: &str, path: &str) -> String {
    let full = format!("{prefix}{path}");
    if !full
        .chars()
        .any(|c| needs_escape(c) || matches!(c, '"' | '\\' | '\t'))
    {
        return full;
    }
    let mut out = String::from("\"");
    for c in full.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if needs_escape(c) => {
                let mut bytes = [0u8; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    out.push_str(&format!("\\{b:03o}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
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

    #[test]
    fn json_keeps_no_raw_c1_del_or_separators() {
        let doc = serde_json::json!({ "m": "a\u{7f}b\u{85}c\u{2028}d\u{202e}e\u{e0041}\u{1b}" });
        let text = json(serde_json::to_string_pretty(&doc).expect("json"));
        assert!(text.is_ascii(), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(back, doc);
    }

    #[test]
    fn markdown_has_no_code_spans_links_or_html() {
        assert_eq!(
            markdown("`x` [a](http://e) <b>|\u{1b}]8;;"),
            "\\`x\\` \\[a\\](http://e) &lt;b&gt;\\|\\\\u{1b}\\]8;;"
        );
    }

    #[test]
    fn commit_messages_never_start_a_patch() {
        let hostile = "s\n\nbody\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\nFrom x\nok \u{0}\u{1b}[31m\n";
        let safe = commit_message(hostile);
        assert_eq!(
            safe,
            "s\n\nbody\n> diff --git a/x b/x\n> --- a/x\n> +++ b/x\n> @@ -1 +1 @@\n-a\n+b\n> From x\nok \\u{0}\\u{1b}[31m\n"
        );
        assert_eq!(commit_line("job\ndiff --git"), "job\\ndiff --git");
    }

    #[test]
    fn git_paths_are_quoted_when_unusual() {
        assert_eq!(git_path("a/", ".github/ci.yml"), "a/.github/ci.yml");
        assert_eq!(
            git_path("b/", "x\n::error ::y.yml"),
            "\"b/x\\n::error ::y.yml\""
        );
        assert_eq!(git_path("a/", "q\"\u{1b}"), "\"a/q\\\"\\033\"");
    }

    /// A deterministic stand-in for a fuzz target (the binary's modules are out of the fuzz
    /// crate's reach): 20,000 strings drawn from a hostile alphabet through every channel.
    #[test]
    fn every_channel_holds_for_hostile_strings() {
        const ALPHABET: &[&str] = &[
            "a",
            " ",
            "\t",
            "\n",
            "\r",
            "\0",
            "\u{1b}",
            "\u{7}",
            "\u{7f}",
            "\u{85}",
            "\u{9b}",
            "\u{2028}",
            "\u{2029}",
            "\u{202e}",
            "\u{2066}",
            "\u{200b}",
            "\u{feff}",
            "\u{e0041}",
            "diff --git a/x b/x",
            "---",
            "+++ b/x",
            "@@ -1 +1 @@",
            "From ",
            "Index: ",
            "`",
            "[",
            "](",
            "|",
            "<",
            "&",
            "\\",
            "\"",
            "%",
            ":",
            "é",
            "✓",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let parts = 1 + next() % 12;
            let input: String = (0..parts)
                .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                .collect();
            let unsafe_char = |c: char| needs_escape(c);
            assert!(!text(&input).chars().any(unsafe_char), "{input:?}");
            assert!(!message(&input).chars().any(unsafe_char), "{input:?}");
            let md = markdown(&input);
            assert!(!md.chars().any(unsafe_char), "{input:?}");
            assert!(!md.contains(['<', '>']), "{input:?}");
            assert!(!git_path("a/", &input).contains('\n'), "{input:?}");
            let line = commit_line(&input);
            assert!(!line.contains('\n'), "{input:?}");
            let safe = commit_message(&input);
            assert_eq!(safe.matches('\n').count(), input.matches('\n').count());
            for l in safe.lines() {
                assert!(
                    !starts_patch(l) || l.starts_with("> "),
                    "{l:?} of {input:?}"
                );
                assert!(!l.chars().any(unsafe_char), "{l:?}");
            }
            let doc = serde_json::json!({ "m": input });
            let encoded = json(serde_json::to_string(&doc).expect("json"));
            assert!(!encoded.chars().any(unsafe_char), "{encoded:?}");
            let back: serde_json::Value = serde_json::from_str(&encoded).expect("valid");
            assert_eq!(back, doc);
        }
    }
}
