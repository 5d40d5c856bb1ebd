//! Prints the node tree of a YAML file with each node's span text: a debugging aid.
#![allow(clippy::print_stdout, missing_docs)]

use harden_yaml::{Document, Node, NodeKind};

fn show(doc: &Document, node: &Node, depth: usize) {
    let pad = "  ".repeat(depth);
    let text = &doc.text()[node.span.range()];
    match &node.kind {
        NodeKind::Scalar(s) => println!(
            "{pad}scalar {:?} {}:{} token={:?} span={:?}",
            s.style,
            node.line,
            node.column,
            &doc.text()[s.token.range()],
            text
        ),
        NodeKind::Alias(a) => println!("{pad}alias {a}"),
        NodeKind::Mapping(m) => {
            println!(
                "{pad}mapping flow={} indent={} {}:{}",
                m.flow, m.indent, node.line, node.column
            );
            for e in &m.entries {
                show(doc, &e.key, depth + 1);
                show(doc, &e.value, depth + 2);
            }
        }
        NodeKind::Sequence(s) => {
            println!(
                "{pad}sequence flow={} indent={} {}:{}",
                s.flow, s.indent, node.line, node.column
            );
            for i in &s.items {
                show(doc, i, depth + 1);
            }
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: yamlspans FILE")?;
    let doc = Document::parse(std::fs::read_to_string(path)?)?;
    for d in doc.documents() {
        show(&doc, d, 0);
    }
    for c in doc.comments() {
        println!("comment {:?}", &doc.text()[c.span.range()]);
    }
    Ok(())
}
