use super::*;

#[test]
fn file_name() {
    assert_eq!(
        report_file_name(&GroupKey::new(1, "A")),
        "PHASE1-GROUP-A-STATUS.md"
    );
    assert_eq!(
        report_file_name(&GroupKey::new(12, "AB")),
        "PHASE12-GROUP-AB-STATUS.md"
    );
}

#[test]
fn durations() {
    assert_eq!(fmt_duration(Duration::from_millis(12_345)), "12.3s");
    assert_eq!(fmt_duration(Duration::from_secs(245)), "4m 05s");
    assert_eq!(fmt_duration(Duration::from_secs(3723)), "1h 02m 03s");
}

#[test]
fn quoting_neutralises_structure() {
    let q =
        quote_block("# Done\n\nSome <div> text `<b>` kept\nTitle\n---\n```rust\n# not a heading\n");
    assert_eq!(
        q,
        "> **Done**\n>\n> Some &lt;div> text `<b>` kept\n> Title\n> \\---\n> ```rust\n> # not a heading\n> ```\n\n"
    );
}

#[test]
fn outcome_details_stay_on_one_line() {
    let o = TaskOutcome::Failed {
        exit_code: Some(2),
        signal: None,
        reason: "exit 2:\n<error> in `a<b>`".into(),
    };
    assert_eq!(
        inline_text(&outcome_detail(&o)),
        "failed: exit 2: &lt;error> in `a<b>`"
    );
    assert_eq!(
        outcome_detail(&TaskOutcome::TimedOut { after_secs: 3600 }),
        "timed out after 1h 00m"
    );
    assert_eq!(heading_text("C #"), "C \\#");
}

#[test]
fn a_sub_roadmap_nests_deeper_splits_further() {
    let leaf = |id: &str, outcome: &str| SubTaskReport {
        id: id.into(),
        title: "Part".into(),
        outcome: outcome.into(),
        attempts: 1,
        cost_usd: None,
        sub: Vec::new(),
    };
    let group = |id: &str, tasks| SubGroupReport {
        id: id.into(),
        title: "# Not a heading".into(),
        annotation: Some("Parallel".into()),
        state: "pending".into(),
        tasks,
    };
    let mut split = leaf("1:A:A2/1:A:A1", "split into 1 sub-tasks");
    split.sub = vec![group(
        "1:A:A2/1:A:A1/1:A",
        vec![leaf("1:A:A2/1:A:A1/1:A:A1", "succeeded")],
    )];
    let groups = vec![group(
        "1:A:A2/1:A",
        vec![split, leaf("1:A:A2/1:A:A2", "failed: exit code 1")],
    )];
    let mut out = String::new();
    render_sub_roadmap(&groups, &mut out);
    assert_eq!(
        out,
        "- **Sub-roadmap:** 0/2 sub-tasks done\n\
         \x20 - Group 1:A:A2/1:A: # Not a heading (Parallel) · pending\n\
         \x20   - 1:A:A2/1:A:A1: Part · split into 1 sub-tasks\n\
         \x20     - Group 1:A:A2/1:A:A1/1:A: # Not a heading (Parallel) · pending\n\
         \x20       - 1:A:A2/1:A:A1/1:A:A1: Part · succeeded\n\
         \x20   - 1:A:A2/1:A:A2: Part · failed: exit code 1\n"
    );
}

#[test]
fn cells_and_code_spans_keep_their_column() {
    assert_eq!(cell("a | b \\ c\nd"), "a \\| b \\\\ c d");
    assert_eq!(code_span("echo `x` | tee", true), "``echo `x` \\| tee``");
    assert_eq!(code_span("`x", false), "`` `x ``");
}
