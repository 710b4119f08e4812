//! A one-shot, executor-local event ([`Event`]): fired once, awaited by any number of tasks
//! of the same executor. The listener uses it to tell its connections to stop. No I/O.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use hashbrown::HashMap;

/// A one-shot event: once [`Event::fire`]d, every [`Event::wait`] completes.
#[derive(Debug, Default)]
pub(crate) struct Event {
    fired: Cell<bool>,
    next_key: Cell<u64>,
    waiters: RefCell<HashMap<u64, Waker>>,
}

impl Event {
    /// Fires the event and wakes every waiter.
    pub(crate) fn fire(&self) {
        self.fired.set(true);
        let wakers: Vec<Waker> = self.waiters.borrow_mut().drain().map(|(_, w)| w).collect();
        for waker in wakers {
            waker.wake();
        }
    }

    /// Whether the event has fired.
    pub(crate) fn is_fired(&self) -> bool {
        self.fired.get()
    }

    /// Completes once the event has fired.
    pub(crate) fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            key: None,
        }
    }
}

/// The future of [`Event::wait`]; its waker is removed when it is dropped.
#[derive(Debug)]
pub(crate) struct Wait<'a> {
    event: &'a Event,
    key: Option<u64>,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.event.is_fired() {
            return Poll::Ready(());
        }
        let key = match self.key {
            Some(key) => key,
            None => {
                let key = self.event.next_key.get();
                self.event.next_key.set(key.wrapping_add(1));
                self.key = Some(key);
                key
            }
        };
        self.event
            .waiters
            .borrow_mut()
            .insert(key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.event.waiters.borrow_mut().remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_complete_when_fired_and_clean_up_when_dropped() {
        let event = Event::default();
        let mut first = Box::pin(event.wait());
        let mut second = Box::pin(event.wait());
        let waker = Waker::noop();
        let mut cx = Context::from_waker(waker);
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(first.as_mut().poll(&mut cx).is_pending());
        assert!(second.as_mut().poll(&mut cx).is_pending());
        assert_eq!(event.waiters.borrow().len(), 2);
        drop(second);
        assert_eq!(event.waiters.borrow().len(), 1);
        event.fire();
        assert!(event.is_fired());
        assert!(first.as_mut().poll(&mut cx).is_ready());
        assert!(Box::pin(event.wait()).as_mut().poll(&mut cx).is_ready());
    }
}
