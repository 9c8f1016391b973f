//! Exponential backoff for reconnecting to a broker.

use std::time::Duration;

/// First wait after a failure.
const FIRST: Duration = Duration::from_millis(100);
/// Longest wait between attempts.
const MAX: Duration = Duration::from_secs(5);

/// Doubling waits from [`FIRST`] up to [`MAX`], reset after a success.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    next: Duration,
}

impl Backoff {
    pub(crate) const fn new() -> Self {
        Backoff { next: FIRST }
    }
    /// The wait before the next attempt (and doubles the one after).
    pub(crate) fn next_wait(&mut self) -> Duration {
        let w = self.next;
        self.next = (self.next * 2).min(MAX);
        w
    }
    pub(crate) fn reset(&mut self) {
        self.next = FIRST;
    }
}
