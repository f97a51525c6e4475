//! Reading headings: phases (numbered, nested, implicit, out of order,
//! duplicated), and below the phase level a group, a heading task or a section.

use super::{Builder, Dest, HeadingTask, Region, offset, tasks};
use crate::roadmap::diagnostics::Diagnostic;
use crate::roadmap::dialect::Dialect;
use crate::roadmap::model::{Phase, PhaseId, Span};
use crate::roadmap::syntax::{self, HeadCtx, PhaseHead};

impl Builder<'_> {
    pub(super) fn heading(&mut self, level: u8, content: Span, span: Span) {
        if let Some(ht) = &self.heading_task {
            if level > ht.level {
                return; // a sub-heading of the task's body
            }
            self.close_heading_task(span.start);
        }
        self.notes = false;
        self.headings.push(span);
        let text = self.text(content);
        if self.phase_level == Some(level)
            && let Some(head) = syntax::phase_head(text)
            && head.word == self.phase_word
        {
            self.start_phase(head, content, span);
            return;
        }
        let at_phase_level = self.phase_level.is_none_or(|pl| level <= pl);
        // With phases, only their own word counts (`## Release 2024 notes`
        // next to `## Phase 1:` headings is a section).
        if at_phase_level
            && let Some((word, r)) = syntax::phase_like(text)
            && (self.phase_level.is_none() || word == self.phase_word)
        {
            self.phase_like_heading(offset(content.start, &r), span);
        }
        if at_phase_level && self.phase_level.is_some() && self.region == Region::Phase {
            self.region = Region::Outside;
            self.group = None;
        }
        if self.region == Region::Preamble && self.implicit_phase(text, span) {
            self.sub_heading(level, content, span);
            return;
        }
        match self.region {
            Region::Preamble if level == 1 && self.roadmap.title.is_none() => {
                self.roadmap.title = Some(syntax::clean_title(text).0);
            }
            Region::Preamble => {
                self.check_stray_group(text, content);
                self.context(Dest::Roadmap, span);
            }
            Region::Outside => self.check_stray_group(text, content),
            Region::Phase => self.sub_heading(level, content, span),
        }
    }

    /// `## Phase 1 Foundation`: read as no phase, so say what was expected.
    fn phase_like_heading(&mut self, word: Span, heading: Span) {
        self.phase_like.push(heading);
        let written = self.text(word).to_string();
        self.diags.push(
            Diagnostic::error(
                "phase-heading-format",
                word,
                format!("`{written}` looks like a phase heading but is not read as one"),
            )
            .with_help(format!(
                "put `:`, `-`, `—` or `(` after the number, e.g. `{written}: Title`; \
                 without it the heading and everything under it is not run"
            )),
        );
    }

    /// `### Phase 3.1: Hotfix` inside `## Phase 3`: read as part of phase 3,
    /// which the author may not expect, so say it.
    fn nested_phase(&mut self, head: &PhaseHead, content: Span, level: u8) {
        let Some(outer) = self.roadmap.phases.last().map(|p| p.number.clone()) else {
            return;
        };
        let hashes = "#".repeat(usize::from(self.phase_level.unwrap_or(2)));
        self.diags.push(
            Diagnostic::warning(
                "nested-phase",
                offset(content.start, &head.number_span),
                format!(
                    "this level-{level} phase heading is inside phase {outer}; its tasks are read as phase {outer}'s"
                ),
            )
            .with_help(format!(
                "to run it as a phase of its own, make it a `{hashes}` heading like the other phases"
            )),
        );
    }

    /// A Superpowers plan without phase headings: its first `### Task N:`
    /// opens one implicit phase 1.
    fn implicit_phase(&mut self, text: &str, span: Span) -> bool {
        if self.dialect != Dialect::Superpowers
            || self.phase_level.is_some()
            || !syntax::is_task_word_heading(text)
        {
            return false;
        }
        let title = self.roadmap.title.clone().unwrap_or_default();
        self.push_phase(PhaseId::from(1), title, None, false, span);
        true
    }

    /// A heading below the phase level inside a phase: a group, a heading
    /// task, or a section whose text is context.
    fn sub_heading(&mut self, level: u8, content: Span, span: Span) {
        let text = self.text(content);
        if let Some(head) = syntax::phase_head(text).filter(|h| h.word == self.phase_word) {
            self.nested_phase(&head, content, level);
        }
        if let Some(head) = syntax::group_head(text) {
            self.start_group(head, level, content, span);
            return;
        }
        if self.group.as_ref().is_some_and(|g| level <= g.level) {
            self.group = None;
        }
        if let Some(mut head) = syntax::task_head(text, HeadCtx::Item).filter(|h| h.id.is_some()) {
            head.done |= syntax::title_says_done(&head.title);
            let parts = tasks::TaskParts::default();
            let target = self.add_task(head, content.start, span, parts);
            self.heading_task = Some(HeadingTask {
                level,
                body_start: span.end,
                target,
                checks: (0, true, None),
            });
            return;
        }
        self.context(self.context_dest(), span);
    }

    fn start_phase(&mut self, head: PhaseHead, content: Span, span: Span) {
        self.group = None;
        let number_span = offset(content.start, &head.number_span);
        let Some(number) = head.number else {
            self.region = Region::Outside;
            self.diags.push(
                Diagnostic::error(
                    "invalid-phase-number",
                    number_span,
                    format!("phase number `{}` is not a phase id", self.text(number_span)),
                )
                .with_help(
                    "number phases 1, 2, 3 (or 2.1, 4b) in the order they run, at most 32 characters",
                ),
            );
            return;
        };
        self.region = Region::Phase;
        if self.dialect != Dialect::Gsd {
            self.check_phase_number(&number, number_span);
        } else {
            self.check_duplicate_phase(&number, number_span);
        }
        self.push_phase(number, head.title, head.annotation, head.done, span);
    }

    pub(super) fn push_phase(
        &mut self,
        number: PhaseId,
        title: String,
        annotation: Option<String>,
        done: bool,
        span: Span,
    ) {
        self.region = Region::Phase;
        self.group = None;
        self.roadmap.phases.push(Phase {
            number,
            title,
            annotation,
            context: String::new(),
            groups: Vec::new(),
            done_in_roadmap: done,
            span,
        });
    }

    /// Phase numbers must be unique and increasing.
    pub(super) fn check_phase_number(&mut self, number: &PhaseId, span: Span) {
        if self.check_duplicate_phase(number, span) {
            return;
        }
        let last = self.roadmap.phases.last().map(|p| p.number.clone());
        if let Some(last) = last.filter(|l| number < l) {
            self.diags.push(
                Diagnostic::error(
                    "phase-out-of-order",
                    span,
                    format!("phase {number} comes after phase {last}"),
                )
                .with_help(
                    "phases run in the order of their numbers: number them in increasing order \
                     as they appear",
                ),
            );
        }
    }

    /// Reports a second phase with this number; true if it is one.
    fn check_duplicate_phase(&mut self, number: &PhaseId, span: Span) -> bool {
        let phases = &self.roadmap.phases;
        let Some(first) = phases
            .iter()
            .find(|p| &p.number == number)
            .map(|p| p.span.start)
        else {
            return false;
        };
        let next = phases
            .iter()
            .filter_map(|p| p.number.leading_number())
            .max()
            .map_or(1, |m| m.saturating_add(1));
        let line = self.line(first);
        self.diags.push(
            Diagnostic::error(
                "duplicate-phase",
                span,
                format!("duplicate phase number `{number}` (first defined at line {line})"),
            )
            .with_help(format!(
                "give each phase its own number, e.g. `Phase {next}`"
            )),
        );
        true
    }
}
