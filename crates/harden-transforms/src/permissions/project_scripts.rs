//! Scripts a project defines for its task runners, read like Makefile recipes:
//! `hatch run [env:]script` (`[tool.hatch.envs.<env>.scripts]` in `pyproject.toml`, or
//! `[envs.<env>.scripts]` in `hatch.toml`), `tox -e env` (`tox.ini`, `[tool.tox]` in
//! `pyproject.toml` as `legacy_tox_ini` or native tables, `tox.toml`), `just` recipes
//! (`justfile`), `task` tasks (`Taskfile.yml`) and the commands
//! `cibuildwheel` runs (`CIBW_BEFORE_ALL`, `CIBW_TEST_COMMAND`... in the environment,
//! `[tool.cibuildwheel]` in `pyproject.toml`; on macOS and Windows they run on the runner,
//! beside the credentials). The commands they run are analysed like the step's own, with the
//! same credentials. A runner whose configuration harden cannot find is left to the other
//! rules (`tox` without a configuration fails).

use super::commands::command_name;
use super::programs::nested;
use super::shell::{Run, ShellKind};

/// How many scripts deep a hatch script may name other scripts.
const MAX_SCRIPT_DEPTH: usize = 8;

/// Reads the script a task runner at `ci` runs, when `words` is one (`hatch run lint`,
/// `tox -e docs`). True when it was read.
pub(super) fn run_script(run: &mut Run<'_, '_>, words: &[String], ci: usize) -> bool {
    let hatch = (0..ci).any(|j| {
        command_name(&words[j]) == "hatch" && words.get(j + 1).is_some_and(|w| w == "run")
    });
    if hatch && ci >= 2 {
        return hatch_script(run, &words[ci], &words[ci + 1..]);
    }
    match command_name(&words[ci]).as_str() {
        "tox" => tox(run, &words[ci + 1..]),
        "cibuildwheel" => cibuildwheel(run, &words[ci + 1..]),
        "just" => just(run, &words[ci + 1..]),
        "task" | "go-task" => task(run, &words[ci + 1..]),
        _ => false,
    }
}

/// The cibuildwheel options that are commands, as `pyproject.toml` keys; the environment
/// variables are `CIBW_` and the key in capitals with `_` (`CIBW_BEFORE_ALL`), optionally
/// followed by a platform (`CIBW_BEFORE_ALL_MACOS`).
/// Source: <https://cibuildwheel.pypa.io/en/stable/options/>
const CIBUILDWHEEL_COMMANDS: &[&str] = &[
    "before-all",
    "before-build",
    "before-test",
    "test-command",
    "repair-wheel-command",
];

/// cibuildwheel's placeholders in commands: `{project}` and `{package}` are folders of the
/// checkout (read as the root, where the step runs), `{wheel}`, `{dest_dir}`... values.
fn cibuildwheel_format(command: &str) -> String {
    let mut out = command.replace("{project}", ".").replace("{package}", ".");
    for p in ["{wheel}", "{dest_dir}", "{delocate_archs}"] {
        out = out.replace(p, "CIBW_VALUE");
    }
    out
}

/// The commands of one `[tool.cibuildwheel]` table (and its platform tables and overrides).
fn cibuildwheel_table(table: &toml::Table, out: &mut Vec<String>) {
    for key in CIBUILDWHEEL_COMMANDS {
        match table.get(*key) {
            Some(toml::Value::String(s)) => out.push(s.clone()),
            Some(toml::Value::Array(items)) => {
                let parts: Vec<&str> = items.iter().filter_map(toml::Value::as_str).collect();
                out.push(parts.join(" && "));
            }
            _ => {}
        }
    }
    for platform in ["linux", "macos", "windows", "pyodide", "ios"] {
        if let Some(t) = table.get(platform).and_then(toml::Value::as_table) {
            cibuildwheel_table(t, out);
        }
    }
    if let Some(overrides) = table.get("overrides").and_then(toml::Value::as_array) {
        for t in overrides.iter().filter_map(toml::Value::as_table) {
            cibuildwheel_table(t, out);
        }
    }
}

