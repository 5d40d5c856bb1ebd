//! Literal images behind `${{ matrix.<name> }}`: a job container or service whose image is a
//! matrix variable, with the images written in the job's `strategy.matrix` (the list, and the
//! `include`/`exclude` entries that name the variable), gets those values pinned where they
//! are written, where harden sees every image the job can run.
//!
//! The values are pinned only when every one is a literal and the variable is used nowhere
//! else in the job but at image sites and in `name:` values: an `if: matrix.image == 'gcc:15'`
//! or a script that tests the value would change meaning with `@sha256:…` after it.
//! `include` and `exclude` entries that name the variable are pinned with the list, so that
//! they keep matching the same combinations.

use harden_yaml::{Document, Node, NodeKind, Path, Seg, Span};

/// The variable an image expression is exactly: `image` for `${{ matrix.image }}`.
pub(crate) fn matrix_variable(value: &str) -> Option<&str> {
    let inner = value.trim().strip_prefix("${{")?.strip_suffix("}}")?.trim();
    let name = inner.strip_prefix("matrix.")?;
    let simple = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    simple.then_some(name)
}

/// The job path (`jobs.<id>`) of a site path below it.
pub(crate) fn job_of(site: &Path) -> Option<Path> {
    match site.segs.as_slice() {
        [Seg::Key(jobs), Seg::Key(id), ..] if jobs == "jobs" => {
            Some(Path::root(site.doc).key("jobs").key(id))
        }
        _ => None,
    }
}

/// What the values of one matrix variable of a job are.
#[derive(Debug)]
pub(crate) enum MatrixImages<'d> {
    /// Every value, literal, with its path: the list first, then `include`, then `exclude`.
    Literal(Vec<(Path, &'d Node)>),
    /// Why they are not pinned.
    Held(String),
}

/// A literal scalar (not an alias, not an expression).
fn literal(node: &Node) -> bool {
    node.as_scalar().is_some_and(|s| !s.value.contains("${{"))
}

/// The values of `matrix.<name>` in the job at `job`, if all are literal and the variable is
/// used only where an image or a name is written.
pub(crate) fn matrix_values<'d>(doc: &'d Document, job: &Path, name: &str) -> MatrixImages<'d> {
    let matrix_path = job.key("strategy").key("matrix");
    let Some(matrix) = doc.get(&matrix_path) else {
        return MatrixImages::Held(format!(
            "the job's `strategy.matrix` does not list `{name}` in this file"
        ));
    };
    if matrix.as_mapping().is_none() {
        return MatrixImages::Held("the job's `strategy.matrix` is an expression".to_owned());
    }
    let mut values: Vec<(Path, &Node)> = Vec::new();
    let list = matrix_path.key(name);
    match doc.get(&list).map(|n| &n.kind) {
        None => {}
        Some(NodeKind::Sequence(seq)) => {
            for (i, item) in seq.items.iter().enumerate() {
                values.push((list.index(i), item));
            }
        }
        Some(_) => {
            return MatrixImages::Held(format!("`matrix.{name}` is not a list of images"));
        }
    }
    for part in ["include", "exclude"] {
        let entries = matrix_path.key(part);
        let Some(NodeKind::Sequence(seq)) = doc.get(&entries).map(|n| &n.kind) else {
            continue;
        };
        for i in 0..seq.items.len() {
            let at = entries.index(i).key(name);
            if let Some(node) = doc.get(&at) {
                values.push((at, node));
            }
        }
    }
    if values.is_empty() {
        return MatrixImages::Held(format!(
            "the job's `strategy.matrix` does not list `{name}`"
        ));
    }
    if let Some((_, node)) = values.iter().find(|(_, n)| !literal(n)) {
        return MatrixImages::Held(format!(
            "a value of `matrix.{name}` (line {}) is not a literal",
            node.line
        ));
    }
    if let Some(line) = other_use(doc, job, name) {
        return MatrixImages::Held(format!(
            "`matrix.{name}` is also used at line {line}, where a value with `@sha256:…` could \
             change what the job does"
        ));
    }
    MatrixImages::Literal(values)
}

