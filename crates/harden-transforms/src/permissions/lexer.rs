//! Splitting a shell script into simple commands: quotes, `\\` continuations, `$( )` and
//! backticks, pipes, `&&`/`||`/`;`, comments, heredocs and `case` patterns, well enough for
//! the usual workflow scripts (PowerShell's backtick and `cmd`'s `^` continuations too).
//! What the commands mean is decided elsewhere (`shell.rs`, `programs.rs`, `data/`).

/// Which shell runs the script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShellKind {
    /// bash, sh (the default on Linux and macOS runners).
    Sh,
    /// pwsh, powershell (the default on Windows runners).
    Pwsh,
    /// cmd
    Cmd,
    /// python, node, a custom command: not split into commands.
    Other,
}

impl ShellKind {
    /// The kind of a `shell:` value.
    pub(crate) fn from_shell(shell: &str) -> ShellKind {
        let first = shell.split_whitespace().next().unwrap_or_default();
        let name = first
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(first)
            .to_ascii_lowercase();
        match name.trim_end_matches(".exe") {
            "bash" | "sh" | "zsh" | "dash" | "ksh" => ShellKind::Sh,
            "pwsh" | "powershell" => ShellKind::Pwsh,
            "cmd" => ShellKind::Cmd,
            _ => ShellKind::Other,
        }
    }
}

/// One simple command: its words, quotes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Segment {
    pub(crate) words: Vec<String>,
    /// Commands joined by `|` share a pipeline number.
    pub(crate) pipeline: usize,
    /// The line of the script (from 1) where the command starts.
    pub(crate) line: usize,
}

/// A shell function defined in the script (`name() { ...; }`, `function name { ...; }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Function {
    pub(crate) name: String,
    /// The line of the definition.
    pub(crate) line: usize,
    /// The commands of its body: indexes into `Parsed::segments`.
    pub(crate) body: std::ops::Range<usize>,
}

/// A script split into commands, plus the bodies of its heredocs (data or embedded scripts)
/// and the functions it defines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) segments: Vec<Segment>,
    pub(crate) heredocs: Vec<String>,
    pub(crate) functions: Vec<Function>,
}

impl Parsed {
    /// True when the command at `index` is in the body of a function (it runs when the
    /// function is called, not where it is written).
    pub(crate) fn in_function(&self, index: usize) -> bool {
        self.functions.iter().any(|f| f.body.contains(&index))
    }

    /// The function named `name`, if the script defines one.
    pub(crate) fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().rev().find(|f| f.name == name)
    }
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Frame {
    Top,
    Subst,
    Backtick,
}

#[derive(Debug)]
struct Builder {
    frame: Frame,
    words: Vec<String>,
    word: String,
    in_word: bool,
    dq: bool,
    depth: usize,
    pipeline: usize,
    /// Where the command being built starts (a character index).
    start: usize,
}

impl Builder {
    fn new(frame: Frame, pipeline: usize) -> Self {
        Builder {
            frame,
            words: Vec::new(),
            word: String::new(),
            in_word: false,
            dq: false,
            depth: 0,
            pipeline,
            start: 0,
        }
    }

    fn is_empty(&self) -> bool {
        self.words.is_empty() && !self.in_word
    }

    fn push(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn end_word(&mut self) {
        if self.in_word {
            self.words.push(std::mem::take(&mut self.word));
            self.in_word = false;
        }
    }
}

struct Splitter {
    builders: Vec<Builder>,
    segments: Vec<Segment>,
    next_pipeline: usize,
    /// The start of each line (character indexes), to give commands their line.
    line_starts: Vec<usize>,
    /// A function name whose `{` body comes next, with where it was defined.
    pending_function: Option<(String, usize)>,
    /// The `{` groups open: a function's name, line and first command, or `None`.
    braces: Vec<Option<(String, usize, usize)>>,
    functions: Vec<Function>,
}

impl Splitter {
    fn top(&mut self) -> &mut Builder {
        if self.builders.is_empty() {
            self.builders.push(Builder::new(Frame::Top, 0));
        }
        let last = self.builders.len() - 1;
        &mut self.builders[last]
    }

    fn end_segment(&mut self, piped: bool) {
        let next = self.next_pipeline + 1;
        let b = self.top();
        b.end_word();
        let words = std::mem::take(&mut b.words);
        let pipeline = b.pipeline;
        if !piped {
            b.pipeline = next;
        }
        if !piped {
            self.next_pipeline = next;
        }
        if !words.is_empty() {
            let start = self.top().start;
            let line = self.line_of(start);
            self.segments.push(Segment {
                words,
                pipeline,
                line,
            });
        }
    }

