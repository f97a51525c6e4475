use super::*;

const INIT: &str = r#"{"type":"system","subtype":"init","cwd":"/work/p","session_id":"9f1c2d3e-1111-4a2b-8c3d-1234567890ab","tools":["Task","Bash","Edit","Read","Write"],"mcp_servers":[],"model":"claude-sonnet-4-5-20250929","permissionMode":"bypassPermissions","apiKeySource":"none","uuid":"u1"}"#;
const TOOL_USE: &str = r#"{"type":"assistant","message":{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"tool_use","id":"toolu_01","name":"Bash","input":{"command":"cargo test --lib\nsecond line","description":"Run tests"}}],"stop_reason":null,"usage":{"input_tokens":4,"output_tokens":1}},"parent_tool_use_id":null,"session_id":"9f1c2d3e-1111-4a2b-8c3d-1234567890ab","uuid":"u2"}"#;
const TOOL_RESULT: &str = r#"{"type":"user","message":{"role":"user","content":[{"tool_use_id":"toolu_01","type":"tool_result","content":"Not logged in · Please run /login\nYou've hit your session limit · resets 3pm\nrate_limit","is_error":false}]},"parent_tool_use_id":null,"session_id":"9f1c2d3e-1111-4a2b-8c3d-1234567890ab","uuid":"u3"}"#;
const RESULT_OK: &str = r#"{"type":"result","subtype":"success","is_error":false,"duration_ms":12034,"duration_api_ms":11020,"num_turns":6,"result":"Implemented A1: added the parser.","session_id":"9f1c2d3e-1111-4a2b-8c3d-1234567890ab","total_cost_usd":0.0123,"usage":{"input_tokens":1200,"cache_creation_input_tokens":0,"cache_read_input_tokens":5000,"output_tokens":340,"service_tier":"standard"},"permission_denials":[],"uuid":"u4"}"#;

fn observe(lines: &[&str]) -> StreamObserver {
    let mut o = StreamObserver::new();
    for l in lines {
        o.observe(l);
    }
    o
}

#[test]
fn success_run() {
    let o = observe(&[INIT, TOOL_USE, TOOL_RESULT, RESULT_OK]);
    let r = o.result().unwrap();
    assert!(!r.is_error);
    assert_eq!(r.subtype.as_deref(), Some("success"));
    assert_eq!(r.num_turns, Some(6));
    assert_eq!(r.total_cost_usd, Some(0.0123));
    assert_eq!(o.session_id(), Some("9f1c2d3e-1111-4a2b-8c3d-1234567890ab"));
    assert_eq!(o.last_activity(), Some("Tool: Bash cargo test --lib"));
    assert_eq!(o.event_count(), 4);
    // Tool output mentioning limits and logins is data, not a signal.
    assert_eq!(o.auth_failure(), None);
    assert_eq!(o.usage_limit(), None);
    let rep = o.report();
    assert_eq!(rep.cost_usd, Some(0.0123));
    assert_eq!(rep.duration_ms, Some(12034));
    assert_eq!(rep.usage.unwrap()["output_tokens"], 340);
    assert_eq!(
        rep.result_text.as_deref(),
        Some("Implemented A1: added the parser.")
    );
}

#[test]
fn session_id_from_init_alone() {
    let o = observe(&[INIT, "garbage", "{not json"]);
    assert_eq!(o.session_id(), Some("9f1c2d3e-1111-4a2b-8c3d-1234567890ab"));
    assert!(o.result().is_none());
}

#[test]
fn text_activity_is_first_line_truncated() {
    let long = "x".repeat(300);
    let line = format!(
        r#"{{"type":"assistant","message":{{"content":[{{"type":"text","text":"\n\nI will now {long}\nmore"}}]}}}}"#
    );
    let o = observe(&[&line]);
    let a = o.last_activity().unwrap();
    assert!(a.starts_with("I will now xxx"));
    assert_eq!(a.chars().count(), ACTIVITY_CHARS);
    assert!(a.ends_with('…'));
}

#[test]
fn not_logged_in() {
    let o = observe(&["Not logged in · Please run /login"]);
    assert_eq!(
        o.auth_failure().as_deref(),
        Some("Not logged in · Please run /login")
    );
    let mut o = StreamObserver::new();
    o.observe_stderr("Not logged in · Please run /login");
    assert!(o.auth_failure().is_some());
    let o = observe(&[
        INIT,
        r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Not logged in · Please run /login"}]},"session_id":"s","error":"authentication_failed"}"#,
        r#"{"type":"result","subtype":"success","is_error":true,"duration_ms":20,"num_turns":1,"result":"Not logged in · Please run /login","session_id":"s","total_cost_usd":0}"#,
    ]);
    assert_eq!(
        o.auth_failure().as_deref(),
        Some("Not logged in · Please run /login")
    );
    assert_eq!(o.api_error().unwrap().kind, "authentication_failed");
}

