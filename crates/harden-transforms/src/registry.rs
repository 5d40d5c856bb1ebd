//! The one list of transforms. Each transform declares its [`TransformInfo`] beside its code
//! (name, one-line summary, SARIF rule text, the services it needs, whether it is opt-in, and
//! a constructor, and its settings: a [`Configure`] reading its section of
//! `.github/harden.yml`); [`TRANSFORMS`] lists them in running order. The binary reads everything
//! about a transform from here (`--only`/`--skip`, help, completions, configuration keys,
//! SARIF rules, commit subjects) and never matches on a name. See docs/design.md, "Adding a
//! transform".

use std::collections::BTreeSet;
use std::sync::Arc;

use harden_github::Resolver;
use harden_registry::Registry;
use harden_yaml::{DeError, Node};

use crate::dependabot::DependabotOptions;
use crate::permissions::{PermissionsSettings, RemoteFiles};
use crate::pin_actions::PinOptions;
use crate::pin_images::ImageOptions;
use crate::settings::Flags;
use crate::Transform;

/// What a transform needs from the binary besides the repository.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// The ref resolver (GitHub tags and branches).
    pub resolver: bool,
    /// The resolver is asked about every `uses:` of every file, so refs are fetched while
    /// files are still parsed (pin-actions, permissions).
    pub prefetch_refs: bool,
    /// The file reader: `action.yml` files and workflows of other repositories.
    pub files: bool,
    /// The container registry client.
    pub images: bool,
}

/// The services a run built, each present when a selected transform needs it.
#[derive(Clone, Default)]
pub struct Services {
    /// The ref resolver.
    pub resolver: Option<Arc<Resolver>>,
    /// Where actions and workflows of other repositories are read.
    pub files: Option<Arc<dyn RemoteFiles>>,
    /// The container registry client.
    pub images: Option<Arc<Registry>>,
}

/// Settings of the transforms that have any, as the binary merged them from the command line
/// over `.github/harden.yml`. A transform without settings needs no field here. The default is
/// what a run without flags nor configuration file uses.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// pin-actions (sign-releases pins its new workflow with these too).
    pub pin_actions: PinOptions,
    /// pin-images.
    pub pin_images: ImageOptions,
    /// permissions.
    pub permissions: PermissionsSettings,
    /// dependabot.
    pub dependabot: DependabotOptions,
    /// update (`harden update`).
    pub update: crate::pin_actions::update::UpdateOptions,
    /// The opt-in transforms `.github/harden.yml` enables (`<name>: {enabled: true}`).
    pub enabled: BTreeSet<&'static str>,
}

impl Settings {
    /// Settings that would do nothing in a repository (a permissions declaration for a
    /// workflow or job it does not have): (transform, line, column, message) each, placed in
    /// `.github/harden.yml`. `workflows` lists the repository's workflows (path relative to
    /// the root, `/`-separated) with their job ids; it is called only when some setting needs
    /// them.
    pub fn warnings(
        &self,
        workflows: impl FnOnce() -> Vec<(String, Vec<String>)>,
    ) -> Vec<(&'static str, usize, usize, String)> {
        if self.permissions.jobs.is_empty() {
            return Vec::new();
        }
        let name = crate::permissions::INFO.name;
        self.permissions
            .unknown_declarations(&workflows())
            .into_iter()
            .map(|(line, column, message)| (name, line, column, message))
            .collect()
    }
}

/// Reads a transform's section of `.github/harden.yml` (`None` when the file has none) and
/// merges the command-line flags over it into the settings. The section is a serde type
/// beside the transform's code (see [`crate::settings`]).
pub type Configure = fn(Option<&Node>, &Flags, &mut Settings) -> Result<(), DeError>;

/// Every transform's settings: `section(name)` gives the section of `.github/harden.yml`
/// named after the transform, if any; the flags are merged over them. An error names the
/// section it is in.
pub fn settings<'n>(
    mut section: impl FnMut(&str) -> Option<&'n Node>,
    flags: &Flags,
) -> Result<Settings, DeError> {
    let mut settings = Settings::default();
    for info in TRANSFORMS {
        (info.configure)(section(info.name), flags, &mut settings)
            .map_err(|e| e.under(info.name))?;
    }
    Ok(settings)
}

