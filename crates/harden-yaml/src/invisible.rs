//! Characters that must never reach a reader raw, whatever the channel (a terminal, a CI log,
//! JSON, Markdown, a commit message, a comment written into a workflow): they move the
//! cursor, recolour the terminal, end a line where a reader sees none, reorder the text shown
//! (bidirectional controls: `exe.tpircs` shown as `script.exe`), or hide text (zero-width and
//! other invisible formatting characters). One list, shared by harden's output escaping and
//! the comments this crate writes.

/// Bidirectional formatting characters (Unicode Bidi_Control, UAX #9): ALM, LRM, RLM, the
/// embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and the isolates (LRI, RLI, FSI, PDI).
const BIDI_CONTROLS: &[char] = &[
    '\u{61c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// Whether `c` is invisible formatting: zero-width space, non-joiner and joiner, word joiner
/// and the invisible operators, the BOM (zero-width no-break space), soft hyphen, combining
/// grapheme joiner, Mongolian vowel separator and free variation selectors, Hangul fillers,
/// interlinear annotation marks, and the tag characters (U+E0000 to U+E007F).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{115f}'
            | '\u{1160}'
            | '\u{17b4}'
            | '\u{17b5}'
            | '\u{180b}'..='\u{180f}'
            | '\u{200b}'..='\u{200d}'
            | '\u{2060}'..='\u{2065}'
            | '\u{206a}'..='\u{206f}'
            | '\u{3164}'
            | '\u{feff}'
            | '\u{ffa0}'
            | '\u{fff9}'..='\u{fffb}'
            | '\u{e0000}'..='\u{e007f}'
    )
}

/// Whether `c` must be escaped before it is shown: a control character other than tab (C0,
/// DEL, C1 including U+0085), a line or paragraph separator (U+2028, U+2029), a bidirectional
/// control, or an invisible formatting character.
pub fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(c, '\u{2028}' | '\u{2029}')
        || BIDI_CONTROLS.contains(&c)
        || is_invisible(c)
}

/// `c` as a visible escape: `\n`, `\r`, else `\u{..}` with its code point in hex.
pub fn visible(c: char) -> String {
    match c {
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        c => format!("\\u{{{:x}}}", c as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        for c in [
            '\0',
            '\n',
            '\u{1b}',
            '\u{7f}',
            '\u{85}',
            '\u{9b}',
            '\u{2028}',
            '\u{2029}',
            '\u{202e}',
            '\u{2066}',
            '\u{200b}',
            '\u{200d}',
            '\u{2060}',
            '\u{feff}',
            '\u{e0041}',
            '\u{61c}',
        ] {
            assert!(is_unsafe(c), "{:x}", c as u32);
        }
        for c in ['a', '\t', ' ', 'é', '✓', '中', '\u{fe0f}'] {
            assert!(!is_unsafe(c), "{:x}", c as u32);
        }
        assert_eq!(visible('\u{202e}'), "\\u{202e}");
    }
}
