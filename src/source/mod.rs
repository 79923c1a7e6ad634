//! The source: Kafka in, decoded tweets out, and dead letters for the rest.
//!
//! `decode` turns one message into a `Tweet` or a reason; `kafka` owns the
//! consumer group, the offset handling and the dead-letter producer;
//! `broker` is the embedded Kafka-protocol broker for development and tests.
//! The source never decides what is durable: offsets are committed only when
//! the index says a commit covers them.

pub mod broker;
pub mod decode;
pub mod kafka;