    fn line_of(&self, index: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= index)
    }

    /// A standalone `{`: opens a group, or the body of the function just named.
    fn open_brace(&mut self) {
        let b = self.top();
        if b.words.len() == 2 && b.words[0] == "function" && !b.in_word {
            let name = b.words.pop().unwrap_or_default();
            b.words.clear();
            let start = b.start;
            let line = self.line_of(start);
            self.pending_function = Some((name, line));
        }
        self.end_segment(false);
        let function = self
            .pending_function
            .take()
            .map(|(name, line)| (name, line, self.segments.len()));
        self.braces.push(function);
    }

    /// A standalone `}`: closes a group, or a function's body.
    fn close_brace(&mut self) {
        self.end_segment(false);
        if let Some(Some((name, line, first))) = self.braces.pop() {
            self.functions.push(Function {
                name,
                line,
                body: first..self.segments.len(),
            });
        }
    }

    fn open(&mut self, frame: Frame) {
        self.top().push_str_marker();
        self.next_pipeline += 1;
        let p = self.next_pipeline;
        self.builders.push(Builder::new(frame, p));
    }

    fn close(&mut self) {
        self.end_segment(false);
        if self.builders.len() > 1 {
            self.builders.pop();
        }
    }
}

impl Builder {
    fn push_str_marker(&mut self) {
        self.word.push_str("$()");
        self.in_word = true;
    }
}

/// Splits a script into commands.
pub(crate) fn split(script: &str, kind: ShellKind) -> Parsed {
    let chars: Vec<char> = script.chars().collect();
    let mut line_starts = vec![0];
    line_starts.extend(
        chars
            .iter()
            .enumerate()
            .filter(|(_, c)| **c == '\n')
            .map(|(i, _)| i + 1),
    );
    let mut lx = Lexer {
        chars,
        kind,
        s: Splitter {
            builders: vec![Builder::new(Frame::Top, 0)],
            segments: Vec::new(),
            next_pipeline: 0,
            line_starts,
            pending_function: None,
            braces: Vec::new(),
            functions: Vec::new(),
        },
        heredocs: Vec::new(),
        pending: Vec::new(),
        i: 0,
    };
    while let Some(c) = lx.at(lx.i) {
        let i = lx.i;
        let b = lx.s.top();
        if b.is_empty() {
            b.start = i;
        }
        // `${{ ... }}` is replaced by the runner before the shell runs: keep it whole.
        if c == '$' && lx.at(lx.i + 1) == Some('{') && lx.at(lx.i + 2) == Some('{') {
            lx.expression();
        } else if lx.s.top().dq {
            lx.double_quoted(c);
        } else {
            lx.unquoted(c);
        }
    }
    let mut s = lx.s;
    while s.builders.len() > 1 {
        s.close();
    }
    s.end_segment(false);
    Parsed {
        segments: s.segments,
        heredocs: lx.heredocs,
        functions: s.functions,
    }
}

/// The state of `split`: the script, where it is, and what it built so far.
struct Lexer {
    chars: Vec<char>,
    kind: ShellKind,
    s: Splitter,
    heredocs: Vec<String>,
    /// Delimiters of heredocs whose bodies start on the next line.
    pending: Vec<String>,
    /// The index of the next character.
    i: usize,
}

impl Lexer {
    fn at(&self, j: usize) -> Option<char> {
        self.chars.get(j).copied()
    }

    /// `${{ ... }}`, kept whole in the word.
    fn expression(&mut self) {
        let i = self.i;
        let mut j = i + 3;
        while j < self.chars.len() && !(self.chars[j] == '}' && self.at(j + 1) == Some('}')) {
            j += 1;
        }
        let end = (j + 2).min(self.chars.len());
        let text: String = self.chars[i..end].iter().collect();
        let b = self.s.top();
        b.word.push_str(&text);
        b.in_word = true;
        self.i = end;
    }

    /// A character inside double quotes.
    fn double_quoted(&mut self, c: char) {
        let (i, kind) = (self.i, self.kind);
        match c {
            '\\' if kind == ShellKind::Sh => {
                if let Some(n) = self.at(i + 1) {
                    if n != '\n' {
                        self.s.top().push(n);
                    }
                }
                self.i += 2;
            }
            '`' if kind == ShellKind::Pwsh => {
                if let Some(n) = self.at(i + 1) {
                    self.s.top().push(n);
                }
                self.i += 2;
            }
            '"' => {
                self.s.top().dq = false;
                self.i += 1;
            }
            '$' if self.at(i + 1) == Some('(') && self.at(i + 2) != Some('(') => {
                self.s.open(Frame::Subst);
                self.i += 2;
            }
            '$' if self.at(i + 1) == Some('(') && kind == ShellKind::Sh => self.arithmetic(true),
            '`' if kind == ShellKind::Sh => {
                self.s.open(Frame::Backtick);
                self.i += 1;
            }
            _ => {
                self.s.top().push(c);
                self.i += 1;
            }
        }
    }

