//! Widgets shared by several pages.

pub mod error;
pub mod layout;
pub mod network;
