//! git: clean-tree check, phase commit, push.
