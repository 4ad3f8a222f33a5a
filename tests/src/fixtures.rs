//! Test data: the demo firm, with its email addresses made unique per test so
//! that tests sharing one SMTP server never read each other's mail.

use chrono::Duration;
use diesel::prelude::*;
use shared::auth::{self, Device};
use shared::db::models::{Matter, MatterClient, Milestone, User};
use shared::db::schema::{matter_clients, matters, milestones, phases, users};
use shared::domain::{Language, MilestoneKind, Role, new_id, now};

use crate::TestApp;

/// The demo firm as seeded for one test.
#[derive(Debug, Clone)]
pub struct Demo {
    /// The demo firm's id.
    pub firm_id: String,
    /// The domain every demo address uses in this test, e.g. `t3f2….test`.
    pub domain: String,
    /// The demo staff accounts' passwords and TOTP secrets (emails in `domain`).
    pub staff: Vec<portal::seed::DemoStaff>,
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
    /// The demo staff member `local` (`admin` or `casey`): email, password, TOTP secret.
    pub fn staff_login(&self, local: &str) -> anyhow::Result<&portal::seed::DemoStaff> {
        let email = self.email(local);
        self.staff.iter().find(|s| s.email == email).ok_or_else(|| anyhow::anyhow!("no demo staff {email}"))
    }

    /// The address of demo user `local` (`jordan`, `lucia`, `sam`, `mateo`, `riley`, `casey`, `admin`).
    pub fn email(&self, local: &str) -> String {
        format!("{local}@{}", self.domain)
    }
}

impl TestApp {
    /// Seeds the demo firm and gives its addresses a domain unique to this test.
    /// Called twice, it makes a second firm with its own domain (for isolation tests).
    pub async fn seed_demo(&self) -> anyhow::Result<Demo> {
        let (assets, totp_key) = (self.state.assets.clone(), self.state.totp_key.clone());
        let domain = format!("t{}.test", uuid::Uuid::new_v4().simple());
        let suffix = format!("@{domain}");
        let demo = self
            .state
            .db
            .run(move |conn| {
                let demo = portal::seed::seed_demo(conn, &assets, &totp_key)?;
                let people: Vec<(String, String)> = users::table
                    .filter(users::firm_id.eq(&demo.firm_id))
                    .select((users::id, users::email))
                    .load(conn)?;
                for (id, email) in people {
                    let local = email.split('@').next().unwrap_or_default();
                    diesel::update(users::table.find(&id))
                        .set(users::email.eq(format!("{local}{suffix}")))
                        .execute(conn)?;
                }
                Ok(demo)
            })
            .await?;
        let staff = demo
            .staff
            .into_iter()
            .map(|mut s| {
                let local = s.email.split('@').next().unwrap_or_default().to_owned();
                s.email = format!("{local}@{domain}");
                s
            })
            .collect();
        Ok(Demo { firm_id: demo.firm_id, domain, staff })
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

    /// The id of the user with `email`.
    pub async fn user_id(&self, email: &str) -> anyhow::Result<String> {
        let email = email.to_owned();
        Ok(self
            .state
            .db
            .run(move |conn| Ok(users::table.filter(users::email.eq(&email)).select(users::id).first(conn)?))
            .await?)
    }

    /// A session token for `user_id`, made directly (for tests about what comes after sign-in).
    pub async fn session_token(&self, user_id: &str) -> anyhow::Result<String> {
        let (tokens, user_id) = (self.state.tokens.clone(), user_id.to_owned());
        let grant =
            self.state.db.run(move |conn| auth::create_session(conn, &tokens, &user_id, &Device::default())).await?;
        Ok(grant.token)
    }

    /// Signs `browser` in as the user with `email`: a session made directly,
    /// set as the portal's session cookie on the portal's origin.
    pub async fn sign_in_browser(&self, browser: &fantoccini::Client, email: &str) -> anyhow::Result<()> {
        let user_id = self.user_id(email).await?;
        let token = self.session_token(&user_id).await?;
        browser.goto(&self.url("/healthz")).await?;
        // The portal's own cookie (HttpOnly when it sets it; the portal only reads it here).
        browser.execute(&format!("document.cookie = 'matterline_session={token}; path=/';"), vec![]).await?;
        Ok(())
    }
}

impl TestApp {
    /// Adds `n` clients to the demo firm: `client{i}@{domain}`, Spanish for odd
    /// `i`, each with one open matter in phase `i % 10` that moved there yesterday.
    /// Returns their ids in order.
    pub async fn add_clients(&self, demo: &Demo, n: usize) -> anyhow::Result<Vec<String>> {
        let (firm_id, domain) = (demo.firm_id.clone(), demo.domain.clone());
        Ok(self
            .state
            .db
            .run(move |conn| {
                let phase_ids: Vec<String> = phases::table
                    .filter(phases::firm_id.eq(&firm_id))
                    .order(phases::position)
                    .select(phases::id)
                    .load(conn)?;
                let manager: Option<String> = users::table
                    .filter(users::firm_id.eq(&firm_id))
                    .filter(users::role.eq(Role::CaseManager))
                    .select(users::id)
                    .first(conn)
                    .optional()?;
                let t = now();
                let mut ids = Vec::with_capacity(n);
                for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
                    let (mut people, mut cases, mut links, mut events) =
                        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                    for &i in chunk {
                        let language = if i % 2 == 1 { Language::ES } else { Language::EN };
                        let user = User::new(
                            &firm_id,
                            Role::Client,
                            &format!("client{i}@{domain}"),
                            &format!("Client {i}"),
                            language,
                            t,
                        );
                        let phase_id = phase_ids[i % phase_ids.len()].clone();
                        let matter = Matter {
                            id: new_id(),
                            firm_id: firm_id.clone(),
                            practice_area: shared::catalogue::PERSONAL_INJURY.into(),
                            phase_id: phase_id.clone(),
                            title: format!("Matter of client {i}"),
                            case_manager_id: manager.clone(),
                            external_id: Some(format!("T-{i}")),
                            opened_at: t - Duration::days(60),
                            closed_at: None,
                            updated_at: t - Duration::days(1),
                        };
                        links.push(MatterClient { matter_id: matter.id.clone(), client_id: user.id.clone() });
                        events.push(Milestone {
                            id: new_id(),
                            matter_id: matter.id.clone(),
                            kind: MilestoneKind::PhaseChange,
                            client_visible: true,
                            phase_id: Some(phase_id),
                            body: None,
                            occurs_at: None,
                            created_by: manager.clone(),
                            created_at: t - Duration::days(1),
                        });
                        ids.push(user.id.clone());
                        people.push(user);
                        cases.push(matter);
                    }
                    shared::insert_many!(conn, users::table, &people)?;
                    shared::insert_many!(conn, matters::table, &cases)?;
                    shared::insert_many!(conn, matter_clients::table, &links)?;
                    shared::insert_many!(conn, milestones::table, &events)?;
                }
                Ok(ids)
            })
            .await?)
    }
}
