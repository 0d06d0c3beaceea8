//! The wasm-safe core: types and validation shared by the browser and the server.

pub mod role;
pub mod user;

pub use role::Role;
