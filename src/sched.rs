//! CPU priority for background work.
//!
//! Ingestion (decoding, enrichment, indexing, merges, Kafka's client
//! threads) and bulk exports are throughput work: a backlog waits safely in
//! Kafka, and a second more on an export is not noticed. A search or an
//! alert on the stream is someone waiting at a screen. So the threads that
//! do background work run under Linux's `SCHED_IDLE` policy (and at nice
//! 10, which `top` and `ps` show): they get the CPU that the threads serving
//! requests leave, and take all of it when nobody is asking. A request
//! thread that wakes takes the CPU from a background thread at once, where
//! a lower nice value alone only gives it a larger share over time (under
//! load, that left request threads waiting up to about 14 ms for a CPU at a
//! wake-up).
//!
//! The policy ranks threads among the others of the same control group
//! (a container, a systemd unit): kemala's ingestion yields to kemala's
//! requests, and to any other busy program that shares its group. Run it in
//! a group of its own, as containers and services are.
//!
//! Linux gives each thread its own policy and nice value, and a new thread
//! starts with its creator's. So a background thread lowers itself with
//! [`lower`], and work that spawns threads of its own (the index writer's
//! workers, a Kafka client's threads) is started inside [`in_background`],
//! so those threads are born lowered. An unprivileged thread cannot raise
//! its priority again, so this is only done on threads kemala owns for that
//! one purpose, never on the async runtime's shared threads.
//!
//! A lowered thread must not hold a lock that a request takes: while it is
//! preempted, holding it, the request waits for it at its low priority (a
//! priority inversion; measured at up to 40 ms on a full machine). So a
//! lowered thread hands such work to a [`Foreground`] thread, created at
//! normal priority, and waits for it: the pipeline thread feeds the
//! trackers, whose state searches read, that way.

/// The nice value of background threads. Under `SCHED_IDLE` it weighs
/// nothing; it shows the threads as lowered in `top`, and it is what is left
/// where the policy is refused (at nice 10 a thread weighs about a tenth of
/// a nice-0 thread when both are runnable).
pub const BACKGROUND_NICE: i32 = 10;

/// Puts the calling thread under `SCHED_IDLE`, and at [`BACKGROUND_NICE`]
/// unless its nice value is already that or higher. Failure (a sandbox
/// that forbids it) only costs the preference, so it is logged at debug
/// level and otherwise ignored; elsewhere than on Linux this does nothing.
pub fn lower() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: a plain system call on the calling thread's own id, with a
        // parameter that lives across it.
        if unsafe { libc::sched_setscheduler(tid(), libc::SCHED_IDLE, &param) } != 0 {
            tracing::debug!(
                "cannot put a background thread under SCHED_IDLE: {}",
                std::io::Error::last_os_error()
            );
        }
        if current_nice().is_some_and(|n| n < BACKGROUND_NICE) {
            let who = tid() as libc::id_t;
            // SAFETY: as above.
            if unsafe { libc::setpriority(libc::PRIO_PROCESS, who, BACKGROUND_NICE) } != 0 {
                tracing::debug!(
                    "cannot lower a background thread's CPU priority: {}",
                    std::io::Error::last_os_error()
                );
            }
        }
    }
}

/// The calling thread's id, which the priority calls take for "this thread".
#[cfg(target_os = "linux")]
fn tid() -> libc::pid_t {
    // SAFETY: gettid has no arguments and cannot fail.
    unsafe { libc::syscall(libc::SYS_gettid) as libc::pid_t }
}

