//! Conversions between saphyr's character indices and byte offsets, and byte offsets to lines.

use crate::error::Location;

/// Maps character indices (what saphyr-parser's marks count) to byte offsets, and byte offsets
/// to 1-based line and column.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    /// Byte offset of each character, plus one entry for the end; empty when the text is ASCII.
    char_to_byte: Vec<u32>,
    /// Byte offset at which each line starts.
    line_starts: Vec<usize>,
    len: usize,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let char_to_byte = if text.is_ascii() {
            Vec::new()
        } else {
            let mut v: Vec<u32> = text.char_indices().map(|(b, _)| b as u32).collect();
            v.push(text.len() as u32);
            v
        };
        let mut line_starts = vec![0];
        line_starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex {
            char_to_byte,
            line_starts,
            len: text.len(),
        }
    }

    /// Byte offset of a character index (clamped to the text's end).
    pub(crate) fn byte(&self, char_index: usize) -> usize {
        if self.char_to_byte.is_empty() {
            char_index.min(self.len)
        } else {
            self.char_to_byte
                .get(char_index)
                .map_or(self.len, |b| *b as usize)
        }
    }

    /// 0-based line of a byte offset.
    pub(crate) fn line_of(&self, byte: usize) -> usize {
        match self.line_starts.binary_search(&byte) {
            Ok(l) => l,
            Err(l) => l - 1,
        }
    }

    /// Byte offset where the 0-based line starts.
    pub(crate) fn line_start(&self, line: usize) -> usize {
        self.line_starts.get(line).copied().unwrap_or(self.len)
    }

    /// Line and column (1-based, column in characters) of a byte offset.
    pub(crate) fn location(&self, text: &str, byte: usize) -> Location {
        let line = self.line_of(byte);
        let start = self.line_start(line);
        let column = text
            .get(start..byte)
            .map_or(byte - start, |s| s.chars().count())
            + 1;
        Location {
            line: line + 1,
            column,
        }
    }
}
