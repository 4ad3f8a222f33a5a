//! Signed-in callers of `/api/v1`: a [`Session`] sends the `Authorization`
//! header itself, checks the status a call must answer and reads the JSON.

use reqwest::header::AUTHORIZATION;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::TestApp;
use crate::fixtures::Demo;

/// A signed-in user of one test portal (its own client: no cookies, the portal's `Origin`).
#[derive(Debug, Clone)]
pub struct Session {
    /// The session token (sent as `Authorization: Bearer …`).
    pub token: String,
    /// The signed-in user's id.
    pub user_id: String,
    http: reqwest::Client,
    address: String,
}

impl TestApp {
    /// A session for the user with `email` (a client or staff member), made
    /// directly: for tests about what comes after sign-in.
    pub async fn signed_in(&self, email: &str) -> anyhow::Result<Session> {
        let user_id = self.user_id(email).await?;
        let token = self.session_token(&user_id).await?;
        self.session(&token, &user_id)
    }

    /// A session for a `token` the test obtained itself (e.g. from the sign-in API) for `user_id`.
    pub fn session(&self, token: &str, user_id: &str) -> anyhow::Result<Session> {
        Ok(Session {
            token: token.to_owned(),
            user_id: user_id.to_owned(),
            http: self.new_client()?,
            address: self.address.clone(),
        })
    }

    /// A session for the client with `email` (see [`TestApp::signed_in`]).
    pub async fn signed_in_client(&self, email: &str) -> anyhow::Result<Session> {
        self.signed_in(email).await
    }

    /// A session for the demo staff member `local` (`admin` or `casey`).
    pub async fn signed_in_staff(&self, demo: &Demo, local: &str) -> anyhow::Result<Session> {
        self.signed_in(&demo.email(local)).await
    }
}

impl Session {
    /// The `Authorization` header value.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// A request to `path` carrying the session, for calls whose answer the test reads itself.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.address)).header(AUTHORIZATION, self.bearer())
    }

    /// GET `path`, which must answer 200, as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        expect(self.request(Method::GET, path), StatusCode::OK, "GET", path).await
    }

    /// GET `path`, which must answer `status` (an error, say), as JSON.
    pub async fn get_json_answer(&self, path: &str, status: StatusCode) -> anyhow::Result<serde_json::Value> {
        expect(self.request(Method::GET, path), status, "GET", path).await
    }

    /// The status GET `path` answers.
    pub async fn get_status(&self, path: &str) -> anyhow::Result<StatusCode> {
        Ok(self.request(Method::GET, path).send().await?.status())
    }

    /// POST `body` as JSON to `path`, which must answer `status`; the answer as `T`
    /// (`()` or `serde_json::Value` for an empty one).
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        status: StatusCode,
    ) -> anyhow::Result<T> {
        expect(self.request(Method::POST, path).json(body), status, "POST", path).await
    }

    /// PUT `body` as JSON to `path`, which must answer `status`; the answer as `T`.
    pub async fn put_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        status: StatusCode,
    ) -> anyhow::Result<T> {
        expect(self.request(Method::PUT, path).json(body), status, "PUT", path).await
    }

    /// PATCH `body` as JSON to `path`, which must answer `status`; the answer as `T`.
    pub async fn patch_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &impl Serialize,
        status: StatusCode,
    ) -> anyhow::Result<T> {
        expect(self.request(Method::PATCH, path).json(body), status, "PATCH", path).await
    }
}

/// Sends `request`; its status must be `status`; its body (JSON, empty read as `null`) as `T`.
async fn expect<T: DeserializeOwned>(
    request: RequestBuilder,
    status: StatusCode,
    method: &str,
    path: &str,
) -> anyhow::Result<T> {
    let reply = request.send().await?;
    let got = reply.status();
    let text = reply.text().await?;
    anyhow::ensure!(got == status, "{method} {path} answered {got}, not {status}: {text}");
    let json = if text.is_empty() { "null" } else { text.as_str() };
    serde_json::from_str(json).map_err(|e| anyhow::anyhow!("{method} {path}: {e} in {text}"))
}
