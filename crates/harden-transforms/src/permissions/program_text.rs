//! Python and JavaScript programs of the repository (`python ci/x.py`, `node tools/y.mjs`):
//! harden reads their text and settles the one case it can be sure of, a program that
//! cannot reach git, the network nor the token. Everything else stays opaque.
//!
//! A program is settled only when (1) every module it imports is one of the standard-library
//! modules below, which neither run programs nor open connections, and it imports nothing
//! relative (a file of the repository harden would have to read too), and (2) its text
//! nowhere contains a word through which it could still reach out (`subprocess`, `exec`,
//! `http`, `git`, `token`, dynamic imports, `eval`...), in code, strings or comments alike.
//! The test is on the text, so it errs only towards opaque.

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
fn mentioned(lower: &str) -> Option<&'static str> {
    REACHES_OUT.iter().copied().find(|w| {
        lower.match_indices(w).any(|(i, _)| {
            !lower[..i]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        })
    })
}

/// Why the program `text` might reach git, the network or the token, or `None` when it
/// cannot (see the module documentation).
pub(super) fn reaches_out(lang: Lang, text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    if let Some(word) = mentioned(&lower) {
        return Some(format!("it mentions `{word}`"));
    }
    // `new Function("...")` compiles code (`function (` is everywhere else).
    if lang == Lang::Node && text.contains("Function(") {
        return Some("it mentions `Function(`".to_owned());
    }
    let imports = match lang {
        Lang::Python => python_imports(text),
        Lang::Node => node_imports(text),
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

/// The modules a Python program imports (`import a, b.c as d`, `from a import b`); a
/// relative import is an error (a file harden would have to read).
fn python_imports(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                let name = part.split_whitespace().next().unwrap_or("");
                out.push(name.trim_end_matches(['(', ')', ';']).to_owned());
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let name = rest.split_whitespace().next().unwrap_or("");
            if name.starts_with('.') || name.is_empty() {
                return Err(format!("it imports `{name}` of the repository"));
            }
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

/// The modules a JavaScript program names in `require("x")`, `import ... from "x"` and
/// `import "x"`; `require` of anything but a literal, or a relative module, is an error.
fn node_imports(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let literal_after = |rest: &str| -> Option<String> {
        let rest = rest.trim_start();
        let quote = rest
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\'' | '`'))?;
        let body = &rest[1..];
        let end = body.find(quote)?;
        Some(body[..end].to_owned())
    };
    for (i, _) in text.match_indices("require") {
        let rest = text[i + "require".len()..].trim_start();
        let Some(arg) = rest.strip_prefix('(') else {
            continue;
        };
        match literal_after(arg) {
            Some(m) => out.push(m),
            None => return Err("it calls `require` with a computed name".to_owned()),
        }
    }
    for line in text.lines() {
        let line = line.trim_start();
        if !(line.starts_with("import ") || line.starts_with("import\"") || line.contains("from "))
        {
            continue;
        }
        if let Some(p) = line.rfind("from ") {
            if let Some(m) = literal_after(&line[p + "from ".len()..]) {
                out.push(m);
                continue;
            }
        }
        if let Some(rest) = line.strip_prefix("import") {
            if let Some(m) = literal_after(rest) {
                out.push(m);
            } else if !rest.contains("from") {
                // `import {\n a,\n} from "x"` over several lines: the `from` line is read
                // above; anything else is not understood.
                if !rest.trim_start().starts_with(['{', '*']) {
                    return Err("it has an import harden does not understand".to_owned());
                }
            }
        }
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
        let fetches = "const r = await fetch(url);\n";
        assert!(reaches_out(Lang::Node, fetches).is_some());
    }
}
