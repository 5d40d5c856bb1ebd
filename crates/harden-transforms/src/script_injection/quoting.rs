//! Where each `${{ }}` of a script stands as its language reads it (bare code, inside double
//! or single quotes, a comment, a heredoc, a JavaScript template literal) and what replaces it
//! there so that the script reads an environment variable instead, with the same text.
//!
//! The expressions are opaque: Actions replaces them before the shell sees the script, so their
//! own quotes (`'none'` in `a || 'none'`) never open a string of the script.

use std::ops::Range;

/// The language a script is read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// bash, sh (and zsh, dash, ksh).
    Sh,
    /// pwsh, powershell.
    Pwsh,
    /// cmd.
    Cmd,
    /// JavaScript (actions/github-script).
    Js,
}

impl Lang {
    /// The name shown in messages.
    pub fn name(self) -> &'static str {
        match self {
            Lang::Sh => "sh",
            Lang::Pwsh => "pwsh",
            Lang::Cmd => "cmd",
            Lang::Js => "github-script",
        }
    }
}

/// What surrounds an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bare code (an unquoted shell word, a JavaScript expression).
    Code,
    /// Inside `"…"` (or PowerShell's `@"…"@`, which expands the same way).
    Double,
    /// Inside `'…'`.
    Single,
    /// Inside a JavaScript template literal.
    Template,
    /// Inside a comment.
    Comment,
    /// Inside a heredoc's body; `true` when the shell expands variables there.
    Heredoc(bool),
    /// Somewhere this reader does not follow (why).
    Unknown(&'static str),
}

/// Where one expression stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// What surrounds it.
    pub kind: Kind,
    /// The quoted string around it, quotes included, when it is one and is closed.
    pub literal: Option<Range<usize>>,
    /// It follows an escape character (`\`, or PowerShell's backtick).
    pub escaped: bool,
}

impl Place {
    fn new(kind: Kind) -> Self {
        Place {
            kind,
            literal: None,
            escaped: false,
        }
    }
}

/// An open frame of the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Frame {
    /// Code; `depth` counts open parentheses (or braces) inside a substitution.
    Code { subst: bool, depth: usize },
    /// A double-quoted string opened at `start`, with the expressions seen in it.
    Double { start: usize, exprs: Vec<usize> },
    /// A shell backtick substitution.
    Backtick,
    /// A JavaScript template literal.
    Template,
}

/// The reader's state over one script.
struct Reader<'s> {
    text: &'s str,
    exprs: &'s [Range<usize>],
    places: Vec<Place>,
    next: usize,
    stack: Vec<Frame>,
    /// Heredocs announced on the current line: delimiter, expands, strips tabs.
    pending: Vec<(String, bool, bool)>,
}

impl<'s> Reader<'s> {
    fn new(text: &'s str, exprs: &'s [Range<usize>]) -> Self {
        Reader {
            text,
            exprs,
            places: exprs.iter().map(|_| Place::new(Kind::Code)).collect(),
            next: 0,
            stack: vec![Frame::Code {
                subst: false,
                depth: 0,
            }],
            pending: Vec::new(),
        }
    }

    fn byte(&self, i: usize) -> u8 {
        self.text.as_bytes().get(i).copied().unwrap_or(0)
    }

    /// The first expression at or after `from` not yet recorded that starts at `j` or later
    /// (`from` only grows while one string is read, so the search stays linear).
    fn seek(&self, from: usize, j: usize) -> usize {
        let mut k = from;
        while self.exprs.get(k).is_some_and(|r| r.start < j) {
            k += 1;
        }
        k
    }

    /// The expression starting at `i`, if any.
    fn expression_at(&self, i: usize) -> Option<usize> {
        let k = self.next;
        (self.exprs.get(k).map(|r| r.start) == Some(i)).then_some(k)
    }

    /// Records the expression `k` as standing in `kind`, and returns the byte after it.
    fn record(&mut self, k: usize, kind: Kind) -> usize {
        self.places[k].kind = kind;
        let escaper = self.exprs[k]
            .start
            .checked_sub(1)
            .map_or(0, |p| self.byte(p));
        self.places[k].escaped = escaper == b'\\' || (escaper == b'`' && kind != Kind::Template);
        if let Some(Frame::Double { exprs, .. }) = self.stack.last_mut() {
            exprs.push(k);
        }
        self.next = k + 1;
        self.exprs[k].end
    }

