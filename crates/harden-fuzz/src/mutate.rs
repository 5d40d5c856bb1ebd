//! The mutator: small, deterministic changes to seed inputs, aimed at what breaks YAML tools
//! (indicators, indentation, anchors, line structure) and at framing (pkt-line lengths, JSON).

use crate::rng::Rng;

/// Inputs never grow past this many bytes (keeps every case fast).
pub const MAX_INPUT: usize = 1 << 20;

/// The deepest nesting the `nest` mutation writes. Deeper block nesting overflows the stack
/// in `harden-yaml` (a reported bug with its own regression test); fuzzing every case into it
/// would only find that one crash again and again.
pub const MAX_NEST: usize = 300;

/// Characters that mean something to YAML.
pub const YAML_CHARS: &[u8] = b":-[]{}#&*!|>'\"\n\t ,?%@`";

/// Short YAML fragments inserted or swapped in.
pub const YAML_TOKENS: &[&str] = &[
    ": ",
    "- ",
    "-",
    "#",
    " # c",
    "&a ",
    "*a",
    "&anchor ",
    "*anchor",
    "<<: *a",
    "<<: ",
    "!!str ",
    "!!int ",
    "!custom ",
    "? ",
    "---\n",
    "...\n",
    "|\n",
    "|-\n",
    ">+\n",
    "|2\n",
    "\"",
    "'",
    "''",
    "\\",
    "\\u",
    "\\x",
    "\t",
    "\r\n",
    "\r",
    "\u{feff}",
    "\u{85}",
    "\u{2028}",
    "\u{0}",
    "${{ ",
    " }}",
    "@",
    "@v4",
    "@main",
    "@0123456789abcdef0123456789abcdef01234567",
    "uses: ",
    "uses: actions/checkout@v4",
    "uses: actions/cache@v4 # v4",
    "- uses: actions/setup-node@v4\n",
    "{uses: actions/checkout@v4}",
    "[a, b]",
    "{}",
    "[]",
    "{a: 1, b: [2, {c: d}]}",
    "permissions: write-all",
    "permissions: {}",
    "contents: read",
    "on",
    "yes",
    "no",
    "true",
    "null",
    "~",
    "0x1F",
    "1e3",
    ".inf",
    "2001-12-14",
    "jobs:\n",
    "steps:\n",
    "updates:\n",
    "version: 2\n",
    "package-ecosystem: github-actions\n",
    "directory: /\n",
    "directories: [\"/\", \"/a/*\"]\n",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "é",
    "😀",
];

/// Short JSON fragments.
pub const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "null",
    "true",
    "false",
    "0",
    "-0",
    "1e999",
    "-1",
    "18446744073709551616",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\\"\"",
    "\"refs/tags/v1\"",
    "\"refs/heads/main\"",
    "\"commit\"",
    "\"tag\"",
    "\"tree\"",
    "\"sha\"",
    "\"0123456789abcdef0123456789abcdef01234567\"",
    "\"../../x\"",
    "\"v1\\nx\"",
    "{\"sha\": 1}",
    "[{}]",
    "\u{feff}",
];

/// Fragments of pkt-line payloads.
pub const PKT_TOKENS: &[&str] = &[
    " ",
    "\n",
    "\0",
    "HEAD",
    "refs/tags/",
    "refs/heads/",
    "^{}",
    "peeled:",
    "symref-target:",
    "symref=HEAD:refs/heads/",
    "unborn",
    "ERR ",
    "version 2",
    "# service=git-upload-pack",
    "capabilities^{}",
    "0123456789abcdef0123456789abcdef01234567",
    "0000",
    "0001",
    "0002",
    "0003",
    "fff0",
    "ffff",
];

/// Which kind of input is mutated: chooses the fragments and the structure-aware steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// YAML text.
    Yaml,
    /// JSON text.
    Json,
    /// A pkt-line stream.
    PktLine,
}

impl Flavor {
    fn tokens(self) -> &'static [&'static str] {
        match self {
            Flavor::Yaml => YAML_TOKENS,
            Flavor::Json => JSON_TOKENS,
            Flavor::PktLine => PKT_TOKENS,
        }
    }
}

