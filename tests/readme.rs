//! The README's examples ("Uses") are files of the workspace, copied word for word, and the
//! two plain programs among them run (the criterion bench compiles as an example; the
//! property test runs as `tests/readme_proptest.rs`).

#[path = "../examples/readme_crates.rs"]
mod readme_crates;
#[path = "../examples/readme_web.rs"]
mod readme_web;

const README: &str = include_str!("../README.md");

/// The files the README shows, and their text.
const FILES: [(&str, &str); 4] = [
    (
        "examples/readme_crates.rs",
        include_str!("../examples/readme_crates.rs"),
    ),
    (
        "examples/readme_web.rs",
        include_str!("../examples/readme_web.rs"),
    ),
    (
        "examples/readme_criterion.rs",
        include_str!("../examples/readme_criterion.rs"),
    ),
    (
        "tests/readme_proptest.rs",
        include_str!("readme_proptest.rs"),
    ),
];

/// The bodies of the README's ```rust blocks.
fn rust_blocks() -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in README.lines() {
        match (&mut current, line) {
            (None, "```rust") => current = Some(String::new()),
            (Some(_), "```") => blocks.push(current.take().expect("inside a block")),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn every_rust_block_of_the_readme_is_a_file_word_for_word() {
    let blocks = rust_blocks();
    assert_eq!(blocks.len(), FILES.len(), "one block per file");
    for (path, text) in FILES {
        assert!(
            blocks.iter().any(|b| b == text),
            "README's copy of {path} differs from the file"
        );
    }
}

#[test]
fn the_readme_programs_run() {
    readme_crates::main().unwrap();
    readme_web::main().unwrap();
}
