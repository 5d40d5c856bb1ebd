//! `harden-fuzz-afl TARGET`: one fuzz target under AFL++ (coverage-guided), through the `afl`
//! crate. Built by `cargo afl build --features afl`; run by `crates/harden-fuzz/afl-run`, or:
//!
//! ```text
//! cargo afl fuzz -i SEEDS -o OUT -x DICT -- target/debug/harden-fuzz-afl yaml
//! ```
//!
//! The input is the target's input (a YAML file, a pkt-line stream, a JSON answer...); the
//! target's other choices come from a hash of the input ([`harness::choice_seed_of`]), so a
//! crash file replays alone: `harden-fuzz replay --target yaml FILE`. A panic, or a property
//! that does not hold (not a known bug), aborts: AFL++ records it as a crash.

use std::io::Write;
use std::panic::AssertUnwindSafe;

use harden_fuzz::engine::Target;
use harden_fuzz::harness;

fn main() {
    let name = std::env::args().nth(1).unwrap_or_else(|| "yaml".to_owned());
    if !harden_fuzz::targets::targets().contains(&name.as_str()) {
        let known = harden_fuzz::targets::targets().join(", ");
        let _ = writeln!(
            std::io::stderr(),
            "harden-fuzz-afl: unknown target `{name}`; targets: {known}"
        );
        std::process::exit(2);
    }
    // The corpus is read before AFL++'s fork server starts (once, and its code does not count
    // as the first case's coverage); the target is made on the first input, inside the process
    // AFL++ forked: the github targets start a local server thread, and threads do not survive
    // a fork.
    let corpus = harness::small_corpus();
    let mut target: AssertUnwindSafe<Option<Box<dyn Target>>> = AssertUnwindSafe(None);
    afl::fuzz(true, move |input: &[u8]| {
        let target = target.get_or_insert_with(|| match harness::make_runnable(&name, &corpus) {
            Ok(t) => t,
            Err(e) => panic!("harden-fuzz-afl: {e}"),
        });
        if let Err(problem) = harness::check_one(target.as_mut(), input) {
            panic!("{problem}");
        }
    });
}
