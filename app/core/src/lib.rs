//! Portico's core: everything both the pages (in the browser and on the server) and the worker
//! need to agree on, as pure functions over plain values.
//!
//! Data flows through it in this order: `model` (the desired topology a team edits, and the
//! rules it must satisfy) → `plan` (desired + observed AWS → an ordered list of steps, and the
//! names Portico gives AWS resources) → `cost` (what it costs a month) → `health` (what AWS
//! says about it) → `diagram` (all of it as one picture). Nothing here does I/O, reads a clock
//! or draws randomness: the same inputs give the same outputs, in the browser and on the server.

pub mod account;
pub mod adopt;
pub mod alerts;
pub mod chart;
pub mod cost;
pub mod diagram;
pub mod health;
pub mod model;
pub mod plan;
