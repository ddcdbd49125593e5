//! How an idle queue worker wakes up to look for jobs.
//!
//! apalis-core 1.0's `IntervalStrategy` arms a fresh timer when the old one fires but never polls
//! it, so no waker is registered: when the fetch that follows finds nothing, the worker sleeps
//! until the next heartbeat (30 s) instead of the poll interval. Seen here as jobs waiting half
//! a minute in the embedded queue. This strategy polls the new timer at once.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use apalis::prelude::{PollSnapshot, PollStrategy};

pub struct EveryInterval {
    interval: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl EveryInterval {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            timer: Box::pin(tokio::time::sleep(interval)),
        }
    }
}

impl PollStrategy for EveryInterval {
    fn poll_drive(&mut self, cx: &mut Context<'_>, _: &PollSnapshot) -> Poll<Option<()>> {
        match self.timer.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                self.timer = Box::pin(tokio::time::sleep(self.interval));
                // Registers the waker with the new timer, so the next tick wakes the worker
                // whatever the fetch that follows does.
                let _ = self.timer.as_mut().poll(cx);
                Poll::Ready(Some(()))
            }
        }
    }
}
