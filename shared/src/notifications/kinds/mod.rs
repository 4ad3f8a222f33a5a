//! The kinds of notification, one file each: how a row is queued and how it
//! composes itself per channel, from what the database says when it is sent
//! (so a retry sends what is true then).

pub mod appointment;
pub mod client_messages;
pub mod document_request;
pub mod message_reply;
pub mod phase_change;
pub mod request_reminder;
pub mod sign_in;
pub mod upload_receipt;
pub mod weekly_update;

#[cfg(test)]
mod properties;
#[cfg(any(test, feature = "samples"))]
pub mod samples;
