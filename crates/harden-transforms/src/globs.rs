//! The globs of settings and knowledge bases, compiled once with `globset`.
//!
//! Two readings, as the documentation of each setting says:
//! - [`Flavor::Names`] for action and image names (`my-org/*`, `ghcr.io/my-org/*`): `*` matches
//!   any run of characters, `/` included, and letters match in either case (GitHub and
//!   registries compare owners case-insensitively).
//! - [`Flavor::Paths`] for files and folders (`.github/workflows/*.yml`, `/packages/**`): `*`
//!   and `?` stay within one path segment, `**` crosses segments; case matters.
//!
//! - [`Flavor::Loose`]: a path glob read as if `*` crossed `/` (dependabot's guess at what
//!   a glob it cannot settle may cover).
//!
//! Besides `*`, `**` and `?`, globset reads `[abc]`, `{a,b}` and `\` escapes.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// How patterns read `*` and letter case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Action and image names: `*` crosses `/`; case-insensitive.
    Names,
    /// Paths: `*` and `?` within a segment, `**` across; case-sensitive.
    Paths,
    /// The loose reading of a path glob: `*` crosses `/`; case-sensitive.
    Loose,
}

/// A glob that cannot be compiled (`[` without `]`, `{` without `}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid glob `{pattern}`: {reason}")]
pub struct GlobError {
    /// The pattern as written.
    pub pattern: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A list of globs compiled into one matcher; equal when the patterns are.
#[derive(Debug, Clone, Default)]
pub struct Globs {
    patterns: Vec<String>,
    set: GlobSet,
}

impl PartialEq for Globs {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Eq for Globs {}

fn compile(pattern: &str, flavor: Flavor) -> Result<globset::Glob, GlobError> {
    GlobBuilder::new(pattern)
        .case_insensitive(flavor == Flavor::Names)
        .literal_separator(flavor == Flavor::Paths)
        .backslash_escape(true)
        .build()
        .map_err(|e| GlobError {
            pattern: pattern.to_owned(),
            reason: e.kind().to_string(),
        })
}

/// True when the single glob `pattern` matches `text` (an invalid pattern matches itself
/// literally). Compiled patterns are kept per thread, so calling this in a loop over the same
/// few patterns compiles each once.
pub fn matches(pattern: &str, flavor: Flavor, text: &str) -> bool {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static COMPILED: RefCell<HashMap<(String, Flavor), Globs>> = RefCell::new(HashMap::new());
    }
    COMPILED.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() > 4096 {
            cache.clear();
        }
        cache
            .entry((pattern.to_owned(), flavor))
            .or_insert_with(|| Globs::lenient(&[pattern], flavor))
            .is_match(text)
    })
}

/// Checks one pattern, for settings read from the command line or a configuration file.
pub fn check(pattern: &str, flavor: Flavor) -> Result<(), GlobError> {
    compile(pattern, flavor).map(drop)
}

impl Globs {
    /// Compiles `patterns`; the first invalid one is an error.
    pub fn new<S: AsRef<str>>(patterns: &[S], flavor: Flavor) -> Result<Self, GlobError> {
        let mut builder = GlobSetBuilder::new();
        for p in patterns {
            builder.add(compile(p.as_ref(), flavor)?);
        }
        let set = builder.build().map_err(|e| GlobError {
            pattern: String::new(),
            reason: e.to_string(),
        })?;
        Ok(Globs {
            patterns: patterns.iter().map(|p| p.as_ref().to_owned()).collect(),
            set,
        })
    }

    /// Compiles `patterns`, reading an invalid one as the literal text it is (settings are
    /// checked where they are read, so this only guards against a pattern that slipped past).
    pub fn lenient<S: AsRef<str>>(patterns: &[S], flavor: Flavor) -> Self {
        let fixed: Vec<String> = patterns
            .iter()
            .map(|p| {
                let p = p.as_ref();
                match check(p, flavor) {
                    Ok(()) => p.to_owned(),
                    Err(_) => globset::escape(p),
                }
            })
            .collect();
        Globs::new(&fixed, flavor).unwrap_or_default()
    }

    /// True when some pattern matches `text`.
    pub fn is_match(&self, text: &str) -> bool {
        self.set.is_match(text)
    }

    /// The index of the first pattern (in the order given) that matches `text`.
    pub fn first_match(&self, text: &str) -> Option<usize> {
        self.set.matches(text).into_iter().min()
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// True when there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cross_slashes_and_ignore_case() {
        let g = Globs::new(&["my-org/*", "a/*/c"], Flavor::Names).expect("valid");
        assert!(g.is_match("My-Org/thing"));
        assert!(g.is_match("my-org/thing/sub/path"));
        assert!(g.is_match("a/b/c"));
        assert!(!g.is_match("other/thing"));
        assert_eq!(g.first_match("a/x/c"), Some(1));
    }

    #[test]
    fn paths_keep_segments_and_case() {
        let g = Globs::new(&[".github/workflows/*.yml"], Flavor::Paths).expect("valid");
        assert!(g.is_match(".github/workflows/ci.yml"));
        assert!(!g.is_match(".github/workflows/a/ci.yml"));
        assert!(!g.is_match(".github/workflows/CI.YML"));
        let any = Globs::new(&["**/release.yml"], Flavor::Paths).expect("valid");
        assert!(any.is_match(".github/workflows/release.yml"));
    }

    #[test]
    fn invalid_patterns_are_errors_or_literal() {
        let e = Globs::new(&["my-org/[x"], Flavor::Names).expect_err("unclosed [");
        assert_eq!(e.pattern, "my-org/[x");
        let g = Globs::lenient(&["my-org/[x"], Flavor::Names);
        assert!(g.is_match("my-org/[x"));
        assert!(!g.is_match("my-org/x"));
    }
}