/// Builds a transform from the services and settings; `Ok(None)` when a service it needs is
/// missing (it then does not run), `Err` for settings no run can accept.
pub type Constructor = fn(&Services, &Settings) -> Result<Option<Box<dyn Transform>>, String>;

/// What the binary knows about one transform.
#[derive(Clone, Copy)]
pub struct TransformInfo {
    /// The name used with `--only`, `--skip`, as the configuration section and SARIF rule id.
    pub name: &'static str,
    /// One imperative line, for `{summary}` in commit subjects and the help text.
    pub summary: &'static str,
    /// The SARIF rule text (`shortDescription`): what should hold.
    pub rule: &'static str,
    /// The services it needs.
    pub needs: Needs,
    /// Runs only when named by `--only` or enabled in `.github/harden.yml`
    /// (`<name>: {enabled: true}`).
    pub opt_in: bool,
    /// Reads its section of `.github/harden.yml`, with the flags over it.
    pub configure: Configure,
    /// Builds it.
    pub build: Constructor,
}

impl std::fmt::Debug for TransformInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransformInfo")
            .field("name", &self.name)
            .field("opt_in", &self.opt_in)
            .finish_non_exhaustive()
    }
}

/// Every transform, in the order they run.
pub static TRANSFORMS: &[&TransformInfo] = &[
    &crate::pin_actions::INFO,
    &crate::pin_images::INFO,
    &crate::permissions::INFO,
    &crate::dependabot::INFO,
    &crate::sign_releases::INFO,
    &crate::checkout_credentials::INFO,
    &crate::script_injection::INFO,
    &crate::pin_actions::update::INFO,
];

/// The transform called `name`.
pub fn find(name: &str) -> Option<&'static TransformInfo> {
    TRANSFORMS.iter().copied().find(|t| t.name == name)
}

/// The names of every transform, in running order.
pub fn names() -> impl Iterator<Item = &'static str> {
    TRANSFORMS.iter().map(|t| t.name)
}

/// The Markdown table of every transform (name, when it runs, what it does, what should
/// hold), as docs/usage.md shows it between its `transforms` markers; a test keeps the two
/// equal.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| transform | runs | what it does | what should hold (SARIF rule) |\n| --- | --- | --- | --- |\n",
    );
    for t in TRANSFORMS {
        let runs = if t.opt_in {
            "when enabled"
        } else {
            "by default"
        };
        out.push_str(&format!(
            "| `{}` | {runs} | {} | {} |\n",
            t.name, t.summary, t.rule
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/usage.md's table of transforms is generated from the registry: this test fails
    /// when they differ, and `HARDEN_UPDATE_DOCS=1` rewrites the table in place.
    #[test]
    fn usage_docs_list_every_transform() {
        const BEGIN: &str = "<!-- transforms: generated from the registry; HARDEN_UPDATE_DOCS=1 cargo test -p harden-transforms usage_docs -->\n";
        const END: &str = "<!-- transforms: end -->";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/usage.md");
        let text = std::fs::read_to_string(path).expect("docs/usage.md");
        let start = text.find(BEGIN).expect("the begin marker in docs/usage.md") + BEGIN.len();
        let end = text[start..].find(END).expect("the end marker") + start;
        let table = markdown_table();
        if text[start..end] == table {
            return;
        }
        if std::env::var_os("HARDEN_UPDATE_DOCS").is_some() {
            let updated = format!("{}{table}{}", &text[..start], &text[end..]);
            std::fs::write(path, updated).expect("write docs/usage.md");
            return;
        }
        panic!("docs/usage.md's table of transforms is out of date: run HARDEN_UPDATE_DOCS=1 cargo test -p harden-transforms usage_docs");
    }

    #[test]
    fn names_are_distinct_and_lowercase() {
        let mut seen = std::collections::BTreeSet::new();
        for t in TRANSFORMS {
            assert!(seen.insert(t.name), "{} twice", t.name);
            assert!(t.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
            assert!(!t.summary.is_empty() && !t.summary.contains('\n'));
            assert!(!t.rule.is_empty());
        }
    }
}