    /// Records every expression before `end` as `kind`.
    fn record_until(&mut self, end: usize, kind: Kind) {
        while self.exprs.get(self.next).is_some_and(|r| r.start < end) {
            self.record(self.next, kind);
        }
    }

    /// Closes a quoted string from `start` to `end` (exclusive) over the expressions `exprs`.
    fn close_literal(&mut self, start: usize, end: usize, exprs: &[usize]) {
        for &k in exprs {
            self.places[k].literal = Some(start..end);
        }
    }

    /// The expressions before `to` not yet recorded, recorded as `kind`; their indices.
    fn quoted(&mut self, to: usize, kind: Kind) -> Vec<usize> {
        let first = self.next;
        self.record_until(to, kind);
        (first..self.next).collect()
    }

    fn top_is_code(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Code { .. } | Frame::Backtick)
        )
    }

    /// True when `i` starts a word (for `#` comments).
    fn word_start(&self, i: usize) -> bool {
        i == 0
            || matches!(
                self.byte(i - 1),
                b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'(' | b')'
            )
    }

    /// The end of a single-quoted string opened at `i` (the byte after its closing quote);
    /// `doubled` when `''` stands for a quote inside it (PowerShell).
    fn single_end(&self, i: usize, doubled: bool) -> Option<usize> {
        let mut j = i + 1;
        let mut k = self.next;
        loop {
            k = self.seek(k, j);
            if self.exprs.get(k).is_some_and(|r| r.start == j) {
                j = self.exprs[k].end;
                continue;
            }
            match self.text.as_bytes().get(j)? {
                b'\'' if doubled && self.byte(j + 1) == b'\'' => j += 2,
                b'\'' => return Some(j + 1),
                _ => j += 1,
            }
        }
    }

    /// A single-quoted string at `i` in `kind`; returns the byte after it.
    fn single(&mut self, i: usize, doubled: bool, kind: Kind) -> usize {
        match self.single_end(i, doubled) {
            Some(end) => {
                let exprs = self.quoted(end, kind);
                self.close_literal(i, end, &exprs);
                end
            }
            None => {
                self.record_until(self.text.len(), Kind::Unknown("an unclosed quote"));
                self.text.len()
            }
        }
    }

    /// Past an escape character at `i` and the character it escapes (an expression right
    /// after it is still read, as escaped).
    fn escape(&self, i: usize) -> usize {
        if self.expression_at(i + 1).is_some() {
            i + 1
        } else {
            i + 2
        }
    }

    /// The end of the line holding `i` (the index of its `\n`, or the end of the text).
    fn line_end(&self, i: usize) -> usize {
        self.text[i..].find('\n').map_or(self.text.len(), |n| i + n)
    }
}

/// Where each expression of `exprs` (sorted byte ranges of `text`) stands in a script of
/// `lang`.
pub fn places(lang: Lang, text: &str, exprs: &[Range<usize>]) -> Vec<Place> {
    let mut reader = Reader::new(text, exprs);
    match lang {
        Lang::Sh => sh(&mut reader),
        Lang::Pwsh => pwsh(&mut reader),
        Lang::Js => js(&mut reader),
        // cmd expands `%NAME%` everywhere, quoted or not: every place is code.
        Lang::Cmd => {}
    }
    reader.places
}