/// Mutates `input` in place with 1 to `max_steps` random steps; `others` are the other seeds,
/// for splicing.
pub fn mutate(
    rng: &mut Rng,
    input: &mut Vec<u8>,
    others: &[Vec<u8>],
    flavor: Flavor,
    max_steps: usize,
) {
    // Mostly one or two steps: more of the cases still parse and reach the deeper layers.
    let steps = rng
        .range(1, max_steps.max(1))
        .min(rng.range(1, max_steps.max(1)));
    for _ in 0..steps {
        if flavor == Flavor::PktLine && rng.one_in(2) {
            mutate_packets(rng, input);
        } else {
            mutate_once(rng, input, others, flavor);
        }
        input.truncate(MAX_INPUT);
    }
}

/// One random mutation step.
pub fn mutate_once(rng: &mut Rng, input: &mut Vec<u8>, others: &[Vec<u8>], flavor: Flavor) {
    let len = input.len();
    match rng.below(18) {
        // Flip one bit.
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        // Overwrite a byte with a significant character.
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = significant(rng, flavor);
        }
        // Insert a significant character.
        2 => {
            let c = significant(rng, flavor);
            input.insert(rng.below(len + 1), c);
        }
        // Insert a fragment.
        3 | 4 => {
            let token = rng.pick(flavor.tokens()).copied().unwrap_or(" ");
            let at = char_boundary(input, rng.below(len + 1));
            input.splice(at..at, token.bytes());
        }
        // Delete a few bytes.
        5 if len > 0 => {
            let at = rng.below(len);
            let n = rng.range(1, 8).min(len - at);
            input.drain(at..at + n);
        }
        // Replace a word with a fragment.
        6 => replace_word(rng, input, flavor),
        // Duplicate a line.
        7 => {
            let lines = line_spans(input);
            if let Some(&(s, e)) = rng.pick(&lines) {
                let copy = input[s..e].to_vec();
                input.splice(e..e, copy);
            }
        }
        // Delete a line.
        8 => {
            let lines = line_spans(input);
            if let Some(&(s, e)) = rng.pick(&lines) {
                input.drain(s..e);
            }
        }
        // Indent or dedent a line.
        9 => reindent(rng, input),
        // Splice lines from another seed.
        10 | 11 => splice_from(rng, input, others),
        // Swap two lines.
        12 => {
            let lines = line_spans(input);
            if lines.len() >= 2 {
                let a = lines[rng.below(lines.len())];
                let b = lines[rng.below(lines.len())];
                let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                if first.1 <= second.0 {
                    let x = input[first.0..first.1].to_vec();
                    let y = input[second.0..second.1].to_vec();
                    input.splice(second.0..second.1, x);
                    input.splice(first.0..first.1, y);
                }
            }
        }
        // Truncate.
        13 if len > 0 => {
            let at = rng.below(len);
            input.truncate(at);
        }
        // Nest: many openers (flow or block) at one place.
        14 => nest(rng, input, flavor),
        // Repeat a chunk.
        15 if len > 0 => {
            let at = rng.below(len);
            let n = rng.range(1, 64).min(len - at);
            let chunk = input[at..at + n].to_vec();
            let times = rng.range(2, 64);
            let mut blob = Vec::with_capacity(chunk.len() * times);
            for _ in 0..times {
                blob.extend_from_slice(&chunk);
            }
            if input.len() + blob.len() <= MAX_INPUT {
                input.splice(at..at, blob);
            }
        }
        // Line endings and byte-order mark.
        16 => {
            if rng.one_in(2) {
                let mut out = Vec::with_capacity(input.len() + input.len() / 16);
                for &b in input.iter() {
                    if b == b'\n' {
                        out.push(b'\r');
                    }
                    out.push(b);
                }
                *input = out;
            } else if !input.starts_with("\u{feff}".as_bytes()) {
                input.splice(0..0, "\u{feff}".bytes());
            }
        }
        // Insert a random byte.
        _ => {
            let b = (rng.next_u64() & 0xff) as u8;
            input.insert(rng.below(len + 1), b);
        }
    }
}

