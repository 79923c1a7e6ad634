//! kemala: stream analytics and alerting for citizen complaints on social media.
//!
//! See ARCHITECTURE.md for the map. The binary (`main.rs`) is a thin CLI
//! over [`app::run`] and the commands in [`cli`].

pub mod alert;
pub mod app;
pub mod cli;
pub mod config;
pub mod detect;
pub mod enrich;
pub mod gen;
pub mod http;
pub mod index;
pub mod latency;
pub mod layers;
pub mod model;
pub mod sched;
pub mod source;
pub mod state;
pub mod telemetry;
pub mod text;
pub mod timestamp;
pub mod track;
