//! The real services the suites talk to besides the databases, as started by
//! `scripts/test`: an S3-compatible server (s3s-fs), an SMTP server with an
//! HTTP API (maildev) and a WebDriver for headless Chromium (chromedriver).
//! Each is found through an environment variable; when it is missing the test
//! fails and says how to start it.

/// The value of `var`, or an error naming the service and the command that starts it.
pub fn required(var: &str, service: &str) -> anyhow::Result<String> {
    std::env::var(var).map_err(|_| {
        anyhow::anyhow!(
            "{var} is not set: {service} is needed by this test; run the suite with scripts/test, which starts it"
        )
    })
}

/// The S3-compatible server's endpoint (`MATTERLINE_TEST_S3_ENDPOINT`).
pub fn s3_endpoint() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_S3_ENDPOINT", "the S3-compatible server (s3s-fs)")
}

/// The SMTP server's URL (`MATTERLINE_TEST_SMTP_URL`).
pub fn smtp_url() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_SMTP_URL", "the SMTP server (maildev)")
}

/// The SMTP server's HTTP API (`MATTERLINE_TEST_MAILDEV_API`).
pub fn maildev_api() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_MAILDEV_API", "the SMTP server's API (maildev)")
}

/// The WebDriver endpoint for headless Chromium (`MATTERLINE_TEST_WEBDRIVER`).
pub fn webdriver() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_WEBDRIVER", "chromedriver")
}

/// The SMTP server that answers 550 to `reject…@` and 451 to `tempfail…@` (`MATTERLINE_TEST_FAULT_SMTP_URL`).
pub fn fault_smtp_url() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_FAULT_SMTP_URL", "the fault-injecting SMTP server (aiosmtpd)")
}

/// Every (recipient, Message-ID) the fault SMTP server accepted so far (`MATTERLINE_TEST_FAULT_SMTP_LOG`).
pub fn fault_smtp_accepted() -> anyhow::Result<Vec<(String, String)>> {
    let path = required("MATTERLINE_TEST_FAULT_SMTP_LOG", "the fault-injecting SMTP server (aiosmtpd)")?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e.into()),
    };
    Ok(text.lines().filter_map(|l| l.split_once('\t')).map(|(rcpt, id)| (rcpt.to_lowercase(), id.to_owned())).collect())
}

/// The s3s-fs executable, for tests that run a private S3 server they can stop (`MATTERLINE_TEST_S3S_BIN`).
pub fn s3s_binary() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_S3S_BIN", "the s3s-fs executable")
}

/// The data folder of the shared S3 server, to look for leftovers (`MATTERLINE_TEST_S3_ROOT`).
pub fn s3_root() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_S3_ROOT", "the S3-compatible server (s3s-fs)")
}

/// axe-core's `axe.min.js`, injected into pages by the accessibility tests (`MATTERLINE_TEST_AXE`).
pub fn axe_script() -> anyhow::Result<String> {
    let path = required("MATTERLINE_TEST_AXE", "axe-core (npm)")?;
    std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

/// The SMTP server that requires STARTTLS (`MATTERLINE_TEST_TLS_SMTP_URL`) and
/// the certificate to trust for it (`MATTERLINE_TEST_TLS_SMTP_CA`).
pub fn tls_smtp() -> anyhow::Result<(String, String)> {
    Ok((
        required("MATTERLINE_TEST_TLS_SMTP_URL", "the STARTTLS SMTP server (aiosmtpd)")?,
        required("MATTERLINE_TEST_TLS_SMTP_CA", "the STARTTLS SMTP server's certificate")?,
    ))
}

/// The SMTP server speaking TLS from the first byte and requiring AUTH
/// (`MATTERLINE_TEST_SMTPS_AUTH_URL`, `smtps://USER:PASSWORD@HOST:PORT`); its
/// certificate is the STARTTLS server's (`MATTERLINE_TEST_TLS_SMTP_CA`).
pub fn smtps_auth() -> anyhow::Result<(String, String)> {
    Ok((
        required("MATTERLINE_TEST_SMTPS_AUTH_URL", "the smtps SMTP server with AUTH (aiosmtpd)")?,
        required("MATTERLINE_TEST_TLS_SMTP_CA", "the smtps SMTP server's certificate")?,
    ))
}

/// The OpenAPI validator command (`openapi-spec-validator`, `MATTERLINE_TEST_OPENAPI_VALIDATOR`).
pub fn openapi_validator() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_OPENAPI_VALIDATOR", "the OpenAPI validator (openapi-spec-validator)")
}

/// clamd, started by `scripts/test` with signatures for the EICAR test file
/// (`MATTERLINE_TEST_CLAMD`, `tcp://127.0.0.1:PORT`).
pub fn clamd() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_CLAMD", "the virus scanner (clamd)")
}

/// The test clamd's `StreamMaxLength` in bytes (`MATTERLINE_TEST_CLAMD_STREAM_MAX`).
pub fn clamd_stream_max() -> anyhow::Result<u64> {
    let raw = required("MATTERLINE_TEST_CLAMD_STREAM_MAX", "the virus scanner (clamd)")?;
    raw.parse().map_err(|e| anyhow::anyhow!("MATTERLINE_TEST_CLAMD_STREAM_MAX={raw}: {e}"))
}

/// The web push service written in Python (`tests/support/push_service.py`,
/// `MATTERLINE_TEST_PUSH_SERVICE`): it mints subscriptions, checks each push's
/// VAPID signature with py_vapid, decrypts it with http_ece and records it.
pub fn push_service() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_PUSH_SERVICE", "the web push service (tests/support/push_service.py)")
}

/// The Twilio-compatible text message gateway written in Python
/// (`tests/support/sms_gateway.py`, `MATTERLINE_TEST_SMS_GATEWAY`): it checks
/// basic auth and the form of every send, records the messages, and signs the
/// webhooks it sends with the `twilio` package's `RequestValidator`.
pub fn sms_gateway() -> anyhow::Result<String> {
    required("MATTERLINE_TEST_SMS_GATEWAY", "the text message gateway (tests/support/sms_gateway.py)")
}
