//! Commands that are neither `gh`, `git`, HTTP clients nor known writers: repository
//! scripts (read and analysed like the step), Makefile recipes, programs run by an
//! interpreter, read-only commands, and everything else, which is opaque.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::commands::command_name;
use super::evidence::{code_sign, words_sign};
use super::expr::{EnvVar, TokenValue};
use super::program_text::{python_top_modules, reaches_out, Lang};
use super::shell::{analyze_text, Opaque, Run, RunCtx, ShellKind};

/// How many scripts (or Makefile recipes) deep harden reads.
const MAX_DEPTH: usize = 4;

/// Programs whose first file argument is a program harden does not read.
const INTERPRETERS: &[&str] = &[
    "python",
    "python3",
    "py",
    "node",
    "ruby",
    "perl",
    "php",
    "pwsh",
    "powershell",
    "tsx",
    "ts-node",
    "rscript",
    "lua",
    "groovy",
    "kotlin",
    "dotnet-script",
];

/// Words in inline code (`python -c`, `node -e`) that may reach git or the API, besides the
/// words a program file is checked for (`program_text::reaches_out`).
const REACHES_OUT: &[&str] = &[
    "subprocess",
    "os.system",
    "popen",
    "child_process",
    "exec",
    "git",
    "urllib",
    "requests",
    "http",
    "fetch",
    "octokit",
    "token",
];

/// True when inline code mentions a way to git, a subprocess, the network or the token: a word
/// of [`REACHES_OUT`] anywhere, or one of the words a program file is checked for
/// (`program_text`: `socket`, `system`, `fork`, `eval`, `importlib`...) at the start of a word.
fn inline_reaches_out(code: &str) -> bool {
    let code = code.to_ascii_lowercase();
    REACHES_OUT.iter().any(|w| code.contains(w)) || super::program_text::mentioned(&code).is_some()
}

/// True when `word` can name a command (not a redirection, glob, option or piece of syntax).
fn starts_a_command(word: &str) -> bool {
    word.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '$' | '_' | '~'))
}

/// Words that do not start a command count only when what follows them pushes or deploys
/// (`hatch run +py=3.9 mkdocs gh-deploy`: an option of a wrapper harden does not model).
fn leftover_words(run: &mut Run<'_, '_>, words: &[String], ci: usize) {
    if words_sign(&run.ctx.kb.commands, words, ci + 1) {
        record_opaque(
            run,
            format!(
                "`{}`, which harden does not read as a command",
                words[ci..].join(" ")
            ),
            true,
        );
    }
}