    /// A character outside quotes.
    fn unquoted(&mut self, c: char) {
        if self.quote_or_escape(c) {
            return;
        }
        let (i, kind) = (self.i, self.kind);
        match c {
            '$' if self.at(i + 1) == Some('(') && self.at(i + 2) != Some('(') => {
                self.s.open(Frame::Subst);
                self.i += 2;
            }
            '$' if self.at(i + 1) == Some('(') && kind == ShellKind::Sh => self.arithmetic(true),
            '<' | '>'
                if kind == ShellKind::Sh
                    && self.at(i + 1) == Some('(')
                    && !self.s.top().in_word =>
            {
                // Process substitution: `<(curl ...)` is a command of its own; the word
                // stands for the file it reads or writes.
                self.s.top().push(c);
                self.s.open(Frame::Subst);
                self.i += 2;
            }
            '(' if kind == ShellKind::Sh
                && self.at(i + 1) == Some('(')
                && !self.s.top().in_word
                && self.arithmetic_end().is_some() =>
            {
                // `(( i++ ))`: arithmetic, not a command.
                self.s.end_segment(false);
                self.arithmetic(false);
            }
            '(' if kind == ShellKind::Sh && self.s.top().word.ends_with('=') => self.array(),
            '(' | ')' => self.paren(c),
            '#' if !self.s.top().in_word => {
                while self.i < self.chars.len() && self.chars[self.i] != '\n' {
                    self.i += 1;
                }
            }
            ' ' | '\t' | '\r' => {
                self.s.top().end_word();
                self.i += 1;
            }
            '\n' => {
                self.s.end_segment(false);
                self.i += 1;
                self.heredoc_bodies();
            }
            ';' => {
                self.s.end_segment(false);
                self.i += 1;
            }
            '&' => self.ampersand(),
            '|' => {
                let or = self.at(i + 1) == Some('|');
                self.s.end_segment(!or);
                self.i += if or { 2 } else { 1 };
            }
            '<' if kind == ShellKind::Sh
                && self.at(i + 1) == Some('<')
                && self.at(i + 2) != Some('<')
                && (i == 0 || self.at(i - 1) != Some('<')) =>
            {
                self.heredoc_start();
            }
            '{' | '}' => {
                let standalone = !self.s.top().in_word
                    && self.at(i + 1).is_none_or(|n| n.is_whitespace() || n == ';');
                if !standalone {
                    self.s.top().push(c);
                } else if c == '{' && kind == ShellKind::Sh {
                    self.s.open_brace();
                } else if c == '}' && kind == ShellKind::Sh {
                    self.s.close_brace();
                } else {
                    self.s.end_segment(false);
                }
                self.i += 1;
            }
            _ => {
                self.s.top().push(c);
                self.i += 1;
            }
        }
    }

    /// Quotes, escapes, line continuations and backticks outside quotes, as the shell
    /// reads them; false when `c` means nothing special to this shell.
    fn quote_or_escape(&mut self, c: char) -> bool {
        let (i, kind) = (self.i, self.kind);
        match c {
            '\'' if kind != ShellKind::Cmd => {
                let mut j = i + 1;
                let b = self.s.top();
                b.in_word = true;
                while j < self.chars.len() && self.chars[j] != '\'' {
                    b.word.push(self.chars[j]);
                    j += 1;
                }
                self.i = j + 1;
            }
            '"' => {
                let b = self.s.top();
                b.dq = true;
                b.in_word = true;
                self.i += 1;
            }
            '\\' if kind == ShellKind::Sh => self.escaped(),
            '`' if kind == ShellKind::Pwsh => self.escaped(),
            '^' if kind == ShellKind::Cmd && matches!(self.at(i + 1), Some('\n' | '\r')) => {
                self.i += if self.at(i + 1) == Some('\r') { 3 } else { 2 };
            }
            '`' if kind == ShellKind::Sh => {
                if self.s.top().frame == Frame::Backtick {
                    self.s.close();
                } else {
                    self.s.open(Frame::Backtick);
                }
                self.i += 1;
            }
            _ => return false,
        }
        true
    }

