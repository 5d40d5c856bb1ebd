//! Errors of the lossless YAML layer.

use std::fmt;

/// A place in the source text, for messages: 1-based line and column (column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Location {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// The text could not be read as YAML, or holds something harden refuses to edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The YAML scanner or parser rejected the text.
    #[error("{location}: invalid YAML: {message}")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// The parser's own words.
        message: String,
    },
    /// A mapping holds the same key twice; GitHub rejects such files too.
    #[error("{second}: duplicate key `{key}` (first at line {first_line}); remove one of them")]
    DuplicateKey {
        /// The key, as decoded.
        key: String,
        /// Line of the first occurrence.
        first_line: usize,
        /// Location of the second occurrence.
        second: Location,
    },
}

impl ParseError {
    /// What is wrong, without the location (for callers that print `file:line:column` first).
    pub fn message(&self) -> String {
        match self {
            ParseError::Syntax { message, .. } => format!("invalid YAML: {message}"),
            ParseError::DuplicateKey {
                key, first_line, ..
            } => format!("duplicate key `{key}` (first at line {first_line}); remove one of them"),
        }
    }

    /// Where in the text the problem is.
    pub fn location(&self) -> Location {
        match self {
            ParseError::Syntax { location, .. } => *location,
            ParseError::DuplicateKey { second, .. } => *second,
        }
    }
}

/// An edit could not be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// No node at the given path.
    #[error("no node at `{0}`")]
    NoSuchPath(String),
    /// The node at the path is not of the kind the edit needs.
    #[error("`{path}` is not {expected}")]
    WrongKind {
        /// The path of the node.
        path: String,
        /// What the edit needed ("a scalar", "a block mapping", ...).
        expected: &'static str,
    },
    /// The mapping has no such key to insert before or after.
    #[error("`{path}` has no key `{key}`")]
    NoSuchKey {
        /// The mapping's path.
        path: String,
        /// The missing key.
        key: String,
    },
    /// The mapping already has the key that was to be inserted.
    #[error("`{path}` already has key `{key}`")]
    KeyExists {
        /// The mapping's path.
        path: String,
        /// The existing key.
        key: String,
    },
    /// YAML allows no comment after this node (inside a flow collection, after a block scalar, ...).
    #[error("{location}: a comment cannot follow `{path}` here")]
    CommentNotAllowed {
        /// The node's path.
        path: String,
        /// Where the node ends.
        location: Location,
    },
    /// Two edits touch the same bytes; they are never merged silently.
    #[error("overlapping edits at bytes {first:?} and {second:?}")]
    Overlap {
        /// The first edit's byte range.
        first: std::ops::Range<usize>,
        /// The second edit's byte range.
        second: std::ops::Range<usize>,
    },
    /// The value cannot be written in this position (e.g. a block value inside a flow mapping).
    #[error("cannot write this value at `{0}`")]
    Unsupported(String),
}

/// The semantic guard found that the output is not the input plus exactly the intended change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The input did not load with yaml-rust2.
    #[error("the input does not load as YAML: {0}")]
    InputUnreadable(String),
    /// The output did not load with yaml-rust2.
    #[error("the edited text does not load as YAML: {0}")]
    OutputUnreadable(String),
    /// An expected change could not be applied to the input's data (path missing).
    #[error("expected change at `{0}` does not apply to the input")]
    ChangeDoesNotApply(String),
    /// Input plus expected changes differs from the output.
    #[error("the edited document differs from the intended change at `{0}`")]
    Mismatch(String),
}
