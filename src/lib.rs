//! roadmap-runner: drives coding agents through a project's ROADMAP.md.
//!
//! Phases run in order, groups inside a phase run in order, the tasks of a
//! group run in parallel as agent processes, a gate guards every group, status
//! files record what is done, and every finished phase is committed and pushed.

pub mod agent;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod demo;
pub mod draft;
pub mod events;
pub mod exec;
pub mod exit;
pub mod gate;
pub mod notify;
pub mod plan;
pub mod project;
pub mod remote;
pub mod report;
pub mod resume;
pub mod roadmap;
pub mod runner;
pub mod status;
pub mod text;
pub mod userinfo;
pub mod vcs;
pub mod worktree;
