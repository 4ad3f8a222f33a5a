//! Notifications: every notice the firm sends a client (a sign-in link, an
//! upload receipt, a phase change, the weekly update) is one row of the
//! `notifications` table, written in the same transaction as the change that
//! caused it, and delivered by one pipeline:
//!
//! 1. [`kinds`]: each kind in its own file, with its `enqueue` and how it
//!    composes itself for a channel (`compose`).
//! 2. [`queue`]: the table's operations: enqueue without duplicates, claim
//!    with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL), record outcomes,
//!    retry with backoff, hand claims back.
//! 3. [`compose`]: what composing needs ([`Composer`]) and the dispatch from a
//!    row's kind and channel to its composer.
//! 4. [`channel`]: how a composed [`Message`] reaches its recipient; email is
//!    the first channel (SMTP, or the dev mail folder in embedded mode); web
//!    push the second ([`push`]: to each browser the client subscribed); text
//!    messages the third ([`sms`]: to clients who opted in, within quiet hours).
//! 5. [`delivery`]: the one loop. The portal runs it at once for the rows a
//!    request queued ([`Deliverer::deliver_now`]); the notifier runs it over
//!    every due row ([`Deliverer::deliver_all`]), with a lease, concurrent
//!    sends and group-committed outcomes.
//!
//! A row is unique per (recipient, kind, channel, period): a weekly update
//! exists once per client, channel and ISO week; a one-off notice uses its own
//! id as its period. After a crash at most the rows in flight are repeated.

pub mod channel;
pub mod compose;
pub mod delivery;
pub mod kinds;
pub mod look;
pub mod push;
pub mod queue;
pub mod short_links;
pub mod sms;

pub use channel::{Channels, DeliveryError, Message};
pub use compose::{Composed, Composer};
pub use delivery::{Deliverer, Faults, Summary};
