//! The wasm-safe core: types and validation shared by the browser and the server.

pub mod diff;
pub mod keys;
pub mod role;
pub mod rules;
pub mod topology;
pub mod user;
pub mod validate;

pub use role::Role;

#[cfg(test)]
pub(crate) mod tests;
