//! Fetching while parsing: as soon as a file is parsed, the action repositories it refers to
//! are fetched on a bounded pool of threads, so the network round trips overlap with parsing
//! the other files. The resolver remembers every answer; pin-actions then finds them there.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Mutex;

use harden_github::{RepoId, Resolver};
use harden_transforms::globs::Globs;
use harden_transforms::pin_actions::{parse_uses, uses_sites};
use harden_transforms::SourceFile;

/// Where parsed files announce the repositories they refer to.
pub(crate) struct Announcer<'a> {
    /// Takes one announced repository: answers it from memory or the cache, or queues it for
    /// the fetching threads.
    request: Option<&'a (dyn Fn(RepoId) + Sync)>,
}

impl Announcer<'_> {
    /// Sends every pinnable repository `file` refers to, to the fetchers, except those
    /// `exempt` (the pin-actions exemptions of the file's repository, flags included) matches:
    /// pin-actions never asks for those.
    pub(crate) fn announce(&self, file: &SourceFile, exempt: &Globs) {
        let (Some(request), Some(doc)) = (self.request, file.document()) else {
            return;
        };
        for (_, node) in uses_sites(file.kind, doc) {
            if let Ok(uses) = parse_uses(node.as_str().unwrap_or_default()) {
                if !exempt.is_match(&uses.action) {
                    request(uses.repo);
                }
            }
        }
    }
}

/// Runs `work` with an [`Announcer`] whose repositories are fetched while `work` runs; returns
/// once `work` is done and every announced repository is fetched. A repository the resolver
/// can answer without a request (memory, recorded data, the cache) is answered on the spot, by
/// the parsing thread; the others are queued, and a fetching thread is started for each, up
/// to `jobs` (at most 64) threads: a warm run starts none. Without a resolver (pin-actions not
/// selected) nothing is fetched.
pub(crate) fn while_parsing<R>(
    resolver: Option<&Resolver>,
    jobs: usize,
    work: impl FnOnce(&Announcer<'_>) -> R,
) -> R {
    let Some(resolver) = resolver else {
        return work(&Announcer { request: None });
    };
    let (sender, receiver) = channel::<RepoId>();
    let receiver = Mutex::new(receiver);
    let seen = Mutex::new(HashSet::new());
    let started = AtomicUsize::new(0);
    let most = jobs.clamp(1, 64);
    std::thread::scope(|scope| {
        let receiver = &receiver;
        let request = |repo: RepoId| {
            let first = seen.lock().is_ok_and(|mut seen| seen.insert(repo.clone()));
            // Failures are reported by pin-actions when it asks again.
            if !first || resolver.fetch_local(&repo).is_some() {
                return;
            }
            // The fetchers only stop after the sender is gone.
            if sender.send(repo).is_ok() && started.fetch_add(1, Ordering::Relaxed) < most {
                scope.spawn(move || fetch_queued(resolver, receiver));
            }
        };
        let result = work(&Announcer {
            request: Some(&request),
        });
        // `request` is not used any more: with the sender gone the fetchers finish what is
        // queued and stop.
        drop(sender);
        result
    })
}

fn fetch_queued(resolver: &Resolver, receiver: &Mutex<Receiver<RepoId>>) {
    loop {
        let next = match receiver.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(repo) = next else { return };
        let _ = resolver.fetch(&repo);
    }
}
