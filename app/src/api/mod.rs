//! Server functions by domain, each with its SQL in an `ssr` submodule beside it.

pub mod audit;
pub mod diagram;
pub mod forms;
pub mod gateways;
pub mod health;
pub mod keys;
pub mod runs;
pub mod topology;
pub mod users;
