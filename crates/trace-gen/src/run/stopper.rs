//! Stopping the tracer without losing what it still holds: the fence (a `getppid()` on every
//! CPU, then SIGINT once each CPU's fence line was read), the stop when the last followed
//! process has exited (confirmed after a fence), and the thread that turns SIGINT, SIGTERM
//! and SIGHUP sent to trace-gen into a stop.

use super::follow::LiveSet;
use crate::sys::{kill, pin_to_cpu};
use signal_hook::iterator::{exfiltrator::WithOrigin, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Stops the tracer once, after a drain when the backend has a fence.
#[derive(Debug)]
pub(super) struct Stopper {
    tracer_pid: u32,
    fence: bool,
    /// A stop was asked for (the command ended, a signal came, our output failed).
    pub requested: AtomicBool,
    /// The tracer printed its attached line.
    pub attached: AtomicBool,
    /// The fence thread is running.
    fencing: AtomicBool,
    /// CPUs the fence was fired on, and CPUs whose fence line was read.
    cpus: Mutex<(BTreeSet<u32>, BTreeSet<u32>)>,
    /// The tracer's output has ended.
    pub finished: AtomicBool,
    /// Our output is gone: stop the tracer without waiting for a drain.
    abandon: AtomicBool,
    /// The followed processes still alive, when the script reports them: the run stops when
    /// none is left.
    live: Option<Mutex<LiveSet>>,
    /// The tracer's name, for the notes.
    program: &'static str,
    /// How long each wait on the tracer may last.
    bounds: Bounds,
    /// The stop came before the probes were attached: no fence, SIGINT at once.
    skip_fence: AtomicBool,
    /// The tracer did not attach within its bound ([`Stopper::watch_attach`]).
    pub attach_timed_out: AtomicBool,
    /// trace-gen killed the tracer once a bound had passed.
    pub killed_tracer: AtomicBool,
    /// Lines the tracer printed so far (the bounds count time without output).
    lines: AtomicU64,
    /// What the run could not confirm (a bound passed), for the trace and stderr.
    unconfirmed: Mutex<Vec<String>>,
}

impl Stopper {
    /// A stopper for the tracer `tracer_pid`; `fence` when its script has one.
    pub fn new(tracer_pid: u32, fence: bool) -> Stopper {
        Stopper {
            program: "the tracer",
            bounds: Bounds::default(),
            skip_fence: AtomicBool::new(false),
            attach_timed_out: AtomicBool::new(false),
            lines: AtomicU64::new(0),
            killed_tracer: AtomicBool::new(false),
            unconfirmed: Mutex::new(Vec::new()),
            tracer_pid,
            fence,
            requested: AtomicBool::new(false),
            attached: AtomicBool::new(false),
            fencing: AtomicBool::new(false),
            cpus: Mutex::new((BTreeSet::new(), BTreeSet::new())),
            finished: AtomicBool::new(false),
            abandon: AtomicBool::new(false),
            live: None,
        }
    }

    /// Names the tracer in the notes.
    pub fn named(mut self, program: &'static str) -> Stopper {
        self.program = program;
        self
    }

    /// Also stops, by itself, once every process of `live` (and of the forks reported later)
    /// has exited.
    pub fn following(mut self, live: LiveSet) -> Stopper {
        self.live = Some(Mutex::new(live));
        self
    }

    /// Whether the run stops by itself when the followed processes are gone.
    pub fn follows(&self) -> bool {
        self.live.is_some()
    }

    fn live(&self) -> Option<std::sync::MutexGuard<'_, LiveSet>> {
        self.live
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// The followed processes still alive (none when the script does not report them).
    pub fn live_pids(&self) -> Vec<u32> {
        self.live().map(|l| l.pids()).unwrap_or_default()
    }

    /// The script reported that a followed process made `child`.
    pub fn forked(&self, child: u32) {
        if let Some(mut live) = self.live() {
            live.forked(child);
        }
    }

    /// The script reported that the last thread of `pid` exited: when no followed process is
    /// left, the fence is fired, and the tracer stops if none is left once it was read (a
    /// fork on another CPU may not have been read yet).
    pub fn exited(self: &Arc<Self>, pid: u32) {
        if let Some(mut live) = self.live() {
            if live.exited(pid) && self.attached.load(Ordering::SeqCst) {
                self.trigger();
            }
        }
    }

    /// Drops the followed processes that no longer exist (an exit report lost with a full
    /// buffer, or a process gone before the probes were attached), and stops as
    /// [`Stopper::exited`] does when none is left.
    pub fn sweep(self: &Arc<Self>) {
        if !self.attached.load(Ordering::SeqCst) {
            return;
        }
        if let Some(mut live) = self.live() {
            if live.sweep(|p| !crate::sys::pid_exists(p)) {
                self.trigger();
            }
        }
    }

    /// Asks the tracer to stop: with a fence, once the fence has been read from every CPU;
    /// without one, or before the probes are attached (nothing can be buffered yet), SIGINT
    /// now.
    pub fn request(self: &Arc<Self>) {
        self.requested.store(true, Ordering::SeqCst);
        if !self.attached.load(Ordering::SeqCst) {
            self.skip_fence.store(true, Ordering::SeqCst);
        }
        self.trigger();
    }

    /// Stops the tracer without a drain (nobody reads our output any more), SIGINT repeated
    /// as in [`Stopper::trigger`].
    pub fn abandon(self: &Arc<Self>) {
        self.abandon.store(true, Ordering::SeqCst);
        self.requested.store(true, Ordering::SeqCst);
        kill(self.tracer_pid, libc::SIGINT);
        self.trigger();
    }

    /// The reader saw the fence line of `cpu`.
    pub fn fence_seen(&self, cpu: u32) {
        self.cpus
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .insert(cpu);
    }

    /// Fires the fence on every CPU, until each one's fence line has been read; then sends
    /// SIGINT, every 100 ms until the tracer's output ends (once only for a tracer without a
    /// fence: a second SIGINT makes dtrace skip its own drain). When no stop was requested
    /// (the followed set became empty), it stops only if the set is still empty once the
    /// fence was read; otherwise the fence ends, to be fired again at the next empty set.
    ///
    /// Why per CPU: the tracer's buffers are per CPU and read one after the other, and
    /// bpftrace 0.17 discards whatever it has not printed yet when SIGINT arrives (measured:
    /// with one fence, a burst lost the last 2% of two threads' opens, still queued on the
    /// other CPU). A CPU's buffer is first in, first out, so its fence line means all it held
    /// before is out. Why repeated: a fence event can be lost like any other when a buffer is
    /// full, and bpftrace acts on SIGINT only when it arrives during its `epoll_wait` (one
    /// that lands while it prints sets a flag that it does not look at again: it then waits
    /// forever, as measured).
    ///
    /// Every wait is bounded ([`Bounds`]): a fence that does not come back is given up (the
    /// trace then says which CPUs' events may be missing), and a tracer that does not end
    /// after SIGINT is killed with its process group (the trace says so too).
    pub fn trigger(self: &Arc<Self>) {
        if self.fencing.swap(true, Ordering::SeqCst) {
            return;
        }
        *self.cpus.lock().unwrap_or_else(|p| p.into_inner()) = Default::default();
        let me = Arc::clone(self);
        std::thread::spawn(move || me.stop_loop());
    }

    /// The loop of [`Stopper::trigger`]'s thread.
    fn stop_loop(self: &Arc<Self>) {
        let cpus = crate::sys::configured_cpus();
        let mut fence = Watch::new(self, self.bounds.fence_idle);
        let mut drain: Option<Watch> = None;
        let mut killed = false;
        let mut gave_up = false;
        while !self.finished.load(Ordering::SeqCst) {
            let (fired, seen) = self.cpus.lock().unwrap_or_else(|p| p.into_inner()).clone();
            let skip = !self.fence
                || self.skip_fence.load(Ordering::SeqCst)
                || self.abandon.load(Ordering::SeqCst);
            let mut drained = skip || gave_up || (!fired.is_empty() && fired.is_subset(&seen));
            if !drained && fence.expired(self, self.bounds.fence_max) {
                let missing: Vec<String> = (0..cpus)
                    .filter(|c| !seen.contains(c))
                    .map(|c| c.to_string())
                    .collect();
                self.note(format!(
                    "the fence did not come back from CPU {} within its bound ({} s without \
                     output): events {} still held for {} may be missing",
                    missing.join(", "),
                    self.bounds.fence_idle.as_secs(),
                    self.program,
                    if missing.len() == 1 { "it" } else { "them" },
                ));
                gave_up = true;
                drained = true;
            }
            if drained
                && drain.is_none()
                && !self.requested.load(Ordering::SeqCst)
                && !self.abandon.load(Ordering::SeqCst)
            {
                // Stopping because the followed set was empty: is it still?
                let live = self.live();
                if live.as_ref().is_some_and(|l| !l.is_empty()) {
                    *self.cpus.lock().unwrap_or_else(|p| p.into_inner()) = Default::default();
                    self.fencing.store(false, Ordering::SeqCst);
                    return;
                }
                self.requested.store(true, Ordering::SeqCst);
            }
            if drained {
                let expired = !killed
                    && drain
                        .as_mut()
                        .is_some_and(|w| w.expired(self, self.bounds.drain_max));
                if drain.is_none() {
                    kill(self.tracer_pid, libc::SIGINT);
                    drain = Some(Watch::new(self, self.bounds.drain_idle));
                } else if expired {
                    crate::sys::kill_group(self.tracer_pid, libc::SIGKILL);
                    self.killed_tracer.store(true, Ordering::SeqCst);
                    killed = true;
                    self.note(format!(
                        "{} did not end within {} s of SIGINT, and was killed: events it \
                         still held are missing",
                        self.program,
                        self.bounds.drain_idle.as_secs()
                    ));
                } else if self.fence && !killed {
                    kill(self.tracer_pid, libc::SIGINT);
                }
            } else {
                for cpu in (0..cpus).filter(|c| !seen.contains(c)) {
                    if pin_to_cpu(cpu) {
                        self.cpus
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .0
                            .insert(cpu);
                        // The script's probe on getppid is the fence.
                        crate::sys::getppid();
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the run if the tracer has not attached its probes within `bound`: the tracer
    /// is stopped (SIGINT, then SIGKILL after the drain bound) and
    /// [`Stopper::attach_timed_out`] is set.
    pub fn watch_attach(self: &Arc<Self>, bound: Duration) {
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            let start = Instant::now();
            while start.elapsed() < bound {
                if me.attached.load(Ordering::SeqCst) || me.finished.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if me.attached.load(Ordering::SeqCst) || me.finished.load(Ordering::SeqCst) {
                return;
            }
            me.attach_timed_out.store(true, Ordering::SeqCst);
            me.request();
        });
    }

    /// The tracer printed a line (the bounds count time without output).
    pub fn progress(&self) {
        self.lines.fetch_add(1, Ordering::Relaxed);
    }

    /// Records something the run could not confirm (a bound passed).
    pub fn note(&self, what: String) {
        self.unconfirmed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }

    /// What the run could not confirm, in order.
    pub fn unconfirmed(&self) -> Vec<String> {
        self.unconfirmed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// How long the stop waits on the tracer, each a time without any output from it (a tracer
/// still printing what it held is still draining) and a cap in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bounds {
    /// The fence: from the first `getppid()` to the fence line of every CPU.
    pub fence_idle: Duration,
    /// The fence, in all.
    pub fence_max: Duration,
    /// From SIGINT to the end of the tracer's output; then it is killed.
    pub drain_idle: Duration,
    /// The drain, in all.
    pub drain_max: Duration,
}

impl Default for Bounds {
    /// 2 s without output for the fence (a signal ends a run within 2 s plus the tracer's
    /// drain), 5 s for the drain after SIGINT, 60 s in all for each.
    fn default() -> Bounds {
        Bounds {
            fence_idle: Duration::from_secs(2),
            fence_max: Duration::from_secs(60),
            drain_idle: Duration::from_secs(5),
            drain_max: Duration::from_secs(60),
        }
    }
}

/// A bound on a wait, counted from the tracer's last output line.
struct Watch {
    start: Instant,
    last: Instant,
    lines: u64,
    idle: Duration,
}

impl Watch {
    fn new(stopper: &Stopper, idle: Duration) -> Watch {
        let now = Instant::now();
        Watch {
            start: now,
            last: now,
            lines: stopper.lines.load(Ordering::Relaxed),
            idle,
        }
    }

    /// Whether `idle` has passed without a line from the tracer, or `max` in all.
    fn expired(&mut self, stopper: &Stopper, max: Duration) -> bool {
        let lines = stopper.lines.load(Ordering::Relaxed);
        if lines != self.lines {
            self.lines = lines;
            self.last = Instant::now();
        }
        self.last.elapsed() >= self.idle || self.start.elapsed() >= max
    }
}

/// The signals that stop a run, caught from [`catch`] on, so that none is lost between the
/// spawns.
pub(super) struct StopSignals(SignalsInfo<WithOrigin>);

/// Starts catching SIGINT, SIGTERM and SIGHUP.
pub(super) fn catch() -> std::io::Result<StopSignals> {
    SignalsInfo::<WithOrigin>::new([libc::SIGINT, libc::SIGTERM, libc::SIGHUP]).map(StopSignals)
}

/// The thread that handles the caught signals, and how to end it.
pub(super) struct SignalThread {
    handle: signal_hook::iterator::Handle,
    thread: std::thread::JoinHandle<()>,
}

/// The `-c` command, as signals are passed on to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CommandProcess {
    /// Its pid.
    pub pid: u32,
    /// It leads a process group of its own (see [`super::held::Held`]).
    pub own_group: bool,
}

impl CommandProcess {
    /// Passes `signal` on: to the command's own process group, or to the command alone when
    /// it shares trace-gen's group (a terminal's signal, `from_terminal`, reached that group
    /// already), and to the followed processes still alive (descendants that left the group).
    pub fn pass_on(&self, stopper: &Stopper, signal: i32, from_terminal: bool, done: bool) {
        if self.own_group {
            crate::sys::kill_group(self.pid, signal);
        } else if from_terminal {
            return;
        } else if !done {
            kill(self.pid, signal);
        }
        for pid in stopper.live_pids() {
            if pid != self.pid {
                kill(pid, signal);
            }
        }
    }
}

impl SignalThread {
    /// On each signal: records it in `signal`, asks `stopper` to stop, and passes it on to the
    /// command ([`CommandProcess::pass_on`]). A second SIGINT ends trace-gen at once, with
    /// SIGKILL to the command.
    pub fn spawn(
        signals: StopSignals,
        stopper: Arc<Stopper>,
        signal: Arc<AtomicI32>,
        command: Option<CommandProcess>,
        command_done: Arc<AtomicBool>,
    ) -> SignalThread {
        let mut signals = signals.0;
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            let mut interrupts = 0;
            for origin in signals.forever() {
                interrupts += usize::from(origin.signal == libc::SIGINT);
                let done = command_done.load(Ordering::SeqCst);
                if interrupts >= 2 {
                    // A second SIGINT: the user does not want to wait for the drain.
                    eprintln!(
                        "trace-gen: a second SIGINT: stopped at once; what the tracer still held is not in the trace"
                    );
                    if let Some(c) = command {
                        c.pass_on(&stopper, libc::SIGKILL, false, done);
                    }
                    // The tracer gets SIGINT when trace-gen exits (PR_SET_PDEATHSIG).
                    std::process::exit(i32::from(super::signal_exit_code(libc::SIGINT)));
                }
                signal.store(origin.signal, Ordering::SeqCst);
                stopper.request();
                if let Some(c) = command {
                    // A terminal's signal is sent by the kernel.
                    c.pass_on(&stopper, origin.signal, origin.cause == Cause::Kernel, done);
                }
            }
        });
        SignalThread { handle, thread }
    }

    /// Stops catching and ends the thread.
    pub fn close(self) {
        self.handle.close();
        let _ = self.thread.join();
    }
}
