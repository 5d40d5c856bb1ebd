//! The fuzz targets, one per layer.

pub mod github;
pub mod hostile;
pub mod readers;
pub mod transforms;
pub mod yaml;

use crate::corpus::{Corpus, YamlKind};
use crate::engine::Target;

/// The targets of the layers under the transforms, run after them.
const LAYERS: &[&str] = &[
    "pktline",
    "refs-json",
    "git-response",
    "rest-response",
    "hostile-refs",
    "actions-lock",
];

/// Every target, in the order `--target all` runs them: `yaml`, one per transform of the
/// registry (`harden_transforms::registry`), then the protocol layers.
pub fn targets() -> Vec<&'static str> {
    std::iter::once("yaml")
        .chain(harden_transforms::registry::names())
        .chain(LAYERS.iter().copied())
        .collect()
}

/// Builds the target called `name` on `corpus`. `Ok(None)` for a target that cannot run yet
/// (a transform that needs a service and has no harness of its own: pin-images,
/// sign-releases).
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
        "script-injection" => {
            let info = harden_transforms::script_injection::INFO.name;
            let info = harden_transforms::registry::find(info).ok_or("script-injection")?;
            let target = transforms::RegistryTarget::new(info, workflows())
                .map_err(|e| format!("{name}: {e}"))?
                .map(|t| t.with_rule(transforms::script_moved));
            return Ok(target.map(|t| Box::new(t) as Box<dyn Target>));
        }
        "pktline" => Box::new(github::PktLineTarget::new(&corpus.repos)),
        "refs-json" => Box::new(github::RefsJsonTarget::new(&corpus.repos).map_err(io)?),
        "git-response" => Box::new(github::GitResponseTarget::new(&corpus.repos).map_err(io)?),
        "rest-response" => Box::new(github::RestResponseTarget::new(&corpus.repos).map_err(io)?),
        "hostile-refs" => Box::new(hostile::HostileRefsTarget::new(&corpus.repos).map_err(io)?),
        "actions-lock" => Box::new(readers::ActionsLockTarget::new()),
        other => match harden_transforms::registry::find(other) {
            // A transform without a harness of its own: the generic one, when it can run.
            Some(info) => {
                let target = transforms::RegistryTarget::new(info, workflows())
                    .map_err(|e| format!("{name}: {e}"))?;
                return Ok(target.map(|t| Box::new(t) as Box<dyn Target>));
            }
            None => {
                return Err(format!(
                    "unknown target `{other}`; targets: {}, all",
                    targets().join(", ")
                ))
            }
        },
    }))
}
