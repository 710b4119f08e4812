//! A single-threaded "something changed" notification for tasks of one executor.
//!
//! A task reads [`Signal::generation`], checks its condition, and if it must wait, awaits
//! [`Signal::changed_since`] with the generation it read; [`Signal::notify`] wakes every such
//! waiter. No wake-up is lost between the check and the wait, and nothing spins. No I/O.

use std::{
    cell::{Cell, RefCell},
    future::Future,
    pin::Pin,
    task::{Context, Poll, Waker},
};

/// Wakes the tasks waiting for a change.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    generation: Cell<u64>,
    waiters: RefCell<Vec<Waker>>,
}

impl Signal {
    /// The current generation (changes on every [`Signal::notify`]).
    pub(crate) fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Starts a new generation and wakes everyone waiting.
    pub(crate) fn notify(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for waker in waiters {
            waker.wake();
        }
    }

    /// Completes once the generation differs from `seen`.
    pub(crate) fn changed_since(&self, seen: u64) -> Changed<'_> {
        Changed { signal: self, seen }
    }
}

/// The future of [`Signal::changed_since`].
#[derive(Debug)]
pub(crate) struct Changed<'a> {
    signal: &'a Signal,
    seen: u64,
}

impl Future for Changed<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.signal.generation.get() != self.seen {
            return Poll::Ready(());
        }
        self.signal.waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future;

    #[test]
    fn waits_until_notified() {
        let signal = Signal::default();
        let seen = signal.generation();
        let mut wait = Box::pin(signal.changed_since(seen));
        assert!(future::block_on(future::poll_once(&mut wait)).is_none());
        signal.notify();
        assert!(future::block_on(future::poll_once(&mut wait)).is_some());
        // A notification between reading the generation and waiting is not lost.
        let seen = signal.generation();
        signal.notify();
        assert!(future::block_on(future::poll_once(signal.changed_since(seen))).is_some());
    }
}
