//! The fuzz targets, one per layer.

pub mod github;
pub mod hostile;
pub mod transforms;
pub mod yaml;

use crate::corpus::{Corpus, YamlKind};
use crate::engine::Target;

/// Every target, in the order `--target all` runs them.
pub const TARGETS: &[&str] = &[
    "yaml",
    "pin-actions",
    "dependabot",
    "permissions",
    "pktline",
    "refs-json",
    "git-response",
    "rest-response",
    "hostile-refs",
];

/// Builds the target called `name` on `corpus`. `Ok(None)` is kept for a target that cannot
/// run yet (none at the moment).
pub fn make(name: &str, corpus: &Corpus) -> Result<Option<Box<dyn Target>>, String> {
    let io = |e: std::io::Error| format!("{name}: {e}");
    let workflows = || {
        let mut seeds = corpus.yaml_of(Some(YamlKind::Workflow));
        seeds.extend(corpus.yaml_of(Some(YamlKind::Action)));
        seeds
    };
    Ok(Some(match name {
        "yaml" => Box::new(yaml::YamlTarget::new(corpus.yaml_of(None))),
        "pin-actions" => Box::new(transforms::PinTarget::new(workflows()).map_err(io)?),
        "dependabot" => {
            let mut seeds = corpus.yaml_of(Some(YamlKind::Dependabot));
            // A few workflows too: a configuration that is not one must be refused cleanly.
            seeds.extend(workflows().into_iter().take(20));
            Box::new(transforms::DependabotTarget::new(seeds).map_err(io)?)
        }
        "permissions" => Box::new(transforms::PermissionsTarget::new(workflows()).map_err(io)?),
        "pktline" => Box::new(github::PktLineTarget::new(&corpus.repos)),
        "refs-json" => Box::new(github::RefsJsonTarget::new(&corpus.repos).map_err(io)?),
        "git-response" => Box::new(github::GitResponseTarget::new(&corpus.repos).map_err(io)?),
        "rest-response" => Box::new(github::RestResponseTarget::new(&corpus.repos).map_err(io)?),
        "hostile-refs" => Box::new(hostile::HostileRefsTarget::new(&corpus.repos).map_err(io)?),
        other => {
            return Err(format!(
                "unknown target `{other}`; targets: {}, all",
                TARGETS.join(", ")
            ))
        }
    }))
}
