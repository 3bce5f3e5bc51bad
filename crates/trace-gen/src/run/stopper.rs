//! Stopping the tracer without losing what it still holds: the fence (a `getppid()` on every
//! CPU, then SIGINT once each CPU's fence line was read), the stop when the last followed
//! process has exited (confirmed after a fence), and the thread that turns SIGINT, SIGTERM
//! and SIGHUP sent to trace-gen into a stop.

use super::follow::LiveSet;
use crate::sys::{kill, pin_to_cpu};
use signal_hook::iterator::{exfiltrator::WithOrigin, SignalsInfo};
use signal_hook::low_level::siginfo::Cause;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

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
}

impl Stopper {
    /// A stopper for the tracer `tracer_pid`; `fence` when its script has one.
    pub fn new(tracer_pid: u32, fence: bool) -> Stopper {
        Stopper {
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
    /// without one, SIGINT now.
    pub fn request(self: &Arc<Self>) {
        self.requested.store(true, Ordering::SeqCst);
        if self.attached.load(Ordering::SeqCst) {
            self.trigger();
        }
    }

    /// Stops the tracer without a drain (nobody reads our output any more), SIGINT repeated
    /// as in [`Stopper::trigger`].
    pub fn abandon(self: &Arc<Self>) {
        self.abandon.store(true, Ordering::SeqCst);
        self.requested.store(true, Ordering::SeqCst);
        kill(self.tracer_pid, libc::SIGINT);
        if self.fence {
            self.trigger();
        }
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
    /// SIGINT, every 100 ms until the tracer's output ends. When no stop was requested (the
    /// followed set became empty), it stops only if the set is still empty once the fence was
    /// read; otherwise the fence ends, to be fired again at the next empty set.
    ///
    /// Why per CPU: the tracer's buffers are per CPU and read one after the other, and
    /// bpftrace 0.17 discards whatever it has not printed yet when SIGINT arrives (measured:
    /// with one fence, a burst lost the last 2% of two threads' opens, still queued on the
    /// other CPU). A CPU's buffer is first in, first out, so its fence line means all it held
    /// before is out. Why repeated: a fence event can be lost like any other when a buffer is
    /// full, and bpftrace acts on SIGINT only when it arrives during its `epoll_wait` (one
    /// that lands while it prints sets a flag that it does not look at again: it then waits
    /// forever, as measured).
    pub fn trigger(self: &Arc<Self>) {
        if !self.fence {
            kill(self.tracer_pid, libc::SIGINT);
            return;
        }
        if self.fencing.swap(true, Ordering::SeqCst) {
            return;
        }
        *self.cpus.lock().unwrap_or_else(|p| p.into_inner()) = Default::default();
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            let cpus = crate::sys::configured_cpus();
            while !me.finished.load(Ordering::SeqCst) {
                let (fired, seen) = me.cpus.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let drained = !fired.is_empty() && fired.is_subset(&seen);
                if drained
                    && !me.requested.load(Ordering::SeqCst)
                    && !me.abandon.load(Ordering::SeqCst)
                {
                    // Stopping because the followed set was empty: is it still?
                    let live = me.live();
                    if live.as_ref().is_some_and(|l| !l.is_empty()) {
                        *me.cpus.lock().unwrap_or_else(|p| p.into_inner()) = Default::default();
                        me.fencing.store(false, Ordering::SeqCst);
                        return;
                    }
                    me.requested.store(true, Ordering::SeqCst);
                }
                if drained || me.abandon.load(Ordering::SeqCst) {
                    kill(me.tracer_pid, libc::SIGINT);
                } else {
                    for cpu in (0..cpus).filter(|c| !seen.contains(c)) {
                        if pin_to_cpu(cpu) {
                            me.cpus
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .0
                                .insert(cpu);
                            // The script's probe on getppid is the fence.
                            crate::sys::getppid();
                        }
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
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