fn significant(rng: &mut Rng, flavor: Flavor) -> u8 {
    let set: &[u8] = match flavor {
        Flavor::Yaml => YAML_CHARS,
        Flavor::Json => b"{}[]\",:\\0-e.",
        Flavor::PktLine => b"0123456789abcdef \n\0^{}",
    };
    set.get(rng.below(set.len())).copied().unwrap_or(b' ')
}

/// Moves `at` back to the start of a UTF-8 character, so fragments keep valid text valid.
fn char_boundary(input: &[u8], mut at: usize) -> usize {
    while at > 0 && at < input.len() && (input[at] & 0xC0) == 0x80 {
        at -= 1;
    }
    at
}

/// `(start, end)` of every line, line break included.
pub fn line_spans(input: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in input.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < input.len() {
        out.push((start, input.len()));
    }
    out
}

fn replace_word(rng: &mut Rng, input: &mut Vec<u8>, flavor: Flavor) {
    if input.is_empty() {
        return;
    }
    let at = rng.below(input.len());
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'/' || b == b'.';
    if !is_word(input[at]) {
        return;
    }
    let mut s = at;
    while s > 0 && is_word(input[s - 1]) {
        s -= 1;
    }
    let mut e = at;
    while e < input.len() && is_word(input[e]) {
        e += 1;
    }
    let token = rng.pick(flavor.tokens()).copied().unwrap_or("x");
    input.splice(s..e, token.bytes());
}

fn reindent(rng: &mut Rng, input: &mut Vec<u8>) {
    let lines = line_spans(input);
    let Some(&(s, _)) = rng.pick(&lines) else {
        return;
    };
    match rng.below(4) {
        0 => {
            let n = rng.range(1, 4);
            input.splice(s..s, std::iter::repeat_n(b' ', n));
        }
        1 => {
            let mut n = 0;
            while s + n < input.len() && input[s + n] == b' ' && n < 4 {
                n += 1;
            }
            let take = rng.range(1, 4).min(n);
            input.drain(s..s + take);
        }
        2 => input.insert(s, b'\t'),
        _ => {
            // Copy the indentation of another line.
            let Some(&(o, _)) = rng.pick(&lines) else {
                return;
            };
            let indent: Vec<u8> = input[o..]
                .iter()
                .take_while(|b| **b == b' ')
                .copied()
                .collect();
            let mut n = 0;
            while s + n < input.len() && input[s + n] == b' ' {
                n += 1;
            }
            input.splice(s..s + n, indent);
        }
    }
}

fn splice_from(rng: &mut Rng, input: &mut Vec<u8>, others: &[Vec<u8>]) {
    let Some(other) = rng.pick(others) else {
        return;
    };
    let theirs = line_spans(other);
    if theirs.is_empty() {
        return;
    }
    let first = rng.below(theirs.len());
    let last = (first + rng.range(0, 12)).min(theirs.len() - 1);
    let chunk = other[theirs[first].0..theirs[last].1].to_vec();
    let ours = line_spans(input);
    let at = match rng.pick(&ours) {
        Some(&(s, _)) => s,
        None => input.len(),
    };
    if rng.one_in(3) {
        // Replace a run of our lines.
        let end_line = rng.below(ours.len().max(1));
        let end = ours.get(end_line).map_or(input.len(), |l| l.1).max(at);
        input.splice(at..end, chunk);
    } else {
        input.splice(at..at, chunk);
    }
}

fn nest(rng: &mut Rng, input: &mut Vec<u8>, flavor: Flavor) {
    let depth = if rng.one_in(4) {
        rng.range(200, MAX_NEST)
    } else {
        rng.range(2, 40)
    };
    let (open, close): (&str, &str) = match (flavor, rng.below(4)) {
        (Flavor::Json, 0 | 1) => ("[", "]"),
        (Flavor::Json, _) => ("{\"a\":", "}"),
        (_, 0) => ("[", "]"),
        (_, 1) => ("{a: ", "}"),
        (_, 2) => ("- ", ""),
        _ => ("", ""),
    };
    let at = char_boundary(input, rng.below(input.len() + 1));
    let mut blob = String::new();
    if open.is_empty() {
        // Block mappings, one level per line.
        blob.push('\n');
        for level in 0..depth.min(120) {
            blob.push_str(&" ".repeat(level));
            blob.push_str("k:\n");
        }
    } else {
        blob.push_str(&open.repeat(depth));
        if rng.one_in(2) {
            blob.push('x');
            blob.push_str(&close.repeat(depth));
        }
    }
    input.splice(at..at, blob.into_bytes());
}

