//! The embedded Kafka-protocol broker: librdkafka's mock cluster on 127.0.0.1.
//!
//! It speaks the real Kafka protocol, so any client (kcat, another
//! librdkafka, the engine itself) can connect to it. It is for development,
//! demos and tests only, and has traps that shape this module:
//! - it keeps only 5 MiB (and 100,000 messages) per partition and silently
//!   drops older ones, so topics are created here, up front, with enough
//!   partitions, and producers must not run far ahead of the engine;
//! - a client's CreateTopics call hangs against it, hence `create_topic` here;
//! - it dies with its process, which is why `kemala broker` exists.
//!
//! The cluster handle is not `Send`, so it lives on a thread of its own that
//! holds it until the [`EmbeddedBroker`] is dropped.

use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{anyhow, Context};
use rdkafka::mocking::MockCluster;

pub struct EmbeddedBroker {
    bootstrap: String,
    stop_tx: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a one-broker mock cluster and creates `topics` with `partitions` each.
    pub fn start(topics: &[String], partitions: i32) -> anyhow::Result<EmbeddedBroker> {
        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<String>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let topics = topics.to_vec();
        let thread = std::thread::Builder::new()
            .name("kemala-broker".into())
            .spawn(move || {
                let cluster = match MockCluster::new(1) {
                    Ok(c) => c,
                    Err(e) => {
                        let _ =
                            ready_tx.send(Err(anyhow!("cannot start the embedded broker: {e}")));
                        return;
                    }
                };
                for t in &topics {
                    if let Err(e) = cluster.create_topic(t, partitions, 1) {
                        let _ = ready_tx.send(Err(anyhow!(
                            "cannot create topic `{t}` on the embedded broker: {e}"
                        )));
                        return;
                    }
                }
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                // Hold the cluster until told to stop (or the owner is gone).
                let _ = stop_rx.recv();
                drop(cluster);
            })
            .context("cannot spawn the broker thread")?;
        let bootstrap = ready_rx
            .recv()
            .context("the broker thread died while starting")??;
        Ok(EmbeddedBroker {
            bootstrap,
            stop_tx: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        drop(self.stop_tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