/// The calling thread's nice value, or `None` where it cannot be read.
pub fn current_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a plain system call on the calling thread's own id; errno
        // is cleared first because -1 is also a valid nice value.
        unsafe {
            *libc::__errno_location() = 0;
            let nice = libc::getpriority(libc::PRIO_PROCESS, tid() as libc::id_t);
            if *libc::__errno_location() != 0 {
                return None;
            }
            Some(nice)
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Whether the calling thread runs under `SCHED_IDLE`, or `None` where
/// that cannot be read.
pub fn is_idle_policy() -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a plain system call on the calling thread's own id.
        let policy = unsafe { libc::sched_getscheduler(tid()) };
        (policy >= 0).then_some(policy == libc::SCHED_IDLE)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// Runs `f` on a new thread named `name`, at background priority, and
/// returns its result, so that every thread `f` starts is born at that
/// priority too (and named `name` unless it names itself).
pub fn in_background<T: Send>(name: &str, f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn_scoped(s, || {
                lower();
                f()
            })
            // As `std::thread::spawn` does: no thread to be had is fatal.
            .unwrap_or_else(|e| panic!("cannot start a background thread ({name}): {e}"))
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Lets go of `value` on a background thread (`kemala-reclaim`), for
/// values whose drop can block: the last reference to a file that was
/// deleted meanwhile closes it, and the filesystem frees its blocks in that
/// call. If that thread is behind by more than a few hundred values, or
/// cannot be started, `value` is dropped here.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    type Parcel = Box<dyn Send>;
    static RECLAIM: std::sync::OnceLock<Option<std::sync::mpsc::SyncSender<Parcel>>> =
        std::sync::OnceLock::new();
    let tx = RECLAIM.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Parcel>(256);
        std::thread::Builder::new()
            .name("kemala-reclaim".into())
            .spawn(move || {
                lower();
                for parcel in rx {
                    drop(parcel);
                }
            })
            .ok()
            .map(|_| tx)
    });
    if let Some(tx) = tx {
        // A full queue hands the value back, and it is dropped here.
        let _ = tx.try_send(Box::new(value));
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// A thread at the priority of the thread that started it, which runs the
/// closures given to [`Foreground::run`] one at a time, each while the
/// caller waits: lock-holding work of a lowered thread, done at normal
/// priority.
pub struct Foreground {
    jobs: std::sync::mpsc::SyncSender<Job>,
}

impl Foreground {
    /// Starts the thread, at the calling thread's priority.
    pub fn start(name: &str) -> std::io::Result<Foreground> {
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(0);
        std::thread::Builder::new()
            .name(name.to_string())
            .spawn(move || {
                // Ends when the last handle is dropped.
                while let Ok(job) = rx.recv() {
                    job();
                }
            })?;
        Ok(Foreground { jobs })
    }

    /// Runs `f` on the foreground thread and returns its result; a panic in
    /// `f` is resumed here, and the thread goes on serving.
    pub fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let job: Job = Box::new(move || {
            let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
        });
        self.jobs
            .send(job)
            .expect("the foreground thread serves as long as its handle lives");
        match rx.recv().expect("a job always sends its result") {
            Ok(t) => t,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_work_and_the_threads_it_starts_run_at_the_lower_priority() {
        let Some(before) = current_nice() else {
            return;
        };
        let policy = is_idle_policy();
        let (inner, child) = in_background("kemala-test", || {
            let both = || (current_nice(), is_idle_policy());
            (both(), std::thread::spawn(both).join().unwrap())
        });
        // Lowering never raises: a thread already nicer than 10 stays so.
        let expected = before.max(BACKGROUND_NICE);
        assert_eq!(inner, (Some(expected), Some(true)));
        assert_eq!(
            child,
            (Some(expected), Some(true)),
            "a thread inherits its creator's"
        );
        assert_eq!(current_nice(), Some(before), "the caller is untouched");
        assert_eq!(is_idle_policy(), policy, "the caller is untouched");
    }

    #[test]
    fn a_value_given_away_is_dropped_on_a_lowered_thread() {
        type Seen = (Option<String>, Option<i32>, Option<bool>);
        struct Probe(std::sync::mpsc::Sender<Seen>);
        impl Drop for Probe {
            fn drop(&mut self) {
                let t = std::thread::current();
                let name = t.name().map(String::from);
                let _ = self.0.send((name, current_nice(), is_idle_policy()));
            }
        }
        let Some(before) = current_nice() else {
            return;
        };
        let (tx, rx) = std::sync::mpsc::channel();
        drop_in_background(Probe(tx));
        let (name, nice, idle) = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the probe is dropped");
        assert_eq!(name.as_deref(), Some("kemala-reclaim"));
        assert_eq!(nice, Some(before.max(BACKGROUND_NICE)));
        assert_eq!(idle, Some(true));
    }

    #[test]
    fn a_lowered_thread_runs_lock_holding_work_at_its_creators_priority() {
        let Some(before) = current_nice() else {
            return;
        };
        let policy = is_idle_policy();
        let fg = Foreground::start("kemala-test-fg").unwrap();
        let (lowered, in_fg, again) = in_background("kemala-test", || {
            let lowered = (current_nice(), is_idle_policy());
            let in_fg = fg.run(|| (current_nice(), is_idle_policy()));
            // A panic in a job reaches the caller, and the thread goes on.
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                fg.run(|| panic!("a failing job"))
            }));
            assert!(caught.is_err());
            (lowered, in_fg, fg.run(|| 6 * 7))
        });
        assert_eq!(lowered, (Some(before.max(BACKGROUND_NICE)), Some(true)));
        assert_eq!(
            in_fg,
            (Some(before), policy),
            "the foreground keeps its creator's"
        );
        assert_eq!(again, 42);
    }
}