/// Reads a command that none of the shell rules matched.
pub(super) fn other_command(run: &mut Run<'_, '_>, words: &[String], ci: usize, kind: ShellKind) {
    let commands = &run.ctx.kb.commands;
    let word = &words[ci];
    let name = command_name(word);
    let args = &words[ci + 1..];
    // Not a command word: redirections, globs, options, leftovers of syntax harden's
    // splitter does not model (arrays, `case` patterns).
    if !starts_a_command(word) {
        return leftover_words(run, words, ci);
    }
    if let Some(script_kind) = script_kind_of(word) {
        // `.\build.cmd`, `./ci/setup.ps1`: read in their own shell.
        return script(run, word, script_kind);
    }
    // PowerShell and cmd: statements, cmdlets and expressions are not modelled; only
    // scripts they run and known writers count.
    if kind != ShellKind::Sh {
        if kind == ShellKind::Cmd && name == "call" && !args.is_empty() {
            return other_command(run, words, ci + 1, kind);
        }
        let script_like = [".sh", ".py"]
            .iter()
            .any(|e| word.to_ascii_lowercase().ends_with(e));
        if script_like {
            opaque(run, format!("`{word}`, a script harden does not read"));
        }
        return;
    }
    if let Some(variable) = super::env_file::expanded_name(word) {
        // `$CC`, `$CXX`: the build tools the environment names; `$MAKE` is make.
        if commands.is_build_variable(variable) {
            if variable == "MAKE" {
                makefile(run, args);
            }
            return;
        }
    }
    if matches!(
        name.as_str(),
        "cd" | "pushd" | "cmake" | "configure" | "autoreconf" | "autogen.sh" | "qmake" | "meson"
    ) {
        run.generated_build = true;
    }
    match name.as_str() {
        "bash" | "sh" | "zsh" | "dash" | "ksh" | "source" | "." => {
            if let Some(p) = args.iter().position(|a| a == "-c") {
                if let Some(code) = args.get(p + 1) {
                    let code = code.clone();
                    nested(
                        run,
                        &code,
                        "",
                        run.ctx.workdir.to_owned(),
                        &format!("`{name} -c`"),
                        ShellKind::Sh,
                    );
                }
                return;
            }
            if let Some(path) = args.iter().find(|a| !a.starts_with('-')) {
                // os-release(5): variable assignments only, read by `. /etc/os-release`.
                let os_release = matches!(path.as_str(), "/etc/os-release" | "/usr/lib/os-release");
                if path.starts_with("<$()") {
                    // `bash <(curl -Ls URL) report`: the script is made when it runs.
                    opaque(
                        run,
                        format!("`{name} <(...)`, a script fetched or made when it runs"),
                    );
                } else if !(os_release && matches!(name.as_str(), "source" | ".")) {
                    script(run, path, ShellKind::Sh);
                }
            }
        }
        "make" | "gmake" => makefile(run, args),
        n if INTERPRETERS.contains(&n) || Lang::of_interpreter(n).is_some() => {
            interpreter(run, n, args)
        }
        _ if commands.knows(&name) => {
            if !commands.is_read_only(words, ci) {
                record_opaque(
                    run,
                    format!("`{}`, which may deploy or publish", words[ci..].join(" ")),
                    true,
                );
            }
        }
        "pwsh" | "powershell" if powershell_file(args).is_some() => {
            if let Some(file) = powershell_file(args) {
                script(run, file, ShellKind::Pwsh);
            }
        }
        _ if word.contains('/') || word.ends_with(".sh") => script(run, word, ShellKind::Sh),
        _ => {
            // Its arguments may name what it runs (`xvfb-run git push`).
            let sign = words_sign(commands, words, ci + 1);
            record_opaque(
                run,
                format!("`{word}`, a command harden does not know"),
                sign,
            );
        }
    }
}

/// The shell a script file runs in, by its extension (`.cmd`/`.bat`: cmd, `.ps1`:
/// PowerShell).
fn script_kind_of(word: &str) -> Option<ShellKind> {
    let lower = word.to_ascii_lowercase();
    if lower.contains('$') || lower.contains("%") {
        return None;
    }
    if lower.ends_with(".cmd") || lower.ends_with(".bat") {
        Some(ShellKind::Cmd)
    } else if lower.ends_with(".ps1") {
        Some(ShellKind::Pwsh)
    } else {
        None
    }
}

/// The `.ps1` file `pwsh` runs: `pwsh -File x.ps1`, `pwsh ./x.ps1`, after options without a
/// value (`-NoProfile`, `-NonInteractive`).
fn powershell_file(args: &[String]) -> Option<&str> {
    let mut i = 0;
    while let Some(a) = args.get(i) {
        let lower = a.to_ascii_lowercase();
        if lower == "-file" || lower == "-f" {
            return args.get(i + 1).map(String::as_str);
        }
        if !lower.starts_with('-') {
            return lower.ends_with(".ps1").then_some(a.as_str());
        }
        if !matches!(
            lower.as_str(),
            "-noprofile" | "-nologo" | "-noninteractive" | "-nop" | "-noni"
        ) {
            return None;
        }
        i += 1;
    }
    None
}

/// Records a program harden cannot see into, when credentials could reach it, with no sign
/// of writing besides what [`record_opaque`] finds itself.
pub(super) fn opaque(run: &mut Run<'_, '_>, what: String) {
    record_opaque(run, what, false);
}

/// Records a program harden cannot see into, when credentials could reach it. `sign`: the
/// caller found a sign that it writes (`evidence.rs`); the token in its environment and a
/// name that says it deploys (in the first `` `...` `` of `what`) are signs too.
pub(super) fn record_opaque(run: &mut Run<'_, '_>, what: String, sign: bool) {
    let token_var = run
        .vars
        .iter()
        .find(|(_, v)| **v == TokenValue::Job)
        .map(|(k, _)| k.clone());
    if !run.git_token && token_var.is_none() {
        return;
    }
    // The file's name, not its folder: `./Release/consumer` is a build configuration's
    // output, `./scripts/release.sh` says it releases.
    let named = what.split('`').nth(1).is_some_and(|shown| {
        shown
            .split_whitespace()
            .filter(|w| !w.starts_with('-') && !w.contains('='))
            .map(|w| w.rsplit(['/', '\\']).next().unwrap_or(w))
            .any(|w| run.ctx.kb.commands.names_deploy(w))
    });
    let sign = sign || named || token_var.is_some();
    let what = run.located(what);
    let o = Opaque {
        what,
        token_var,
        sign,
    };
    if !run.out.opaque.contains(&o) {
        run.out.opaque.push(o);
    }
}

