//! A `tasks.jsonl` in today's format, checked in, still loads, and every
//! record written again is the same bytes: the file format does not drift.

use roadmap_runner::roadmap::{GroupKey, PhaseId};
use roadmap_runner::status::records::RECORDS_FILE;
use roadmap_runner::status::{
    CommitState, IntegrationState, Record, RecordStore, ResumeState, StatusDir, group_base,
    group_resume_state, phase_commit_state, task_integrations,
};

const SAMPLE: &str = include_str!("fixtures/records/tasks-v1.jsonl");

fn load_sample() -> Vec<Record> {
    let dir = tempfile::tempdir().unwrap();
    let status = StatusDir::new(dir.path());
    std::fs::create_dir_all(status.path()).unwrap();
    std::fs::write(status.file(RECORDS_FILE), SAMPLE).unwrap();
    let (records, warnings) = RecordStore::new(&status).load().unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    records
}

#[test]
fn every_line_of_the_sample_loads_as_its_kind() {
    let records = load_sample();
    let kinds: Vec<&str> = records.iter().map(Record::kind).collect();
    assert_eq!(
        kinds,
        [
            "task",
            "start",
            "snapshot",
            "task",
            "task",
            "task",
            "task",
            "gate",
            "task",
            "task",
            "gate",
            "snapshot",
            "complete",
            "commit",
            "reset",
            "start",
            "start",
            "task",
            "task",
            "integrating",
            "integrated",
            "commit",
        ]
    );
    assert_eq!(records.len(), SAMPLE.lines().count());
}

#[test]
fn records_are_written_back_byte_for_byte() {
    // The first line is of the first format (no `kind`, seconds without
    // millis): it is read, and written in today's.
    let mut lines = SAMPLE.lines();
    let first = Record::parse_line(lines.next().unwrap()).unwrap();
    assert!(
        first
            .to_line()
            .starts_with(r#"{"v":1,"kind":"task","phase":1,"group":"A","task":"A1","attempt":1,"#),
        "{}",
        first.to_line()
    );
    for line in lines {
        assert_eq!(Record::parse_line(line).unwrap().to_line(), line);
    }
}

#[test]
fn the_sample_answers_the_queries() {
    let records = load_sample();
    let a = GroupKey::new(1, "A");
    // The reset hides everything of 1:A before it.
    assert_eq!(
        group_resume_state(&records, &a, &["A1".to_string()]),
        ResumeState::Fresh
    );
    let two_five = PhaseId::parse("2.5").unwrap();
    let b = GroupKey::new(two_five.clone(), "B");
    let base = group_base(&records, &b).unwrap();
    assert_eq!(base.base.as_ref().map(|b| b.len()), Some(0));
    let integrations = task_integrations(&records, &b);
    assert!(matches!(integrations["B1"], IntegrationState::Done(_)));
    assert_eq!(
        phase_commit_state(&records, &two_five),
        CommitState::Skipped
    );
    assert!(matches!(
        phase_commit_state(&records, &1.into()),
        CommitState::Owed {
            worked: true,
            recorded: true
        }
    ));
}
