//! An engine started in-process, with an embedded broker the test owns.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kemala::app::Engine;
use kemala::config::Config;
use kemala::source::broker::EmbeddedBroker;
use serde_json::Value;

use crate::common::{get_json, wait_for};

pub struct InProc {
    pub rt: tokio::runtime::Runtime,
    pub engine: Option<Engine>,
    /// The embedded broker the test owns, unless it brought its own.
    pub _broker: Option<EmbeddedBroker>,
    bootstrap: String,
    pub port: u16,
    /// Holds the index directory for the engine's lifetime.
    pub _dir: tempfile::TempDir,
}

/// An embedded broker with the input and dead-letter topics.
pub fn broker(partitions: i32) -> EmbeddedBroker {
    let k = Config::embedded().unwrap().engine.kafka;
    EmbeddedBroker::start(
        &[k.topics[0].clone(), k.dead_letter_topic.clone()],
        partitions,
    )
    .unwrap()
}

impl InProc {
    pub fn start(partitions: i32, tweak: impl FnOnce(&mut Config)) -> InProc {
        let b = broker(partitions);
        let bootstrap = b.bootstrap().to_string();
        InProc::start_on(Some(b), &bootstrap, tweak)
    }

    /// Starts an engine on a broker at `bootstrap`, owning `broker` if given.
    pub fn start_on(
        broker: Option<EmbeddedBroker>,
        bootstrap: &str,
        tweak: impl FnOnce(&mut Config),
    ) -> InProc {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::embedded().unwrap();
        config.engine.index.data_dir = dir.path().join("index");
        config.engine.index.commit_interval =
            kemala::config::HumanDuration(Duration::from_millis(500));
        config.engine.kafka.brokers = bootstrap.to_string();
        tweak(&mut config);
        let (rt, engine) = Engine::start_local(config).unwrap();
        let port = engine.http_addr.port();
        InProc {
            rt,
            engine: Some(engine),
            _broker: broker,
            bootstrap: bootstrap.to_string(),
            port,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn get(&self, path: &str) -> Value {
        get_json(&self.url(path)).unwrap_or_else(|| panic!("GET {path} failed"))
    }

    pub fn shared(&self) -> std::sync::Arc<kemala::state::Shared> {
        self.engine.as_ref().unwrap().shared.clone()
    }

    pub fn bootstrap(&self) -> String {
        self.bootstrap.clone()
    }

    /// Waits until the pipeline has handled and committed `n` messages.
    pub fn wait_committed(&self, n: u64) {
        self.wait_progress(
            &format!("{n} messages committed"),
            Duration::from_secs(300),
            |p| p.committed.load(Ordering::Relaxed) >= n,
        );
    }

    /// Waits until `done` holds of the pipeline's progress.
    fn wait_progress(
        &self,
        what: &str,
        within: Duration,
        done: impl Fn(&kemala::state::Progress) -> bool,
    ) {
        let progress = self.engine.as_ref().unwrap().shared.progress.clone();
        wait_for(what, within, || done(&progress).then_some(()));
    }

    /// Waits until `n` messages are committed and event time has reached
    /// `event_ms`: every decision up to that time is made.
    pub fn wait_settled(&self, n: u64, event_ms: i64) {
        self.wait_committed(n);
        self.wait_progress(
            "event time to reach the end of the feed",
            Duration::from_secs(60),
            |p| p.watermark_ms.load(Ordering::Relaxed) >= event_ms,
        );
    }

    pub fn metrics(&self) -> String {
        self.get_text("/metrics")
    }

    /// The body of a GET of `path`, whatever its status.
    pub fn get_text(&self, path: &str) -> String {
        crate::common::http()
            .get(self.url(path))
            .send()
            .unwrap()
            .text()
            .unwrap()
    }

    pub fn stop(&mut self) {
        if let Some(e) = self.engine.take() {
            self.rt.block_on(e.stop()).unwrap();
        }
    }
}

impl Drop for InProc {
    fn drop(&mut self) {
        if let Some(e) = self.engine.take() {
            let _ = self.rt.block_on(e.stop());
        }
    }
}
