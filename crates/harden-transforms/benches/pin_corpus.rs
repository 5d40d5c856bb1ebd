//! Pins the whole shared corpus against the local test server with 50 ms of added latency per
//! request: requests made, cold time (empty cache), warm times (same cache), for 8 and 16 jobs.
//!
//! Run with `cargo bench -p harden-transforms --bench pin_corpus`.
#![allow(clippy::print_stdout)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use harden_github::{RepoId, Resolver, ResolverConfig, ResolverStats};
use harden_testserver::{default_refs_dir, ServerOptions, TestServer};
use harden_transforms::pin_actions::{parse_uses, uses_sites, PinActions, PinOptions};
use harden_transforms::{FileKind, Repository, SourceFile, Transform};

const LATENCY: Duration = Duration::from_millis(50);

/// One repository per `<owner>__<repo>` folder: workflows and `action.y*ml` files that parse.
fn corpus() -> Vec<Repository> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("the corpus in ../shared/corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut repos = Vec::new();
    for dir in dirs {
        let paths = harden_testserver::files_under(&dir);
        let mut files = Vec::new();
        for path in paths {
            let rel = path
                .strip_prefix(&dir)
                .expect("inside")
                .to_string_lossy()
                .replace('\\', "/");
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
            let kind = if rel.starts_with(".github/workflows/") && yaml {
                FileKind::Workflow
            } else if name == "action.yml" || name == "action.yaml" {
                FileKind::Action
            } else {
                continue;
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file = SourceFile::new(path.strip_prefix(&root).expect("inside"), kind, text);
            if file.document().is_some() {
                files.push(file);
            }
        }
        repos.push(Repository { root: dir, files });
    }
    repos
}

fn unique_repositories(repos: &[Repository]) -> usize {
    let mut unique = BTreeSet::<RepoId>::new();
    for file in repos.iter().flat_map(|r| &r.files) {
        if let Some(doc) = file.document() {
            for (_, node) in uses_sites(file.kind, doc) {
                if let Ok(u) = parse_uses(node.as_str().unwrap_or_default()) {
                    unique.insert(u.repo);
                }
            }
        }
    }
    unique.len()
}

fn resolver(url: &str, cache: &Path, jobs: usize) -> Arc<Resolver> {
    let config = ResolverConfig {
        server_url: url.to_owned(),
        api_url: url.to_owned(),
        cache_dir: Some(cache.to_owned()),
        jobs,
        ..ResolverConfig::default()
    };
    Arc::new(Resolver::new(config).expect("resolver"))
}

/// Pins every repository with `pin` (one batch of fetches first); returns the wall time and
/// the number of files changed.
fn pin_all(pin: &PinActions, repos: &[Repository]) -> (Duration, usize) {
    let start = Instant::now();
    pin.prefetch(repos);
    let changed: usize = repos.iter().map(|r| pin.run(r).changes.len()).sum();
    (start.elapsed(), changed)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs it too: keep that quick.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return;
    }
    let repos = corpus();
    let files: usize = repos.iter().map(|r| r.files.len()).sum();
    let unique = unique_repositories(&repos);
    let server = TestServer::start_with(
        default_refs_dir(),
        ServerOptions::default().latency(LATENCY),
    )
    .expect("start the test server");
    println!(
        "pin-actions over the corpus: {} repositories, {files} files, {unique} unique referenced repositories ({} served), {} ms latency per request",
        repos.len(),
        server.repo_names().len(),
        LATENCY.as_millis()
    );
    let mut ok = true;
    for jobs in [8, 16] {
        let cache = tempfile::tempdir().expect("tempdir");
        let cold_resolver = resolver(&server.url(), cache.path(), jobs);
        let pin = PinActions::new(Arc::clone(&cold_resolver), PinOptions::default());
        let (cold, changed) = pin_all(&pin, &repos);
        let cold_stats: ResolverStats = cold_resolver.stats();

        // Same cache, new resolver and transform: found repositories come from the cache.
        let warm_resolver = resolver(&server.url(), cache.path(), jobs);
        let warm_pin = PinActions::new(Arc::clone(&warm_resolver), PinOptions::default());
        let (warm, _) = pin_all(&warm_pin, &repos);
        let warm_stats = warm_resolver.stats();

        // Same transform again: everything is known, no request at all.
        let before = cold_resolver.stats().requests;
        let (known, _) = pin_all(&pin, &repos);
        let known_requests = cold_resolver.stats().requests - before;

        // Empty cache again, without the batch: one smaller batch per repository.
        let cache = tempfile::tempdir().expect("tempdir");
        let batchless_resolver = resolver(&server.url(), cache.path(), jobs);
        let batchless = PinActions::new(Arc::clone(&batchless_resolver), PinOptions::default());
        let start = Instant::now();
        for repo in &repos {
            batchless.run(repo);
        }
        let per_repo = start.elapsed();

        let ideal = LATENCY.mul_f64(unique as f64 / jobs as f64);
        let target = ideal * 2 + known;
        let within = cold <= target && cold_stats.requests as usize == unique;
        ok &= within;
        println!("jobs={jobs}:");
        println!(
            "  cold  (empty cache):                 {:>8}  requests {} (unique repositories {unique}), {} fetched, {} failed, {changed} files changed",
            ms(cold), cold_stats.requests, cold_stats.fetched, cold_stats.failed
        );
        println!(
            "  warm  (same cache, new resolver):    {:>8}  requests {} (repositories not found are not cached), {} cache hits",
            ms(warm), warm_stats.requests, warm_stats.cache_hits
        );
        println!(
            "  warm  (same transform, all known):   {:>8}  requests {known_requests}",
            ms(known)
        );
        println!(
            "  cold, no prefetch (per repository): {:>8}  requests {}",
            ms(per_repo),
            batchless_resolver.stats().requests
        );
        println!(
            "  target: cold <= 2 x ({unique} / {jobs} x {} ms = {}) + {} = {}: {}",
            LATENCY.as_millis(),
            ms(ideal),
            ms(known),
            ms(target),
            if within { "met" } else { "NOT MET" }
        );
    }
    if !ok {
        std::process::exit(1);
    }
}
