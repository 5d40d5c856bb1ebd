//! Fetching while parsing: as soon as a file is parsed, the action repositories it refers to
//! are fetched on a bounded pool of threads, so the network round trips overlap with parsing
//! the other files. The resolver remembers every answer; pin-actions then finds them there.

use std::collections::HashSet;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use harden_github::{RepoId, Resolver};
use harden_transforms::globs::Globs;
use harden_transforms::pin_actions::{exempt_globs, parse_uses, uses_sites};
use harden_transforms::SourceFile;

/// Where parsed files announce the repositories they refer to.
pub(crate) struct Announcer<'a> {
    sender: Option<Sender<RepoId>>,
    exempt: &'a Globs,
}

impl Announcer<'_> {
    /// Sends every pinnable, non-exempt repository `file` refers to, to the fetchers.
    pub(crate) fn announce(&self, file: &SourceFile) {
        let (Some(sender), Some(doc)) = (&self.sender, file.document()) else {
            return;
        };
        for (_, node) in uses_sites(file.kind, doc) {
            if let Ok(uses) = parse_uses(node.as_str().unwrap_or_default()) {
                if !self.exempt.is_match(&uses.action) {
                    // The fetchers only stop after every sender is gone.
                    let _ = sender.send(uses.repo);
                }
            }
        }
    }
}

/// Runs `work` with an [`Announcer`] whose repositories are fetched by at most `jobs` threads
/// while `work` runs; returns once `work` is done and every announced repository is fetched.
/// Without a resolver (pin-actions not selected) nothing is fetched.
pub(crate) fn while_parsing<R>(
    resolver: Option<&Resolver>,
    jobs: usize,
    exempt: &[String],
    work: impl FnOnce(&Announcer<'_>) -> R,
) -> R {
    let exempt = &exempt_globs(exempt);
    let Some(resolver) = resolver else {
        return work(&Announcer {
            sender: None,
            exempt,
        });
    };
    let (sender, receiver) = channel::<RepoId>();
    let receiver = Arc::new(Mutex::new(receiver));
    let seen = Mutex::new(HashSet::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, 64) {
            let receiver = Arc::clone(&receiver);
            let seen = &seen;
            scope.spawn(move || fetch_announced(resolver, &receiver, seen));
        }
        let announcer = Announcer {
            sender: Some(sender),
            exempt,
        };
        work(&announcer)
        // `announcer` (the last sender) is dropped here: the fetchers finish what is queued.
    })
}

fn fetch_announced(
    resolver: &Resolver,
    receiver: &Mutex<Receiver<RepoId>>,
    seen: &Mutex<HashSet<RepoId>>,
) {
    loop {
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(repo) = next else { return };
        let first = seen.lock().is_ok_and(|mut seen| seen.insert(repo.clone()));
        if first {
            // Failures are reported by pin-actions when it asks again.
            let _ = resolver.fetch(&repo);
        }
    }
}