/// One packet as split by [`split_packets`]: its 4-byte header and its payload (`None` for the
/// flush, delim and response-end markers).
type RawPacket = (Vec<u8>, Option<Vec<u8>>);

/// A lenient split of a pkt-line stream into packets (`None` for flush/delim/end markers,
/// keeping their header); stops at the first malformed header and keeps the rest raw.
fn split_packets(input: &[u8]) -> (Vec<RawPacket>, Vec<u8>) {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 4 <= input.len() {
        let header = &input[pos..pos + 4];
        let Some(len) = std::str::from_utf8(header)
            .ok()
            .and_then(|h| usize::from_str_radix(h, 16).ok())
        else {
            break;
        };
        if len < 4 {
            out.push((header.to_vec(), None));
            pos += 4;
            continue;
        }
        if pos + len > input.len() {
            break;
        }
        out.push((header.to_vec(), Some(input[pos + 4..pos + len].to_vec())));
        pos += len;
    }
    (out, input[pos..].to_vec())
}

/// Structure-aware pkt-line mutation: change a payload and re-frame it, or add, drop,
/// duplicate or reorder packets.
pub fn mutate_packets(rng: &mut Rng, input: &mut Vec<u8>) {
    let (mut packets, rest) = split_packets(input);
    match rng.below(6) {
        0 | 1 => {
            if let Some(i) = (!packets.is_empty()).then(|| rng.below(packets.len())) {
                if let Some(payload) = packets[i].1.as_mut() {
                    mutate_once(rng, payload, &[], Flavor::PktLine);
                    payload.truncate(65516);
                    packets[i].0 = format!("{:04x}", payload.len() + 4).into_bytes();
                }
            }
        }
        2 => {
            let special = ["0000", "0001", "0002"][rng.below(3)];
            let at = rng.below(packets.len() + 1);
            packets.insert(at, (special.as_bytes().to_vec(), None));
        }
        3 if !packets.is_empty() => {
            packets.remove(rng.below(packets.len()));
        }
        4 if !packets.is_empty() => {
            let p = packets[rng.below(packets.len())].clone();
            packets.insert(rng.below(packets.len() + 1), p);
        }
        _ if packets.len() >= 2 => {
            let a = rng.below(packets.len());
            let b = rng.below(packets.len());
            packets.swap(a, b);
        }
        _ => {}
    }
    let mut out = Vec::with_capacity(input.len() + 8);
    for (header, payload) in packets {
        out.extend_from_slice(&header);
        if let Some(p) = payload {
            out.extend_from_slice(&p);
        }
    }
    out.extend_from_slice(&rest);
    *input = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutation_is_deterministic_and_bounded() {
        let seed = b"jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n".to_vec();
        let others = vec![b"on: push\n".to_vec()];
        for case in 0..500 {
            let mut a = seed.clone();
            let mut b = seed.clone();
            mutate(
                &mut Rng::for_case(9, case),
                &mut a,
                &others,
                Flavor::Yaml,
                8,
            );
            mutate(
                &mut Rng::for_case(9, case),
                &mut b,
                &others,
                Flavor::Yaml,
                8,
            );
            assert_eq!(a, b);
            assert!(a.len() <= MAX_INPUT);
        }
    }

    #[test]
    fn packet_mutation_keeps_framing_of_changed_payloads() {
        let mut input = b"0009peel\n0000".to_vec();
        let mut rng = Rng::new(1);
        for _ in 0..200 {
            mutate_packets(&mut rng, &mut input);
        }
        let (packets, _) = split_packets(&input);
        for (header, payload) in packets {
            if let Some(p) = payload {
                let len = usize::from_str_radix(std::str::from_utf8(&header).expect("hex"), 16);
                assert_eq!(len.expect("len"), p.len() + 4);
            }
        }
    }

    #[test]
    fn lines_are_split_with_their_breaks() {
        assert_eq!(line_spans(b"a\nbc\nd"), vec![(0, 2), (2, 5), (5, 6)]);
        assert!(line_spans(b"").is_empty());
    }
}
