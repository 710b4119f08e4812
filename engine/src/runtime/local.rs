//! Single-thread synchronization helpers used inside one executor.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::RuntimeError;

/// A one-waiter notification flag (like a local `tokio::sync::Notify` with one permit).
#[derive(Debug, Default)]
pub(crate) struct Notify {
    flag: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Notify {
    /// Sets the permit and wakes the waiter, if any.
    pub(crate) fn notify(&self) {
        self.flag.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Resolves once a permit is available, consuming it.
    pub(crate) fn notified(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.flag.replace(false) {
                Poll::Ready(())
            } else {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

#[derive(Debug)]
enum SlotState<R> {
    Waiting(Option<Waker>),
    Ready(R),
    Taken,
    Closed,
}

type Slot<R> = Rc<RefCell<SlotState<R>>>;

/// The sending half of a local one-shot reply; dropping it unsent fails the receiver with
/// [`RuntimeError::Shutdown`].
#[derive(Debug)]
pub(crate) struct LocalReplier<R> {
    slot: Slot<R>,
}

impl<R> LocalReplier<R> {
    pub(crate) fn send(self, reply: R) {
        let old = std::mem::replace(&mut *self.slot.borrow_mut(), SlotState::Ready(reply));
        if let SlotState::Waiting(Some(waker)) = old {
            waker.wake();
        }
    }
}

impl<R> Drop for LocalReplier<R> {
    fn drop(&mut self) {
        let mut state = self.slot.borrow_mut();
        if let SlotState::Waiting(waker) = &mut *state {
            let waker = waker.take();
            *state = SlotState::Closed;
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The reply to a request submitted on the shard's own executor
/// ([`LocalShard::submit`](super::LocalShard::submit)); resolves with the reply, or with
/// [`RuntimeError::Shutdown`] if the shard stops first.
#[derive(Debug)]
#[must_use = "the reply is lost unless the future is awaited"]
pub struct LocalReply<R> {
    slot: Slot<R>,
}

impl<R> LocalReply<R> {
    /// True once the reply (or the shutdown) is there: awaiting will not wait.
    pub fn is_ready(&self) -> bool {
        !matches!(&*self.slot.borrow(), SlotState::Waiting(_))
    }
}

impl<R> Future for LocalReply<R> {
    type Output = Result<R, RuntimeError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.slot.borrow_mut();
        match &mut *state {
            SlotState::Waiting(waker) => {
                *waker = Some(cx.waker().clone());
                Poll::Pending
            }
            SlotState::Ready(_) => match std::mem::replace(&mut *state, SlotState::Taken) {
                SlotState::Ready(reply) => Poll::Ready(Ok(reply)),
                _ => unreachable!("state was Ready"),
            },
            SlotState::Closed => Poll::Ready(Err(RuntimeError::Shutdown)),
            SlotState::Taken => panic!("LocalReply polled after completion"),
        }
    }
}

/// A local one-shot reply channel.
pub(crate) fn reply_channel<R>() -> (LocalReplier<R>, LocalReply<R>) {
    let slot = Rc::new(RefCell::new(SlotState::Waiting(None)));
    (LocalReplier { slot: slot.clone() }, LocalReply { slot })
}

/// The tasks of one shard, cancelled together when the shard stops (so that nothing they
/// hold, like a [`LocalShard`](super::LocalShard) or a reply channel, outlives the runtime).
///
/// Tasks are scheduled, not run at once (unlike `glommio::spawn_local`), so spawning is safe
/// while the shard is borrowed. Finished tasks are forgotten at the next spawn.
#[derive(Default)]
pub(crate) struct Tasks {
    next_id: Cell<u64>,
    live: RefCell<hashbrown::HashMap<u64, glommio::Task<()>>>,
    finished: Rc<RefCell<Vec<u64>>>,
    closed: Cell<bool>,
}

impl Tasks {
    /// Spawns `future` on the current executor (dropped at once if the shard has stopped).
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + 'static) {
        if self.closed.get() {
            return;
        }
        {
            let mut finished = self.finished.borrow_mut();
            if !finished.is_empty() {
                let mut live = self.live.borrow_mut();
                for id in finished.drain(..) {
                    live.remove(&id);
                }
            }
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let finished = self.finished.clone();
        let queue = glommio::executor().current_task_queue();
        let task = async move {
            future.await;
            finished.borrow_mut().push(id);
        };
        match glommio::spawn_local_into(task, queue) {
            Ok(task) => {
                self.live.borrow_mut().insert(id, task);
            }
            Err(error) => eprintln!("imps-engine runtime: cannot spawn a task: {error}"),
        }
    }

    /// Refuses new tasks and cancels the live ones (their futures are dropped the next time
    /// the executor runs its queue).
    pub(crate) fn close(&self) {
        self.closed.set(true);
        let live = std::mem::take(&mut *self.live.borrow_mut());
        self.finished.borrow_mut().clear();
        drop(live);
    }
}
