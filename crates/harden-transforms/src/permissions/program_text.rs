//! Python and JavaScript programs of the repository (`python ci/x.py`, `node tools/y.mjs`):
//! harden reads their text and settles the one case it can be sure of, a program that
//! cannot reach git, the network nor the token. Everything else stays opaque.
//!
//! A program is settled only when (1) every module it imports is one of the standard-library
//! modules below, which neither run programs nor open connections, and it imports nothing
//! relative (a file of the repository harden would have to read too), and (2) its code
//! nowhere contains a word through which it could still reach out (`subprocess`, `exec`,
//! `http`, `git`, `token`, dynamic imports, `eval`...). Comments are not code; string
//! literals are only searched for the whole words that name git, the token or a dynamic
//! import (`".git/config"`, `os.environ["GITHUB_TOKEN"]`, `"subprocess"`): a licence URL or
//! "operating system" in a docstring does not count. f-strings and template literals are
//! code.

/// The language of a program file, by its extension or its interpreter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    /// CPython (`python`, `python3`, `python3.12`, `.py`).
    Python,
    /// Node.js (`node`, `.js`, `.mjs`, `.cjs`).
    Node,
}

impl Lang {
    /// The language of an interpreter name (`python3.12`, `node`).
    pub(super) fn of_interpreter(name: &str) -> Option<Lang> {
        if name == "node" {
            return Some(Lang::Node);
        }
        let version = name.strip_prefix("python")?;
        version
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
            .then_some(Lang::Python)
    }

    /// The language of a file, by its extension.
    pub(super) fn of_path(path: &str) -> Option<Lang> {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".py") {
            Some(Lang::Python)
        } else if [".js", ".mjs", ".cjs"].iter().any(|e| lower.ends_with(e)) {
            Some(Lang::Node)
        } else {
            None
        }
    }
}

/// Python standard-library modules that neither run programs nor open connections
/// (https://docs.python.org/3/library/index.html). `os` is here: its ways to run programs
/// (`system`, `popen`, `exec*`, `spawn*`, `fork`) are words of [`REACHES_OUT`].
const PYTHON_MODULES: &[&str] = &[
    "__future__",
    "abc",
    "argparse",
    "ast",
    "base64",
    "bisect",
    "calendar",
    "collections",
    "contextlib",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "enum",
    "errno",
    "fnmatch",
    "fractions",
    "functools",
    "glob",
    "gzip",
    "hashlib",
    "heapq",
    "io",
    "itertools",
    "json",
    "math",
    "operator",
    "os",
    "pathlib",
    "pprint",
    "random",
    "re",
    "shlex",
    "shutil",
    "statistics",
    "string",
    "struct",
    "sys",
    "tarfile",
    "tempfile",
    "textwrap",
    "time",
    "tomllib",
    "typing",
    "unicodedata",
    "uuid",
    "warnings",
    "zipfile",
];

/// Node.js core modules that neither run programs nor open connections
/// (https://nodejs.org/api/modules.html#built-in-modules), with or without `node:`.
const NODE_MODULES: &[&str] = &[
    "assert",
    "buffer",
    "crypto",
    "events",
    "fs",
    "fs/promises",
    "os",
    "path",
    "process",
    "readline",
    "stream",
    "string_decoder",
    "url",
    "util",
    "zlib",
];

/// Words (lowercase, matched at the start of a word: `os.system` but not `filesystem`,
/// `.git` but not `isdigit`) through which a program could still run git, another program,
/// a connection or the token, whatever it imports.
const REACHES_OUT: &[&str] = &[
    "subprocess",
    "system",
    "popen",
    "exec",
    "spawn",
    "fork",
    "socket",
    "websocket",
    "http",
    "urllib",
    "requests",
    "fetch",
    "octokit",
    "git",
    "token",
    "secret",
    "__import__",
    "importlib",
    "runpy",
    "eval",
    "child_process",
    "worker",
    "import(",
    "startfile",
    "dlopen",
];

/// The first word of [`REACHES_OUT`] that `lower` mentions at the start of a word.
pub(super) fn mentioned(lower: &str) -> Option<&'static str> {
    REACHES_OUT.iter().copied().find(|w| {
        lower.match_indices(w).any(|(i, _)| {
            !lower[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        })
    })
}