/// The program file `path` (relative to the working directory) shows a sign of writing
/// (`evidence::code_sign`); false when harden cannot read it.
fn file_sign(run: &Run<'_, '_>, path: &str) -> bool {
    join(run.ctx.workdir, path)
        .and_then(|rel| run.ctx.files.and_then(|f| f.read(&rel)))
        .is_some_and(|text| code_sign(&text).is_some())
}

/// Inline code of another language (`python -c`, `shell: python`): opaque when it mentions
/// git, a subprocess, HTTP or a token; a sign of writing when it pushes or calls the API.
pub(super) fn inline_code(run: &mut Run<'_, '_>, what: &str, code: &str) {
    if inline_reaches_out(code) {
        let sign = code_sign(code).is_some();
        record_opaque(
            run,
            format!("{what} that may run git or call the API"),
            sign,
        );
    }
}

fn interpreter(run: &mut Run<'_, '_>, name: &str, args: &[String]) {
    let mut i = 0;
    let mut odd_option = false;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-c" | "-e" | "--eval" | "-p" | "--print" | "-Command" | "-command" => {
                let raw = args.get(i + 1).map_or("", String::as_str);
                // Python and JavaScript are judged on their code, not their strings; a sign
                // of writing is looked for in the whole text.
                let code = match Lang::of_interpreter(name) {
                    Some(lang) => super::program_text::code_of(lang, raw),
                    None => raw.to_owned(),
                };
                if inline_reaches_out(&code) {
                    record_opaque(
                        run,
                        format!("`{name} {a}` code that may run git or call the API"),
                        code_sign(raw).is_some(),
                    );
                }
                return;
            }
            "-m" => {
                let module = args.get(i + 1).map_or("", String::as_str);
                let words = vec![module.to_owned()];
                if !run.ctx.kb.commands.is_read_only(&words, 0) {
                    opaque(
                        run,
                        format!("`{name} -m {module}`, a module harden does not know"),
                    );
                }
                return;
            }
            "-File" | "-file" => {
                let file = args.get(i + 1).map_or("", String::as_str);
                let sign = file_sign(run, file);
                record_opaque(
                    run,
                    format!("`{file}`, a program harden does not read"),
                    sign,
                );
                return;
            }
            "-W" | "-X" if Lang::of_interpreter(name) == Some(Lang::Python) => i += 2,
            _ if a.starts_with('-') => {
                // Options harden does not know (`node -r x`, a preloaded module) leave the
                // program unread.
                odd_option |=
                    !PYTHON_FLAGS.contains(&a) || Lang::of_interpreter(name) != Some(Lang::Python);
                i += 1;
            }
            _ if odd_option => {
                let sign = file_sign(run, a);
                record_opaque(
                    run,
                    format!("`{name} {a}`, a program harden does not read"),
                    sign,
                );
                return;
            }
            _ => {
                repository_program(run, name, a);
                return;
            }
        }
    }
}

/// Python options that take no value and load nothing (https://docs.python.org/3/using/cmdline.html).
const PYTHON_FLAGS: &[&str] = &[
    "-u", "-B", "-O", "-OO", "-E", "-s", "-S", "-I", "-P", "-q", "-b", "-bb", "-v",
];

/// Environment variables through which Python or Node.js load code the program does not
/// name (https://docs.python.org/3/using/cmdline.html#environment-variables,
/// https://nodejs.org/api/cli.html#environment-variables).
const LOADER_VARIABLES: &[&str] = &[
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "NODE_OPTIONS",
    "NODE_PATH",
];