/// The spans where `matrix.<name>` may appear: the job's image sites and `name:` values.
fn allowed_spans(doc: &Document, job: &Path) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut add = |path: Path| {
        if let Some(node) = doc.get(&path) {
            spans.push(node.span);
        }
    };
    add(job.key("container"));
    add(job.key("container").key("image"));
    add(job.key("name"));
    let mut sub = |key: &str, leaf: &str| {
        let base = job.key(key);
        match doc.get(&base).map(|n| &n.kind) {
            Some(NodeKind::Mapping(m)) => {
                for e in &m.entries {
                    if let Some(k) = e.key_str() {
                        add(base.key(k).key(leaf));
                    }
                }
            }
            Some(NodeKind::Sequence(s)) => {
                for i in 0..s.items.len() {
                    add(base.index(i).key(leaf));
                }
            }
            _ => {}
        }
    };
    sub("services", "image");
    sub("steps", "name");
    spans
}

/// The line of a use of `matrix.<name>` in the job other than at an image site or in a name.
fn other_use(doc: &Document, job: &Path, name: &str) -> Option<usize> {
    let span = doc.get(job)?.span;
    let text = &doc.text()[span.range()];
    let allowed = allowed_spans(doc, job);
    let needle = format!("matrix.{name}");
    text.match_indices(&needle).find_map(|(at, _)| {
        let start = span.start + at;
        let end = start + needle.len();
        let next = doc.text()[end..].chars().next();
        let same_name = next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        let inside = allowed.iter().any(|s| s.start <= start && end <= s.end);
        (!same_name && !inside).then(|| doc.location(start).line)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables() {
        assert_eq!(
            matrix_variable("${{ matrix.container }}"),
            Some("container")
        );
        assert_eq!(matrix_variable("${{matrix.img_1}}"), Some("img_1"));
        assert_eq!(matrix_variable("${{ matrix.cfg.image }}"), None);
        assert_eq!(matrix_variable("${{ matrix.image || 'x' }}"), None);
        assert_eq!(matrix_variable("node:20"), None);
    }

    fn verdict(text: &str) -> Result<usize, String> {
        let doc = Document::parse(text).expect("parses");
        let job = Path::root(0).key("jobs").key("a");
        match matrix_values(&doc, &job, "image") {
            MatrixImages::Literal(v) => Ok(v.len()),
            MatrixImages::Held(why) => Err(why),
        }
    }

    #[test]
    fn literal_values_are_found_with_include_and_exclude() {
        let text = "jobs:\n  a:\n    name: build ${{ matrix.image }}\n    strategy:\n      matrix:\n        image: [gcc:15, 'silkeh/clang:20']\n        os: [a, b]\n        include:\n          - image: gcc:15\n            extra: x\n        exclude:\n          - {image: 'silkeh/clang:20', os: b}\n    container: ${{ matrix.image }}\n    steps:\n      - name: on ${{ matrix.image }}\n        run: make\n";
        assert_eq!(verdict(text), Ok(4));
    }

    #[test]
    fn other_uses_and_expressions_hold_back() {
        let used = "jobs:\n  a:\n    strategy:\n      matrix:\n        image: [gcc:15]\n    container: ${{ matrix.image }}\n    steps:\n      - if: matrix.image == 'gcc:15'\n        run: make\n";
        assert!(verdict(used).is_err_and(|w| w.contains("line 8")));
        let expression = "jobs:\n  a:\n    strategy:\n      matrix: ${{ fromJSON(needs.x.outputs.m) }}\n    container: ${{ matrix.image }}\n";
        assert!(verdict(expression).is_err());
        let computed = "jobs:\n  a:\n    strategy:\n      matrix:\n        image: [gcc:15, '${{ vars.IMG }}']\n    container: ${{ matrix.image }}\n";
        assert!(verdict(computed).is_err_and(|w| w.contains("not a literal")));
        // `matrix.image_tag` is another variable.
        let other = "jobs:\n  a:\n    strategy:\n      matrix:\n        image: [gcc:15]\n        image_tag: [x]\n    container: ${{ matrix.image }}\n    steps:\n      - run: echo ${{ matrix.image_tag }}\n";
        assert_eq!(verdict(other), Ok(1));
    }
}
