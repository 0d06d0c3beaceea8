//! The Portico server: the command line (`cli`), the HTTP surface (`web`), the worker that
//! alone writes to AWS (`worker`: observe → plan → apply) and its AWS adapters (`aws`: SDK
//! clients, paced calls, SDK ↔ model conversion), and the webhook sender (`alerts`). Data
//! lives in `portico_store`; the rules in `portico_core`; the pages in `app`.

pub mod adopt;
pub mod alerts;
pub mod aws;
pub mod cli;
pub mod prices;
pub mod serve;
pub mod web;
pub mod worker;
