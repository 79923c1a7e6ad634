//! Integration tests, in one binary. They drive the engine through the real
//! Kafka protocol (the embedded broker, a separate `kemala broker` process,
//! and a Tansu broker), the HTTP API through real sockets, and the built
//! binary through its CLI.

mod alerts;
mod browser;
mod common;
mod dashboards;
mod determinism;
mod engine;
mod faults;
mod latency;
mod live_demo;
mod outside;
mod pipeline;
mod process;
mod search;
mod security;
mod understanding;
