//! The worker: the only part of Portico that writes to AWS (observe → plan → apply). Its
//! pieces land here one by one; `pace` keeps every call within AWS's control-plane quotas.

pub mod pace;