#[test]
fn mentions_are_not_signals() {
    let o = observe(&[
        "the docs say: Not logged in · Please run /login",
        "  rate limit reached, usage limit reached",
        r#"{"type":"assistant","message":{"content":[{"type":"text","text":"Not logged in · Please run /login — that message appears when a rate limit or usage limit is hit"}]}}"#,
        // A successful result whose text talks about limits.
        r#"{"type":"result","subtype":"success","is_error":false,"result":"Added handling for `You've hit your session limit · resets 3pm`","session_id":"s"}"#,
    ]);
    assert_eq!(o.auth_failure(), None);
    assert_eq!(o.usage_limit(), None);
    assert_eq!(o.api_error(), None);
}

#[test]
fn rate_limit_event_rejected() {
    let o = observe(&[
        INIT,
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"allowed_warning","resetsAt":1700000000,"rateLimitType":"seven_day"},"uuid":"r0","session_id":"s"}"#,
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1760000000,"rateLimitType":"five_hour","isUsingOverage":false},"uuid":"r1","session_id":"s"}"#,
        r#"{"type":"assistant","message":{"content":[{"type":"text","text":"You've hit your session limit · resets 3pm"}]},"session_id":"s","error":"rate_limit"}"#,
        r#"{"type":"result","subtype":"success","is_error":true,"result":"You've hit your session limit · resets 3pm","session_id":"s"}"#,
    ]);
    let limit = o.usage_limit().unwrap();
    assert_eq!(limit.resets_at, DateTime::from_timestamp(1_760_000_000, 0));
    assert_eq!(limit.message, "You've hit your session limit · resets 3pm");
    assert_eq!(
        o.rate_limit().unwrap().limit_type.as_deref(),
        Some("five_hour")
    );
}

#[test]
fn allowed_again_clears_the_rejection() {
    let o = observe(&[
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1760000000,"rateLimitType":"five_hour"}}"#,
        r#"{"type":"rate_limit_event","rate_limit_info":{"status":"allowed","rateLimitType":"five_hour"}}"#,
    ]);
    assert_eq!(o.rate_limit(), None);
}

#[test]
fn limit_from_error_result_text_only() {
    let o = observe(&[
        r#"{"type":"result","subtype":"success","is_error":true,"result":"Claude AI usage limit reached|1760000000","session_id":"s"}"#,
    ]);
    let l = o.usage_limit().unwrap();
    assert_eq!(l.resets_at, DateTime::from_timestamp(1_760_000_000, 0));
    let o = observe(&[
        r#"{"type":"result","subtype":"success","is_error":true,"result":"API Error: 500 internal","session_id":"s"}"#,
    ]);
    assert_eq!(o.usage_limit(), None);
}

#[test]
fn limit_messages() {
    for m in [
        "You've hit your session limit · resets 3pm",
        "You've hit your weekly limit · resets Oct 9, 5pm",
        "5-hour limit reached ∙ resets 2am",
        "Claude AI usage limit reached|1750000000",
        "Session limit reached ∙ resets 11pm",
    ] {
        assert!(is_limit_message(m), "{m}");
    }
    for m in [
        "API Error: 529 Overloaded",
        "Implemented rate limiting middleware",
        "Limit the results to 10",
    ] {
        assert!(!is_limit_message(m), "{m}");
    }
}

#[test]
fn reset_times() {
    let now = Local.with_ymd_and_hms(2025, 3, 10, 14, 0, 0).unwrap();
    let at = |h, m, day| {
        Local
            .with_ymd_and_hms(2025, 3, day, h, m, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    assert_eq!(parse_reset_time("resets 3pm", now), Some(at(15, 0, 10)));
    assert_eq!(
        parse_reset_time("limit · resets at 10:30am", now),
        Some(at(10, 30, 11))
    );
    assert_eq!(parse_reset_time("resets 12am", now), Some(at(0, 0, 11)));
    assert_eq!(parse_reset_time("resets 3pm (Europe/Paris)", now), None);
    assert_eq!(parse_reset_time("resets Oct 9, 5pm", now), None);
    assert_eq!(parse_reset_time("no time here", now), None);
}

#[test]
fn codex_reset_times() {
    let now = Local.with_ymd_and_hms(2025, 3, 10, 14, 0, 0).unwrap();
    let utc = now.with_timezone(&Utc);
    let m = "You've hit your usage limit. Upgrade to Pro or try again in 1 hour 5 minutes.";
    assert_eq!(
        parse_reset_time(m, now),
        Some(utc + chrono::Duration::minutes(65))
    );
    assert_eq!(
        parse_reset_time("try again in 2 days, 3 hours and 1 minute", now),
        Some(utc + chrono::Duration::minutes(2 * 1440 + 180 + 1))
    );
    let at = Local.with_ymd_and_hms(2025, 3, 10, 15, 5, 0).unwrap();
    assert_eq!(
        parse_reset_time("usage limit. Try again at 3:05 PM.", now),
        Some(at.with_timezone(&Utc))
    );
}

#[test]
fn caps() {
    assert_eq!(cap_chars("abcdef", 4), "abc…");
    assert_eq!(cap_chars("abc", 4), "abc");
    assert_eq!(cap_bytes("héllo", 2), "h");
}
