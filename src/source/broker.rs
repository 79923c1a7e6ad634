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
//! holds it until the [`EmbeddedBroker`] is dropped, and takes commands
//! over a channel: [`EmbeddedBroker::set_reachable`] makes the broker
//! refuse connections (as a broker that is down does) and accept them again,
//! for testing outages.

use std::sync::mpsc;
use std::thread::JoinHandle;

use anyhow::{anyhow, Context};
use rdkafka::mocking::MockCluster;

pub struct EmbeddedBroker {
    bootstrap: String,
    /// Commands to the broker thread; dropping it stops the broker.
    command_tx: Option<mpsc::Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

enum Command {
    /// Up (accept connections) or down (refuse them, close the open ones).
    SetUp(bool, mpsc::Sender<anyhow::Result<()>>),
}

/// The mock cluster's one broker.
const BROKER_ID: i32 = 1;

impl EmbeddedBroker {
    /// Starts a one-broker mock cluster and creates `topics` with `partitions` each.
    pub fn start(topics: &[String], partitions: i32) -> anyhow::Result<EmbeddedBroker> {
        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<String>>();
        let (command_tx, command_rx) = mpsc::channel::<Command>();
        let topics = topics.to_vec();
        let thread = std::thread::Builder::new()
            .name("kemala-broker".into())
            .spawn(move || {
                // The broker's threads are born at this thread's priority:
                // moving messages is background work (see `sched`).
                crate::sched::lower();
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
                // Hold the cluster until the owner is gone.
                while let Ok(command) = command_rx.recv() {
                    match command {
                        Command::SetUp(up, done) => {
                            let r = if up {
                                cluster.broker_up(BROKER_ID)
                            } else {
                                cluster.broker_down(BROKER_ID)
                            };
                            let _ = done.send(r.map_err(|e| anyhow!("{e}")));
                        }
                    }
                }
                drop(cluster);
            })
            .context("cannot spawn the broker thread")?;
        let bootstrap = ready_rx
            .recv()
            .context("the broker thread died while starting")??;
        Ok(EmbeddedBroker {
            bootstrap,
            command_tx: Some(command_tx),
            thread: Some(thread),
        })
    }

    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Down: the broker closes its connections and refuses new ones, on
    /// the same address. Up: it accepts them again, with its data intact.
    pub fn set_reachable(&self, up: bool) -> anyhow::Result<()> {
        let (done_tx, done_rx) = mpsc::channel();
        self.command_tx
            .as_ref()
            .context("the broker is stopped")?
            .send(Command::SetUp(up, done_tx))
            .map_err(|_| anyhow!("the broker thread is gone"))?;
        done_rx
            .recv()
            .map_err(|_| anyhow!("the broker thread is gone"))?
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        drop(self.command_tx.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