    /// The character after an escape (`\` in sh, `` ` `` in PowerShell); a line
    /// continuation when it is the end of the line.
    fn escaped(&mut self) {
        let i = self.i;
        match self.at(i + 1) {
            Some('\n') => {}
            Some('\r') if self.at(i + 2) == Some('\n') => self.i += 1,
            Some(n) => self.s.top().push(n),
            None => {}
        }
        self.i += 2;
    }

    /// `$(( ... ))` (kept in the word when `in_word`) or `(( ... ))` (dropped): arithmetic,
    /// read to the matching `))`.
    fn arithmetic(&mut self, in_word: bool) {
        let start = self.i;
        let mut j = start + if in_word { 3 } else { 2 };
        let mut depth = 2usize;
        while let Some(ch) = self.at(j) {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        let end = (j + 1).min(self.chars.len());
        if in_word {
            let text: String = self.chars[start..end].iter().collect();
            let b = self.s.top();
            b.word.push_str(&text);
            b.in_word = true;
        }
        self.i = end;
    }

    /// For `((` at the current index: the index of its closing `))` when it is arithmetic,
    /// `None` when the two parentheses close apart (`((cd a && make) || true)`: subshells).
    fn arithmetic_end(&self) -> Option<usize> {
        let mut j = self.i + 2;
        let mut depth = 2usize;
        while let Some(ch) = self.at(j) {
            match ch {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 1 {
                        return (self.at(j + 1) == Some(')')).then_some(j + 1);
                    }
                }
                _ => {}
            }
            j += 1;
        }
        None
    }