/// `python ci/x.py`, `node tools/y.mjs`: a Python or JavaScript program of the repository is
/// read and settled when it cannot reach git, the network nor the token (program_text.rs);
/// any other program is opaque.
fn repository_program(run: &mut Run<'_, '_>, name: &str, path: &str) {
    let Some(lang) = Lang::of_interpreter(name) else {
        let sign = file_sign(run, path);
        record_opaque(
            run,
            format!("`{name} {path}`, a program harden does not read"),
            sign,
        );
        return;
    };
    let Some(rel) = join(run.ctx.workdir, path) else {
        opaque(
            run,
            format!("`{name} {path}`, a program outside the repository or named by a variable"),
        );
        return;
    };
    // Variables that load more than the program (`NODE_OPTIONS=--require x`, a
    // `PYTHONPATH` folder whose `json.py` replaces the standard library's).
    let loader = LOADER_VARIABLES
        .iter()
        .find(|v| run.vars.contains_key(**v) || run.ctx.env_file.contains_key(**v));
    if let Some(var) = loader {
        let sign = file_sign(run, path);
        record_opaque(
            run,
            format!("`{name} {path}`, a program harden does not follow (`${var}` is set)"),
            sign,
        );
        return;
    }
    let Some(text) = run.ctx.files.and_then(|f| f.read(&rel)) else {
        opaque(run, format!("`{path}`, which harden could not read"));
        return;
    };
    let sign = code_sign(&text).is_some();
    if let Some(why) = reaches_out(lang, &text) {
        record_opaque(
            run,
            format!("`{name} {path}`, a program harden does not follow ({why})"),
            sign,
        );
        return;
    }
    // Python puts the program's folder first on its module path: `ci/json.py` beside
    // `ci/x.py` is what `import json` loads.
    if lang == Lang::Python {
        let folder = rel.rsplit_once('/').map_or("", |(dir, _)| dir);
        let shadowing = python_top_modules(&text).into_iter().find_map(|m| {
            [format!("{m}.py"), format!("{m}/__init__.py")]
                .into_iter()
                .map(|f| {
                    if folder.is_empty() {
                        f
                    } else {
                        format!("{folder}/{f}")
                    }
                })
                .find(|f| run.ctx.files.and_then(|files| files.read(f)).is_some())
                .map(|f| (m, f))
        });
        if let Some((module, file)) = shadowing {
            record_opaque(
                run,
                format!("`{name} {path}`, a program harden does not follow (its `import {module}` loads `{file}` of the repository)"),
                sign,
            );
        }
    }
}

