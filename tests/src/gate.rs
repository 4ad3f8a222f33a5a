//! Every test of a binary runs in its process, in parallel threads. A few must
//! not run beside any other test — the load test and the PostgreSQL restart:
//! their figures and time limits assume the machine is theirs, as it was when
//! each had a test binary of its own (binaries run one after the other).
//!
//! So every test that starts a portal, a server or a process, or talks to a
//! service, holds [`beside_others`] while it runs (the tests of
//! [`on_both_backends!`](crate::on_both_backends) take it themselves; a plain
//! `#[test]` takes [`beside_others_blocking`]); one that only reads files need
//! not. Such a test holds [`alone`] instead: it waits until the tests running
//! have ended, and tests that start meanwhile wait until it has (the lock is
//! fair: first come, first served). A test takes the gate once; taking it
//! twice can wait for itself.

use tokio::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static GATE: RwLock<()> = RwLock::const_new(());

/// Held by a test that may run beside others (not beside one holding [`alone`]).
pub async fn beside_others() -> RwLockReadGuard<'static, ()> {
    GATE.read().await
}

/// [`beside_others`] for a test without a runtime (a plain `#[test]`).
pub fn beside_others_blocking() -> RwLockReadGuard<'static, ()> {
    GATE.blocking_read()
}

/// Held by a test that must be the only one running in its process.
pub async fn alone() -> RwLockWriteGuard<'static, ()> {
    GATE.write().await
}