/// `cibuildwheel [package-dir]`: the commands its options name, from the environment and
/// from `pyproject.toml` of the package folder.
fn cibuildwheel(run: &mut Run<'_, '_>, args: &[String]) -> bool {
    let mut commands = Vec::new();
    for (name, var) in &run.ctx.env.vars {
        let Some(option) = name.strip_prefix("CIBW_") else {
            continue;
        };
        let is_command = CIBUILDWHEEL_COMMANDS.iter().any(|c| {
            let upper = c.to_ascii_uppercase().replace('-', "_");
            option == upper
                || option
                    .strip_prefix(&upper)
                    .is_some_and(|p| p.starts_with('_'))
        });
        if is_command && !var.value.trim().is_empty() {
            commands.push(var.value.clone());
        }
    }
    let mut package = ".";
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if matches!(
            a.as_str(),
            "--platform" | "--archs" | "--output-dir" | "--config-file" | "--only"
        ) {
            i += 1;
        } else if !a.starts_with('-') {
            package = a;
            break;
        }
        i += 1;
    }
    let pyproject = super::programs::join(run.ctx.workdir, package)
        .map(|dir| {
            if dir.is_empty() {
                "pyproject.toml".to_owned()
            } else {
                format!("{dir}/pyproject.toml")
            }
        })
        .and_then(|rel| run.ctx.files.and_then(|f| f.read(&rel)));
    if let Some(table) = pyproject
        .as_deref()
        .and_then(toml_table)
        .and_then(|t| path(&t, &["tool", "cibuildwheel"]).cloned())
    {
        cibuildwheel_table(&table, &mut commands);
    }
    if commands.is_empty() {
        return false;
    }
    let text: Vec<String> = commands.iter().map(|c| cibuildwheel_format(c)).collect();
    let workdir = run.ctx.workdir.to_owned();
    nested(
        run,
        &text.join("\n"),
        "",
        workdir,
        "`cibuildwheel` (its CIBW_* commands)",
        ShellKind::Sh,
    );
    true
}

/// A file of the project, looked up from the step's folder up to the root.
fn project_file(run: &Run<'_, '_>, name: &str) -> Option<(String, String)> {
    let files = run.ctx.files?;
    let mut parts: Vec<&str> = run
        .ctx
        .workdir
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    loop {
        let mut rel = parts.join("/");
        if !rel.is_empty() {
            rel.push('/');
        }
        rel.push_str(name);
        if let Some(text) = files.read(&rel) {
            return Some((rel, text));
        }
        parts.pop()?;
    }
}

fn toml_table(text: &str) -> Option<toml::Table> {
    text.parse::<toml::Table>().ok()
}

/// `table.a.b.c`, a table.
fn path<'t>(table: &'t toml::Table, keys: &[&str]) -> Option<&'t toml::Table> {
    let mut t = table;
    for k in keys {
        t = t.get(*k)?.as_table()?;
    }
    Some(t)
}