/// Words that count inside string literals too, as whole words: git (`".git/config"`,
/// `["git", "push"]`), the token (`os.environ["GITHUB_TOKEN"]`), modules named to a dynamic
/// import.
const IN_STRINGS: &[&str] = &[
    "git",
    "token",
    "secret",
    "secrets",
    "subprocess",
    "child_process",
    "importlib",
    "__import__",
];

/// Code that looks names up from strings (`getattr(os, "system")`, `globalThis["eval"]`):
/// with one of these, every word of [`REACHES_OUT`] counts in strings too.
const LOOKUPS: &[&str] = &[
    "getattr",
    "__dict__",
    "vars(",
    "globals(",
    "globalthis",
    "global[",
];

/// The first word of [`IN_STRINGS`] that `lower` has as a whole word.
fn mentioned_in_strings(lower: &str) -> Option<&'static str> {
    let ident = |c: char| c.is_ascii_alphanumeric();
    IN_STRINGS.iter().copied().find(|w| {
        lower.match_indices(w).any(|(i, _)| {
            !lower[..i].chars().next_back().is_some_and(ident)
                && !lower[i + w.len()..].chars().next().is_some_and(ident)
        })
    })
}

/// A program split into its code (comments dropped, string literals emptied), the text of
/// its string literals, and the text without comments (string literals kept, for the
/// modules JavaScript names in them).
struct Split {
    code: String,
    strings: String,
    uncommented: String,
}

/// Splits `text` into code and strings (see [`Split`]). Python: `#` comments, `'`/`"` and
/// triple-quoted strings (an `f` prefix keeps the string as code). JavaScript: `//` and
/// `/* */` comments, `'`/`"` strings (template literals stay code). A one-quote string ends
/// at the end of its line at the latest.
fn split_code(lang: Lang, text: &str) -> Split {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Split {
        code: String::new(),
        strings: String::new(),
        uncommented: String::new(),
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let comment = match lang {
            Lang::Python => c == '#',
            Lang::Node => c == '/' && next == Some('/'),
        };
        if comment {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if lang == Lang::Node && c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                if chars[i] == '\n' {
                    out.code.push('\n');
                    out.uncommented.push('\n');
                }
                i += 1;
            }
            i += 2;
            continue;
        }
        let formatted = lang == Lang::Python && {
            let prefix: String = chars[..i]
                .iter()
                .rev()
                .take_while(|p| p.is_ascii_alphabetic())
                .collect();
            prefix.len() <= 2 && prefix.to_ascii_lowercase().contains('f')
        };
        if matches!(c, '\'' | '"') && !formatted {
            i = string_literal(&chars, i, lang, &mut out);
            continue;
        }
        out.code.push(c);
        out.uncommented.push(c);
        i += 1;
    }
    out
}

/// The string literal opening at `start`: its text goes to `out.strings` (and, quoted, to
/// `out.uncommented`), an empty literal to `out.code`. Returns the index after it.
fn string_literal(chars: &[char], start: usize, lang: Lang, out: &mut Split) -> usize {
    let quote = chars[start];
    let triple = lang == Lang::Python
        && chars.get(start + 1) == Some(&quote)
        && chars.get(start + 2) == Some(&quote);
    let mut i = start + if triple { 3 } else { 1 };
    let mut body = String::new();
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            body.push(c);
            if let Some(n) = chars.get(i + 1) {
                body.push(*n);
            }
            i += 2;
            continue;
        }
        if triple
            && c == quote
            && chars.get(i + 1) == Some(&quote)
            && chars.get(i + 2) == Some(&quote)
        {
            i += 3;
            break;
        }
        if !triple && (c == quote || c == '\n') {
            i += 1;
            break;
        }
        body.push(c);
        i += 1;
    }
    // Newlines stay, so that code keeps its lines.
    let newlines = body.matches('\n').count();
    out.code.push(quote);
    out.code.push(quote);
    out.code.push_str(&"\n".repeat(newlines));
    out.strings.push_str(&body);
    out.strings.push('\n');
    out.uncommented.push(quote);
    out.uncommented.push_str(&body);
    out.uncommented.push(quote);
    i
}

