//! A line-level reader of Dockerfiles and Containerfiles: just enough of the format to find
//! each instruction, its words and where they are in the text, so that an image can be
//! pinned by inserting `@sha256:…` after it and nothing else moves.
//!
//! What it follows, from the Dockerfile reference (docs.docker.com/reference/dockerfile):
//! parser directives (`# syntax=`, `# escape=`) only on the first lines, before any comment,
//! blank line or instruction; the escape character (`\`, or `` ` `` after `# escape=``),
//! which at the end of a line continues the instruction on the next line; comment lines and
//! blank lines inside a continued instruction, which are dropped; comment lines (`#` first)
//! between instructions; and here-documents (`<<EOF`, `<<-EOF`, `<<"EOF"`) of `RUN`, `COPY`
//! and `ADD`, whose lines are the document's body until the line that ends it, never
//! instructions. Anything the reader is unsure of reads as more heredoc, or as words that are
//! not an image: a line is never taken for a `FROM` it is not.

use std::ops::Range;

/// One word of an instruction (split at blanks), where it is in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word as read (continuations removed).
    pub text: String,
    /// Its bytes in the file: from its first character to the end of its last.
    pub span: Range<usize>,
}

impl Word {
    /// Whether the word is written in one piece (not broken by a line continuation), so that
    /// its span holds exactly its text.
    pub fn contiguous(&self) -> bool {
        self.span.len() == self.text.len()
    }
}

/// One instruction: its keyword and the words after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction {
    /// The keyword as written (`FROM`, `from`, `RUN`).
    pub keyword: Word,
    /// The words after the keyword.
    pub args: Vec<Word>,
    /// The text after the keyword with continuations removed (the shell command of a `RUN`).
    pub text: String,
    /// 1-based line of the keyword.
    pub line: usize,
    /// The bodies of its here-documents, in order.
    pub heredocs: Vec<String>,
}

impl Instruction {
    /// Whether the keyword is `name` (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.keyword.text.eq_ignore_ascii_case(name)
    }

    /// The parts of a `FROM` instruction; `None` for any other, or a `FROM` without an image.
    pub fn from_parts(&self) -> Option<From<'_>> {
        if !self.is("FROM") {
            return None;
        }
        let mut args = self.args.iter().skip_while(|w| w.text.starts_with("--"));
        let image = args.next()?;
        let stage = match args.next() {
            Some(w) if w.text.eq_ignore_ascii_case("AS") => args.next(),
            _ => None,
        };
        Some(From { image, stage })
    }
}

/// The parts of a `FROM` instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct From<'a> {
    /// The image word (after any `--platform=…` flags).
    pub image: &'a Word,
    /// The stage name after `AS`, when there is one.
    pub stage: Option<&'a Word>,
}

/// A Dockerfile, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dockerfile {
    /// The instructions in file order.
    pub instructions: Vec<Instruction>,
    /// The escape character (`\` unless a directive says otherwise).
    pub escape: char,
    /// The 1-based line of a here-document that never ends (everything after it is its body).
    pub unterminated_heredoc: Option<usize>,
    /// The build stage names (`FROM … AS name`), lowercase.
    stages: std::collections::BTreeSet<String>,
}

impl Dockerfile {
    /// The `FROM` instructions with their parts, and the line of each.
    pub fn froms(&self) -> impl Iterator<Item = (&Instruction, From<'_>)> {
        self.instructions
            .iter()
            .filter_map(|i| i.from_parts().map(|f| (i, f)))
    }

    /// Whether `name` (any case) is a build stage (`FROM … AS name`).
    pub fn is_stage(&self, name: &str) -> bool {
        self.stages.contains(&name.to_ascii_lowercase())
    }
}

/// One physical line: where it starts, its text without the line break.
struct Line<'t> {
    start: usize,
    text: &'t str,
}

fn physical_lines(text: &str) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    for piece in text.split_inclusive('\n') {
        let body = piece.strip_suffix('\n').unwrap_or(piece);
        let body = body.strip_suffix('\r').unwrap_or(body);
        out.push(Line { start, text: body });
        start += piece.len();
    }
    out
}

/// A parser directive line (`# key=value`): the key (lowercase) and value.
fn directive(line: &str) -> Option<(String, &str)> {
    let rest = line.strip_prefix('#')?.trim_start_matches([' ', '\t']);
    let (key, value) = rest.split_once('=')?;
    let key = key.trim_end_matches([' ', '\t']);
    let mut chars = key.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((key.to_ascii_lowercase(), value.trim_matches([' ', '\t'])))
}

fn is_blank(line: &str) -> bool {
    line.trim_matches([' ', '\t']).is_empty()
}

fn is_comment(line: &str) -> bool {
    line.trim_start_matches([' ', '\t']).starts_with('#')
}

