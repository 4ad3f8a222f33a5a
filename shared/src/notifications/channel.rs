//! Channels: how a composed notification reaches its recipient. A kind
//! composes a [`Message`] for the row's channel; [`Channels::deliver`] hands it
//! to that channel's transport and says whether a failure is worth retrying.
//! A new channel (text messages, web push) is a variant here and a transport
//! in [`Channels`]; the delivery loop, the claim and the outcome recording do
//! not change.

use super::push::{PushMessage, PushSender};
use super::sms::{SmsSender, Text};
use crate::config::Config;
use crate::db::Db;
use crate::domain::Channel;
use crate::mail::{Mailer, OutgoingEmail, SendError};

/// A notification composed for one channel.
#[derive(Debug, Clone)]
pub enum Message {
    /// An email.
    Email(Box<OutgoingEmail>),
    /// A web push to each of the recipient's browsers.
    Push(Box<PushMessage>),
    /// A text message to the client's mobile number.
    Sms(Box<Text>),
}

impl Message {
    /// The channel that carries it.
    pub fn channel(&self) -> Channel {
        match self {
            Self::Email(_) => Channel::Email,
            Self::Push(_) => Channel::Push,
            Self::Sms(_) => Channel::Sms,
        }
    }
}

/// Why a delivery attempt failed, as far as the retry policy cares. The text
/// is the transport's own words; it is recorded on the row for staff.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later (a server down, a timeout, a 4xx reply).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (a 5xx reply, an invalid address, a message that cannot be built).
    #[error("{0}")]
    Permanent(String),
}

impl From<SendError> for DeliveryError {
    fn from(e: SendError) -> Self {
        match e {
            SendError::Transient(_) => Self::Transient(e.to_string()),
            SendError::Permanent(_) => Self::Permanent(e.to_string()),
        }
    }
}

/// The transports of every channel. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Channels {
    /// Email: SMTP, or the dev mail folder.
    pub email: Mailer,
    /// Web push: to push services, signed with the portal's VAPID key.
    pub push: PushSender,
    /// Text messages: a Twilio-compatible API (off when not configured).
    pub sms: SmsSender,
}

impl Channels {
    /// The transports the configuration describes; `db` keeps push subscriptions up to date.
    pub fn from_config(config: &Config, db: Db) -> crate::Result<Self> {
        Ok(Self {
            email: Mailer::from_config(config)?,
            push: PushSender::from_config(config, db.clone())?,
            sms: SmsSender::from_config(config, db)?,
        })
    }

    /// Delivers `message` over its channel.
    pub async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        match message {
            Message::Email(email) => self.email.send(email).await.map_err(DeliveryError::from),
            Message::Push(push) => self.push.send(push).await,
            Message::Sms(text) => self.sms.send(text).await,
        }
    }
}
