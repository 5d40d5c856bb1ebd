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
//! refuses with "invalid indentation" at its first token gets one more space before that token,
//! until the copy parses. Inside a flow collection, the blanks before a line's first token are
//! not content (flow scalars fold them away), so the copy has the same data. The span layer then
//! maps every position of the copy back to the original text, and accepts the result only when
//! every padded line lies inside a flow collection of the tree; otherwise the original error
//! stands. Files that parse as they are never take this path.

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

/// Pads `text` (see the module documentation) until `parse` accepts it. `None` when `parse`
/// fails otherwise: with another message, at a token that does not start its line, or after
/// [`MAX_PADDING`] spaces.
pub(crate) fn pad_hanging_lines(
    text: &str,
    parse: impl Fn(&str) -> Result<(), FirstError>,
) -> Option<(String, Padding)> {
    let mut padded = text.to_owned();
    let mut padding = Padding::default();
    for _ in 0..=MAX_PADDING {
        let (char_index, message) = match parse(&padded) {
            Ok(()) => return (!padding.inserts.is_empty()).then_some((padded, padding)),
            Err(e) => e,
        };
        if !is_indentation_error(&message) {
            return None;
        }
        let byte = LineIndex::new(&padded).byte(char_index);
        let line_start = padded[..byte].rfind('\n').map_or(0, |i| i + 1);
        let before = padded.as_bytes().get(line_start..byte)?;
        let at_line_start = before
            .iter()
            .all(|b| matches!(b, b' ' | b'\t') || *b == 0xEF || *b == 0xBB || *b == 0xBF);
        if !at_line_start || byte >= padded.len() {
            return None;
        }
        padding.insert(padding.to_original(byte));
        padded.insert(byte, ' ');
    }
    None
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