/// The commands of a hatch script: a string or an array of strings.
fn script_commands(value: &toml::Value) -> Vec<String> {
    match value {
        toml::Value::String(s) => vec![s.clone()],
        toml::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The scripts of a hatch environment, with those of its template (`template`, else
/// `default`), from `hatch.toml` or `pyproject.toml`.
fn hatch_scripts(run: &Run<'_, '_>, env: &str) -> Option<(String, toml::Table)> {
    let (rel, envs) = project_file(run, "hatch.toml")
        .and_then(|(rel, text)| Some((rel, path(&toml_table(&text)?, &["envs"])?.clone())))
        .or_else(|| {
            let (rel, text) = project_file(run, "pyproject.toml")?;
            Some((
                rel,
                path(&toml_table(&text)?, &["tool", "hatch", "envs"])?.clone(),
            ))
        })?;
    let mut scripts = toml::Table::new();
    let mut chain = vec![env.to_owned()];
    while let Some(last) = chain.last() {
        let template = path(&envs, &[last])
            .and_then(|t| t.get("template"))
            .and_then(|t| t.as_str())
            .unwrap_or("default");
        if chain.iter().any(|c| c == template) || chain.len() > 8 {
            break;
        }
        chain.push(template.to_owned());
    }
    for name in chain.iter().rev() {
        if let Some(own) = path(&envs, &[name, "scripts"]) {
            scripts.extend(own.clone());
        }
    }
    Some((rel, scripts))
}

/// Hatch's context formatting in a command: `{args}` (with a default after `:`),
/// `{env:NAME}`, `{root}`...
fn hatch_format(command: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let field = &rest[open + 1..open + close];
        let (key, default) = field.split_once(':').unwrap_or((field, ""));
        match key {
            "args" if args.is_empty() => out.push_str(default),
            "args" => out.push_str(&args.join(" ")),
            "env" => {
                let name = default.split(':').next().unwrap_or_default();
                out.push('$');
                out.push_str(name);
            }
            "root" | "home" | "cwd" => out.push('.'),
            _ => out.push_str("HATCH_FIELD"),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Expands the commands of script `name`, following commands that name other scripts.
fn expand_hatch(scripts: &toml::Table, name: &str, args: &[String], depth: usize) -> Vec<String> {
    let Some(value) = scripts.get(name) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for command in script_commands(value) {
        // A leading `- ` ignores the command's exit code.
        let command = command.trim_start().trim_start_matches("- ");
        let first = command.split_whitespace().next().unwrap_or_default();
        if scripts.contains_key(first) && depth < MAX_SCRIPT_DEPTH {
            let rest: Vec<String> = command
                .split_whitespace()
                .skip(1)
                .map(str::to_owned)
                .collect();
            lines.extend(expand_hatch(scripts, first, &rest, depth + 1));
        } else {
            lines.push(hatch_format(command, args));
        }
    }
    lines
}

/// `hatch run [env:]script args`: the script's commands, or the command after `env:`.
fn hatch_script(run: &mut Run<'_, '_>, word: &str, args: &[String]) -> bool {
    let (env, name) = word.split_once(':').unwrap_or(("default", word));
    if let Some((rel, scripts)) = hatch_scripts(run, env) {
        if scripts.contains_key(name) {
            let text = expand_hatch(&scripts, name, args, 0).join("\n");
            let workdir = run.ctx.workdir.to_owned();
            nested(
                run,
                &text,
                &rel,
                workdir,
                &format!("`hatch run {word}` (a script of `{rel}`)"),
                ShellKind::Sh,
            );
            return true;
        }
    }
    if word.contains(':') && !name.is_empty() {
        // `hatch run docs:mkdocs build`: the command runs in the `docs` environment.
        let mut words = vec![name.to_owned()];
        words.extend(args.iter().cloned());
        run.run_words(words);
        return true;
    }
    false
}

/// The environments `tox` is asked to run (`-e a,b`, `--env a`), or `None` for all of them
/// (no `-e`, `ALL`, a label, or a name harden cannot read), and the positional arguments
/// after `--`.
fn tox_envs(args: &[String]) -> (Option<Vec<String>>, Vec<String>) {
    let mut envs: Option<Vec<String>> = None;
    let mut all = false;
    let mut i = 0;
    while let Some(a) = args.get(i) {
        if a == "--" {
            return (envs.filter(|_| !all), args[i + 1..].to_vec());
        }
        let value = match a.as_str() {
            "-e" | "--env" => {
                i += 1;
                args.get(i).cloned()
            }
            _ => a
                .strip_prefix("-e")
                .filter(|v| !v.is_empty())
                .or_else(|| a.strip_prefix("--env="))
                .map(str::to_owned),
        };
        if let Some(v) = value {
            if v.contains(['$', '{', '}']) || v == "ALL" {
                all = true;
            }
            envs.get_or_insert_with(Vec::new)
                .extend(v.split(',').map(|e| e.trim().to_owned()));
        } else if matches!(a.as_str(), "-m" | "--labels" | "-f" | "--factors") {
            all = true;
        }
        i += 1;
    }
    (envs.filter(|_| !all), Vec::new())
}

/// An INI file as tox reads it: section -> key -> value (continuation lines joined with
/// newlines).
fn parse_ini(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.trim().to_owned(), Vec::new()));
            continue;
        }
        let Some((_, keys)) = sections.last_mut() else {
            continue;
        };
        let continued = line.starts_with([' ', '\t']);
        match (continued, keys.last_mut()) {
            (true, Some((_, value))) => {
                value.push('\n');
                value.push_str(trimmed);
            }
            _ => {
                if let Some((k, v)) = trimmed.split_once('=') {
                    keys.push((k.trim().to_owned(), v.trim().to_owned()));
                }
            }
        }
    }
    sections
}

/// Tox's substitutions in a command: `{posargs}` (with a default), `{env:NAME}`,
/// `{[section]key}`, and the folders and interpreter tox names.
fn tox_format(
    command: &str,
    posargs: &[String],
    ini: &[(String, Vec<(String, String)>)],
    depth: usize,
) -> String {
    let mut out = String::new();
    let mut rest = command;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let field = &rest[open + 1..open + close];
        let (key, default) = field.split_once(':').unwrap_or((field, ""));
        if key == "posargs" {
            if posargs.is_empty() {
                out.push_str(default);
            } else {
                out.push_str(&posargs.join(" "));
            }
        } else if key == "env" {
            out.push('$');
            out.push_str(default.split(':').next().unwrap_or_default());
        } else if let Some((section, name)) = key
            .strip_prefix('[')
            .and_then(|k| k.split_once(']'))
            .filter(|_| depth < 4)
        {
            let value = ini_value(ini, section, name).unwrap_or_default();
            out.push_str(&tox_format(value, posargs, ini, depth + 1));
        } else if matches!(key, "envpython" | "env_python") {
            out.push_str("python");
        } else {
            out.push_str("TOX_FIELD");
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn ini_value<'i>(
    ini: &'i [(String, Vec<(String, String)>)],
    section: &str,
    key: &str,
) -> Option<&'i str> {
    ini.iter()
        .filter(|(s, _)| s == section)
        .flat_map(|(_, keys)| keys.iter())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The command lines of a tox value: `\` continuations joined, factor conditions
/// (`py38,py39: pytest`) dropped (every condition counts), `-` and `!` prefixes dropped.
fn tox_lines(value: &str) -> Vec<String> {
    let joined = value.replace("\\\n", " ");
    joined
        .lines()
        .map(|l| {
            let l = l.trim();
            let factor_end = l.find(": ").filter(|&i| {
                l[..i].chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '_' | '.' | ',' | '!' | '-' | '{' | '}')
                })
            });
            let l = factor_end.map_or(l, |i| l[i + 2..].trim_start());
            let l = l.trim_start_matches(['-', '!']);
            l.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .filter(|l| !l.is_empty())
        .collect()
}

/// The commands of the chosen tox environments in an INI configuration.
fn tox_ini_commands(
    ini: &[(String, Vec<(String, String)>)],
    envs: Option<&[String]>,
    posargs: &[String],
) -> Vec<String> {
    let sections: Vec<&str> = match envs {
        Some(envs) => envs
            .iter()
            .map(|e| {
                let own = format!("testenv:{e}");
                if ini.iter().any(|(s, _)| *s == own) {
                    ini.iter()
                        .find(|(s, _)| *s == own)
                        .map_or("testenv", |(s, _)| s.as_str())
                } else {
                    "testenv"
                }
            })
            .collect(),
        None => ini
            .iter()
            .map(|(s, _)| s.as_str())
            .filter(|s| *s == "testenv" || s.starts_with("testenv:"))
            .collect(),
    };
    let mut lines = Vec::new();
    for section in sections {
        for key in ["commands_pre", "commands", "commands_post"] {
            let value = ini_value(ini, section, key).or_else(|| ini_value(ini, "testenv", key));
            for line in value.map(tox_lines).unwrap_or_default() {
                let formatted = tox_format(&line, posargs, ini, 0);
                lines.extend(tox_lines(&formatted));
            }
        }
    }
    lines
}

/// The commands of the chosen environments in a native TOML configuration (`tox.toml`, or
/// `[tool.tox]` of `pyproject.toml`): `commands = [["pytest", "-q"]]` under `env_run_base`
/// and `env.<name>`.
fn tox_toml_commands(
    tox: &toml::Table,
    envs: Option<&[String]>,
    posargs: &[String],
) -> Vec<String> {
    let named: Vec<&toml::Table> = match envs {
        Some(envs) => envs.iter().filter_map(|e| path(tox, &["env", e])).collect(),
        None => path(tox, &["env"])
            .map(|t| t.values().filter_map(toml::Value::as_table).collect())
            .unwrap_or_default(),
    };
    let base = path(tox, &["env_run_base"]);
    let mut tables: Vec<&toml::Table> = named;
    tables.extend(base);
    let mut lines = Vec::new();
    for table in tables {
        for key in ["commands_pre", "commands", "commands_post"] {
            let Some(commands) = table.get(key).and_then(toml::Value::as_array) else {
                continue;
            };
            for command in commands {
                let words: Vec<String> = command
                    .as_array()
                    .map(|ws| {
                        ws.iter()
                            .map(|w| match w {
                                toml::Value::String(s) => s.clone(),
                                // `{ replace = "posargs", ... }`
                                _ => posargs.join(" "),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let line = words.join(" ");
                if !line.trim().is_empty() {
                    lines.push(line);
                }
            }
        }
    }
    lines
}

/// `tox -e docs`: the commands of the environments it runs.
fn tox(run: &mut Run<'_, '_>, args: &[String]) -> bool {
    let (envs, posargs) = tox_envs(args);
    let envs = envs.as_deref();
    let (rel, lines) = if let Some((rel, text)) = project_file(run, "tox.ini") {
        let ini = parse_ini(&text);
        (rel, tox_ini_commands(&ini, envs, &posargs))
    } else if let Some((rel, text)) = project_file(run, "tox.toml") {
        let Some(table) = toml_table(&text) else {
            return false;
        };
        (rel, tox_toml_commands(&table, envs, &posargs))
    } else if let Some((rel, text)) = project_file(run, "pyproject.toml") {
        let Some(tox) = toml_table(&text).and_then(|t| path(&t, &["tool", "tox"]).cloned()) else {
            return false;
        };
        match tox.get("legacy_tox_ini").and_then(toml::Value::as_str) {
            Some(ini) => (rel, tox_ini_commands(&parse_ini(ini), envs, &posargs)),
            None => (rel, tox_toml_commands(&tox, envs, &posargs)),
        }
    } else {
        return false;
    };
    let shown = match envs {
        Some(e) => format!("`tox -e {}` (in `{rel}`)", e.join(",")),
        None => format!("`tox` (in `{rel}`)"),
    };
    let workdir = run.ctx.workdir.to_owned();
    nested(run, &lines.join("\n"), &rel, workdir, &shown, ShellKind::Sh);
    true
}

/// Options of `just` and `task` that only list or show (nothing runs).
const LISTING: &[&str] = &[
    "-l",
    "--list",
    "--summary",
    "--dump",
    "--fmt",
    "--evaluate",
    "--show",
    "--choose",
    "--list-all",
    "-a",
    "--init",
    "--version",
    "--help",
    "-h",
];

/// `{{ ... }}` interpolations (just, task's templates): values.
fn without_interpolations(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        match rest[open..].find("}}") {
            Some(close) => {
                out.push_str("RUNNER_VALUE");
                rest = &rest[open + close + 2..];
            }
            None => {
                rest = &rest[open..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A justfile's recipes: name -> (dependencies, body lines), the first recipe, and aliases.
type Recipes = std::collections::BTreeMap<String, (Vec<String>, Vec<String>)>;

/// Reads a justfile's recipes (headers at the start of a line, indented bodies).
fn parse_justfile(text: &str) -> (Recipes, Option<String>) {
    let mut recipes = Recipes::new();
    let mut first = None;
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(r) = current.as_ref().and_then(|c| recipes.get_mut(c)) {
                let body = line.trim();
                if !body.is_empty() && !body.starts_with('#') {
                    r.1.push(body.trim_start_matches(['@', '-']).to_owned());
                }
            }
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', '[']) {
            continue;
        }
        current = None;
        if let Some(rest) = trimmed.strip_prefix("alias ") {
            if let Some((name, target)) = rest.split_once(":=") {
                let entry = recipes.entry(name.trim().to_owned()).or_default();
                entry.0.push(target.trim().to_owned());
            }
            continue;
        }
        let Some((head, deps)) = trimmed.split_once(':') else {
            continue;
        };
        if deps.starts_with('=') || head.starts_with("set ") || head.starts_with("export ") {
            continue;
        }
        let Some(name) = head.split_whitespace().next() else {
            continue;
        };
        let name = name.trim_start_matches('@').to_owned();
        let deps = deps
            .split_whitespace()
            .map(|d| d.trim_matches(['(', ')']))
            .filter(|d| !d.is_empty() && *d != "&&" && !d.starts_with(['"', '\'']))
            .map(str::to_owned)
            .collect();
        first.get_or_insert_with(|| name.clone());
        recipes.insert(name.clone(), (deps, Vec::new()));
        current = Some(name);
    }
    (recipes, first)
}

/// The commands of the recipes named (dependencies first), or `Err` with a recipe that is
/// not in the file or is a program in another language.
fn just_lines(recipes: &Recipes, goals: &[String]) -> Result<Vec<String>, String> {
    fn visit(
        recipes: &Recipes,
        name: &str,
        seen: &mut std::collections::BTreeSet<String>,
        lines: &mut Vec<String>,
    ) -> Result<(), String> {
        if !seen.insert(name.to_owned()) || seen.len() > 200 {
            return Ok(());
        }
        let Some((deps, body)) = recipes.get(name) else {
            return Err(name.to_owned());
        };
        for d in deps {
            visit(recipes, d, seen, lines)?;
        }
        if let Some(shebang) = body.first().filter(|l| l.starts_with("#!")) {
            if !shebang.contains("sh") {
                return Err(format!("{name}` (a `{shebang}` recipe"));
            }
        }
        lines.extend(body.iter().map(|l| without_interpolations(l)));
        Ok(())
    }
    let mut lines = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for g in goals {
        visit(recipes, g, &mut seen, &mut lines)?;
    }
    Ok(lines)
}

