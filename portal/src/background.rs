//! Work a request starts and answers without waiting for (a client's sign-in
//! email), run on the portal's main runtime rather than the request worker's:
//! a graceful stop ends the workers first, then waits here for what they left
//! running ([`crate::app::Application::run_until_stopped`]).

use std::future::Future;

use tokio::runtime::Handle;
use tokio_util::task::TaskTracker;

/// The tasks requests left running, and the runtime they run on.
#[derive(Debug, Clone)]
pub struct Background {
    tasks: TaskTracker,
    runtime: Handle,
}

impl Background {
    /// Tasks on the runtime this is called on (the portal's main one); an
    /// error outside a tokio runtime.
    pub fn on_current_runtime() -> Result<Self, tokio::runtime::TryCurrentError> {
        Ok(Self { tasks: TaskTracker::new(), runtime: Handle::try_current()? })
    }

    /// Runs `work` on the main runtime, tracked.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.tasks.spawn_on(work, &self.runtime);
    }

    /// How many tasks are still running.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task is running.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits until every task started so far has finished; tasks may still be
    /// started meanwhile and afterwards (tests use it to wait for an email).
    pub async fn settled(&self) {
        self.tasks.close();
        self.tasks.wait().await;
        self.tasks.reopen();
    }
}
