//! One routed page per file.

pub mod account;
pub mod admin;
pub mod adopt;
pub mod alerts;
pub mod audit;
pub mod diagram;
pub mod gateway;
pub mod key_once;
pub mod login;
pub mod not_found;
pub mod overview;