/// Inline code (`python -c`, `node -e`) as harden judges it: its code, with the words of
/// its string literals that still count (see [`IN_STRINGS`]; all of them when the code looks
/// names up) kept after it.
pub(super) fn code_of(lang: Lang, text: &str) -> String {
    let split = split_code(lang, text);
    let lower = split.code.to_ascii_lowercase();
    let lookups = LOOKUPS.iter().any(|l| lower.contains(l));
    let mut out = split.code;
    if lookups {
        out.push('\n');
        out.push_str(&split.strings);
    } else if let Some(word) = mentioned_in_strings(&split.strings.to_ascii_lowercase()) {
        out.push('\n');
        out.push_str(word);
    }
    out
}

/// Why the program `text` might reach git, the network or the token, or `None` when it
/// cannot (see the module documentation).
pub(super) fn reaches_out(lang: Lang, text: &str) -> Option<String> {
    let split = split_code(lang, text);
    let code = &split.code;
    if let Some(word) = mentioned(&code.to_ascii_lowercase()) {
        return Some(format!("it mentions `{word}`"));
    }
    let strings = split.strings.to_ascii_lowercase();
    let lookups = LOOKUPS
        .iter()
        .any(|l| code.to_ascii_lowercase().contains(l));
    let in_strings = if lookups {
        mentioned(&strings)
    } else {
        mentioned_in_strings(&strings)
    };
    if let Some(word) = in_strings {
        return Some(format!("it names `{word}` in a string"));
    }
    // `new Function("...")` compiles code (`function (` is everywhere else).
    let compiles = code
        .match_indices("Function")
        .any(|(i, w)| code[i + w.len()..].trim_start().starts_with('('));
    if lang == Lang::Node && compiles {
        return Some("it mentions `Function(`".to_owned());
    }
    let imports = match lang {
        Lang::Python => python_imports(code),
        Lang::Node => node_imports(&split.uncommented),
    };
    let allowed = |m: &str| match lang {
        Lang::Python => PYTHON_MODULES.contains(&m.split('.').next().unwrap_or(m)),
        Lang::Node => NODE_MODULES.contains(&m.strip_prefix("node:").unwrap_or(m)),
    };
    match imports {
        Err(why) => Some(why),
        Ok(list) => list
            .into_iter()
            .find(|m| !allowed(m))
            .map(|m| format!("it imports `{m}`")),
    }
}

/// The top-level modules a Python program imports (`os` for `import os.path`), when its
/// imports are understood: a file of the program's folder named like one of them
/// (`json.py` beside the program) is imported instead of the standard library's.
pub(super) fn python_top_modules(text: &str) -> Vec<String> {
    let code = split_code(Lang::Python, text).code;
    let mut names: Vec<String> = python_imports(&code)
        .unwrap_or_default()
        .iter()
        .map(|m| m.split('.').next().unwrap_or(m).to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Whether `text` has `word` at `i` as a whole word (no letter, digit, `_` or `$` on
/// either side).
fn whole_word(text: &str, i: usize, word: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    !text[..i].chars().next_back().is_some_and(ident)
        && !text[i + word.len()..].chars().next().is_some_and(ident)
}

/// The modules a Python program imports (`import a, b.c as d`, `from a import b`). Every
/// statement mentioning the word `import` must be one of these two forms on one line
/// (`;` separates statements); anything else (`try: import x`, a `\` continuation, a
/// relative import, `import` in a docstring) is an error, so the program stays opaque.
fn python_imports(text: &str) -> Result<Vec<String>, String> {
    let not_understood = || "it has an import harden does not understand".to_owned();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        for statement in line.split(';') {
            let mentions_import = statement
                .match_indices("import")
                .any(|(i, w)| whole_word(statement, i, w));
            if !mentions_import {
                continue;
            }
            if statement.trim_end().ends_with('\\') {
                return Err(not_understood());
            }
            let mut words = statement.split_whitespace();
            match words.next() {
                Some("import") => {
                    let rest: String = words.collect::<Vec<_>>().join(" ");
                    for part in rest.split(',') {
                        let name = part.split_whitespace().next().unwrap_or("");
                        let dotted = name.split('.').all(|s| {
                            !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_')
                        });
                        if !dotted {
                            return Err(not_understood());
                        }
                        out.push(name.to_owned());
                    }
                }
                Some("from") => {
                    let name = words.next().unwrap_or("");
                    if name.starts_with('.') {
                        return Err(format!("it imports `{name}` of the repository"));
                    }
                    if name.is_empty() || words.next() != Some("import") {
                        return Err(not_understood());
                    }
                    out.push(name.to_owned());
                }
                _ => return Err(not_understood()),
            }
        }
    }
    Ok(out)
}

/// The string literal (`"x"`, `'x'`, `` `x` ``) at the start of `rest`, after blanks.
fn literal_after(rest: &str) -> Option<String> {
    let rest = rest.trim_start();
    let quote = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '"' | '\'' | '`'))?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    Some(body[..end].to_owned())
}

