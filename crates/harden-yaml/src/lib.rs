//! The lossless YAML layer of harden.
//!
//! A [`Document`] is the original text plus a tree of [`Node`]s that know their exact byte
//! spans, built from `saphyr-parser` events. Edits ([`EditSet`]) are non-overlapping byte-range
//! splices on the original text, so every byte that is not meant to change stays as it was:
//! layout, comments, quotes, blank lines, CRLF, BOM. YAML is never re-serialised.
//!
//! Every edit records the data change it means to make; [`guard::verify`] loads the input and
//! the output with `yaml-rust2` and checks that the output is the input plus exactly those
//! changes. [`EditSet::apply_verified`] does both.
//!
//! ```
//! use harden_yaml::{Document, EditSet, Path};
//! let doc = Document::parse("steps:\n  - uses: 'actions/checkout@v4'  # keep\n").unwrap();
//! let mut edits = EditSet::new(&doc);
//! let path = Path::root(0).key("steps").index(0).key("uses");
//! edits.replace_scalar(&path, "actions/checkout@abc").unwrap();
//! assert_eq!(
//!     edits.apply_verified().unwrap(),
//!     "steps:\n  - uses: 'actions/checkout@abc'  # keep\n"
//! );
//! ```

pub mod de;
mod document;
mod edit;
mod error;
pub mod guard;
pub mod invisible;
mod lenient;
pub mod limits;
pub mod linebreaks;
mod loaded;
mod lookup;
mod parse;
mod position;
pub mod render;
mod tree;

pub use de::{DeError, Entries, Located};
pub use document::{Comment, Document, LineEnding};
pub use edit::{apply_splices, Change, EditSet, InsertAt, Splice};
pub use error::{EditError, GuardError, Location, ParseError};
pub use lookup::{has_merge_key, Lookup};
pub use render::{NewEntry, NewValue};
pub use tree::{Entry, Mapping, Node, NodeKind, Path, Scalar, ScalarStyle, Seg, Sequence, Span};

/// An edit set could not be turned into a verified new text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The edits themselves were inconsistent.
    #[error(transparent)]
    Edit(#[from] EditError),
    /// The result was not the intended change; the file must be left untouched.
    #[error("refusing to write: {0}")]
    Guard(#[from] GuardError),
}

impl EditSet<'_> {
    /// Applies the edits and checks the result with the semantic guard. An empty edit set
    /// returns the original text without loading anything.
    pub fn apply_verified(&self) -> Result<String, ApplyError> {
        if self.is_empty() {
            return Ok(self.document().text().to_owned());
        }
        let after = self.apply()?;
        guard::verify(self.document().text(), &after, self.changes())?;
        Ok(after)
    }
}
