//! Alerts: the events a team's webhooks hear about, how each message reads, and when a failed
//! delivery is tried again. Pure: the store queues one delivery per webhook and event (its key
//! names the plan, the health change or the key it is about, so a state seen by many
//! reconciles is one message), and the server sends them, signed, and records each answer.

use crate::model::keys::format_time;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What a webhook may be told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// AWS differs from the topology (a plan made for drift, corrected or only reported).
    Drift,
    /// A plan waits for an admin's approval.
    Approval,
    /// A plan's run failed.
    ApplyFailed,
    /// A gateway's health changed level.
    Health,
    /// An API key expires within [`EXPIRY_NOTICE_DAYS`].
    KeyExpiring,
    /// An API key was revoked or rotated.
    KeyChanged,
}

/// How long before a key's expiry its webhooks hear of it.
pub const EXPIRY_NOTICE_DAYS: i64 = 7;

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Drift,
        Kind::Approval,
        Kind::ApplyFailed,
        Kind::Health,
        Kind::KeyExpiring,
        Kind::KeyChanged,
    ];

    /// The word stored, sent in the `X-Portico-Event` header and in plain JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Drift => "drift",
            Kind::Approval => "approval",
            Kind::ApplyFailed => "apply_failed",
            Kind::Health => "health",
            Kind::KeyExpiring => "key_expiring",
            Kind::KeyChanged => "key_changed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Drift => "Drift found",
            Kind::Approval => "Plan waiting for approval",
            Kind::ApplyFailed => "Apply failed",
            Kind::Health => "Health changed",
            // EXPIRY_NOTICE_DAYS
            Kind::KeyExpiring => "API key expiring within 7 days",
            Kind::KeyChanged => "API key revoked or rotated",
        }
    }

    pub fn parse(word: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == word)
    }
}

/// How a webhook's messages are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `text` plus a block, as Slack's incoming webhooks (and Mattermost, Rocket.Chat) take.
    Slack,
    /// `{event, gateway, text, at, delivery}`.
    Json,
}

impl Format {
    pub const ALL: [Format; 2] = [Format::Slack, Format::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Slack => "slack",
            Format::Json => "json",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Slack => "Slack-compatible (text and a block)",
            Format::Json => "Plain JSON",
        }
    }

    pub fn parse(word: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.as_str() == word)
    }
}

/// One event as a delivery carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Kind,
    pub gateway: String,
    /// One or two sentences: what happened, with the figures.
    pub text: String,
    /// When it happened (unix seconds).
    pub at: i64,
    /// The delivery's id: the same on every retry, so a receiver can drop a repeat.
    pub delivery: i64,
}

/// The headers a delivery carries. The signature is `sha256=` and the hex HMAC-SHA256, keyed
/// with the webhook's secret, of [`signed_text`]: the timestamp, a dot, and the body.
pub const SIGNATURE_HEADER: &str = "x-portico-signature";
pub const TIMESTAMP_HEADER: &str = "x-portico-timestamp";
pub const EVENT_HEADER: &str = "x-portico-event";
pub const DELIVERY_HEADER: &str = "x-portico-delivery";

/// What the signature covers: a receiver recomputes it and refuses an old timestamp, so a
/// recorded message cannot be replayed later.
pub fn signed_text(timestamp: i64, body: &str) -> String {
    format!("{timestamp}.{body}")
}

/// The message's body in the webhook's format; `link`: the gateway's page, when Portico knows
/// the address people reach it at.
pub fn body(format: Format, e: &Event, link: Option<&str>) -> String {
    match format {
        Format::Slack => {
            let label = e.kind.label();
            let open = link.map_or(String::new(), |l| format!(" · <{l}|open in Portico>"));
            json!({
                "text": mrkdwn(&format!("[{}] {label}: {}", e.gateway, e.text)),
                "blocks": [
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": format!("*{label}* · gateway `{}`\n{}", mrkdwn(&e.gateway), mrkdwn(&e.text)),
                        }
                    },
                    {
                        "type": "context",
                        "elements": [{
                            "type": "mrkdwn",
                            "text": format!("Portico · {} · {} UTC{open}", e.kind.as_str(), format_time(e.at)),
                        }]
                    }
                ]
            })
        }
        Format::Json => json!({
            "event": e.kind.as_str(),
            "gateway": e.gateway,
            "text": e.text,
            "at": e.at,
            "delivery": e.delivery,
            "url": link,
        }),
    }
    .to_string()
}

