//! Portico's integration tests, in one binary so the AWS SDK and the server are linked once:
//! HTTP tests drive the real router over a real SQLite file in-process (`common::TestApp`);
//! sandbox tests drive the worker against the local AWS emulator through the real SDK
//! (`common::sandbox`); process tests run the `portico` binary itself.

mod common;

mod adopt;
mod auth;
mod contention;
mod diagram;
mod kept_pages;
mod keys;
mod keys_first;
mod network;
mod overview;
mod owners;
mod process;
mod proxy;
mod rbac;
mod sandbox;
mod sessions;
mod topology;
mod topology_file;
mod users;
mod worker;