fn sh(r: &mut Reader<'_>) {
    let mut i = 0;
    while i < r.text.len() {
        if let Some(k) = r.expression_at(i) {
            let kind = if r.top_is_code() {
                Kind::Code
            } else {
                Kind::Double
            };
            i = r.record(k, kind);
            continue;
        }
        let b = r.byte(i);
        let in_code = r.top_is_code();
        i = match b {
            b'\\' => r.escape(i),
            b'\'' if in_code => r.single(i, false, Kind::Single),
            b'$' if in_code && r.byte(i + 1) == b'\'' => {
                let end = r.single_end(i + 1, false).unwrap_or(r.text.len());
                r.record_until(end, Kind::Unknown("inside $'…' quoting"));
                end
            }
            b'"' if in_code => {
                r.stack.push(Frame::Double {
                    start: i,
                    exprs: Vec::new(),
                });
                i + 1
            }
            b'"' => {
                if let Some(Frame::Double { start, exprs }) = r.stack.pop() {
                    r.close_literal(start, i + 1, &exprs);
                }
                i + 1
            }
            b'`' if matches!(r.stack.last(), Some(Frame::Backtick)) => {
                r.stack.pop();
                i + 1
            }
            b'`' => {
                r.stack.push(Frame::Backtick);
                i + 1
            }
            b'$' if r.byte(i + 1) == b'(' => {
                r.stack.push(Frame::Code {
                    subst: true,
                    depth: 0,
                });
                i + 2
            }
            b'(' | b')' if in_code => parenthesis(r, b, i),
            b'#' if in_code && r.word_start(i) => {
                let end = r.line_end(i);
                r.record_until(end, Kind::Comment);
                end
            }
            b'<' if in_code && r.byte(i + 1) == b'<' && r.byte(i + 2) != b'<' => {
                heredoc_start(r, i)
            }
            b'\n' if !r.pending.is_empty() && in_code => heredoc_bodies(r, i),
            _ => i + 1,
        };
    }
    unclosed(r);
}

/// Parentheses inside a `$( )` substitution: nesting, and its end.
fn parenthesis(r: &mut Reader<'_>, b: u8, i: usize) -> usize {
    if let Some(Frame::Code { subst: true, depth }) = r.stack.last_mut() {
        if b == b'(' {
            *depth += 1;
        } else if *depth == 0 {
            r.stack.pop();
        } else {
            *depth -= 1;
        }
    }
    i + 1
}

/// Expressions after a string that never closed.
fn unclosed(r: &mut Reader<'_>) {
    r.record_until(r.text.len(), Kind::Unknown("an unclosed quote"));
}

/// `<<[-]WORD` at `i`: notes the heredoc, whose body starts on the next line.
fn heredoc_start(r: &mut Reader<'_>, i: usize) -> usize {
    let mut j = i + 2;
    let strip = r.byte(j) == b'-';
    if strip {
        j += 1;
    }
    while matches!(r.byte(j), b' ' | b'\t') {
        j += 1;
    }
    let start = j;
    while j < r.text.len() && !b" \t\n;&|<>()".contains(&r.byte(j)) {
        j += 1;
    }
    let word = &r.text[start..j];
    let quoted = word.contains(['\'', '"', '\\']);
    let delimiter: String = word.chars().filter(|c| !"'\"\\".contains(*c)).collect();
    if delimiter.is_empty() || word.contains("${{") {
        // `<<` with no word (arithmetic `$((a << 2))`, or an expression as the delimiter).
        return i + 2;
    }
    r.pending.push((delimiter, !quoted, strip));
    j
}

/// The bodies of the heredocs announced on the line that ends at `newline`.
fn heredoc_bodies(r: &mut Reader<'_>, newline: usize) -> usize {
    let mut i = newline + 1;
    for (delimiter, expands, strip) in std::mem::take(&mut r.pending) {
        let mut line_start = i;
        loop {
            if line_start >= r.text.len() {
                r.record_until(r.text.len(), Kind::Heredoc(expands));
                return r.text.len();
            }
            let end = r.line_end(line_start);
            let line = &r.text[line_start..end];
            let line = if strip {
                line.trim_start_matches('\t')
            } else {
                line
            };
            if line.trim_end_matches('\r') == delimiter {
                r.record_until(line_start, Kind::Heredoc(expands));
                i = end;
                break;
            }
            line_start = end + 1;
        }
    }
    i
}

