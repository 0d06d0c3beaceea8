//! The Portico server: command line, database, HTTP surface. The worker (observe → plan →
//! apply against AWS) joins it here.

pub mod aws;
pub mod cli;
pub mod db;
pub mod prices;
pub mod serve;
pub mod web;
pub mod worker;
