//! Stopping the tracer without losing what it still holds: the fence (a `getppid()` on every
//! CPU; the stop once each CPU's fence line was read), the stop when the last followed
//! process has exited (confirmed after a fence), the tracer's [`Ending`], and the thread that
//! turns SIGINT, SIGTERM and SIGHUP sent to trace-gen into a stop.

use super::follow::LiveSet;
use crate::backend::Ending;
use crate::sys::{kill, pin_to_cpu};
use signal_hook::iterator::{exfiltrator::WithOrigin, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long the fence waits for a CPU's fence line before it fires that CPU again (its event
/// was lost with a full buffer), and the period of the SIGINTs sent to a tracer that is
/// waited for.
const REFIRE: Duration = Duration::from_millis(100);

/// How long a tracer killed with SIGKILL has to close its output and exit. A process in the
/// kernel for good (a module's probe spinning, a `D` state) cannot die, and a descendant
/// that left the tracer's process group is not killed with it: either may hold the output
/// open for ever.
pub(super) const KILLED_GRACE: Duration = Duration::from_secs(2);

/// The fence's account, kept across rounds: a round is drained on a CPU once a fence line
/// was read from it that can only come from a `getppid()` of this round. Each `getppid()`
/// prints at most one line, and a CPU's buffer is first in, first out: once more lines were
/// read from a CPU than `getppid()`s were made on it before the round began, one of them was
/// made in this round, so all the CPU held before the round is out. (A line of an earlier
/// round, fired twice because its first line was slow, is not taken for this round's.)
#[derive(Debug, Default)]
struct Fences {
    /// `getppid()`s made on each CPU, in all rounds.
    fired: BTreeMap<u32, u64>,
    /// Fence lines read from each CPU, in all rounds.
    seen: BTreeMap<u32, u64>,
    /// `fired` when the current round began.
    base: BTreeMap<u32, u64>,
    /// The CPUs fired in this round.
    cpus: BTreeSet<u32>,
    /// Every CPU of this round was fired (a line can be read before the last one is).
    all_fired: bool,
    /// The number of the current round; 0 before the first.
    round: u64,
    /// The current round is still waited for.
    active: bool,
}

impl Fences {
    /// Starts a round; returns its number.
    fn begin(&mut self) -> u64 {
        self.base = self.fired.clone();
        self.cpus.clear();
        self.all_fired = false;
        self.active = true;
        self.round += 1;
        self.round
    }

    /// Records a `getppid()` made on `cpu` in this round.
    fn fired_on(&mut self, cpu: u32) {
        self.cpus.insert(cpu);
        *self.fired.entry(cpu).or_default() += 1;
    }

    /// Records the fence line of `cpu`.
    fn seen_on(&mut self, cpu: u32) {
        *self.seen.entry(cpu).or_default() += 1;
    }

    /// Whether a line of this round was read from `cpu`.
    fn drained_on(&self, cpu: u32) -> bool {
        self.seen.get(&cpu).copied().unwrap_or(0) > self.base.get(&cpu).copied().unwrap_or(0)
    }

    /// Whether every CPU fired in this round has been drained.
    fn complete(&self) -> bool {
        self.active
            && self.all_fired
            && !self.cpus.is_empty()
            && self.cpus.iter().all(|&c| self.drained_on(c))
    }
}

/// How a fence round ended ([`Stopper::fence_round`]).
enum Fenced {
    /// Every CPU's line was read, and the run stops.
    Drained,
    /// Every CPU's line was read, but the followed set is not empty any more: no stop.
    Again,
    /// The tracer's output ended.
    Finished,
    /// The fence did not come back within its bound, or our output is gone.
    GaveUp,
}

/// Stops the tracer once, after a drain when the backend has a fence.
#[derive(Debug)]
pub(super) struct Stopper {
    tracer_pid: u32,
    fence: bool,
    /// How the tracer is ended after a proven drain.
    ending: Ending,
    /// A stop was asked for (the command ended, a signal came, our output failed).
    pub requested: AtomicBool,
    /// The tracer printed its attached line.
    pub attached: AtomicBool,
    /// A stop thread is running ([`Stopper::trigger`]).
    fencing: AtomicBool,
    /// The fence's rounds; `wake` is notified when a round changes, and at the end.
    fences: Mutex<Fences>,
    wake: Condvar,
    /// Every CPU's fence line was read and the run stops: the trace is complete.
    drained: AtomicBool,
    /// The tracer's output has ended, or is no longer read.
    finished: AtomicBool,
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
    /// The thread that reads the tracer's output ([`Stopper::reads_on_this_thread`]).
    reader: std::sync::OnceLock<libc::pthread_t>,
    /// The tracer's output stayed open after SIGKILL, and is no longer read.
    output_given_up: AtomicBool,
    /// Lines the tracer printed so far (the bounds count time without output).
    lines: AtomicU64,
    /// What the run could not confirm (a bound passed), for the trace and stderr.
    unconfirmed: Mutex<Vec<String>>,
}

impl Stopper {
    /// A stopper for the tracer `tracer_pid`; `fence` when its script has one, ended as
    /// `ending` says once drained.
    pub fn new(tracer_pid: u32, fence: bool, ending: Ending) -> Stopper {
        Stopper {
            program: "the tracer",
            bounds: Bounds::default(),
            skip_fence: AtomicBool::new(false),
            attach_timed_out: AtomicBool::new(false),
            lines: AtomicU64::new(0),
            killed_tracer: AtomicBool::new(false),
            reader: std::sync::OnceLock::new(),
            output_given_up: AtomicBool::new(false),
            unconfirmed: Mutex::new(Vec::new()),
            tracer_pid,
            fence,
            ending,
            requested: AtomicBool::new(false),
            attached: AtomicBool::new(false),
            fencing: AtomicBool::new(false),
            fences: Mutex::new(Fences::default()),
            wake: Condvar::new(),
            drained: AtomicBool::new(false),
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

    fn live(&self) -> Option<MutexGuard<'_, LiveSet>> {
        self.live
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn fences(&self) -> MutexGuard<'_, Fences> {
        self.fences.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether some followed process is still alive.
    fn anyone_left(&self) -> bool {
        self.live().as_ref().is_some_and(|l| !l.is_empty())
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
        let emptied = self.live().is_some_and(|mut live| live.exited(pid));
        if emptied && self.attached.load(Ordering::SeqCst) {
            self.trigger();
        }
    }

    /// Drops the followed processes that no longer exist (an exit report lost with a full
    /// buffer, or a process gone before the probes were attached), and stops as
    /// [`Stopper::exited`] does when none is left.
    pub fn sweep(self: &Arc<Self>) {
        if !self.attached.load(Ordering::SeqCst) {
            return;
        }
        let emptied = self
            .live()
            .is_some_and(|mut live| live.sweep(|p| !crate::sys::pid_exists(p)));
        if emptied {
            self.trigger();
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
        self.notify();
        self.trigger();
    }

    /// Wakes the threads waiting on the fence ([`Stopper::pause`], the fence's wait).
    fn notify(&self) {
        let _fences = self.fences();
        self.wake.notify_all();
    }

    /// Whether every CPU's fence line was read and the run stops: the trace is complete, and
    /// the tracer's output after that point is not needed.
    pub fn drained(&self) -> bool {
        self.drained.load(Ordering::SeqCst)
    }

    /// Whether the tracer is waited for after a proven drain ([`Ending::Wait`]): its output
    /// is then read to the end.
    pub fn reads_to_end(&self) -> bool {
        self.ending == Ending::Wait
    }

    /// The tracer's output has ended, or is no longer read: the fence and the sweeper stop.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        self.notify();
    }

    /// Whether [`Stopper::finish`] was called.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout`, or until [`Stopper::finish`] (not a proof of anything: the
    /// sweeper's period, and the repeated SIGINTs).
    pub fn pause(&self, timeout: Duration) {
        let fences = self.fences();
        if !self.finished() {
            let _ = self.wake.wait_timeout(fences, timeout);
        }
    }

    /// The reader saw the fence line of `cpu`. When this line completes a round, the run
    /// stops (unless it was fired for an empty followed set that is not empty any more) and
    /// the tracer is ended as its [`Ending`] says; returns true when its output after this
    /// line is not needed ([`Ending::Kill`] and [`Ending::Interrupt`]: it is not read on).
    pub fn fence_seen(self: &Arc<Self>, cpu: u32) -> bool {
        let mut fences = self.fences();
        fences.seen_on(cpu);
        if !fences.complete() || self.drained() {
            return false;
        }
        fences.active = false;
        let stop = self.requested.load(Ordering::SeqCst) || self.abandon.load(Ordering::SeqCst);
        if !stop && self.anyone_left() {
            // Fired because the followed set was empty: a fork read after the exits, from
            // another CPU's buffer, added a process back. The next empty set fires again.
            self.wake.notify_all();
            drop(fences);
            self.fencing.store(false, Ordering::SeqCst);
            // A stop asked for meanwhile found the round running: it starts its own.
            if self.requested.load(Ordering::SeqCst) || !self.anyone_left() {
                self.trigger();
            }
            return false;
        }
        self.requested.store(true, Ordering::SeqCst);
        self.drained.store(true, Ordering::SeqCst);
        self.wake.notify_all();
        drop(fences);
        match self.ending {
            Ending::Kill => kill(self.tracer_pid, libc::SIGKILL),
            Ending::Interrupt => kill(self.tracer_pid, libc::SIGINT),
            // The stop thread sends SIGINT until the output ends.
            Ending::Wait => {}
        }
        !self.reads_to_end()
    }

    /// Starts the stop thread, unless one runs: it fires the fence on every CPU and waits
    /// until the reader has seen each one's fence line ([`Stopper::fence_seen`] then ends
    /// the tracer). A tracer that is waited for ([`Ending::Wait`]), or one stopped without a
    /// proven drain (no fence, the probes not attached yet, our output gone, or a fence that
    /// did not come back), gets SIGINT, every 100 ms until its output ends (once only for a
    /// tracer without a fence: a second SIGINT makes dtrace skip its own drain). When no stop
    /// was requested (the followed set became empty), it stops only if the set is still empty
    /// once the fence was read; otherwise the round ends, to be fired again at the next empty
    /// set.
    ///
    /// Why per CPU: the tracer's buffers are per CPU and read one after the other, and
    /// bpftrace 0.17 discards whatever it has not printed yet when it is stopped (measured:
    /// with one fence, a burst lost the last 2% of two threads' opens, still queued on the
    /// other CPU). A CPU's buffer is first in, first out, so its fence line means all it held
    /// before is out. The fence line is waited for on a condition variable, notified by the
    /// reader: the stop follows the last line at once, with no polling. A CPU whose line did
    /// not come within 100 ms is fired again (a fence event can be lost like any other when a
    /// buffer is full). Why SIGINT is repeated: bpftrace acts on it only when it arrives during
    /// its `epoll_wait` (one that lands while it prints sets a flag that it does not look at
    /// again: it then waits forever, as measured).
    ///
    /// Every wait is bounded ([`Bounds`]): a fence that does not come back is given up (the
    /// trace then says which CPUs' events may be missing), and a tracer that does not end
    /// after SIGINT is killed with its process group (the trace says so too).
    pub fn trigger(self: &Arc<Self>) {
        if self.fencing.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = Arc::clone(self);
        std::thread::spawn(move || me.stop_loop());
    }

    /// The stop thread of [`Stopper::trigger`].
    fn stop_loop(self: &Arc<Self>) {
        let skip = !self.fence
            || self.skip_fence.load(Ordering::SeqCst)
            || self.abandon.load(Ordering::SeqCst);
        if !skip {
            match self.fence_round() {
                Fenced::Drained if !self.reads_to_end() => return,
                Fenced::Drained | Fenced::GaveUp => {}
                Fenced::Again | Fenced::Finished => return,
            }
        }
        if !self.drained()
            && !self.requested.load(Ordering::SeqCst)
            && !self.abandon.load(Ordering::SeqCst)
        {
            // Stopping because the followed set was empty, without a fence: is it still?
            if self.anyone_left() {
                self.fencing.store(false, Ordering::SeqCst);
                return;
            }
            self.requested.store(true, Ordering::SeqCst);
        }
        self.interrupt();
    }

    /// One round of the fence (see [`Stopper::trigger`]), within the fence's bound.
    fn fence_round(self: &Arc<Self>) -> Fenced {
        let cpus = crate::sys::configured_cpus();
        let mut watch = Watch::new(self, self.bounds.fence_idle);
        let mut fences = self.fences();
        let round = fences.begin();
        loop {
            if self.drained() {
                return Fenced::Drained;
            }
            if fences.round != round || !fences.active {
                return Fenced::Again;
            }
            if self.finished() {
                fences.active = false;
                return Fenced::Finished;
            }
            if self.abandon.load(Ordering::SeqCst) {
                fences.active = false;
                return Fenced::GaveUp;
            }
            if watch.expired(self, self.bounds.fence_max) {
                fences.active = false;
                let missing: Vec<String> = (0..cpus)
                    .filter(|&c| !fences.drained_on(c))
                    .map(|c| c.to_string())
                    .collect();
                drop(fences);
                self.note(format!(
                    "the fence did not come back from CPU {} within its bound ({} s without \
                     output): events {} still held for {} may be missing",
                    missing.join(", "),
                    self.bounds.fence_idle.as_secs(),
                    self.program,
                    if missing.len() == 1 { "it" } else { "them" },
                ));
                return Fenced::GaveUp;
            }
            // The lock is held while firing: a line read meanwhile is counted after.
            let unseen: Vec<u32> = (0..cpus).filter(|&c| !fences.drained_on(c)).collect();
            for cpu in unseen {
                if pin_to_cpu(cpu) {
                    fences.fired_on(cpu);
                    // The script's probe on getppid is the fence.
                    crate::sys::getppid();
                }
            }
            fences.all_fired = true;
            fences = self
                .wake
                .wait_timeout(fences, REFIRE)
                .map_or_else(|p| p.into_inner().0, |(g, _)| g);
        }
    }

    /// SIGINT until the tracer's output ends (repeated every 100 ms when it has a fence),
    /// within the drain's bound; then its process group is killed.
    fn interrupt(self: &Arc<Self>) {
        kill(self.tracer_pid, libc::SIGINT);
        let mut drain = Watch::new(self, self.bounds.drain_idle);
        loop {
            self.pause(REFIRE);
            if self.finished() {
                return;
            }
            if drain.expired(self, self.bounds.drain_max) {
                crate::sys::kill_group(self.tracer_pid, libc::SIGKILL);
                self.killed_tracer.store(true, Ordering::SeqCst);
                self.note(format!(
                    "{} did not end within {} s of SIGINT, and was killed: events it \
                     still held are missing",
                    self.program,
                    self.bounds.drain_idle.as_secs()
                ));
                self.give_up_output_unless_it_ends();
                return;
            }
            if self.fence {
                kill(self.tracer_pid, libc::SIGINT);
            }
        }
    }

    /// The tracer's output is read on the calling thread: [`Stopper::output_given_up`] wakes
    /// it from its read.
    pub fn reads_on_this_thread(&self) {
        let _ = self.reader.set(crate::sys::this_thread());
    }

    /// Whether the tracer's output stayed open after SIGKILL and is no longer read: a read of
    /// it interrupted from now on is its end.
    pub fn output_given_up(&self) -> bool {
        self.output_given_up.load(Ordering::SeqCst)
    }

    /// Once the tracer was killed: waits up to [`KILLED_GRACE`] for its output to end; when
    /// it has not, stops reading it (the reader's blocked read is interrupted until the
    /// reader has seen it) and says so.
    fn give_up_output_unless_it_ends(&self) {
        let start = Instant::now();
        while start.elapsed() < KILLED_GRACE {
            if self.finished() {
                return;
            }
            self.pause(REFIRE);
        }
        if self.finished() {
            return;
        }
        self.note(format!(
            "the output of {} stayed open {} s after SIGKILL (a process of it that cannot \
             die, or one that left its process group, holds it): trace-gen stopped reading it",
            self.program,
            KILLED_GRACE.as_secs()
        ));
        self.output_given_up.store(true, Ordering::SeqCst);
        while !self.finished() {
            if let Some(&reader) = self.reader.get() {
                crate::sys::wake_thread(reader);
            }
            self.pause(REFIRE);
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
                if me.attached.load(Ordering::SeqCst) || me.finished() {
                    return;
                }
                me.pause(REFIRE);
            }
            if me.attached.load(Ordering::SeqCst) || me.finished() {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_is_drained_by_its_own_lines_only() {
        let mut f = Fences::default();
        f.begin();
        for cpu in [0, 1] {
            f.fired_on(cpu);
        }
        f.all_fired = true;
        f.seen_on(0);
        assert!(!f.complete(), "CPU 1 not read yet");
        // CPU 1's line is slow: fired again.
        f.fired_on(1);
        f.seen_on(1);
        assert!(f.complete());
        f.active = false;
        // The next round: CPU 1's second line, from the first round, comes now.
        f.begin();
        for cpu in [0, 1] {
            f.fired_on(cpu);
        }
        f.all_fired = true;
        f.seen_on(1);
        f.seen_on(0);
        assert!(!f.complete(), "an old line does not drain CPU 1");
        f.seen_on(1);
        assert!(f.complete());
    }

    #[test]
    fn a_round_is_complete_only_once_every_cpu_was_fired() {
        let mut f = Fences::default();
        f.begin();
        f.fired_on(0);
        f.seen_on(0);
        assert!(!f.complete(), "CPU 1 is still to be fired");
        f.all_fired = true;
        assert!(f.complete(), "CPU 1 could not be fired (offline)");
        f.active = false;
        assert!(!f.complete(), "a round given up");
    }

    #[test]
    fn the_last_fence_line_ends_a_killed_tracer_at_once() {
        // A tracer that does not exist: the signals go nowhere.
        let stopper = Arc::new(Stopper::new(u32::MAX >> 1, true, Ending::Kill));
        stopper.attached.store(true, Ordering::SeqCst);
        stopper.requested.store(true, Ordering::SeqCst);
        {
            let mut f = stopper.fences();
            f.begin();
            f.fired_on(0);
            f.all_fired = true;
        }
        assert!(stopper.fence_seen(0), "not read on");
        assert!(stopper.drained());
        let waited = Arc::new(Stopper::new(u32::MAX >> 1, true, Ending::Wait));
        waited.requested.store(true, Ordering::SeqCst);
        {
            let mut f = waited.fences();
            f.begin();
            f.fired_on(0);
            f.all_fired = true;
        }
        assert!(!waited.fence_seen(0), "read to its end");
        assert!(waited.drained());
    }
}