/// A webhook's address as pages, the audit log and the server's log show it: the scheme and
/// host, then the last four characters (a Slack webhook's path is its credential).
pub fn masked_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(host_end);
    if path.chars().count() <= 4 {
        return url.to_owned();
    }
    let tail: String = path
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{scheme}://{host}/…{tail}")
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` only.
fn mrkdwn(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// How long after its `attempts`-th failed attempt a delivery is tried again, in units of the
/// sender's retry step (a second in production); `None`: it has failed for good.
pub fn retry_after(attempts: u32) -> Option<u32> {
    const STEPS: [u32; 5] = [30, 120, 600, 1_800, 7_200];
    STEPS.get(attempts.checked_sub(1)? as usize).copied()
}

/// The longest URL a webhook may have.
pub const URL_MAX: usize = 2_048;

/// A webhook's address: `https://` (or `http://`, for a receiver inside the network), a host,
/// no user or password in it, no spaces.
/// Messages never repeat the URL: a Slack webhook's path is its credential.
pub fn webhook_url(url: &str) -> Result<(), String> {
    let scheme_end = url.find("://").unwrap_or(0);
    let scheme = url[..scheme_end].to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return Err("Webhook URL must start with https:// (or http://).".into());
    }
    let rest = &url[scheme_end + 3..];
    if url.len() > URL_MAX {
        return Err(format!(
            "Webhook URL is {} characters: at most {URL_MAX}.",
            url.len()
        ));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("Webhook URL must not hold spaces.".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "Webhook URL must not hold a user or password: put a token in its path, as Slack does."
                .into(),
        );
    }
    let host = authority
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()) && !authority.ends_with(']'))
        .map_or(authority, |(host, _)| host);
    if host.is_empty() {
        return Err("Webhook URL names no host.".into());
    }
    Ok(())
}

/// A secret an admin typed instead of the one Portico makes: long enough to sign with.
pub const SECRET_MIN: usize = 32;

pub fn webhook_secret(secret: &str) -> Result<(), String> {
    if secret.chars().count() < SECRET_MIN || secret.chars().any(char::is_whitespace) {
        return Err(format!(
            "A signing secret of your own must be at least {SECRET_MIN} characters, without spaces (or leave it empty and Portico makes one)."
        ));
    }
    Ok(())
}

/// The kinds as stored (`drift,approval`), from a selection; refuses none.
pub fn events(kinds: &[Kind]) -> Result<String, String> {
    if kinds.is_empty() {
        return Err("Choose at least one event the webhook hears about.".into());
    }
    let mut kinds = kinds.to_vec();
    kinds.sort();
    kinds.dedup();
    Ok(kinds
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(","))
}

/// The kinds a stored list names (unknown words, from a newer Portico, are skipped).
pub fn parse_events(stored: &str) -> Vec<Kind> {
    stored.split(',').filter_map(Kind::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        Event {
            kind: Kind::ApplyFailed,
            gateway: "shop".into(),
            text: "Step 3 failed: <BadRequest> & more".into(),
            at: 1_764_669_600,
            delivery: 7,
        }
    }

    #[test]
    fn words_read_back() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        for f in Format::ALL {
            assert_eq!(Format::parse(f.as_str()), Some(f));
        }
        assert_eq!(
            events(&[Kind::Health, Kind::Drift, Kind::Health]).unwrap(),
            "drift,health"
        );
        assert_eq!(
            parse_events("drift,nonsense,health"),
            vec![Kind::Drift, Kind::Health]
        );
        assert!(events(&[]).is_err());
    }

    #[test]
    fn slack_messages_have_text_and_an_escaped_block() {
        let v: serde_json::Value =
            serde_json::from_str(&body(Format::Slack, &event(), None)).unwrap();
        // Escaped in `text` too: a value from AWS such as <!channel> pings no one.
        assert_eq!(
            v["text"],
            "[shop] Apply failed: Step 3 failed: &lt;BadRequest&gt; &amp; more"
        );
        assert_eq!(
            v["blocks"][0]["text"]["text"],
            "*Apply failed* · gateway `shop`\nStep 3 failed: &lt;BadRequest&gt; &amp; more"
        );
        assert_eq!(
            v["blocks"][1]["elements"][0]["text"],
            "Portico · apply_failed · 2025-12-02 10:00 UTC"
        );
        let link = Some("https://portico.example/gateways/shop");
        let v: serde_json::Value =
            serde_json::from_str(&body(Format::Json, &event(), link)).unwrap();
        assert_eq!(v["event"], "apply_failed");
        assert_eq!(v["delivery"], 7);
        assert_eq!(v["url"], "https://portico.example/gateways/shop");
        let v: serde_json::Value =
            serde_json::from_str(&body(Format::Slack, &event(), link)).unwrap();
        assert!(v["blocks"][1]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with(" · <https://portico.example/gateways/shop|open in Portico>"));
        assert_eq!(
            masked_url("https://hooks.slack.com/services/T0/B0/secretXYZW"),
            "https://hooks.slack.com/…XYZW"
        );
        assert_eq!(masked_url("http://h:80/x"), "http://h:80/x");
    }

    #[test]
    fn retries_back_off_then_stop() {
        assert_eq!(retry_after(0), None);
        assert_eq!(retry_after(1), Some(30));
        assert_eq!(retry_after(5), Some(7_200));
        assert_eq!(retry_after(6), None);
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        for ok in [
            "https://hooks.slack.com/services/T0/B0/x",
            "http://alerts.internal:8080/portico",
            "https://[::1]:9000/hook",
            "HTTPS://hooks.example/x",
        ] {
            assert_eq!(webhook_url(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("ftp://x", "must start with"),
            ("https://", "no host"),
            ("https://:80/x", "no host"),
            ("https://me:pw@host/x", "user or password"),
            ("https://host/a b", "spaces"),
        ] {
            assert!(webhook_url(bad).unwrap_err().contains(says), "{bad}");
        }
        assert!(webhook_url(&format!("https://h/{}", "a".repeat(URL_MAX))).is_err());
        assert!(webhook_secret("short").is_err());
        assert_eq!(webhook_secret(&"s".repeat(SECRET_MIN)), Ok(()));
    }
}
