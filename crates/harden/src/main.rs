//! The harden command-line tool.

fn main() {}
