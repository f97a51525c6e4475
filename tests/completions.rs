//! `completions` and `man`: generated from the CLI, work in an empty directory.

mod common;

use common::*;
use std::process::Command;

fn run_in_empty_dir(args: &[&str]) -> std::process::Output {
    let d = tempfile::tempdir().unwrap();
    Command::new(bin())
        .args(args)
        .current_dir(d.path())
        .env_remove("ROADMAP_FILE")
        .output()
        .unwrap()
}

#[test]
fn completion_scripts_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let out = run_in_empty_dir(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        assert!(script.contains("roadmap-runner"), "{shell}");
        // The subcommands are completed too.
        assert!(
            script.contains("validate") && script.contains("logs") && script.contains("demo"),
            "{shell}"
        );
        // Hidden ones are not.
        assert!(!script.contains("simulate-agent"), "{shell}");
        assert_eq!(stderr(&out), "", "{shell}");
    }
    let out = run_in_empty_dir(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(64));
}

#[test]
fn man_page() {
    let out = run_in_empty_dir(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.starts_with(".TH") || page.starts_with(".ie"), "{page}");
    assert!(page.contains("roadmap\\-runner"), "{page}");
    assert!(page.contains("validate"), "{page}");
    assert!(page.contains("logs"), "{page}");
}

#[test]
fn man_page_sections() {
    let out = run_in_empty_dir(&["man"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = stdout(&out);
    let headings: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix(".SH "))
        .collect();
    assert_eq!(
        headings,
        [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "SUBCOMMANDS",
            "EXAMPLES",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "CONFIGURATION",
            "VERSION"
        ]
    );
    assert!(
        !page.contains("simulate\\-agent"),
        "the hidden subcommand stays hidden"
    );
    // The sections written by hand, as roff (the rest comes from clap).
    let start = page.find(".SH EXAMPLES").unwrap();
    let end = page.find(".SH VERSION").unwrap();
    insta::assert_snapshot!("man_page_sections", &page[start..end]);
}