/// Reads a Dockerfile. Never fails: what it cannot read is left out.
pub fn read(text: &str) -> Dockerfile {
    let lines = physical_lines(text);
    let mut escape = '\\';
    let mut i = 0;
    // Only the directives BuildKit knows; an unknown one is a comment and ends them.
    while let Some((key, value)) = lines
        .get(i)
        .and_then(|l| directive(l.text))
        .filter(|(key, _)| matches!(key.as_str(), "syntax" | "escape" | "check"))
    {
        if key == "escape" && (value == "`" || value == "\\") {
            escape = value.chars().next().unwrap_or('\\');
        }
        i += 1;
    }
    let mut file = Dockerfile {
        escape,
        ..Dockerfile::default()
    };
    while i < lines.len() {
        if is_blank(lines[i].text) || is_comment(lines[i].text) {
            i += 1;
            continue;
        }
        let (mut instruction, next) = instruction_at(&lines, i, escape);
        i = next;
        if ["RUN", "COPY", "ADD"].iter().any(|k| instruction.is(k)) {
            for (name, strip_tabs) in heredoc_markers(&instruction) {
                let (body, next) = heredoc_body(&lines, i, &name, strip_tabs);
                i = next;
                match body {
                    Some(body) => instruction.heredocs.push(body),
                    None => file.unterminated_heredoc = Some(instruction.line),
                }
            }
        }
        file.instructions.push(instruction);
    }
    file.stages = file
        .froms()
        .filter_map(|(_, f)| f.stage.map(|w| w.text.to_ascii_lowercase()))
        .collect();
    file
}

/// The instruction starting at line `first` (not blank, not a comment), and the line after it.
fn instruction_at(lines: &[Line<'_>], first: usize, escape: char) -> (Instruction, usize) {
    let mut chars: Vec<(char, usize)> = Vec::new();
    let mut i = first;
    while let Some(line) = lines.get(i) {
        i += 1;
        if i - 1 > first && (is_blank(line.text) || is_comment(line.text)) {
            continue;
        }
        let trimmed = line.text.trim_end_matches([' ', '\t']);
        let (content, continues) = match trimmed.strip_suffix(escape) {
            Some(content) => (content, true),
            None => (line.text, false),
        };
        chars.extend(content.char_indices().map(|(at, c)| (c, line.start + at)));
        if !continues {
            break;
        }
    }
    let mut words = split_words(&chars);
    let keyword = if words.is_empty() {
        Word {
            text: String::new(),
            span: lines[first].start..lines[first].start,
        }
    } else {
        words.remove(0)
    };
    let text: String = chars.iter().map(|(c, _)| *c).collect::<String>();
    let text = text
        .trim_start_matches([' ', '\t'])
        .get(keyword.text.len()..)
        .unwrap_or_default()
        .trim_matches([' ', '\t'])
        .to_owned();
    let instruction = Instruction {
        keyword,
        args: words,
        text,
        line: first + 1,
        heredocs: Vec::new(),
    };
    (instruction, i)
}

/// Splits characters with their offsets at blanks.
fn split_words(chars: &[(char, usize)]) -> Vec<Word> {
    let mut words = Vec::new();
    let mut current: Option<(String, usize, usize)> = None;
    for &(c, at) in chars {
        if c == ' ' || c == '\t' {
            if let Some((text, start, end)) = current.take() {
                words.push(Word {
                    text,
                    span: start..end,
                });
            }
            continue;
        }
        match &mut current {
            Some((text, _, end)) => {
                text.push(c);
                *end = at + c.len_utf8();
            }
            None => current = Some((c.to_string(), at, at + c.len_utf8())),
        }
    }
    if let Some((text, start, end)) = current {
        words.push(Word {
            text,
            span: start..end,
        });
    }
    words
}

/// The here-documents an instruction opens, in order: (terminator, whether leading tabs are
/// stripped). Any word holding `<<` followed by a name counts, so that a body is never read
/// as instructions.
fn heredoc_markers(instruction: &Instruction) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for word in &instruction.args {
        let mut rest = word.text.as_str();
        let mut first = true;
        while let Some(at) = rest.find("<<") {
            // `<<EOF` or `2<<EOF` as a whole word is what BuildKit reads; inside a word
            // (`cat<<EOF`) a name must start like one, so that `$((1<<2))` is a shift.
            let whole_word = first && rest[..at].chars().all(|c| c.is_ascii_digit());
            first = false;
            rest = &rest[at + 2..];
            let (strip_tabs, after) = match rest.strip_prefix('-') {
                Some(after) => (true, after),
                None => (false, rest),
            };
            let quoted = after.starts_with(['"', '\'']);
            let name: String = after
                .trim_start_matches(['"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                .collect();
            let starts_like_a_name = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            if !name.is_empty() && (whole_word || quoted || starts_like_a_name) {
                out.push((name, strip_tabs));
            }
        }
    }
    out
}

/// The body of a here-document starting at line `first`, and the line after its terminator;
/// `None` (and the end of the file) when no line ends it.
fn heredoc_body(
    lines: &[Line<'_>],
    first: usize,
    name: &str,
    strip_tabs: bool,
) -> (Option<String>, usize) {
    let mut body = String::new();
    for (i, line) in lines.iter().enumerate().skip(first) {
        let text = if strip_tabs {
            line.text.trim_start_matches('\t')
        } else {
            line.text
        };
        if text == name {
            return (Some(body), i + 1);
        }
        body.push_str(line.text);
        body.push('\n');
    }
    (None, lines.len())
}

/// Byte offsets to lines and columns, for one text: each look-up is a binary search.
pub struct Locator<'t> {
    text: &'t str,
    /// The byte where each line starts.
    starts: Vec<usize>,
}

impl<'t> Locator<'t> {
    /// The line starts of `text`.
    pub fn new(text: &'t str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Locator { text, starts }
    }

    /// The 1-based line and column (in characters) of byte `at`.
    pub fn locate(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= at).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..at)
            .map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }

    /// The byte where 1-based `line` starts (the end of the text past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(self.text.len())
    }
}

