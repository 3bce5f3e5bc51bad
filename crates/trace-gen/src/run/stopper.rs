//! Stopping the tracer without losing what it still holds: the fence (a `getppid()` on every
//! CPU; the stop once each CPU's fence line was read), the stop when the last followed
//! process has exited (confirmed after a fence), the tracer's [`Ending`], and the thread that
//! turns SIGINT, SIGTERM and SIGHUP sent to trace-gen into a stop.

use super::follow::LiveSet;
use crate::backend::Ending;
use crate::sys::{kill, pin_to_cpu};
use signal_hook::iterator::{exfiltrator::WithOrigin, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How long the fence waits for a CPU's fence line before it fires that CPU again (its event
/// was lost with a full buffer), and the period of the SIGINTs of [`Ending::Wait`].
const REFIRE: Duration = Duration::from_millis(100);

/// One round of the fence: the CPUs fired, those whose fence line was read, and whether the
/// firing is over (a line can be read before the last CPU is fired).
#[derive(Debug, Default)]
struct Round {
    fired: BTreeSet<u32>,
    seen: BTreeSet<u32>,
    all_fired: bool,
}

impl Round {
    fn complete(&self) -> bool {
        self.all_fired && !self.fired.is_empty() && self.fired.is_subset(&self.seen)
    }
}

/// Stops the tracer once, after a drain when the backend has a fence.
#[derive(Debug)]
pub(super) struct Stopper {
    tracer_pid: u32,
    fence: bool,
    ending: Ending,
    /// A stop was asked for (the command ended, a signal came, our output failed).
    pub requested: AtomicBool,
    /// The tracer printed its attached line.
    pub attached: AtomicBool,
    /// A fence round is in progress.
    fencing: AtomicBool,
    /// The current fence round; `wake` is notified when it changes, and at the end.
    round: Mutex<Round>,
    wake: Condvar,
    /// Every CPU's fence line was read and the run stops: the trace is complete.
    drained: AtomicBool,
    /// The tracer's output has ended (or is no longer read).
    finished: AtomicBool,
    /// Our output is gone: stop the tracer without waiting for a drain.
    abandon: AtomicBool,
    /// The SIGINTs of [`Ending::Wait`] are being sent.
    interrupting: AtomicBool,
    /// The followed processes still alive, when the script reports them: the run stops when
    /// none is left.
    live: Option<Mutex<LiveSet>>,
}

impl Stopper {
    /// A stopper for the tracer `tracer_pid`; `fence` when its script has one, ended as
    /// `ending` says once drained.
    pub fn new(tracer_pid: u32, fence: bool, ending: Ending) -> Stopper {
        Stopper {
            tracer_pid,
            fence,
            ending,
            requested: AtomicBool::new(false),
            attached: AtomicBool::new(false),
            fencing: AtomicBool::new(false),
            round: Mutex::new(Round::default()),
            wake: Condvar::new(),
            drained: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            abandon: AtomicBool::new(false),
            interrupting: AtomicBool::new(false),
            live: None,
        }
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

    fn round(&self) -> MutexGuard<'_, Round> {
        self.round.lock().unwrap_or_else(|p| p.into_inner())
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
    /// without one, now.
    pub fn request(self: &Arc<Self>) {
        self.requested.store(true, Ordering::SeqCst);
        if self.attached.load(Ordering::SeqCst) {
            self.trigger();
        }
    }

    /// Stops the tracer without a drain (nobody reads our output any more).
    pub fn abandon(self: &Arc<Self>) {
        self.abandon.store(true, Ordering::SeqCst);
        self.requested.store(true, Ordering::SeqCst);
        self.end_tracer();
    }

    /// Whether every CPU's fence line was read and the run stops: the trace is complete, and
    /// the tracer's output after that point is not needed.
    pub fn drained(&self) -> bool {
        self.drained.load(Ordering::SeqCst)
    }

    /// Whether the tracer's output is read to its end after the drain ([`Ending::Wait`]).
    pub fn reads_to_end(&self) -> bool {
        self.ending == Ending::Wait
    }

    /// The tracer's output has ended, or is no longer read: the fence and the sweeper stop.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::SeqCst);
        let _round = self.round();
        self.wake.notify_all();
    }

    /// Whether [`Stopper::finish`] was called.
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Waits up to `timeout`, or until [`Stopper::finish`].
    pub fn pause(&self, timeout: Duration) {
        let round = self.round();
        if !self.finished() {
            let _ = self.wake.wait_timeout(round, timeout);
        }
    }

    /// The reader saw the fence line of `cpu`. Returns true when this completed the drain:
    /// the run stops (or the followed set is still empty after the fence), the tracer is being
    /// ended, and its output after this line is not needed.
    pub fn fence_seen(self: &Arc<Self>, cpu: u32) -> bool {
        let mut round = self.round();
        round.seen.insert(cpu);
        if !round.complete() || self.drained() {
            return false;
        }
        if !self.requested.load(Ordering::SeqCst) {
            // Fired because the followed set was empty: is it still? (A fork read after the
            // exits, from another CPU's buffer, adds a process back.)
            if self.live().as_ref().is_some_and(|l| !l.is_empty()) {
                *round = Round::default();
                self.fencing.store(false, Ordering::SeqCst);
                self.wake.notify_all();
                return false;
            }
            self.requested.store(true, Ordering::SeqCst);
        }
        self.drained.store(true, Ordering::SeqCst);
        self.wake.notify_all();
        drop(round);
        self.end_tracer();
        true
    }

    /// Ends the tracer as its backend says ([`Ending`]).
    fn end_tracer(self: &Arc<Self>) {
        match self.ending {
            Ending::Kill => kill(self.tracer_pid, libc::SIGKILL),
            Ending::Interrupt => kill(self.tracer_pid, libc::SIGINT),
            Ending::Wait => {
                if self.interrupting.swap(true, Ordering::SeqCst) {
                    return;
                }
                // Repeated until the output ends: bpftrace 0.17 acts on SIGINT only when it
                // arrives during its `epoll_wait` (one that lands while it prints sets a flag
                // that it does not look at again: it then waits forever, as measured).
                let me = Arc::clone(self);
                std::thread::spawn(move || {
                    while !me.finished() {
                        kill(me.tracer_pid, libc::SIGINT);
                        me.pause(REFIRE);
                    }
                });
            }
        }
    }

    /// Fires the fence on every CPU, and again on each CPU whose fence line was not read
    /// within [`REFIRE`] (a fence event can be lost like any other when a buffer is full),
    /// until the reader has seen every CPU's line ([`Stopper::fence_seen`] then decides). When
    /// no stop was requested (the followed set became empty), the run stops only if the set is
    /// still empty once the fence was read; otherwise the round ends, to be fired again at the
    /// next empty set.
    ///
    /// Why per CPU: the tracer's buffers are per CPU and read one after the other, and
    /// bpftrace 0.17 discards whatever it has not printed yet when it is stopped (measured:
    /// with one fence, a burst lost the last 2% of two threads' opens, still queued on the
    /// other CPU). A CPU's buffer is first in, first out, so its fence line means all it held
    /// before is out. The fence line is waited for on a condition variable: the stop follows
    /// the last line at once, with no polling.
    pub fn trigger(self: &Arc<Self>) {
        if !self.fence {
            self.end_tracer();
            return;
        }
        if self.fencing.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            let cpus = crate::sys::configured_cpus();
            let mut round = me.round();
            *round = Round::default();
            loop {
                if me.finished() || me.drained() || !me.fencing.load(Ordering::SeqCst) {
                    return;
                }
                // The lock is held while firing: a line read meanwhile is counted after.
                let unseen: Vec<u32> = (0..cpus).filter(|c| !round.seen.contains(c)).collect();
                for cpu in unseen {
                    if pin_to_cpu(cpu) {
                        round.fired.insert(cpu);
                        // The script's probe on getppid is the fence.
                        crate::sys::getppid();
                    }
                }
                round.all_fired = true;
                round = me
                    .wake
                    .wait_timeout(round, REFIRE)
                    .map_or_else(|p| p.into_inner().0, |(g, _)| g);
            }
        });
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

impl SignalThread {
    /// On each signal: records it in `signal`, asks `stopper` to stop, and passes it on to the
    /// command `target_pid` unless the command is done or the signal came from the terminal
    /// (which sent it to the command already).
    pub fn spawn(
        signals: StopSignals,
        stopper: Arc<Stopper>,
        signal: Arc<AtomicI32>,
        target_pid: Option<u32>,
        command_done: Arc<AtomicBool>,
    ) -> SignalThread {
        let mut signals = signals.0;
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            for origin in signals.forever() {
                signal.store(origin.signal, Ordering::SeqCst);
                stopper.request();
                if let Some(pid) = target_pid {
                    // A terminal's signal (sent by the kernel) reached the command already.
                    if !command_done.load(Ordering::SeqCst) && origin.cause != Cause::Kernel {
                        kill(pid, origin.signal);
                    }
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