/// `just [recipe...]`: the recipes of the justfile, read like Makefile targets.
fn just(run: &mut Run<'_, '_>, args: &[String]) -> bool {
    if args.iter().any(|a| LISTING.contains(&a.as_str())) {
        return true;
    }
    let file = ["justfile", "Justfile", ".justfile", "JUSTFILE"]
        .iter()
        .find_map(|n| project_file(run, n));
    let Some((rel, text)) = file else {
        return false;
    };
    let (recipes, first) = parse_justfile(&text);
    let mut goals: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-') && !a.contains('='))
        .take_while(|a| recipes.contains_key(a.as_str()))
        .cloned()
        .collect();
    let named = args
        .iter()
        .find(|a| !a.starts_with('-') && !a.contains('='));
    if goals.is_empty() {
        match named {
            Some(n) => goals.push(n.clone()),
            None => goals.extend(first),
        }
    }
    let shown = format!("`just {}` (in `{rel}`)", goals.join(" "));
    match just_lines(&recipes, &goals) {
        Ok(lines) => {
            let workdir = run.ctx.workdir.to_owned();
            nested(run, &lines.join("\n"), &rel, workdir, &shown, ShellKind::Sh);
        }
        Err(name) => super::programs::opaque(
            run,
            format!("{shown}, whose recipe `{name}` harden cannot read"),
        ),
    }
    true
}

