use super::*;
use crate::agent::stream_json::StreamObserver;
use serde_json::Value;

fn args(format: &str) -> SimulateAgentArgs {
    SimulateAgentArgs {
        print: true,
        output_format: format.into(),
        dangerously_skip_permissions: true,
        ..Default::default()
    }
}

fn env(task: &str) -> AgentEnv {
    AgentEnv {
        task_id: Some(task.into()),
        task_title: Some("Cart".into()),
        ..AgentEnv::default()
    }
}

#[test]
fn refusals_match_claude_code() {
    let e = env("C1");
    assert_eq!(
        check_args(&args("stream-json"), false, &e),
        Err(NEEDS_VERBOSE)
    );
    assert_eq!(
        check_args(&args("stream-json"), true, &e),
        Ok(Format::StreamJson)
    );
    assert_eq!(check_args(&args("text"), false, &e), Ok(Format::Text));
    let no_print = SimulateAgentArgs {
        print: false,
        ..args("text")
    };
    assert_eq!(check_args(&no_print, false, &e), Err(ONLY_PRINT));
    let root = AgentEnv {
        is_root: true,
        ..env("C1")
    };
    assert_eq!(check_args(&args("json"), false, &root), Err(ROOT_REFUSED));
    let sandbox = AgentEnv {
        sandbox: true,
        ..root
    };
    assert_eq!(check_args(&args("json"), false, &sandbox), Ok(Format::Json));
}

#[test]
fn create_file_lines_in_bodies_and_table_fields() {
    let prompt = "## Task details\n\n- Create file: `src/catalog.js`\n- Notes: x\n\n\
                  Create file: src/cart.js\n  - create file: `src/pages/cart.js`.\n\
                  Create file: src/cart.js\nWe never create file: here.txt mid-line\n";
    assert_eq!(
        files_in_prompt(prompt),
        ["src/catalog.js", "src/cart.js", "src/pages/cart.js"]
    );
    assert!(files_in_prompt("no files").is_empty());
}

#[test]
fn paths_must_stay_inside() {
    assert!(safe_relative("src/a.js").is_ok());
    assert!(safe_relative("./a.js").is_ok());
    assert!(safe_relative("/etc/passwd").is_err());
    assert!(safe_relative("../x").is_err());
    assert!(safe_relative("src/../../x").is_err());
}

#[test]
fn content_is_the_plan_or_a_stub() {
    assert_eq!(
        content_for("src/cart.js", "C1", "Cart"),
        planned_file("src/cart.js").unwrap().content
    );
    let stub = content_for("lib/x.rs", "Z9", "Other");
    assert!(stub.starts_with("// Other (task Z9)"), "{stub}");
}

#[test]
fn a_run_writes_the_files_and_reads_as_a_success() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let prompt = "# Your task: C1 — Cart\n\nCreate file: `src/cart.js`\n";
    let code = simulate(
        &args("stream-json"),
        true,
        &env("C1"),
        &mut prompt.as_bytes(),
        &mut out,
        &mut err,
        dir.path(),
    )
    .unwrap();
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    let written = std::fs::read_to_string(dir.path().join("src/cart.js")).unwrap();
    assert_eq!(written, planned_file("src/cart.js").unwrap().content);

    let text = String::from_utf8(out).unwrap();
    let mut observer = StreamObserver::new();
    let mut types = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        types.push(v["type"].as_str().unwrap().to_string());
        observer.observe(line);
    }
    assert_eq!(
        types,
        [
            "system",
            "assistant",
            "assistant",
            "user",
            "assistant",
            "result"
        ]
    );
    let result = observer.result().expect("a result event");
    assert!(!result.is_error);
    assert!(result.total_cost_usd.unwrap() > 0.0);
    assert_eq!(result.num_turns, Some(3));
    assert!(result.result.as_deref().unwrap().contains("src/cart.js"));
    assert_eq!(observer.session_id(), result.session_id.as_deref());
}

/// D1 writes its plan where the runner asks, and no code; without the
/// variable it writes every file of the plan itself.
#[test]
fn the_split_task_writes_its_plan_only_when_offered_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("status/sub/2+3AD+3AD1.md");
    let prompt = "# Your task: D1 — Checkout\n\nCreate file: `src/checkout.js`\n";
    let run = |env: &AgentEnv| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = simulate(
            &args("stream-json"),
            true,
            env,
            &mut prompt.as_bytes(),
            &mut out,
            &mut err,
            dir.path(),
        )
        .unwrap();
        (code, String::from_utf8(out).unwrap())
    };
    let offered = AgentEnv {
        group: Some("D".into()),
        split_file: Some(plan.clone()),
        ..env("D1")
    };
    let (code, out) = run(&offered);
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), split::PLAN);
    assert!(!dir.path().join("src/checkout.js").exists());
    assert!(out.contains("a plan of 3 smaller tasks"), "{out}");

    let not_offered = AgentEnv {
        split_file: None,
        ..offered
    };
    let (code, out) = run(&not_offered);
    assert_eq!(code, 0, "{out}");
    for f in split::plan_files() {
        let written = std::fs::read_to_string(dir.path().join(&f)).unwrap();
        assert_eq!(written, planned_file(&f).unwrap().content, "{f}");
    }
}

#[test]
fn a_path_outside_the_project_is_an_error_result() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let code = simulate(
        &args("json"),
        false,
        &env("X1"),
        &mut "Create file: ../escape.txt".as_bytes(),
        &mut out,
        &mut Vec::new(),
        dir.path(),
    )
    .unwrap();
    assert_eq!(code, 1);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["is_error"], true);
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
}

#[test]
fn uuids_look_like_uuids() {
    let u = uuid_like(42);
    assert_eq!(u.len(), 36);
    assert_eq!(u.matches('-').count(), 4);
    assert_ne!(uuid_like(1), uuid_like(2));
}
