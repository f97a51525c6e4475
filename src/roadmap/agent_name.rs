//! The agent a roadmap names in `(agent: codex)` on a group heading or a
//! task line. The roadmap knows only the names; the agent layer turns one
//! into its profile (`agent::AgentKind: From<AgentName>`).

use serde::Serialize;

/// An agent a roadmap annotation may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentName {
    Claude,
    Codex,
    Gemini,
    Opencode,
    Copilot,
}

impl AgentName {
    /// Every name, in the order the diagnostics list them.
    pub const ALL: &[(&str, AgentName)] = &[
        ("claude", AgentName::Claude),
        ("codex", AgentName::Codex),
        ("gemini", AgentName::Gemini),
        ("opencode", AgentName::Opencode),
        ("copilot", AgentName::Copilot),
    ];

    /// The agent `name` names (ASCII case ignored), if any.
    pub fn parse(name: &str) -> Option<AgentName> {
        let name = name.trim();
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, a)| *a)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, a)| *a == self)
            .map_or("claude", |(n, _)| n)
    }

    /// `agent: claude`, `agent: codex`, ... for a diagnostic's help.
    pub fn choices() -> String {
        let names: Vec<String> = Self::ALL
            .iter()
            .map(|(n, _)| format!("`agent: {n}`"))
            .collect();
        let (last, rest) = names.split_last().expect("names");
        format!("{} or {last}", rest.join(", "))
    }
}

impl std::fmt::Display for AgentName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(AgentName::parse(" Copilot"), Some(AgentName::Copilot));
        assert_eq!(AgentName::parse("command"), None);
        assert_eq!(AgentName::Opencode.to_string(), "opencode");
        assert!(AgentName::choices().ends_with("or `agent: copilot`"));
    }
}
