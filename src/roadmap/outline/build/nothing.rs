//! Not one task found: the phases named but empty, or why the document is
//! not a plan.

use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::model::{Phase, PhaseId, Roadmap, Span};
use crate::roadmap::outline::tree::Section;
use crate::roadmap::outline::{PhaseWhy, Reader, source_of};

impl<'s> Reader<'s> {
    /// Not one task: phases named but empty, or not a plan at all.
    pub(super) fn nothing_to_run(
        &mut self,
        named: &[&Section<'_>],
        closest: Option<(Span, &'static str)>,
        roadmap: &mut Roadmap,
    ) {
        if let Some(first) = named.first() {
            let heads: Vec<String> = named
                .iter()
                .take(5)
                .map(|s| {
                    let span = s.heading.map_or(Span::default(), |(_, h)| h);
                    format!(
                        "`{}` (line {})",
                        self.text(span).trim(),
                        self.line(span.start)
                    )
                })
                .collect();
            let span = first.heading.map_or(Span::default(), |(_, h)| h);
            self.diags.push(
                Diagnostic::error(
                    "no-tasks",
                    span,
                    format!(
                        "the document has {} phase heading(s) ({}) but not one task under them, so nothing would run",
                        named.len(),
                        heads.join(", ")
                    ),
                )
                .with_help(
                    "write the work under each phase as checklist items (`- [ ] Title`), numbered items, \
                     items or headings with an id (`**A1**: Title`, `#### M1-API-001`) or table rows with an id or a Status cell",
                ),
            );
            for s in named {
                let (title, annotation, done) = self.phase_head(s);
                let n = roadmap.phases.len() as u32 + 1;
                roadmap.phases.push(Phase {
                    number: PhaseId::from(n),
                    title,
                    annotation,
                    context: String::new(),
                    groups: Vec::new(),
                    done_in_roadmap: done,
                    span: s.heading.map_or(Span::default(), |(_, h)| h),
                });
                self.reading.phases.push(PhaseWhy {
                    why: self.why(s, "phase word, no task under it"),
                    groups: Vec::new(),
                });
            }
            return;
        }
        let (span, what) = closest.unwrap_or((Span::default(), "nothing"));
        let closest = if what == "nothing" {
            "it has no heading or list at all".to_string()
        } else {
            format!(
                "the closest thing is {what} at line {}: {}",
                self.line(span.start),
                source_of(self.src, "", span).trim()
            )
        };
        self.diags.push(
            Diagnostic::error(
                "not-a-plan",
                span,
                format!("this document is not a plan: no phase, group or task was found; {closest}"),
            )
            .with_help(
                "a plan lists units of work: checklist items (`- [ ] Title`), numbered items, items or headings with an id \
                 (`**A1**: Title`), or table rows with an id or a Status cell, under phase headings such as `## Phase 1: Setup`",
            ),
        );
    }
}