/// The 1-based line and column (in characters) of byte `at` of `text`.
pub fn location(text: &str, at: usize) -> (usize, usize) {
    Locator::new(text).locate(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images(text: &str) -> Vec<(usize, String, Option<String>)> {
        read(text)
            .froms()
            .map(|(i, f)| {
                (
                    i.line,
                    f.image.text.clone(),
                    f.stage.map(|s| s.text.clone()),
                )
            })
            .collect()
    }

    #[test]
    fn from_forms() {
        let text = "# syntax=docker/dockerfile:1\n\
                    FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n\
                    from alpine:3.20\n\
                    \x20 FROM\tnode:20   as   web  # not a comment\n\
                    FROM build\n";
        assert_eq!(
            images(text),
            vec![
                (2, "golang:1.22".into(), Some("build".into())),
                (3, "alpine:3.20".into(), None),
                (4, "node:20".into(), Some("web".into())),
                (5, "build".into(), None),
            ]
        );
        let file = read(text);
        assert!(file.is_stage("build") && file.is_stage("WEB") && !file.is_stage("alpine:3.20"));
    }

    #[test]
    fn continuations_and_spans() {
        let text = "FROM \\\n  # a comment inside\n\n  --platform=linux/amd64 \\\r\n  python:3.12 \\\n  AS py\n";
        let file = read(text);
        let (instruction, from) = file.froms().next().expect("one FROM");
        assert_eq!(instruction.line, 1);
        assert_eq!(from.image.text, "python:3.12");
        assert!(from.image.contiguous());
        assert_eq!(&text[from.image.span.clone()], "python:3.12");
        assert_eq!(from.stage.map(|s| s.text.as_str()), Some("py"));
        assert_eq!(location(text, from.image.span.start), (5, 3));
    }

    #[test]
    fn escape_directive() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022 `\n  AS base\nRUN dir c:\\\nFROM base\n";
        let file = read(text);
        assert_eq!(file.escape, '`');
        assert_eq!(
            images(text),
            vec![
                (
                    2,
                    "mcr.microsoft.com/windows/servercore:ltsc2022".into(),
                    Some("base".into())
                ),
                (5, "base".into(), None),
            ]
        );
        // After an unknown directive, `escape` is a comment.
        assert_eq!(read("# foo=bar\n# escape=`\nFROM a:1\n").escape, '\\');
        // A directive after an instruction is a comment.
        let late = "FROM a:1\n# escape=`\nRUN x `\nFROM b:1\n";
        assert_eq!(read(late).escape, '\\');
        assert_eq!(images(late).len(), 2);
    }

    #[test]
    fn heredocs_are_not_instructions() {
        let text = "FROM a:1\nRUN <<EOF\nFROM evil:1\nEOF\nCOPY <<-\"ONE\" <<TWO /x/\n\tFROM no:1\n\tONE\nFROM no:2\nTWO\nRUN cat > f <<'END' && echo\nFROM no:3\nEND\nFROM b:1\n";
        let file = read(text);
        assert_eq!(
            images(text)
                .into_iter()
                .map(|(_, i, _)| i)
                .collect::<Vec<_>>(),
            vec!["a:1", "b:1"]
        );
        assert_eq!(file.instructions[1].heredocs, vec!["FROM evil:1\n"]);
        assert!(file.unterminated_heredoc.is_none());
        let open = read("FROM a:1\nRUN <<EOF\nFROM b:1\n");
        assert_eq!(open.unterminated_heredoc, Some(2));
        assert_eq!(open.froms().count(), 1);
        // A shift is no heredoc.
        assert_eq!(images("RUN echo $((1<<2))\nFROM c:1\n").len(), 1);
    }

    #[test]
    fn continued_run_hides_from() {
        let text = "RUN echo \\\nFROM x:1\nFROM y:1\n";
        assert_eq!(images(text), vec![(3, "y:1".into(), None)]);
        assert_eq!(read(text).instructions[0].text, "echo FROM x:1");
    }
}