    /// `name=(a b c)`: an array's values, kept in the assignment's word (quotes are kept
    /// as written; they are only values).
    fn array(&mut self) {
        let start = self.i;
        let mut j = start + 1;
        let mut quote: Option<char> = None;
        let mut depth = 1usize;
        while let Some(ch) = self.at(j) {
            match (quote, ch) {
                (Some(q), _) if ch == q => quote = None,
                (Some(_), _) => {}
                (None, '\'') | (None, '"') => quote = Some(ch),
                (None, '\\') => j += 1,
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        let end = (j + 1).min(self.chars.len());
        let text: String = self.chars[start..end].iter().collect();
        self.s.top().word.push_str(&text);
        self.i = end;
    }

    /// `(` and `)`: subshells and groups, the end of `$( )`, `case` patterns, the `()` of a
    /// function definition.
    fn paren(&mut self, c: char) {
        let kind = self.kind;
        if c == ')' && kind == ShellKind::Sh && self.function_parens() {
            self.i += 1;
            return;
        }
        if c == '(' && kind == ShellKind::Sh && self.spaced_function() {
            return;
        }
        let b = self.s.top();
        if c == '(' {
            if b.in_word {
                // `$((1+2))`, `@(...)`, `f(x)` in pwsh: part of the word.
                b.push(c);
            } else {
                b.depth += 1;
                self.s.end_segment(false);
            }
        } else if b.frame == Frame::Subst && b.depth == 0 {
            self.s.close();
        } else if b.depth == 0 && kind == ShellKind::Sh {
            // A `case` pattern (`Linux-X64)`): not a command.
            b.words.clear();
            b.word.clear();
            b.in_word = false;
        } else {
            b.depth = b.depth.saturating_sub(1);
            self.s.end_segment(false);
        }
        self.i += 1;
    }

    /// `name()` or `function name()`: the `)` of a function definition, whose body (the
    /// next `{ ... }`) runs when it is called. True when it was one.
    fn function_parens(&mut self) -> bool {
        let b = self.s.top();
        let Some(name) = b.word.strip_suffix('(') else {
            return false;
        };
        let plain = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'));
        let keyword = b.words.is_empty() || (b.words.len() == 1 && b.words[0] == "function");
        if !plain || !keyword || b.frame != Frame::Top {
            return false;
        }
        let name = name.to_owned();
        b.word.clear();
        b.in_word = false;
        b.words.clear();
        let start = b.start;
        let line = self.s.line_of(start);
        self.s.pending_function = Some((name, line));
        true
    }

    /// `name ()` (with blanks before `(`): a function definition. True when it was one (the
    /// `()` is consumed).
    fn spaced_function(&mut self) -> bool {
        let mut j = self.i + 1;
        while matches!(self.at(j), Some(' ' | '\t')) {
            j += 1;
        }
        if self.at(j) != Some(')') {
            return false;
        }
        let b = self.s.top();
        let named = match b.words.as_slice() {
            [name] => Some(name.clone()),
            [keyword, name] if keyword == "function" => Some(name.clone()),
            _ => None,
        };
        let Some(name) = named.filter(|n| {
            !b.in_word
                && b.frame == Frame::Top
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        }) else {
            return false;
        };
        b.words.clear();
        let start = b.start;
        let line = self.s.line_of(start);
        self.s.pending_function = Some((name, line));
        self.i = j + 1;
        true
    }

    /// `&&`, a redirection (`&>`, `2>&1`), PowerShell's call operator, or a background job.
    fn ampersand(&mut self) {
        let i = self.i;
        if self.at(i + 1) == Some('&') {
            self.s.end_segment(false);
            self.i += 2;
        } else if self.at(i + 1) == Some('>') || self.s.top().word.ends_with(['>', '<']) {
            self.s.top().push('&');
            self.i += 1;
        } else if self.kind == ShellKind::Pwsh && !self.s.top().in_word {
            // The call operator: `& gh ...`.
            self.i += 1;
        } else {
            self.s.end_segment(false);
            self.i += 1;
        }
    }

    /// `<<DELIM`, `<<-'DELIM'`: the body starts on the next line.
    fn heredoc_start(&mut self) {
        let mut j = self.i + 2;
        if self.at(j) == Some('-') {
            j += 1;
        }
        while matches!(self.at(j), Some(' ' | '\t')) {
            j += 1;
        }
        let quoted = matches!(self.at(j), Some('\'' | '"'));
        if quoted {
            j += 1;
        }
        let start = j;
        while let Some(ch) = self.at(j) {
            if ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.' {
                j += 1;
            } else {
                break;
            }
        }
        if j > start {
            self.pending.push(self.chars[start..j].iter().collect());
        }
        if quoted && matches!(self.at(j), Some('\'' | '"')) {
            j += 1;
        }
        self.s.top().end_word();
        self.i = j;
    }

    /// The bodies of the heredocs opened on the line just ended.
    fn heredoc_bodies(&mut self) {
        for delim in std::mem::take(&mut self.pending) {
            let mut body = String::new();
            while self.i < self.chars.len() {
                let mut j = self.i;
                while j < self.chars.len() && self.chars[j] != '\n' {
                    j += 1;
                }
                let line: String = self.chars[self.i..j].iter().collect();
                self.i = (j + 1).min(self.chars.len());
                if line.trim() == delim {
                    break;
                }
                body.push_str(&line);
                body.push('\n');
            }
            self.heredocs.push(body);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(script: &str) -> Vec<Vec<String>> {
        split(script, ShellKind::Sh)
            .segments
            .into_iter()
            .map(|s| s.words)
            .collect()
    }

    #[test]
    fn arithmetic_arrays_and_functions() {
        assert_eq!(
            words("(( i++ ))\nx=$(( i * (2 + 1) ))\narr=(a\n b)\n((cd a && make) || true)"),
            vec![
                vec!["x=$(( i * (2 + 1) ))"],
                vec!["arr=(a\n b)"],
                vec!["cd", "a"],
                vec!["make"],
                vec!["true"],
            ]
        );
        let parsed = split(
            "f() {\n  git push\n}\nfunction g {\n  ls\n}\nh () { f; }\nf\n",
            ShellKind::Sh,
        );
        let names: Vec<(&str, usize)> = parsed
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.line))
            .collect();
        assert_eq!(names, vec![("f", 1), ("g", 4), ("h", 7)]);
        assert!(parsed.in_function(0) && !parsed.in_function(3));
        assert_eq!(parsed.segments[3].line, 8);
    }

    #[test]
    fn splits_commands() {
        assert_eq!(
            words("a b && c 'd e' | f \"g $(h i) j\" # k\nl\\\n m"),
            vec![
                vec!["a", "b"],
                vec!["c", "d e"],
                vec!["h", "i"],
                vec!["f", "g $() j"],
                vec!["l", "m"],
            ]
        );
        let parsed = split(
            "cat <<EOF > x\ngh pr comment\nEOF\ngit push\n",
            ShellKind::Sh,
        );
        assert_eq!(parsed.heredocs, vec!["gh pr comment\n"]);
        assert_eq!(parsed.segments.len(), 2);
        assert_eq!(
            words("case $x in\n  Linux-X64) make ;;\n  *) echo no ;;\nesac\n(cd a && ls)"),
            vec![
                vec!["case", "$x", "in"],
                vec!["make"],
                vec!["echo", "no"],
                vec!["esac"],
                vec!["cd", "a"],
                vec!["ls"],
            ]
        );
        assert_eq!(
            words("echo ${{ github.token }} x"),
            vec![vec!["echo", "${{ github.token }}", "x"]]
        );
    }
}
