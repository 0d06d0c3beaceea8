//! Server functions by domain: each checks who is asking (`context::require`), then calls the
//! core (rules, planner, cost) and the store (`portico_store`). No SQL here.

pub mod account;
pub mod adopt;
pub mod alerts;
pub mod audit;
#[cfg(feature = "ssr")]
pub mod context;
pub mod cost;
pub mod diagram;
pub mod forms;
pub mod gateways;
pub mod health;
pub mod keys;
pub mod network;
pub mod runs;
pub mod session;
pub mod topology;
pub mod users;
