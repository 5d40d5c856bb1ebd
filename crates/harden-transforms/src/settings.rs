//! Settings of the transforms, read once per repository: each transform declares its section
//! of `.github/harden.yml` as a serde type beside its code (with `deny_unknown_fields`) and a
//! [`Configure`](crate::registry::Configure) function, registered in its
//! [`TransformInfo`](crate::registry::TransformInfo), that reads the section and merges the
//! command-line [`Flags`] over it into [`Settings`](crate::registry::Settings). The binary
//! only hands each transform its section; errors carry the file's line and column
//! ([`harden_yaml::de`]).

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use harden_yaml::{DeError, Node};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::{Deserialize, Deserializer};

use crate::dependabot::Schedule;
use crate::globs::{self, Flavor};
use crate::pin_actions::BranchPolicy;
use crate::registry::Settings;

/// The command-line values the transforms read; each field names its flag. The default is a
/// command line without any of them. A flag given wins over the file (lists add to it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    /// `--exempt`: actions never pinned, besides the file's.
    pub exempt: Vec<String>,
    /// `--branches`.
    pub branches: Option<BranchPolicy>,
    /// `--verify`.
    pub verify: bool,
    /// `--declare`: job permissions (`release.yml:publish=contents:write`).
    pub declare: Vec<String>,
    /// `--move-writes`.
    pub move_writes: bool,
    /// `--narrow` (permissions).
    pub narrow: bool,
    /// `--strict` (permissions).
    pub strict: bool,
    /// `--repository-default` (permissions): `read` or `write`.
    pub repository_default: Option<String>,
    /// `--schedule`.
    pub schedule: Option<Schedule>,
    /// `--no-group`.
    pub no_group: bool,
    /// `--cooldown`.
    pub cooldown: Option<u32>,
    /// `--ignore-major`.
    pub ignore_major: bool,
    /// `--ecosystems` (empty: not given).
    pub ecosystems: Vec<String>,
    /// `harden update --min-age`.
    pub min_age: Option<u32>,
    /// `harden update --major`.
    pub major: bool,
    /// `HARDEN_NOW`: the time `harden update` measures ages from (unix seconds; tests).
    pub now: Option<i64>,
}

/// Reads a section (`None`: the file has none, which reads as an empty section).
pub fn read_section<T: DeserializeOwned + Default>(section: Option<&Node>) -> Result<T, DeError> {
    match section {
        Some(node) => Ok(harden_yaml::de::from_node::<Option<T>>(node)?.unwrap_or_default()),
        None => Ok(T::default()),
    }
}

/// The section of a transform without settings: it must be empty.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoSettings {}

/// [`Configure`](crate::registry::Configure) of a transform that has no settings.
pub fn no_settings(section: Option<&Node>, _: &Flags, _: &mut Settings) -> Result<(), DeError> {
    read_section::<NoSettings>(section).map(drop)
}

/// The section of an opt-in transform: `enabled: true` runs it without `--only`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptIn {
    #[serde(default)]
    enabled: bool,
}

/// Reads the `{enabled: true}` section of the opt-in transform `name` into
/// [`Settings::enabled`].
pub fn read_opt_in(
    name: &'static str,
    section: Option<&Node>,
    settings: &mut Settings,
) -> Result<(), DeError> {
    if read_section::<OptIn>(section)?.enabled {
        settings.enabled.insert(name);
    }
    Ok(())
}

/// A value read through its [`FromStr`]: the parse error is the message, at the value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Parsed<T>(pub T);

impl<'de, T> Deserialize<'de> for Parsed<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map(Parsed).map_err(de::Error::custom)
    }
}

/// A list that may be written as one value (`exempt: my-org/*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor<T>(PhantomData<T>);

        impl<T> ListVisitor<T> {
            fn one<'de, E: de::Error>(text: String) -> Result<OneOrMany<T>, E>
            where
                T: Deserialize<'de>,
            {
                T::deserialize(text.into_deserializer()).map(|v| OneOrMany(vec![v]))
            }
        }

        impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
            type Value = OneOrMany<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list, or a single value")
            }

            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(OneOrMany(out))
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Self::one(v.to_owned())
            }

            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Self::one(v.to_string())
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Self::one(v.to_string())
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Self::one(v.to_string())
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Self::one(v.to_string())
            }
        }

        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// A glob over action or image names ([`Flavor::Names`]), checked where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameGlob(pub String);

impl<'de> Deserialize<'de> for NameGlob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        globs::check(&text, Flavor::Names).map_err(de::Error::custom)?;
        Ok(NameGlob(text))
    }
}

/// The globs of a list setting, as written.
pub fn name_globs(list: OneOrMany<NameGlob>) -> Vec<String> {
    list.0.into_iter().map(|g| g.0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Section {
        #[serde(default)]
        exempt: OneOrMany<NameGlob>,
        schedule: Option<Parsed<Schedule>>,
    }

    fn read(text: &str) -> Result<Section, DeError> {
        harden_yaml::de::from_str(text)
    }

    #[test]
    fn lists_may_be_one_value_and_globs_are_checked() {
        let s = read("exempt: my-org/*\n").expect("valid");
        assert_eq!(name_globs(s.exempt), ["my-org/*"]);
        let s = read("exempt: [a/*, b]\nschedule: daily\n").expect("valid");
        assert_eq!(s.exempt.0.len(), 2);
        assert_eq!(s.schedule.map(|p| p.0), Some(Schedule::Daily));
        let e = read("exempt: [a/*, 'b/[x']\n").expect_err("unclosed [");
        assert_eq!((e.line, e.column), (1, 15));
        assert!(
            e.message().contains("invalid glob `b/[x`"),
            "{}",
            e.message()
        );
        let e = read("schedule: hourly\n").expect_err("unknown schedule");
        assert_eq!((e.line, e.column), (1, 11));
    }
}
