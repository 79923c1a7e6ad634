//! Shared test harness: processes, ports, waiting, HTTP and Kafka helpers.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::Producer;
use rdkafka::ClientConfig;
use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_kemala");

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `cond` until it returns `Some`, or panics after `timeout` saying what was awaited.
pub fn wait_for<T>(what: &str, timeout: Duration, mut cond: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = cond() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `step` until it gives `Ok`, bounded by progress rather than by a
/// fixed total time: `step` reports a count that should keep rising as
/// `Err`, and the wait fails when that count has not risen for `stall` (a
/// stuck feed), or after `cap` in all. A busy machine is slow, not stuck.
pub fn wait_rising<T>(
    what: &str,
    stall: Duration,
    cap: Duration,
    mut step: impl FnMut() -> Result<T, f64>,
) -> T {
    let start = Instant::now();
    let mut best = (f64::NEG_INFINITY, start);
    loop {
        match step() {
            Ok(v) => return v,
            Err(n) if n > best.0 => best = (n, Instant::now()),
            Err(_) => {}
        }
        if best.1.elapsed() > stall {
            panic!(
                "waiting for {what}: stuck at {} for {stall:?} ({:?} in all)",
                best.0,
                start.elapsed()
            );
        }
        if start.elapsed() > cap {
            panic!(
                "timed out after {cap:?} waiting for {what}, still rising at {}",
                best.0
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub fn get_json(url: &str) -> Option<Value> {
    let r = http().get(url).send().ok()?;
    if !r.status().is_success() {
        return None;
    }
    r.json().ok()
}

/// A child process that is killed when dropped, with stderr kept in a file.
pub struct Proc {
    pub child: Child,
    pub name: String,
    pub log: PathBuf,
}

impl Proc {
    pub fn spawn(name: &str, dir: &Path, args: &[&str]) -> Proc {
        let log = dir.join(format!("{name}.log"));
        let err = std::fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BIN}: {e}"));
        Proc {
            child,
            name: name.into(),
            log,
        }
    }

    /// Reads stdout lines until one satisfies `f`.
    pub fn read_stdout_until(&mut self, mut f: impl FnMut(&str) -> bool) -> String {
        let out = self.child.stdout.as_mut().expect("stdout is piped");
        let mut reader = BufReader::new(out);
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                panic!(
                    "{} exited before printing the expected line; log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            if f(line.trim()) {
                return line.trim().to_string();
            }
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, sig: i32) {
        unsafe {
            libc::kill(self.child.id() as i32, sig);
        }
    }

    /// Sends `sig` (SIGINT for Ctrl-C, SIGTERM) and asserts that the process
    /// exits 0 within `within`: a clean stop, not the signal's default action.
    pub fn stop_cleanly(&mut self, sig: i32, within: Duration) {
        self.signal(sig);
        let status = self.wait_timeout(within);
        assert!(
            status.is_some_and(|s| s.success()),
            "{} did not stop cleanly within {within:?} of signal {sig} ({status:?}); log:\n{}",
            self.name,
            self.log_text()
        );
    }

    /// `kemala demo` serving on `port` of 127.0.0.1 with its index in
    /// `index`, and `args` besides.
    pub fn demo(dir: &Path, port: u16, index: &Path, args: &[&str]) -> Proc {
        let listen = format!("127.0.0.1:{port}");
        let index = index.to_str().unwrap();
        let mut all = vec!["demo", "--listen", &listen, "--data-dir", index];
        all.extend_from_slice(args);
        Proc::spawn("demo", dir, &all)
    }

    /// Waits for `f` to give a value, as [`wait_for`] does, failing with
    /// the process's log at once if it exits first.
    pub fn wait_alive<T>(
        &mut self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut() -> Option<T>,
    ) -> T {
        wait_for(what, timeout, || {
            if let Ok(Some(s)) = self.child.try_wait() {
                panic!(
                    "{} exited ({s}) waiting for {what}; log:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            f()
        })
    }

    /// Waits for exit, up to `timeout`; returns the exit status.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kemala broker` in its own process, so it outlives a killed engine.
pub fn start_broker(dir: &Path, partitions: u32) -> (Proc, String) {
    let mut p = Proc::spawn(
        "broker",
        dir,
        &["broker", "--partitions", &partitions.to_string()],
    );
    let addr = p.read_stdout_until(|l| l.starts_with("127.0.0.1:"));
    (p, addr)
}

/// Writes a config directory for `kemala run` against `brokers`.
pub fn write_config(dir: &Path, brokers: &str, http_port: u16, extra: &str) -> PathBuf {
    let cfg = dir.join("config");
    std::fs::create_dir_all(&cfg).unwrap();
    for f in ["regions.toml", "topics.toml", "agencies.toml"] {
        std::fs::copy(repo().join("config").join(f), cfg.join(f)).unwrap();
    }
    let text = format!(
        "[kafka]\nbrokers = \"{brokers}\"\n\n[index]\ndata_dir = \"{}\"\ncommit_interval = \"1s\"\n\n[http]\nlisten = \"127.0.0.1:{http_port}\"\n{extra}\n",
        dir.join("index").display()
    );
    let path = cfg.join("kemala.toml");
    std::fs::write(&path, text).unwrap();
    path
}

pub fn producer(
    bootstrap: &str,
) -> rdkafka::producer::ThreadedProducer<rdkafka::producer::DefaultProducerContext> {
    kemala::cli::producer(bootstrap).unwrap()
}

pub fn produce_all(
    bootstrap: &str,
    topic: &str,
    payloads: impl IntoIterator<Item = Vec<u8>>,
) -> usize {
    let p = producer(bootstrap);
    let mut n = 0;
    for payload in payloads {
        let mut rec: rdkafka::producer::BaseRecord<'_, (), [u8]> =
            rdkafka::producer::BaseRecord::to(topic).payload(&payload[..]);
        // A full queue hands the record back: wait for room.
        while let Err((_, r)) = p.send(rec) {
            rec = r;
            std::thread::sleep(Duration::from_millis(1));
        }
        n += 1;
    }
    p.flush(Duration::from_secs(60)).unwrap();
    n
}

/// Committed offsets of `group` for every partition of `topic`, and the
/// partitions' high watermarks.
pub fn group_offsets(bootstrap: &str, group: &str, topic: &str) -> (Vec<i64>, Vec<i64>) {
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let md = c
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let parts = md.topics()[0].partitions().len() as i32;
    let mut tpl = rdkafka::TopicPartitionList::new();
    for p in 0..parts {
        tpl.add_partition(topic, p);
    }
    let committed = c.committed_offsets(tpl, Duration::from_secs(10)).unwrap();
    let mut out = Vec::new();
    let mut highs = Vec::new();
    for p in 0..parts {
        let off = committed
            .find_partition(topic, p)
            .map(|e| e.offset().to_raw().unwrap_or(0).max(0))
            .unwrap_or(0);
        out.push(off);
        highs.push(
            c.fetch_watermarks(topic, p, Duration::from_secs(10))
                .unwrap()
                .1,
        );
    }
    (out, highs)
}

pub fn status(port: u16) -> Option<Value> {
    get_json(&format!("http://127.0.0.1:{port}/api/status"))
}

pub fn counter(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name_and_labels) && l[name_and_labels.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Polls `f` until it returns `expected`; on timeout, fails showing the last value.
pub fn wait_eq<T: PartialEq + std::fmt::Debug>(
    what: &str,
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
    expected: &T,
) {
    let start = Instant::now();
    let mut last = None;
    loop {
        if let Some(v) = f() {
            if &v == expected {
                return;
            }
            last = Some(v);
        }
        if start.elapsed() > timeout {
            assert_eq!(
                last.as_ref(),
                Some(expected),
                "{what}: still different after {timeout:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The generator on the bundled configuration with its default options
/// but no malformed messages, changed by `tweak`.
pub fn clean_generator(tweak: impl FnOnce(&mut kemala::gen::GenOptions)) -> kemala::gen::Generator {
    let config = kemala::config::Config::embedded().unwrap();
    let mut opts = kemala::gen::GenOptions {
        malformed_ratio: 0.0,
        ..kemala::gen::GenOptions::default()
    };
    tweak(&mut opts);
    kemala::gen::Generator::new(&config, opts)
}

/// `n` generated tweets (no malformed ones) from `seed`, and their ids.
pub fn generated(n: usize, seed: u64) -> (Vec<Vec<u8>>, std::collections::BTreeSet<u64>) {
    let mut ids = std::collections::BTreeSet::new();
    let payloads = clean_generator(|o| o.seed = seed)
        .take(n)
        .map(|g| {
            if let kemala::gen::Truth::Tweet { id, .. } = g.truth {
                assert!(ids.insert(id), "generated ids are unique");
            }
            g.payload
        })
        .collect();
    (payloads, ids)
}

/// Every tweet id in the index, as the CSV export lists them (duplicates
/// kept). The id is the first CSV column and never quoted.
pub fn exported_ids(port: u16) -> Vec<u64> {
    let body = http()
        .get(format!(
            "http://127.0.0.1:{port}/api/search/export?format=csv"
        ))
        .timeout(Duration::from_secs(300))
        .send()
        .unwrap()
        .text()
        .unwrap();
    body.lines()
        .skip(1)
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .collect()
}

/// Fails naming every problem found, one a line, with `context` after them.
pub fn assert_no_problems(what: &str, problems: &[String], context: &str) {
    assert!(
        problems.is_empty(),
        "{} {what}(s):\n  {}\n{context}",
        problems.len(),
        problems.join("\n  ")
    );
}

/// kemala's /metrics on `port`, if it answers.
pub fn metrics_text(port: u16) -> Option<String> {
    http()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .ok()?
        .text()
        .ok()
}

/// The ids of a search answer's hits, in order.
pub fn hit_ids(res: &Value) -> Vec<String> {
    res["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

/// Runs `cmd` to its end; fails with `what` and its stderr unless it succeeds.
pub fn run_ok(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {:?}: {e}", cmd.get_program()));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A GET whose body may never end (a Server-Sent Events stream): no timeout.
pub fn stream(url: &str) -> reqwest::Result<reqwest::blocking::Response> {
    reqwest::blocking::Client::builder()
        .timeout(None)
        .build()?
        .get(url)
        .send()
}