fn pwsh(r: &mut Reader<'_>) {
    let mut i = 0;
    while i < r.text.len() {
        if let Some(k) = r.expression_at(i) {
            let kind = if r.top_is_code() {
                Kind::Code
            } else {
                Kind::Double
            };
            i = r.record(k, kind);
            continue;
        }
        let b = r.byte(i);
        let in_code = r.top_is_code();
        i = match b {
            b'`' => r.escape(i),
            b'\'' if in_code => r.single(i, true, Kind::Single),
            b'@' if in_code && matches!(r.byte(i + 1), b'"' | b'\'') && here_opens(r, i + 2) => {
                here_string(r, i)
            }
            b'"' if in_code => {
                r.stack.push(Frame::Double {
                    start: i,
                    exprs: Vec::new(),
                });
                i + 1
            }
            b'"' if r.byte(i + 1) == b'"' => i + 2,
            b'"' => {
                if let Some(Frame::Double { start, exprs }) = r.stack.pop() {
                    r.close_literal(start, i + 1, &exprs);
                }
                i + 1
            }
            b'$' if r.byte(i + 1) == b'(' => {
                r.stack.push(Frame::Code {
                    subst: true,
                    depth: 0,
                });
                i + 2
            }
            b'(' | b')' if in_code => parenthesis(r, b, i),
            b'<' if in_code && r.byte(i + 1) == b'#' => {
                let end = r.text[i..].find("#>").map_or(r.text.len(), |n| i + n + 2);
                r.record_until(end, Kind::Comment);
                end
            }
            b'#' if in_code && r.word_start(i) => {
                let end = r.line_end(i);
                r.record_until(end, Kind::Comment);
                end
            }
            _ => i + 1,
        };
    }
    unclosed(r);
}

/// True when only blanks follow `i` on its line (a here-string's opening `@"` ends its line).
fn here_opens(r: &Reader<'_>, i: usize) -> bool {
    r.text[i..r.line_end(i)].trim().is_empty()
}

/// A PowerShell here-string opened at `i` (`@"` or `@'`), closed by a line starting with `"@`
/// or `'@`.
fn here_string(r: &mut Reader<'_>, i: usize) -> usize {
    let quote = r.byte(i + 1);
    let expands = quote == b'"';
    let close = if expands { "\"@" } else { "'@" };
    let mut line_start = r.line_end(i) + 1;
    while line_start < r.text.len() {
        let end = r.line_end(line_start);
        if r.text[line_start..end].starts_with(close) {
            r.record_until(line_start, Kind::Heredoc(expands));
            return end;
        }
        line_start = end + 1;
    }
    r.record_until(r.text.len(), Kind::Unknown("an unclosed here-string"));
    r.text.len()
}

fn js(r: &mut Reader<'_>) {
    let mut i = 0;
    while i < r.text.len() {
        if let Some(k) = r.expression_at(i) {
            let kind = match r.stack.last() {
                Some(Frame::Template) => Kind::Template,
                _ => Kind::Code,
            };
            i = r.record(k, kind);
            continue;
        }
        let b = r.byte(i);
        i = match (r.stack.last(), b) {
            (_, b'\\') => r.escape(i),
            (Some(Frame::Template), b'`') => {
                r.stack.pop();
                i + 1
            }
            (Some(Frame::Template), b'$') if r.byte(i + 1) == b'{' => {
                r.stack.push(Frame::Code {
                    subst: true,
                    depth: 0,
                });
                i + 2
            }
            (Some(Frame::Template), _) => i + 1,
            (_, b'`') => {
                r.stack.push(Frame::Template);
                i + 1
            }
            (_, b'\'' | b'"') => js_string(r, i),
            (_, b'/') if r.byte(i + 1) == b'/' => {
                let end = r.line_end(i);
                r.record_until(end, Kind::Comment);
                end
            }
            (_, b'/') if r.byte(i + 1) == b'*' => {
                let end = r.text[i + 2..]
                    .find("*/")
                    .map_or(r.text.len(), |n| i + n + 4);
                r.record_until(end, Kind::Comment);
                end
            }
            (_, b'{' | b'}') => brace(r, b, i),
            _ => i + 1,
        };
    }
    unclosed(r);
}

/// Braces in JavaScript code: nesting inside a template's `${ }`, and its end.
fn brace(r: &mut Reader<'_>, b: u8, i: usize) -> usize {
    if let Some(Frame::Code { subst: true, depth }) = r.stack.last_mut() {
        if b == b'{' {
            *depth += 1;
        } else if *depth == 0 {
            r.stack.pop();
        } else {
            *depth -= 1;
        }
    }
    i + 1
}

/// A JavaScript string literal opened at `i` (`'` or `"`, `\` escapes, ends at its line).
fn js_string(r: &mut Reader<'_>, i: usize) -> usize {
    let quote = r.byte(i);
    let kind = if quote == b'"' {
        Kind::Double
    } else {
        Kind::Single
    };
    let mut j = i + 1;
    let mut k = r.next;
    loop {
        k = r.seek(k, j);
        if r.exprs.get(k).is_some_and(|e| e.start == j) {
            j = r.exprs[k].end;
            continue;
        }
        match r.text.as_bytes().get(j) {
            None | Some(b'\n') => {
                r.record_until(j, Kind::Unknown("an unclosed string"));
                return j;
            }
            Some(b'\\') => j = r.escape(j),
            Some(&c) if c == quote => break,
            _ => j += 1,
        }
    }
    let exprs = r.quoted(j + 1, kind);
    r.close_literal(i, j + 1, &exprs);
    j + 1
}