/// `dir/path` with `.` and `..` resolved; `None` when it leaves the repository or cannot
/// be named statically.
pub(super) fn join(dir: &str, path: &str) -> Option<String> {
    if path.contains('$') || path.contains("{{") || path.starts_with(['/', '~', '\\']) {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for p in path.split(['/', '\\']) {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    Some(parts.join("/"))
}

fn script(run: &mut Run<'_, '_>, path: &str, kind: ShellKind) {
    let Some(rel) = join(run.ctx.workdir, path) else {
        opaque(
            run,
            format!("`{path}`, a script outside the repository or named by a variable"),
        );
        return;
    };
    let text = run.ctx.files.and_then(|f| f.read(&rel));
    let Some(text) = text else {
        opaque(run, format!("`{path}`, which harden could not read"));
        return;
    };
    if kind != ShellKind::Sh {
        let workdir = run.ctx.workdir.to_owned();
        return nested(run, &text, &rel, workdir, &format!("`{path}`"), kind);
    }
    let first = text.lines().next().unwrap_or_default();
    let shell_shebang = !first.starts_with("#!")
        || ["/sh", "/bash", "env bash", "env sh", "/zsh", "/dash"]
            .iter()
            .any(|s| first.contains(s));
    let program_ext = [
        ".py", ".js", ".mjs", ".cjs", ".ts", ".rb", ".pl", ".ps1", ".php",
    ]
    .iter()
    .any(|e| rel.ends_with(e));
    if program_ext || !shell_shebang {
        // `./ci/x.py` with a `python` (or `node`) shebang: read like `python ci/x.py`.
        let interpreter = match Lang::of_path(&rel) {
            Some(Lang::Python) if first.starts_with("#!") && first.contains("python") => "python",
            Some(Lang::Node) if first.starts_with("#!") && first.contains("node") => "node",
            _ => {
                let sign = code_sign(&text).is_some();
                record_opaque(
                    run,
                    format!("`{path}`, a program harden does not read"),
                    sign,
                );
                return;
            }
        };
        // `#!/usr/bin/env -S node -r ./hook.js`: options load more than the file.
        if !plain_shebang(first, interpreter) {
            let sign = code_sign(&text).is_some();
            record_opaque(
                run,
                format!("`{path}`, whose `{first}` line runs more than the program"),
                sign,
            );
            return;
        }
        repository_program(run, interpreter, path);
        return;
    }
    let workdir = run.ctx.workdir.to_owned();
    nested(
        run,
        &text,
        &rel,
        workdir,
        &format!("`{path}`"),
        ShellKind::Sh,
    );
}

/// True when the shebang line `first` runs `interpreter` (`python`, `node`) with nothing but
/// Python flags harden knows: `#!/usr/bin/env python3`, `#!/usr/bin/python3 -u`.
fn plain_shebang(first: &str, interpreter: &str) -> bool {
    let mut words = first.trim_start_matches("#!").split_whitespace().peekable();
    if words.peek().is_some_and(|w| w.ends_with("/env")) {
        words.next();
        if words.peek() == Some(&"-S") {
            words.next();
        }
    }
    let Some(program) = words.next() else {
        return false;
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    if Lang::of_interpreter(name) != Lang::of_interpreter(interpreter) {
        return false;
    }
    words.all(|w| interpreter == "python" && PYTHON_FLAGS.contains(&w))
}

/// Analyses `text` (a script file, a Makefile recipe, `bash -c` code) as part of the step.
/// `label` names the file it comes from (empty for code on a command line).
pub(super) fn nested(
    run: &mut Run<'_, '_>,
    text: &str,
    label: &str,
    workdir: String,
    shown: &str,
    kind: ShellKind,
) {
    if run.ctx.depth >= MAX_DEPTH {
        record_opaque(
            run,
            format!("{shown}, scripts nested deeper than harden reads"),
            code_sign(text).is_some(),
        );
        return;
    }
    let mut env = run.ctx.env.clone();
    for (k, v) in &run.vars {
        if *v == TokenValue::Job && env.token(k) != TokenValue::Job {
            env.vars.insert(
                k.clone(),
                EnvVar {
                    value: String::new(),
                    token: TokenValue::Job,
                },
            );
        }
    }
    // Only the values this script has not set itself reach the nested one.
    let env_file: BTreeMap<String, String> = run
        .ctx
        .env_file
        .iter()
        .filter(|(k, _)| run.command_values.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let label = if label.is_empty() {
        run.ctx.label
    } else {
        label
    };
    let child = RunCtx {
        kb: run.ctx.kb,
        env: &env,
        token: run.ctx.token,
        step_env_token: false,
        persisted_creds: run.git_token,
        label,
        files: run.ctx.files,
        workdir: &workdir,
        depth: run.ctx.depth + 1,
        env_file: &env_file,
    };
    let file = if label.contains(['/', '.']) {
        label
    } else {
        ""
    };
    let r = analyze_text(text, kind, &child, file);
    run.out.needs.merge(&r.needs);
    for u in r.unsure {
        run.unsure(format!("{u} (in {shown})"));
    }
    for n in r.notes {
        if !run.out.notes.contains(&n) {
            run.out.notes.push(n);
        }
    }
    for o in r.opaque {
        if !run.out.opaque.contains(&o) {
            run.out.opaque.push(o);
        }
    }
    run.git_token |= r.git_token;
    run.out.used.extend(r.used);
    run.out.commits |= r.commits;
    run.out.env_file.extend(r.env_file);
    run.out.env_file_unknown |= r.env_file_unknown;
    run.consumed = true;
}

/// A Makefile's rules: target -> (prerequisites, recipe lines).
type Rules = HashMap<String, (Vec<String>, Vec<String>)>;

/// Reads the rules of a Makefile (explicit targets only) and its default goal.
fn parse_makefile(text: &str) -> (Rules, Option<String>) {
    let mut rules: Rules = HashMap::new();
    let mut default = None;
    let mut current: Vec<String> = Vec::new();
    let mut continued = false;
    for line in text.lines() {
        if let Some(recipe) = line.strip_prefix('\t') {
            if continued || !current.is_empty() {
                for t in &current {
                    if let Some(r) = rules.get_mut(t) {
                        if continued {
                            if let Some(last) = r.1.last_mut() {
                                last.push('\n');
                                last.push_str(recipe);
                            }
                        } else {
                            r.1.push(recipe.to_owned());
                        }
                    }
                }
                continued = recipe.trim_end().ends_with('\\');
            }
            continue;
        }
        continued = false;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        current.clear();
        let Some(colon) = line.find(':') else {
            continue;
        };
        let after = &line[colon + 1..];
        if after.starts_with('=') || line[..colon].contains('=') {
            continue;
        }
        let after = after.trim_start_matches(':');
        let (prereqs, inline) = match after.split_once(';') {
            Some((p, r)) => (p, Some(r.trim())),
            None => (after, None),
        };
        let prereqs: Vec<String> = prereqs
            .split('|')
            .flat_map(str::split_whitespace)
            .map(str::to_owned)
            .collect();
        for t in line[..colon].split_whitespace() {
            if t.contains('%') {
                continue;
            }
            if default.is_none() && !t.starts_with('.') {
                default = Some(t.to_owned());
            }
            let entry = rules.entry(t.to_owned()).or_default();
            entry.0.extend(prereqs.iter().cloned());
            if let Some(r) = inline.filter(|r| !r.is_empty()) {
                entry.1.push(r.to_owned());
            }
            current.push(t.to_owned());
        }
    }
    (rules, default)
}

/// A recipe line as the shell sees it: `@`/`-`/`+` prefixes dropped, make variables
/// written the shell's way, `$$` as `$`.
fn recipe_to_shell(line: &str) -> String {
    let line = line.trim_start().trim_start_matches(['@', '-', '+']);
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '$' && chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
        } else if c == '$' && matches!(chars.get(i + 1), Some('(' | '{')) {
            let close = if chars[i + 1] == '(' { ')' } else { '}' };
            let mut j = i + 2;
            let mut depth = 0;
            while j < chars.len() {
                if chars[j] == chars[i + 1] {
                    depth += 1;
                } else if chars[j] == close {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                }
                j += 1;
            }
            let body: String = chars[(i + 2).min(chars.len())..j.min(chars.len())]
                .iter()
                .collect();
            if body == "MAKE" {
                out.push_str("make");
            } else if body.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                out.push('$');
                out.push_str(&body);
            } else {
                // A make function (`$(shell ...)`, `$(wildcard ...)`): a value.
                out.push_str("$MAKE_FUNCTION");
            }
            i = j + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Files from which a build generator writes the Makefile of a folder (CMake, Autotools,
/// qmake, Meson): when `dir` or a folder above it has one, a Makefile that is not in the
/// repository is a generated one.
const BUILD_GENERATORS: &[&str] = &[
    "CMakeLists.txt",
    "configure",
    "configure.ac",
    "configure.in",
    "Makefile.in",
    "Makefile.am",
    "meson.build",
];

/// True when `dir` (relative to the root) is, or is inside, a folder a build generator
/// writes Makefiles into (see [`BUILD_GENERATORS`]).
fn generated_folder(run: &Run<'_, '_>, dir: &str) -> bool {
    let Some(files) = run.ctx.files else {
        return false;
    };
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    loop {
        let base = parts.join("/");
        let has = BUILD_GENERATORS.iter().any(|g| {
            let rel = if base.is_empty() {
                (*g).to_owned()
            } else {
                format!("{base}/{g}")
            };
            files.read(&rel).is_some()
        });
        if has {
            return true;
        }
        if parts.pop().is_none() {
            return false;
        }
    }
}

fn makefile(run: &mut Run<'_, '_>, args: &[String]) {
    let mut dir = run.ctx.workdir.to_owned();
    let mut file: Option<String> = None;
    let mut goals = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        match a {
            "-C" | "--directory" => {
                match args.get(i + 1).and_then(|d| join(&dir, d)) {
                    Some(d) => dir = d,
                    None => {
                        return opaque(run, format!("`make {a}` into a folder harden cannot name"))
                    }
                }
                i += 1;
            }
            "-f" | "--file" | "--makefile" => {
                file = args.get(i + 1).cloned();
                i += 1;
            }
            "-j" | "-l" | "-o" | "-W" => {
                // `-j 4`, `-j $(nproc)`, ``-j `sysctl -n hw.ncpu` ``: a count.
                if args
                    .get(i + 1)
                    .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()) || n.starts_with('$'))
                {
                    i += 1;
                }
            }
            _ if a.starts_with('-') || a.contains('=') => {}
            _ => goals.push(a.to_owned()),
        }
        i += 1;
    }
    let names = match &file {
        Some(f) => vec![f.clone()],
        None => vec!["GNUmakefile".into(), "makefile".into(), "Makefile".into()],
    };
    let found = names.iter().find_map(|n| {
        let rel = join(&dir, n)?;
        run.ctx.files.and_then(|f| f.read(&rel)).map(|t| (rel, t))
    });
    let shown = format!(
        "`make{}`",
        goals.iter().map(|g| format!(" {g}")).collect::<String>()
    );
    let Some((rel, text)) = found else {
        if run.generated_build || generated_folder(run, &dir) {
            // `cmake ..; make`, `cd build && make`: a generated Makefile builds.
            return;
        }
        return opaque(
            run,
            format!("{shown}, whose Makefile harden could not read"),
        );
    };
    let (rules, default) = parse_makefile(&text);
    if goals.is_empty() {
        goals.extend(default);
    }
    let mut lines = Vec::new();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<String> = goals.iter().rev().cloned().collect();
    while let Some(t) = stack.pop() {
        if !seen.insert(t.clone()) || seen.len() > 200 {
            continue;
        }
        match rules.get(&t) {
            Some((prereqs, recipe)) => {
                stack.extend(prereqs.iter().rev().cloned());
                lines.extend(recipe.iter().map(|l| recipe_to_shell(l)));
            }
            None if goals.contains(&t) => {
                return opaque(
                    run,
                    format!("{shown}, whose target is not a rule harden can read in `{rel}`"),
                );
            }
            None => {}
        }
    }
    let label = format!("make {}", goals.join(" "));
    nested(run, &lines.join("\n"), &label, dir, &shown, ShellKind::Sh);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_that_run_only_the_program() {
        assert!(plain_shebang("#!/usr/bin/env python3", "python"));
        assert!(plain_shebang("#!/usr/bin/python3.12 -u", "python"));
        assert!(plain_shebang("#!/usr/bin/env node", "node"));
        assert!(!plain_shebang(
            "#!/usr/bin/env -S node -r ./hook.js",
            "node"
        ));
        assert!(!plain_shebang("#!/usr/bin/env -S python3 -m pip", "python"));
        assert!(!plain_shebang(
            "#!/usr/bin/env -S uv run --script",
            "python"
        ));
        assert!(!plain_shebang("#!/usr/bin/env pythonista", "python"));
        assert!(!plain_shebang("#!/usr/bin/env node", "python"));
    }

    #[test]
    fn inline_code_is_checked_for_the_program_words_too() {
        assert!(inline_reaches_out(
            "import subprocess; subprocess.run(['ls'])"
        ));
        assert!(inline_reaches_out(
            "import socket; socket.create_connection(('x', 443))"
        ));
        assert!(inline_reaches_out("__import__('o' + 's').system('x')"));
        assert!(!inline_reaches_out("import sys; print(sys.version)"));
        let url = "print('URL=' + 'https://download.pytorch.org/whl/cpu')";
        assert!(inline_reaches_out(url));
        let code = super::super::program_text::code_of(Lang::Python, url);
        assert!(!inline_reaches_out(&code));
        let git =
            super::super::program_text::code_of(Lang::Python, "print(open('.git/config').read())");
        assert!(inline_reaches_out(&git));
        assert!(!inline_reaches_out(
            "import torch; print(torch.__version__)"
        ));
    }

    #[test]
    fn makefile_rules_and_recipes() {
        let text = "all: build\n\nbuild:\n\t@cargo build\n\ndeploy: build docs\n\t-git push origin $(BRANCH)\n\t$(MAKE) tag\ndocs: ; mkdocs build\nVAR := x\n%.o: %.c\n\tcc $<\n";
        let (rules, default) = parse_makefile(text);
        assert_eq!(default.as_deref(), Some("all"));
        assert_eq!(rules["deploy"].0, vec!["build", "docs"]);
        assert_eq!(rules["deploy"].1.len(), 2);
        assert_eq!(rules["docs"].1, vec!["mkdocs build"]);
        assert!(!rules.contains_key("%.o"));
        assert_eq!(
            recipe_to_shell("-git push origin $(BRANCH)"),
            "git push origin $BRANCH"
        );
        assert_eq!(recipe_to_shell("\t$(MAKE) tag"), "make tag");
        assert_eq!(
            recipe_to_shell("echo $$HOME $(shell date)"),
            "echo $HOME $MAKE_FUNCTION"
        );
    }

    #[test]
    fn paths_stay_in_the_repository() {
        assert_eq!(join("", "./scripts/x.sh").as_deref(), Some("scripts/x.sh"));
        assert_eq!(join("docs", "../x.sh").as_deref(), Some("x.sh"));
        assert_eq!(join("", "../x.sh"), None);
        assert_eq!(join("", "$DIR/x.sh"), None);
    }
}