/// The modules a JavaScript program names in `require("x")`, `import ... from "x"`,
/// `export ... from "x"` and `import "x"`. `require` or `import(...)` of anything but a
/// literal, a relative module, or a static `import` whose `from "x"` harden cannot find is
/// an error.
fn node_imports(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (i, w) in text.match_indices("require") {
        if !whole_word(text, i, w) {
            continue;
        }
        let rest = text[i + w.len()..].trim_start();
        if rest.starts_with('.') {
            continue; // `require.resolve(...)`, `require.main`
        }
        match rest.strip_prefix('(').and_then(literal_after) {
            Some(m) => out.push(m),
            None => return Err("it calls `require` with a computed name".to_owned()),
        }
    }
    let mut static_imports = 0;
    for (i, w) in text.match_indices("import") {
        if !whole_word(text, i, w) {
            continue;
        }
        let rest = text[i + w.len()..].trim_start();
        if rest.starts_with('(') {
            return Err("it has a dynamic `import(...)`".to_owned());
        }
        if rest.starts_with('.') {
            continue; // `import.meta`
        }
        match literal_after(rest) {
            Some(m) => out.push(m),
            None => static_imports += 1,
        }
    }
    let mut from_literals = 0;
    for (i, w) in text.match_indices("from") {
        if whole_word(text, i, w) {
            if let Some(m) = literal_after(&text[i + w.len()..]) {
                out.push(m);
                from_literals += 1;
            }
        }
    }
    if static_imports > from_literals {
        return Err("it has an import harden does not understand".to_owned());
    }
    if let Some(m) = out
        .iter()
        .find(|m| m.starts_with('.') || m.starts_with('/'))
    {
        return Err(format!("it imports `{m}` of the repository"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpreters_and_extensions() {
        assert_eq!(Lang::of_interpreter("python3.12"), Some(Lang::Python));
        assert_eq!(Lang::of_interpreter("python"), Some(Lang::Python));
        assert_eq!(Lang::of_interpreter("node"), Some(Lang::Node));
        assert_eq!(Lang::of_interpreter("pythonista"), None);
        assert_eq!(Lang::of_path("ci/x.mjs"), Some(Lang::Node));
        assert_eq!(Lang::of_path("ci/x.rb"), None);
    }

    #[test]
    fn python_programs() {
        let quiet = "#!/usr/bin/env python3\nimport json, sys, re\nfrom pathlib import Path\nimport os.path as p\n\n# an empty filesystem check\ndata = json.loads(Path(sys.argv[1]).read_text())\nprint(len(data), re.compile('x').pattern, '1'.isdigit())\n";
        assert_eq!(reaches_out(Lang::Python, quiet), None);
        let runs = "import subprocess\nsubprocess.run(['git', 'push'])\n";
        assert!(reaches_out(Lang::Python, runs).is_some());
        let system = "import os\nos.system('make deploy')\n";
        assert!(reaches_out(Lang::Python, system).is_some());
        let third_party = "import yaml\nprint(yaml.safe_load(open('a.yml')))\n";
        assert_eq!(
            reaches_out(Lang::Python, third_party).as_deref(),
            Some("it imports `yaml`")
        );
        let local = "from .helpers import bump\nbump()\n";
        assert!(reaches_out(Lang::Python, local).is_some());
        let env = "import os\nprint(os.environ['GITHUB_TOKEN'])\n";
        assert!(reaches_out(Lang::Python, "import os\nos.execvp('git', [])\n").is_some());
        assert!(reaches_out(Lang::Python, "open('.git/config', 'w')\n").is_some());
        assert!(reaches_out(Lang::Python, env).is_some());
        let net = "from urllib.request import urlopen\n";
        assert!(reaches_out(Lang::Python, net).is_some());
        // Imports the line-start reading would miss: each names `ftplib`, which no word
        // of REACHES_OUT catches, so only the import check can make them opaque.
        for hidden in [
            "import json; import ftplib\n",
            "x = 1; import ftplib\n",
            "try: import ftplib\nexcept ImportError: pass\n",
            "if True: import ftplib\n",
            "import\tftplib\n",
            "import json, \\\n    ftplib\n",
            "from . import helpers\n",
            "from ftplib import FTP\n",
        ] {
            assert!(reaches_out(Lang::Python, hidden).is_some(), "{hidden}");
        }
        let allowed = "import json as j, os.path as p  # import nothing else\nfrom pathlib import (\n    Path,\n)\n";
        assert_eq!(reaches_out(Lang::Python, allowed), None);
    }

    #[test]
    fn comments_and_strings_are_not_code() {
        let licensed = "\"\"\"Counts lines.\n\nLicensed under the Apache License (https://www.apache.org/licenses/LICENSE-2.0);\nsee https://github.com/o/r for the source control system.\n\"\"\"\nimport sys  # see https://example.com\nprint('https://example.com', len(sys.argv))\n";
        assert_eq!(reaches_out(Lang::Python, licensed), None);
        let js = "// https://example.com\n/* exec(\"x\") */\nconst fs = require('fs');\nconsole.log('see https://x');\n";
        assert_eq!(reaches_out(Lang::Node, js), None);
        // Strings still count for git, the token and names looked up at run time.
        assert!(reaches_out(Lang::Python, "import os\ngetattr(os, 'system')('x')\n").is_some());
        assert!(
            reaches_out(Lang::Python, "import os\nprint(os.environ[\"GH_TOKEN\"])\n").is_some()
        );
        // f-strings and template literals are code.
        assert!(reaches_out(Lang::Python, "import os\nx = f\"{os.system('x')}\"\n").is_some());
        assert!(reaches_out(Lang::Node, "const x = `${require('child_process')}`;\n").is_some());
        // A string cannot hide the code after it on another line.
        assert!(reaches_out(Lang::Python, "x = 'unclosed\nimport subprocess\n").is_some());
    }

    #[test]
    fn node_programs() {
        let quiet = "import fs from 'node:fs';\nimport { join } from \"path\";\nconst p = require('path');\nfs.writeFileSync(join('a', 'b.json'), '{}');\n";
        assert_eq!(reaches_out(Lang::Node, quiet), None);
        let child = "const { execSync } = require('child_process');\n";
        assert!(reaches_out(Lang::Node, child).is_some());
        let dynamic = "const m = require(process.argv[2]);\n";
        assert!(reaches_out(Lang::Node, dynamic).is_some());
        let local = "import { bump } from './lib.mjs';\n";
        assert!(reaches_out(Lang::Node, local).is_some());
        let package = "import semver from 'semver';\n";
        assert_eq!(
            reaches_out(Lang::Node, package).as_deref(),
            Some("it imports `semver`")
        );
        for hidden in [
            "import net from 'net'; import fs from 'fs';\n",
            "import net from\"net\"\n",
            "const m = await import (name);\n",
            "export * from 'net';\n",
            "const ws = new WebSocket(url);\n",
            "const f = new Function ('return 1');\n",
            "const r = require; r('net');\n",
        ] {
            assert!(reaches_out(Lang::Node, hidden).is_some(), "{hidden}");
        }
        let multi = "import {\n  readFileSync,\n} from 'node:fs';\nconsole.log(import.meta.url, require.resolve('path'));\n";
        assert_eq!(reaches_out(Lang::Node, multi), None);
        let fetches = "const r = await fetch(url);\n";
        assert!(reaches_out(Lang::Node, fetches).is_some());
    }
}