/// A replacement: a byte range of the script and its new text.
pub type Edit = (Range<usize>, String);

/// What replaces the expression `expr` of `text`, standing at `place`, so that the script reads
/// the variable `var` instead; `alone` says whether it is the only moved expression of its
/// quoted string. `Err` says why it cannot be moved.
pub fn replacement(
    lang: Lang,
    text: &str,
    expr: &Range<usize>,
    place: &Place,
    var: &str,
    alone: bool,
) -> Result<Edit, String> {
    if place.escaped {
        return Err(
            "it follows an escape character, so the script reads its text literally".into(),
        );
    }
    if let Kind::Unknown(why) = place.kind {
        return Err(format!("it stands in {why}"));
    }
    if place.kind == Kind::Code
        && matches!(lang, Lang::Sh | Lang::Pwsh)
        && command_position(text, expr.start)
    {
        return Err(
            "it stands where a command does, so the script runs its text as code on purpose".into(),
        );
    }
    let next = text[expr.end..].bytes().next().unwrap_or(b' ');
    let glued = next.is_ascii_alphanumeric() || next == b'_';
    let local = |s: String| Ok((expr.clone(), s));
    match lang {
        Lang::Sh => sh_replacement(place, expr, var, glued),
        Lang::Pwsh => pwsh_replacement(text, place, expr, var, glued || next == b':', alone),
        Lang::Cmd => local(format!("%{var}%")),
        Lang::Js => js_replacement(text, place, expr, var, alone),
    }
}

/// True when a bare word at `start` is a command (the first word of a line, after `;`, `&&`,
/// `|`, `(`, or a keyword that starts a command), not an argument.
fn command_position(text: &str, start: usize) -> bool {
    let before = text[..start].trim_end_matches([' ', '\t']);
    // A line continued with `\` (or PowerShell's backtick) goes on with the same command.
    let continued = before.trim_end_matches(['\n', '\r']);
    if continued.len() < before.len() && continued.ends_with(['\\', '`']) {
        return false;
    }
    let last_word = before
        .rsplit(|c: char| c.is_whitespace() || ";&|(){`".contains(c))
        .next()
        .unwrap_or_default();
    let keyword = matches!(
        last_word,
        "then" | "do" | "else" | "elif" | "if" | "while" | "until" | "!" | "time" | "exec"
    );
    let starts = before.is_empty() || before.ends_with(['\n', ';', '&', '|', '(', '{', '`']);
    starts
        || (keyword && before.len() >= last_word.len() && {
            let prior = before[..before.len() - last_word.len()].trim_end_matches([' ', '\t']);
            prior.is_empty() || prior.ends_with(['\n', ';', '&', '|', '(', '{'])
        })
}

fn whole_literal(place: &Place, expr: &Range<usize>) -> Option<Range<usize>> {
    place
        .literal
        .clone()
        .filter(|l| l.start + 1 == expr.start && expr.end + 1 == l.end)
}

fn sh_replacement(
    place: &Place,
    expr: &Range<usize>,
    var: &str,
    glued: bool,
) -> Result<Edit, String> {
    let braced = if glued {
        format!("${{{var}}}")
    } else {
        format!("${var}")
    };
    let text = match place.kind {
        Kind::Code => format!("\"${var}\""),
        Kind::Double | Kind::Heredoc(true) | Kind::Comment => braced,
        Kind::Single => {
            // Close the quotes before the variable and open them again after it, except at
            // either end of the string.
            let literal = place
                .literal
                .clone()
                .unwrap_or(expr.start - 1..expr.end + 1);
            let at_start = literal.start + 1 == expr.start;
            let at_end = expr.end + 1 == literal.end;
            let start = if at_start { literal.start } else { expr.start };
            let end = if at_end { literal.end } else { expr.end };
            let close = if at_start { "" } else { "'" };
            let open = if at_end { "" } else { "'" };
            return Ok((start..end, format!("{close}\"${var}\"{open}")));
        }
        Kind::Heredoc(false) => {
            return Err(
                "it stands in a quoted heredoc (<<'EOF'), where the shell expands no variable"
                    .into(),
            )
        }
        Kind::Template | Kind::Unknown(_) => return Err("its place is not understood".into()),
    };
    Ok((expr.clone(), text))
}

