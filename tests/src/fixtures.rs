//! Test data: the demo firm, with its email addresses made unique per test so
//! that tests sharing one SMTP server never read each other's mail.

use diesel::prelude::*;
use shared::auth::{self, Device};
use shared::db::schema::{matter_clients, matters, users};

use crate::TestApp;

/// The demo firm as seeded for one test.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The demo firm's id.
    pub firm_id: String,
    /// The domain every demo address uses in this test, e.g. `t3f2….test`.
    pub domain: String,
}

/// A client of the demo firm with their first matter.
#[derive(Debug, Clone)]
pub struct Client {
    /// User id.
    pub id: String,
    /// Email address (unique to this test).
    pub email: String,
    /// Their first matter's id.
    pub matter_id: String,
}

impl Demo {
    /// The address of demo user `local` (`jordan`, `lucia`, `sam`, `mateo`, `riley`, `casey`, `admin`).
    pub fn email(&self, local: &str) -> String {
        format!("{local}@{}", self.domain)
    }
}

impl TestApp {
    /// Seeds the demo firm and gives its addresses a domain unique to this test.
    pub async fn seed_demo(&self) -> anyhow::Result<Demo> {
        let assets = self.state.assets.clone();
        let domain = format!("t{}.test", uuid::Uuid::new_v4().simple());
        let suffix = format!("@{domain}");
        let firm_id = self
            .state
            .db
            .run(move |conn| {
                let demo = shared::seed::seed_demo(conn, &assets)?;
                let people: Vec<(String, String)> = users::table.select((users::id, users::email)).load(conn)?;
                for (id, email) in people {
                    let local = email.split('@').next().unwrap_or_default();
                    diesel::update(users::table.find(&id))
                        .set(users::email.eq(format!("{local}{suffix}")))
                        .execute(conn)?;
                }
                Ok(demo.firm_id)
            })
            .await?;
        Ok(Demo { firm_id, domain })
    }

    /// The client with `email` and their first matter.
    pub async fn client(&self, email: &str) -> anyhow::Result<Client> {
        let email = email.to_owned();
        Ok(self
            .state
            .db
            .run(move |conn| {
                let id: String = users::table.filter(users::email.eq(&email)).select(users::id).first(conn)?;
                let matter_id: String = matters::table
                    .inner_join(matter_clients::table)
                    .filter(matter_clients::client_id.eq(&id))
                    .select(matters::id)
                    .first(conn)?;
                Ok(Client { id, email, matter_id })
            })
            .await?)
    }

    /// A session token for `user_id`, made directly (for tests about what comes after sign-in).
    pub async fn session_token(&self, user_id: &str) -> anyhow::Result<String> {
        let (tokens, user_id) = (self.state.tokens.clone(), user_id.to_owned());
        let grant =
            self.state.db.run(move |conn| auth::create_session(conn, &tokens, &user_id, &Device::default())).await?;
        Ok(grant.token)
    }
}
