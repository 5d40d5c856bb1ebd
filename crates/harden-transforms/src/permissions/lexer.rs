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
}

/// A script split into commands, plus the bodies of its heredocs (data or embedded scripts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Parsed {
    pub(crate) segments: Vec<Segment>,
    pub(crate) heredocs: Vec<String>,
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
        }
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
            self.segments.push(Segment { words, pipeline });
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
    let mut s = Splitter {
        builders: vec![Builder::new(Frame::Top, 0)],
        segments: Vec::new(),
        next_pipeline: 0,
    };
    let mut heredocs = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let at = |i: usize| chars.get(i).copied();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // `${{ ... }}` is replaced by the runner before the shell runs: keep it whole.
        if c == '$' && at(i + 1) == Some('{') && at(i + 2) == Some('{') {
            let mut j = i + 3;
            while j < chars.len() && !(chars[j] == '}' && at(j + 1) == Some('}')) {
                j += 1;
            }
            let end = (j + 2).min(chars.len());
            let text: String = chars[i..end].iter().collect();
            let b = s.top();
            b.word.push_str(&text);
            b.in_word = true;
            i = end;
            continue;
        }
        let dq = s.top().dq;
        if dq {
            match c {
                '\\' if kind == ShellKind::Sh => {
                    if let Some(n) = at(i + 1) {
                        if n != '\n' {
                            s.top().push(n);
                        }
                    }
                    i += 2;
                }
                '`' if kind == ShellKind::Pwsh => {
                    if let Some(n) = at(i + 1) {
                        s.top().push(n);
                    }
                    i += 2;
                }
                '"' => {
                    s.top().dq = false;
                    i += 1;
                }
                '$' if at(i + 1) == Some('(') && at(i + 2) != Some('(') => {
                    s.open(Frame::Subst);
                    i += 2;
                }
                '`' if kind == ShellKind::Sh => {
                    s.open(Frame::Backtick);
                    i += 1;
                }
                _ => {
                    s.top().push(c);
                    i += 1;
                }
            }
            continue;
        }
        match c {
            '\'' if kind != ShellKind::Cmd => {
                let mut j = i + 1;
                let b = s.top();
                b.in_word = true;
                while j < chars.len() && chars[j] != '\'' {
                    b.word.push(chars[j]);
                    j += 1;
                }
                i = j + 1;
            }
            '"' => {
                let b = s.top();
                b.dq = true;
                b.in_word = true;
                i += 1;
            }
            '\\' if kind == ShellKind::Sh => {
                match at(i + 1) {
                    Some('\n') => {}
                    Some('\r') if at(i + 2) == Some('\n') => i += 1,
                    Some(n) => s.top().push(n),
                    None => {}
                }
                i += 2;
            }
            '`' if kind == ShellKind::Pwsh => {
                match at(i + 1) {
                    Some('\n') => {}
                    Some('\r') if at(i + 2) == Some('\n') => i += 1,
                    Some(n) => s.top().push(n),
                    None => {}
                }
                i += 2;
            }
            '^' if kind == ShellKind::Cmd && matches!(at(i + 1), Some('\n' | '\r')) => {
                i += if at(i + 1) == Some('\r') { 3 } else { 2 };
            }
            '`' if kind == ShellKind::Sh => {
                if s.top().frame == Frame::Backtick {
                    s.close();
                } else {
                    s.open(Frame::Backtick);
                }
                i += 1;
            }
            '$' if at(i + 1) == Some('(') && at(i + 2) != Some('(') => {
                s.open(Frame::Subst);
                i += 2;
            }
            '(' => {
                let b = s.top();
                if b.in_word {
                    // `$((1+2))`, `@(...)`, `f(x)` in pwsh: part of the word.
                    b.push(c);
                } else {
                    b.depth += 1;
                    s.end_segment(false);
                }
                i += 1;
            }
            ')' => {
                let b = s.top();
                if b.frame == Frame::Subst && b.depth == 0 {
                    s.close();
                } else if b.depth == 0 && kind == ShellKind::Sh {
                    // A `case` pattern (`Linux-X64)`): not a command.
                    b.words.clear();
                    b.word.clear();
                    b.in_word = false;
                } else {
                    b.depth = b.depth.saturating_sub(1);
                    s.end_segment(false);
                }
                i += 1;
            }
            '#' if !s.top().in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            ' ' | '\t' | '\r' => {
                s.top().end_word();
                i += 1;
            }
            '\n' => {
                s.end_segment(false);
                i += 1;
                for delim in pending.drain(..) {
                    let mut body = String::new();
                    while i < chars.len() {
                        let mut j = i;
                        while j < chars.len() && chars[j] != '\n' {
                            j += 1;
                        }
                        let line: String = chars[i..j].iter().collect();
                        i = (j + 1).min(chars.len());
                        if line.trim() == delim {
                            break;
                        }
                        body.push_str(&line);
                        body.push('\n');
                    }
                    heredocs.push(body);
                }
            }
            ';' => {
                s.end_segment(false);
                i += 1;
            }
            '&' => {
                if at(i + 1) == Some('&') {
                    s.end_segment(false);
                    i += 2;
                } else if at(i + 1) == Some('>') || s.top().word.ends_with(['>', '<']) {
                    s.top().push(c);
                    i += 1;
                } else if kind == ShellKind::Pwsh && !s.top().in_word {
                    // The call operator: `& gh ...`.
                    i += 1;
                } else {
                    s.end_segment(false);
                    i += 1;
                }
            }
            '|' => {
                if at(i + 1) == Some('|') {
                    s.end_segment(false);
                    i += 2;
                } else {
                    s.end_segment(true);
                    i += 1;
                }
            }
            '<' if kind == ShellKind::Sh && at(i + 1) == Some('<') && at(i + 2) != Some('<') => {
                let mut j = i + 2;
                if at(j) == Some('-') {
                    j += 1;
                }
                while matches!(at(j), Some(' ' | '\t')) {
                    j += 1;
                }
                let quoted = matches!(at(j), Some('\'' | '"'));
                if quoted {
                    j += 1;
                }
                let start = j;
                while let Some(ch) = at(j) {
                    if ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.' {
                        j += 1;
                    } else {
                        break;
                    }
                }
                if j > start {
                    pending.push(chars[start..j].iter().collect());
                }
                if quoted && matches!(at(j), Some('\'' | '"')) {
                    j += 1;
                }
                s.top().end_word();
                i = j;
            }
            '{' | '}' => {
                let standalone =
                    !s.top().in_word && at(i + 1).is_none_or(|n| n.is_whitespace() || n == ';');
                if standalone {
                    s.end_segment(false);
                } else {
                    s.top().push(c);
                }
                i += 1;
            }
            _ => {
                s.top().push(c);
                i += 1;
            }
        }
    }
    while s.builders.len() > 1 {
        s.close();
    }
    s.end_segment(false);
    Parsed {
        segments: s.segments,
        heredocs,
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