fn pwsh_replacement(
    text: &str,
    place: &Place,
    expr: &Range<usize>,
    var: &str,
    glued: bool,
    alone: bool,
) -> Result<Edit, String> {
    let reference = if glued {
        format!("${{env:{var}}}")
    } else {
        format!("$env:{var}")
    };
    match place.kind {
        Kind::Code | Kind::Double | Kind::Heredoc(true) | Kind::Comment => {
            Ok((expr.clone(), reference))
        }
        Kind::Single => {
            if let Some(whole) = whole_literal(place, expr) {
                return Ok((whole, format!("$env:{var}")));
            }
            let literal = place
                .literal
                .clone()
                .filter(|_| alone)
                .ok_or("it shares a single-quoted string with another expression".to_owned())?;
            let before = &text[literal.start + 1..expr.start];
            let after = &text[expr.end..literal.end - 1];
            let plain = |s: &str| !s.contains(['$', '`', '"', '\'']) && !s.contains("${{");
            if !plain(before) || !plain(after) {
                return Err("its single-quoted string holds `$`, a backtick or quotes, which a double-quoted one would read differently".into());
            }
            Ok((literal, format!("\"{before}{reference}{after}\"")))
        }
        Kind::Heredoc(false) => Err(
            "it stands in a literal here-string (@'…'@), where PowerShell expands no variable"
                .into(),
        ),
        Kind::Template | Kind::Unknown(_) => Err("its place is not understood".into()),
    }
}

