//! `roadmap-runner gate`: the gate alone, for a user checking a manual fix.

use super::{CommandError, Io};
use crate::config::{FileConfig, Overrides, Settings};
use crate::events::Reporter;
use crate::exec::StopLevel;
use crate::exit;
use crate::gate;
use crate::project::Project;
use crate::report::PlainReporter;
use crate::roadmap::GroupKey;
use crate::runner::finish::gate_event;

pub fn run(project: &Project, io: Io<'_>) -> Result<i32, CommandError> {
    let (file, _) = FileConfig::load(&project.dir)?;
    let settings = Settings::resolve(&file, &Overrides::default())?;
    let plan = gate::plan_gate(&project.dir, &settings.gate)
        .map_err(|e| CommandError::Preflight(e.to_string()))?;
    for note in &plan.notes {
        writeln!(io.err, "note: {note}")?;
    }
    if plan.is_empty() {
        writeln!(io.out, "No gate steps: nothing to check")?;
        return Ok(exit::OK);
    }
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S");
    let log = project
        .orchestrator_logs()
        .join(format!("manual_gate_{stamp}.log"));
    let key = GroupKey::new(0, "GATE");
    let mut reporter = PlainReporter::new(std::io::stdout(), false);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(StopLevel::Run);
        let _signals = crate::runner::signals::install(stop_tx)?;
        let result = gate::run_gate(
            &plan,
            &project.dir,
            &log,
            settings.timeout,
            stop_rx,
            &mut |p| {
                if let Some(event) = gate_event(&key, p) {
                    reporter.report(&event);
                }
            },
        )
        .await;
        Ok::<_, std::io::Error>(result)
    })?;
    let report = report.map_err(|e| CommandError::Preflight(e.to_string()))?;
    writeln!(io.out, "{}\nlog: {}", report.summary(), log.display())?;
    Ok(if report.passed {
        exit::OK
    } else {
        exit::GATE_FAILED
    })
}
