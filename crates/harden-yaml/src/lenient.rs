//! Hanging flow lines: what libyaml (and GitHub) accept and saphyr-parser and yaml-rust2 refuse.
//!
//! ```yaml
//! matrix:
//!   python: [
//!     "3.12",
//!   ]          # `]` no deeper than `python`: "invalid indentation"
//! ```
//!
//! YAML 1.2 (§8.2.3) wants every line of a flow collection inside a block collection indented
//! deeper than the block collection; libyaml does not check indentation inside flow collections
//! at all, and real workflows rely on it (numpy `linux_simd.yml`, pytorch/rl `nightly_build.yml`).
//! saphyr-parser 0.3 and yaml-rust2 0.13 have no option for it (upstream: saphyr-rs/saphyr pull
//! requests 101 and 108, open). So harden parses a padded copy instead: each line the parser
//! refuses with "invalid indentation" at its first token gets one more space before that token
//! (and each continuation line of a quoted scalar refused with "invalid indentation in quoted
//! scalar"), until the copy parses. Inside a flow collection, the blanks before a line's first token are
//! not content (flow scalars fold them away), so the copy has the same data. The span layer then
//! maps every position of the copy back to the original text, and accepts the result only when
//! every padded line lies inside a flow collection or a quoted scalar of the tree; otherwise the
//! original error stands. Files that parse as they are never take this path.

use crate::position::LineIndex;

/// Whether a parser's message is one of those both parsers give for a line indented less than
/// the block context requires (`invalid indentation`, `invalid indentation in flow construct`).
pub(crate) fn is_indentation_error(message: &str) -> bool {
    matches!(
        message,
        "invalid indentation" | "invalid indentation in flow construct"
    )
}

/// The most spaces added to one text: a few per hanging line in real files.
const MAX_PADDING: usize = 64;

/// Spaces inserted into a text: (byte offset in the original text, how many), by offset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Padding {
    inserts: Vec<(usize, usize)>,
}

impl Padding {
    /// The original byte offset of a byte offset of the padded text (an offset inside an
    /// inserted run maps to where the run was inserted).
    pub(crate) fn to_original(&self, padded: usize) -> usize {
        let mut shift = 0;
        for &(at, count) in &self.inserts {
            if padded < at + shift {
                break;
            }
            if padded < at + shift + count {
                return at;
            }
            shift += count;
        }
        padded - shift
    }

    /// The original byte offsets before which spaces were inserted.
    pub(crate) fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.inserts.iter().map(|&(at, _)| at)
    }

    fn insert(&mut self, at: usize) {
        match self.inserts.binary_search_by_key(&at, |&(a, _)| a) {
            Ok(i) => self.inserts[i].1 += 1,
            Err(i) => self.inserts.insert(i, (at, 1)),
        }
    }
}

/// A parser's first error: the character index it points at, and its message.
pub(crate) type FirstError = (usize, String);

/// The message both parsers give for a continuation line of a multi-line quoted scalar
/// indented less than the block context requires; it points at the opening quote.
const QUOTED_SCALAR: &str = "invalid indentation in quoted scalar";

/// Pads `text` (see the module documentation) until `parse` accepts it. `None` when `parse`
/// fails otherwise: with another message, at a token that does not start its line, or after
/// [`MAX_PADDING`] spaces.
pub(crate) fn pad_hanging_lines(
    text: &str,
    parse: impl Fn(&str) -> Result<(), FirstError>,
) -> Option<(String, Padding)> {
    let mut padded = text.to_owned();
    let mut padding = Padding::default();
    let mut added = 0;
    while added <= MAX_PADDING {
        let (char_index, message) = match parse(&padded) {
            Ok(()) => return (!padding.inserts.is_empty()).then_some((padded, padding)),
            Err(e) => e,
        };
        let byte = LineIndex::new(&padded).byte(char_index);
        let targets = if message == QUOTED_SCALAR {
            continuation_lines(&padded, byte)
        } else if is_indentation_error(&message) && starts_its_line(&padded, byte) {
            vec![byte]
        } else {
            return None;
        };
        if targets.is_empty() {
            return None;
        }
        // From the last, so that the earlier offsets stay valid.
        for &at in targets.iter().rev() {
            padding.insert(padding.to_original(at));
            padded.insert(at, ' ');
            added += 1;
        }
    }
    None
}

/// Whether only blanks (or a byte-order mark) stand before `byte` on its line.
fn starts_its_line(text: &str, byte: usize) -> bool {
    let line_start = text[..byte].rfind('\n').map_or(0, |i| i + 1);
    byte < text.len()
        && text[line_start..byte]
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | '\u{feff}'))
}

/// The first non-blank byte of each continuation line of the quoted scalar that opens at
/// `open`; empty when `open` is not a quote.
fn continuation_lines(text: &str, open: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let Some(&quote) = bytes.get(open).filter(|q| matches!(q, b'"' | b'\'')) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 1,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 1,
            c if c == quote => break,
            b'\n' => {
                let mut j = i + 1;
                while matches!(bytes.get(j), Some(b' ' | b'\t')) {
                    j += 1;
                }
                if !matches!(bytes.get(j), Some(b'\n' | b'\r') | None) {
                    out.push(j);
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_padded_offsets_back() {
        let mut p = Padding::default();
        p.insert(10);
        p.insert(10);
        p.insert(20);
        // Before the first insertion: unchanged.
        assert_eq!(p.to_original(9), 9);
        // Inside the first run (padded 10, 11): the insertion point.
        assert_eq!(p.to_original(10), 10);
        assert_eq!(p.to_original(11), 10);
        // The token that followed: original 10.
        assert_eq!(p.to_original(12), 10);
        assert_eq!(p.to_original(21), 19);
        // Inside the second run (padded 22): original 20; after it, shifted by 3.
        assert_eq!(p.to_original(22), 20);
        assert_eq!(p.to_original(23), 20);
        assert_eq!(p.to_original(30), 27);
        assert_eq!(p.positions().collect::<Vec<_>>(), vec![10, 20]);
    }
}