fn js_replacement(
    text: &str,
    place: &Place,
    expr: &Range<usize>,
    var: &str,
    alone: bool,
) -> Result<Edit, String> {
    let reference = format!("process.env.{var}");
    let body = super::contexts::body(&text[expr.clone()]).to_ascii_lowercase();
    match place.kind {
        Kind::Template => Ok((expr.clone(), format!("${{{reference}}}"))),
        Kind::Comment => Ok((expr.clone(), reference)),
        Kind::Code if body.starts_with("tojson(") => {
            Ok((expr.clone(), format!("JSON.parse({reference})")))
        }
        Kind::Code => Err("the script reads its value as JavaScript code, not as a string".into()),
        Kind::Single | Kind::Double => {
            if let Some(whole) = whole_literal(place, expr) {
                return Ok((whole, reference));
            }
            let literal = place
                .literal
                .clone()
                .filter(|_| alone)
                .ok_or("it shares a quoted string with another expression".to_owned())?;
            let before = &text[literal.start + 1..expr.start];
            let after = &text[expr.end..literal.end - 1];
            // Other expressions are replaced by Actions before JavaScript reads the string.
            let plain = |s: &str| {
                let mut bare = s.to_owned();
                for r in super::contexts::expressions(s).into_iter().rev() {
                    bare.replace_range(r, "x");
                }
                !bare.contains('`') && !bare.contains("${")
            };
            if !plain(before) || !plain(after) {
                return Err("its string holds a backtick or `${`, which a template literal would read differently".into());
            }
            Ok((literal, format!("`{before}${{{reference}}}{after}`")))
        }
        Kind::Heredoc(_) | Kind::Unknown(_) => Err("its place is not understood".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script_injection::contexts::expressions;

    fn kinds(lang: Lang, text: &str) -> Vec<Kind> {
        let exprs = expressions(text);
        places(lang, text, &exprs)
            .into_iter()
            .map(|p| p.kind)
            .collect()
    }

    fn moved(lang: Lang, text: &str) -> Vec<Result<String, String>> {
        let exprs = expressions(text);
        let places = places(lang, text, &exprs);
        exprs
            .iter()
            .zip(&places)
            .map(|(e, p)| {
                replacement(lang, text, e, p, "V", true).map(|(range, new)| {
                    format!("{}{new}{}", &text[..range.start], &text[range.end..])
                })
            })
            .collect()
    }

    #[test]
    fn shell_places() {
        let text = "echo ${{ a }} \"x ${{ b }}\" 'y ${{ c || 'n' }}' # ${{ d }}\ncat <<EOF\n${{ e }}\nEOF\ncat <<'X'\n${{ f }}\nX\necho $(printf \"${{ g }}\") `${{ h }}` $'${{ i }}' \\${{ j }}";
        assert_eq!(
            kinds(Lang::Sh, text),
            [
                Kind::Code,
                Kind::Double,
                Kind::Single,
                Kind::Comment,
                Kind::Heredoc(true),
                Kind::Heredoc(false),
                Kind::Double,
                Kind::Code,
                Kind::Unknown("inside $'…' quoting"),
                Kind::Code,
            ]
        );
    }

    #[test]
    fn shell_replacements() {
        assert_eq!(
            moved(
                Lang::Sh,
                "echo ${{ a }}x \"${{ a }}x\" '${{ a }}' 'a ${{ a }}'"
            ),
            [
                Ok("echo \"$V\"x \"${{ a }}x\" '${{ a }}' 'a ${{ a }}'".into()),
                Ok("echo ${{ a }}x \"${V}x\" '${{ a }}' 'a ${{ a }}'".into()),
                Ok("echo ${{ a }}x \"${{ a }}x\" \"$V\" 'a ${{ a }}'".into()),
                Ok("echo ${{ a }}x \"${{ a }}x\" '${{ a }}' 'a '\"$V\"".into()),
            ]
        );
        assert!(moved(Lang::Sh, "cat <<'E'\n${{ a }}\nE\n")[0].is_err());
        assert!(moved(Lang::Sh, "${{ a }} --x")[0].is_err());
        assert!(moved(Lang::Sh, "a && ${{ a }}")[0].is_err());
        assert!(moved(Lang::Sh, "if ${{ a }}; then :; fi")[0].is_err());
        assert!(moved(Lang::Sh, "eval ${{ a }}")[0].is_ok());
        assert!(moved(Lang::Sh, "curl \\\n  ${{ a }} \\\n  -d x")[0].is_ok());
    }

    #[test]
    fn powershell_places_and_replacements() {
        let text = "Write-Host '${{ a }}' \"t: ${{ b }}\" ${{ c }}: 'it''s ${{ d }}'\n@'\n${{ e }}\n'@\n# ${{ f }}";
        assert_eq!(
            kinds(Lang::Pwsh, text),
            [
                Kind::Single,
                Kind::Double,
                Kind::Code,
                Kind::Single,
                Kind::Heredoc(false),
                Kind::Comment
            ]
        );
        let out = moved(Lang::Pwsh, "echo '${{ a }}' 'x ${{ a }} y' \"${{ a }}\"");
        assert_eq!(out[0], Ok("echo $env:V 'x ${{ a }} y' \"${{ a }}\"".into()));
        assert_eq!(
            out[1],
            Ok("echo '${{ a }}' \"x $env:V y\" \"${{ a }}\"".into())
        );
        assert_eq!(
            out[2],
            Ok("echo '${{ a }}' 'x ${{ a }} y' \"$env:V\"".into())
        );
    }

    #[test]
    fn javascript_places_and_replacements() {
        let text = "const a = '${{ a }}'; const b = `x ${{ b }} ${ f('${{ c }}') }`; // ${{ d }}\nconst e = ${{ toJSON(e) }}; g(\"t ${{ f }}\")";
        assert_eq!(
            kinds(Lang::Js, text),
            [
                Kind::Single,
                Kind::Template,
                Kind::Single,
                Kind::Comment,
                Kind::Code,
                Kind::Double
            ]
        );
        let out = moved(Lang::Js, text);
        assert!(out[0]
            .as_ref()
            .is_ok_and(|s| s.starts_with("const a = process.env.V;")));
        assert!(out[1]
            .as_ref()
            .is_ok_and(|s| s.contains("`x ${process.env.V} ")));
        assert!(out[4]
            .as_ref()
            .is_ok_and(|s| s.contains("JSON.parse(process.env.V)")));
        assert!(out[5]
            .as_ref()
            .is_ok_and(|s| s.contains("g(`t ${process.env.V}`)")));
        assert!(moved(Lang::Js, "f(${{ a }})")[0].is_err());
    }
}
