//! Filling a template: the single substitution pass, and the layout that
//! leaves out what an empty value left blank (see the module above).

use super::{PromptError, PromptVars, TemplateVars};
use std::ops::Range;

/// Fills the template's placeholders in one pass.
pub fn render_prompt(template: &str, vars: &PromptVars) -> Result<String, PromptError> {
    render_named(template, vars, "prompt template")
}

/// [`render_prompt`] with the template's origin (a path) for error messages.
pub fn render_named(
    template: &str,
    vars: &dyn TemplateVars,
    origin: &str,
) -> Result<String, PromptError> {
    let lines = template
        .split_inclusive('\n')
        .enumerate()
        .map(|(i, line)| {
            Line::render(line, vars).map_err(|name| PromptError::UnknownVariable {
                origin: origin.to_string(),
                line: i + 1,
                name: name.to_string(),
                known: vars.names().join(", "),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(layout(&lines))
}

/// One template line and what it rendered to.
struct Line<'t> {
    /// The template line without its line ending.
    template: &'t str,
    /// `\n`, `\r\n` or nothing (the last line).
    ending: &'t str,
    rendered: String,
}

impl<'t> Line<'t> {
    /// Fills the placeholders of one line; `Err(name)` for an unknown one.
    /// An empty value takes the separator before it along (`Group A: ` →
    /// `Group A`); only template text is trimmed, never a value.
    fn render(line: &'t str, vars: &dyn TemplateVars) -> Result<Line<'t>, &'t str> {
        let body = line.trim_end_matches('\n').trim_end_matches('\r');
        let mut out = String::with_capacity(body.len());
        // Where the template text after the last value starts.
        let mut literal_from = 0;
        let mut rest = body;
        while let Some(open) = rest.find("{{") {
            out.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some((name, len)) = placeholder(after) else {
                // Not a placeholder: keep one brace and look again from the
                // next one, so `{{{task_id}}}` gives `{B1}`.
                out.push('{');
                rest = &rest[open + 1..];
                continue;
            };
            let value = vars.var(name).ok_or(name)?;
            if value.is_empty() {
                let kept = out[literal_from..].trim_end_matches(is_separator).len();
                out.truncate(literal_from + kept);
            } else {
                out.push_str(value);
                literal_from = out.len();
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        Ok(Line {
            template: body,
            ending: &line[body.len()..],
            rendered: out,
        })
    }

    fn blank(&self) -> bool {
        self.template.trim().is_empty()
    }

    /// Had something in the template, renders to nothing: left out.
    fn vanished(&self) -> bool {
        !self.blank() && self.rendered.trim().is_empty()
    }

    fn is_fence(&self) -> bool {
        let t = self.template.trim_start();
        t.starts_with("```") || t.starts_with("~~~")
    }

    fn heading(&self) -> Option<Heading> {
        let t = self.template.trim();
        let hashes = t.len() - t.trim_start_matches('#').len();
        if (1..=6).contains(&hashes) && t[hashes..].starts_with(' ') {
            Some(Heading::Atx(hashes))
        } else {
            t.ends_with(':').then_some(Heading::Label)
        }
    }
}

/// Template text an empty value takes along when it directly precedes it.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ':' | ',' | ';' | '-' | '–' | '—' | '·' | '|' | '/')
}

/// A one-line block that opens a section (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heading {
    /// `## Title`, with its level.
    Atx(usize),
    /// A line ending in `:`.
    Label,
}

impl Heading {
    /// Whether `next` starts a block outside this heading's section.
    fn ended_by(self, next: Heading) -> bool {
        match (self, next) {
            (Heading::Atx(level), Heading::Atx(other)) => other <= level,
            (Heading::Atx(_), Heading::Label) => false,
            (Heading::Label, _) => true,
        }
    }
}

/// Lines of the template between blank lines (blank lines inside a code
/// fence do not split).
struct Block {
    lines: Range<usize>,
    /// The blank lines before it.
    gap: Range<usize>,
    heading: Option<Heading>,
}

/// The blocks, and the blank lines after the last one.
fn blocks(lines: &[Line<'_>]) -> (Vec<Block>, Range<usize>) {
    let mut blocks = Vec::new();
    let mut gap_from = 0;
    let mut start = None;
    let mut fenced = false;
    let close = |start: usize, end: usize, gap_from: usize, blocks: &mut Vec<Block>| {
        let one = (end == start + 1).then(|| lines[start].heading()).flatten();
        blocks.push(Block {
            lines: start..end,
            gap: gap_from..start,
            heading: one,
        });
    };
    for (i, line) in lines.iter().enumerate() {
        let gap = line.blank() && !fenced;
        fenced ^= line.is_fence();
        match (gap, start) {
            (true, Some(s)) => {
                close(s, i, gap_from, &mut blocks);
                start = None;
                gap_from = i;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        close(s, lines.len(), gap_from, &mut blocks);
        gap_from = lines.len();
    }
    (blocks, gap_from..lines.len())
}

/// Which blocks are left out: those whose every line vanished, and headings
/// whose whole section was left out. From the end, so a heading's section is
/// decided before the heading.
fn left_out(blocks: &[Block], lines: &[Line<'_>]) -> Vec<bool> {
    let mut out = vec![false; blocks.len()];
    for i in (0..blocks.len()).rev() {
        let vanished = blocks[i].lines.clone().all(|l| lines[l].vanished());
        out[i] = vanished
            || blocks[i].heading.is_some_and(|h| {
                let end = (i + 1..blocks.len())
                    .find(|&j| blocks[j].heading.is_some_and(|n| h.ended_by(n)))
                    .unwrap_or(blocks.len());
                end > i + 1 && out[i + 1..end].iter().all(|&o| o)
            });
    }
    out
}

/// The rendered prompt without what was left out, blank lines as in the template.
fn layout(lines: &[Line<'_>]) -> String {
    let (blocks, trailing) = blocks(lines);
    let left_out = left_out(&blocks, lines);
    let mut out = String::new();
    let push = |range: Range<usize>, out: &mut String| {
        for line in lines[range].iter().filter(|l| !l.vanished()) {
            out.push_str(&line.rendered);
            out.push_str(line.ending);
        }
    };
    let mut kept = blocks
        .iter()
        .zip(left_out)
        .filter(|(_, l)| !l)
        .map(|(b, _)| b);
    if let Some(first) = kept.next() {
        // The template's leading blank lines, whichever block comes first.
        push(blocks[0].gap.clone(), &mut out);
        push(first.lines.clone(), &mut out);
    }
    for block in kept {
        push(block.gap.clone(), &mut out);
        push(block.lines.clone(), &mut out);
    }
    push(trailing, &mut out);
    out
}

/// Parses `  name  }}` at the start of `s`: the name and the length consumed.
fn placeholder(s: &str) -> Option<(&str, usize)> {
    let trimmed = s.trim_start_matches(' ');
    let lead = s.len() - trimmed.len();
    let name_len = trimmed
        .char_indices()
        .find(|&(i, c)| !(c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(trimmed.len(), |(i, _)| i);
    if name_len == 0 {
        return None;
    }
    let name = &trimmed[..name_len];
    let tail = &trimmed[name_len..];
    let tail_trimmed = tail.trim_start_matches(' ');
    if !tail_trimmed.starts_with("}}") {
        return None;
    }
    let len = lead + name_len + (tail.len() - tail_trimmed.len()) + 2;
    Some((name, len))
}