/// A Taskfile's tasks as JSON values (`tasks:`), read with the guarded YAML parser.
fn taskfile_tasks(text: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let doc: serde_json::Value = harden_yaml::de::from_str(text).ok()?;
    doc.get("tasks")?.as_object().cloned()
}

/// The commands of task `name` and what it runs (`deps`, `task:` commands), or `Err` with a
/// task that is not in the file.
fn task_lines(
    tasks: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    depth: usize,
    lines: &mut Vec<String>,
) -> Result<(), String> {
    let Some(def) = tasks.get(name) else {
        return Err(name.to_owned());
    };
    if depth > 16 {
        return Ok(());
    }
    let item = |v: &serde_json::Value, lines: &mut Vec<String>| -> Result<(), String> {
        match v {
            serde_json::Value::String(s) => lines.push(without_interpolations(s)),
            serde_json::Value::Object(m) => {
                if let Some(c) = m.get("cmd").and_then(serde_json::Value::as_str) {
                    lines.push(without_interpolations(c));
                }
                if let Some(t) = m.get("task").and_then(serde_json::Value::as_str) {
                    task_lines(tasks, t, depth + 1, lines)?;
                }
                if let Some(d) = m.get("defer") {
                    if let Some(c) = d.as_str() {
                        lines.push(without_interpolations(c));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    };
    match def {
        serde_json::Value::String(s) => lines.push(without_interpolations(s)),
        serde_json::Value::Array(cmds) => {
            for c in cmds {
                item(c, lines)?;
            }
        }
        serde_json::Value::Object(m) => {
            for d in m
                .get("deps")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                match d.as_str() {
                    Some(t) => task_lines(tasks, t, depth + 1, lines)?,
                    None => item(d, lines)?,
                }
            }
            if let Some(c) = m.get("cmd") {
                item(c, lines)?;
            }
            for c in m
                .get("cmds")
                .and_then(serde_json::Value::as_array)
                .into_iter()
                .flatten()
            {
                item(c, lines)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// `task [name...]`: the tasks of the Taskfile, read like Makefile targets.
fn task(run: &mut Run<'_, '_>, args: &[String]) -> bool {
    if args.iter().any(|a| LISTING.contains(&a.as_str())) {
        return true;
    }
    let file = [
        "Taskfile.yml",
        "taskfile.yml",
        "Taskfile.yaml",
        "taskfile.yaml",
        "Taskfile.dist.yml",
        "Taskfile.dist.yaml",
    ]
    .iter()
    .find_map(|n| project_file(run, n));
    let Some((rel, text)) = file else {
        return false;
    };
    let mut goals: Vec<String> = args
        .iter()
        .take_while(|a| *a != "--")
        .filter(|a| !a.starts_with('-') && !a.contains('='))
        .cloned()
        .collect();
    if goals.is_empty() {
        goals.push("default".to_owned());
    }
    let shown = format!("`task {}` (in `{rel}`)", goals.join(" "));
    let Some(tasks) = taskfile_tasks(&text) else {
        super::programs::opaque(run, format!("{shown}, whose Taskfile harden cannot read"));
        return true;
    };
    let mut lines = Vec::new();
    for g in &goals {
        if let Err(name) = task_lines(&tasks, g, 0, &mut lines) {
            super::programs::opaque(
                run,
                format!("{shown}, whose task `{name}` harden cannot find"),
            );
            return true;
        }
    }
    let workdir = run.ctx.workdir.to_owned();
    nested(run, &lines.join("\n"), &rel, workdir, &shown, ShellKind::Sh);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn hatch_scripts_expand() {
        let t: toml::Table = "[docs]\nbuild = \"mkdocs build {args:--strict}\"\ndeploy = [\"build\", \"- mkdocs gh-deploy --force\"]\n"
            .parse()
            .expect("toml");
        let scripts = path(&t, &["docs"]).expect("docs").clone();
        assert_eq!(
            expand_hatch(&scripts, "deploy", &[], 0),
            vec!["mkdocs build --strict", "mkdocs gh-deploy --force"]
        );
        assert_eq!(hatch_format("pytest {args}", &w("-x")), "pytest -x");
        assert_eq!(hatch_format("echo {env:HOME}", &[]), "echo $HOME");
    }

    #[test]
    fn just_and_task() {
        let (recipes, first) = parse_justfile("set shell := [\"bash\", \"-c\"]\nversion := \"1\"\n\n# Builds.\nbuild:\n    cargo build\n\n[private]\n@release tag: build (check \"x\")\n    git tag {{tag}}\n    -git push origin {{tag}}\ncheck arg:\n    echo {{arg}}\nalias r := release\n");
        assert_eq!(first.as_deref(), Some("build"));
        assert_eq!(
            just_lines(&recipes, &w("r")),
            Ok(vec![
                "cargo build".to_owned(),
                "echo RUNNER_VALUE".to_owned(),
                "git tag RUNNER_VALUE".to_owned(),
                "git push origin RUNNER_VALUE".to_owned(),
            ])
        );
        assert!(just_lines(&recipes, &w("nope")).is_err());
        let tasks = taskfile_tasks("version: '3'\ntasks:\n  default:\n    deps: [build]\n    cmds:\n      - task: docs\n      - cmd: echo {{.X}}\n  build: go build ./...\n  docs:\n    - mkdocs gh-deploy\n").expect("tasks");
        let mut lines = Vec::new();
        assert_eq!(task_lines(&tasks, "default", 0, &mut lines), Ok(()));
        assert_eq!(
            lines,
            vec!["go build ./...", "mkdocs gh-deploy", "echo RUNNER_VALUE"]
        );
        assert!(task_lines(&tasks, "missing", 0, &mut Vec::new()).is_err());
    }

    #[test]
    fn cibuildwheel_commands() {
        let t: toml::Table = "[tool.cibuildwheel]\nbefore-all = \"yum install -y x\"\ntest-command = [\"pytest {project}/tests\", \"git push\"]\n[tool.cibuildwheel.macos]\nbefore-build = \"brew install y\"\n"
            .parse()
            .expect("toml");
        let table = path(&t, &["tool", "cibuildwheel"]).expect("table").clone();
        let mut out = Vec::new();
        cibuildwheel_table(&table, &mut out);
        assert_eq!(
            out,
            vec![
                "yum install -y x",
                "pytest {project}/tests && git push",
                "brew install y"
            ]
        );
        assert_eq!(
            cibuildwheel_format("pytest {project}/t {wheel}"),
            "pytest ./t CIBW_VALUE"
        );
    }

    #[test]
    fn tox_configurations() {
        assert_eq!(
            tox_envs(&w("-e docs,lint -- -x")),
            (Some(w("docs lint")), w("-x"))
        );
        assert_eq!(tox_envs(&w("-e ${{ matrix.env }}")).0, None);
        assert_eq!(tox_envs(&w("-edocs")).0, Some(w("docs")));
        let ini = parse_ini("[tox]\nenvlist = py\n[testenv]\ncommands =\n    pytest {posargs:-q}\n[testenv:docs]\ncommands =\n    py3: mkdocs build\n    - mkdocs gh-deploy \\\n      --force\n    {[testenv]commands}\n");
        assert_eq!(
            tox_ini_commands(&ini, Some(&w("docs")), &[]),
            vec!["mkdocs build", "mkdocs gh-deploy --force", "pytest -q"]
        );
        assert_eq!(tox_ini_commands(&ini, None, &w("-x")).len(), 4);
        let native: toml::Table = "[env_run_base]\ncommands = [[\"pytest\"]]\n[env.docs]\ncommands = [[\"git\", \"push\"]]\n"
            .parse()
            .expect("toml");
        assert_eq!(
            tox_toml_commands(&native, Some(&w("docs")), &[]),
            vec!["git push", "pytest"]
        );
    }
}
