//! Network-bound work on a bounded number of scoped threads (the resolver's refs, the file
//! reader's files): each thread takes the next item until none is left.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Runs `work` on every item with at most `workers` threads (on the calling thread when one
/// suffices), and returns the results in the order of `items`.
pub fn on_threads<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let workers = workers.clamp(1, items.len().max(1));
    if workers == 1 {
        return items.iter().map(work).collect();
    }
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    let next = AtomicUsize::new(0);
    let take = || loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(index) else { break };
        let result = work(item);
        results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((index, result));
    };
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(take);
        }
    });
    let mut results = results
        .into_inner()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::on_threads;

    #[test]
    fn results_keep_the_order_of_the_items() {
        let items: Vec<u32> = (0..100).collect();
        for workers in [0, 1, 3, 64, 500] {
            let doubled = on_threads(&items, workers, |n| n * 2);
            assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        }
        assert!(on_threads(&[] as &[u32], 8, |n| *n).is_empty());
    }
}
