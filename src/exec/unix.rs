//! Platform code: process groups and signals.
