//! U+0085 (NEL), U+2028 (LINE SEPARATOR) and U+2029 (PARAGRAPH SEPARATOR): ordinary characters
//! for YAML 1.2 parsers (saphyr, yaml-rust2), line breaks for YAML 1.1 parsers (libyaml, the Go
//! parser that actionlint uses, YamlDotNet-style parsers).
//!
//! Outside a quoted scalar such a character can hide structure: in
//! `uses: a/b@v1 # note<NEL>      - uses: c/d@v1` harden sees one step with a comment, a YAML
//! 1.1 parser two steps, the second neither pinned nor analysed. Inside a quoted scalar a YAML 1.1
//! parser folds the break into the string, which changes the string but not the structure.
//! So harden refuses input files with these characters outside quoted scalars (like a lone CR),
//! and the guard refuses an output with any of them outside quoted scalars, so that no edit
//! path can introduce one.

use yaml_rust2::scanner::{Scanner, TScalarStyle, TokenType};

/// The characters a YAML 1.1 parser reads as line breaks and a YAML 1.2 parser does not.
pub const YAML11_ONLY_BREAKS: [char; 3] = ['\u{85}', '\u{2028}', '\u{2029}'];

/// The name of one of [`YAML11_ONLY_BREAKS`], for messages.
pub fn break_name(c: char) -> &'static str {
    match c {
        '\u{85}' => "U+0085 (NEXT LINE)",
        '\u{2028}' => "U+2028 (LINE SEPARATOR)",
        _ => "U+2029 (PARAGRAPH SEPARATOR)",
    }
}

/// The byte offset and the character of the first U+0085, U+2028 or U+2029 of `text` that is
/// not inside a single- or double-quoted scalar, as yaml-rust2's scanner sees the text. Where
/// the scanner stops on an error, everything after is counted as outside.
pub fn first_break_outside_quotes(text: &str) -> Option<(usize, char)> {
    let mut breaks = yaml11_only_breaks(text).peekable();
    breaks.peek()?;
    let quoted = quoted_ranges(text);
    let mut ranges = quoted.iter().peekable();
    for (at, c) in breaks {
        while ranges.peek().is_some_and(|r| r.end <= at) {
            ranges.next();
        }
        if !ranges.peek().is_some_and(|r| r.start <= at && at < r.end) {
            return Some((at, c));
        }
    }
    None
}

/// Every U+0085, U+2028 and U+2029 of `text` with its byte offset, found by their UTF-8 bytes
/// (`C2 85`, `E2 80 A8`, `E2 80 A9`): a lead byte never occurs inside another character, so a
/// byte scan finds exactly the characters, without decoding every character of the text.
fn yaml11_only_breaks(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(0xC2, 0xE2, bytes).filter_map(move |i| {
        match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(0xC2), Some(0x85), _) => Some((i, '\u{85}')),
            (Some(0xE2), Some(0x80), Some(0xA8)) => Some((i, '\u{2028}')),
            (Some(0xE2), Some(0x80), Some(0xA9)) => Some((i, '\u{2029}')),
            _ => None,
        }
    })
}

/// Byte ranges of the quoted scalars of `text`, quotes included, in order.
fn quoted_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    // The scanner's marks count characters; a cursor turns them into bytes (tokens come in
    // order).
    let mut cursor = (0usize, 0usize);
    let mut byte_at = |char_index: usize| -> usize {
        while cursor.0 < char_index {
            let Some(c) = text[cursor.1..].chars().next() else {
                break;
            };
            cursor = (cursor.0 + 1, cursor.1 + c.len_utf8());
        }
        cursor.1
    };
    let mut out = Vec::new();
    let mut scanner = Scanner::new(text.chars());
    let mut last_start = 0usize;
    for token in &mut scanner {
        let TokenType::Scalar(style, _) = &token.1 else {
            continue;
        };
        let quote = match style {
            TScalarStyle::SingleQuoted => b'\'',
            TScalarStyle::DoubleQuoted => b'"',
            _ => continue,
        };
        let index = token.0.index();
        if index < last_start {
            continue;
        }
        last_start = index;
        let start = byte_at(index);
        if text.as_bytes().get(start) != Some(&quote) {
            continue;
        }
        out.push(start..closing_quote_end(text, start, quote));
    }
    out
}

/// Just past the quote that closes the quoted scalar opening at `open` (the end of the text if
/// it is never closed). `''` escapes a single quote, `\` any character in double quotes.
fn closing_quote_end(text: &str, open: usize, quote: u8) -> usize {
    let bytes = text.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() {
        let b = bytes[i];
        if quote == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_breaks_in_comments_and_plain_scalars() {
        let text = "a: b # x\u{85}      - run: evil\n";
        assert_eq!(first_break_outside_quotes(text), Some((8, '\u{85}')));
        let plain = "a: b\u{2028}c\n";
        assert_eq!(first_break_outside_quotes(plain), Some((4, '\u{2028}')));
        let block = "a: |\n  x\u{2029}y\n";
        assert_eq!(first_break_outside_quotes(block), Some((8, '\u{2029}')));
    }

    #[test]
    fn quoted_scalars_may_hold_them() {
        assert_eq!(first_break_outside_quotes("a: 'x\u{85}y'\n"), None);
        assert_eq!(first_break_outside_quotes("a: \"x\\\"\u{2028}\"\n"), None);
        assert_eq!(
            first_break_outside_quotes("'k\u{85}': [\"\u{2029}\"]\n"),
            None
        );
        assert_eq!(
            first_break_outside_quotes("a: 'x''\u{85}' # \u{85}\n"),
            Some((13, '\u{85}'))
        );
        assert_eq!(first_break_outside_quotes("plain: text\n"), None);
    }

    #[test]
    fn the_byte_scan_finds_what_decoding_finds() {
        let text = "\u{85}a\u{2028}\u{e2}\u{2029}\u{c2}\u{20ac}\u{2027}\u{2029}\u{85}";
        let decoded: Vec<(usize, char)> = text
            .char_indices()
            .filter(|(_, c)| YAML11_ONLY_BREAKS.contains(c))
            .collect();
        assert_eq!(yaml11_only_breaks(text).collect::<Vec<_>>(), decoded);
        assert_eq!(decoded.len(), 5);
    }

    #[test]
    fn scanner_errors_count_as_outside() {
        assert!(first_break_outside_quotes("a: [\u{85}\n").is_some());
    }
}
