//! The webhook sender: off the worker's path, it claims due deliveries
//! (`portico_store::alerts`), posts each one signed, records the answer and schedules a retry
//! with backoff (`portico_core::alerts::retry_after`). The worker only ever queues rows in its
//! own transactions, so no receiver slows it; one webhook's delivery is in flight at a time
//! (`claim_due`), so a receiver that does not answer holds up only its own. Every
//! `portico serve` runs one; a claim keeps two from sending one delivery at once.

use hmac::{Hmac, Mac};
use portico_core::alerts;
use portico_store::alerts::{Attempt, Due};
use portico_store::{now_ms, now_unix, Store};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

#[derive(Clone, Debug)]
pub struct SenderConfig {
    /// How often due deliveries are looked for.
    pub poll: Duration,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// The unit of the retry schedule (a second: 30 s, 2 min, 10 min, 30 min, 2 h).
    pub retry_unit: Duration,
    /// Deliveries in flight at once.
    pub parallel: usize,
    /// How often keys near their expiry are looked for.
    pub expiry_check: Duration,
    /// The address people reach Portico at (`--public-url`): messages link to the gateway.
    pub public_url: Option<String>,
    /// Whether webhooks may go to loopback and link-local addresses (`local_address`).
    pub to_local_addresses: bool,
}

impl Default for SenderConfig {
    fn default() -> Self {
        SenderConfig {
            poll: Duration::from_secs(2),
            timeout: Duration::from_secs(10),
            retry_unit: Duration::from_secs(1),
            parallel: 4,
            expiry_check: Duration::from_secs(600),
            public_url: None,
            to_local_addresses: false,
        }
    }
}

/// `sha256=` and the hex HMAC-SHA256 of the timestamp and body, keyed with the secret.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(alerts::signed_text(timestamp, body).as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub struct Sender {
    store: Store,
    client: reqwest::Client,
    config: SenderConfig,
    slots: Arc<Semaphore>,
}

impl Sender {
    /// The error: this platform's TLS roots could not be loaded.
    pub fn new(store: Store, config: SenderConfig) -> Result<Arc<Sender>, String> {
        let mut client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none());
        if !config.to_local_addresses {
            client = client.dns_resolver(Arc::new(AwayFromHere));
        }
        let client = client
            .user_agent(concat!("Portico/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot make the webhooks' HTTPS client: {e}"))?;
        Ok(Arc::new(Sender {
            slots: Arc::new(Semaphore::new(config.parallel.max(1))),
            store,
            client,
            config,
        }))
    }

    /// Runs until the task is aborted: looks for due deliveries every `poll`, and for keys
    /// near their expiry every `expiry_check`.
    pub fn spawn(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut expiry_checked: Option<tokio::time::Instant> = None;
            loop {
                if expiry_checked.is_none_or(|t| t.elapsed() >= self.config.expiry_check) {
                    expiry_checked = Some(tokio::time::Instant::now());
                    let now = now_unix();
                    if let Err(e) =
                        portico_store::alerts::emit_expiring_keys(&self.store, now).await
                    {
                        tracing::warn!("could not look for keys near their expiry: {e}");
                    }
                    let before = now - portico_store::alerts::KEPT_SECONDS;
                    if let Err(e) = portico_store::alerts::prune(&self.store, before).await {
                        tracing::warn!("could not prune the delivery log: {e}");
                    }
                }
                if let Err(e) = self.clone().send_due().await {
                    tracing::warn!("could not read the webhook deliveries: {e}");
                }
                tokio::time::sleep(self.config.poll).await;
            }
        })
    }

    /// Claims as many due deliveries as there are free slots and sends each in a task of its
    /// own; returns how many it started.
    pub async fn send_due(self: Arc<Self>) -> Result<usize, portico_store::StoreError> {
        let free = self.slots.available_permits();
        if free == 0 {
            return Ok(0);
        }
        // Held past the timeout: no other sender takes a delivery still in flight.
        let hold = (self.config.timeout * 2 + Duration::from_secs(5)).as_millis() as i64;
        let due =
            portico_store::alerts::claim_due(&self.store, now_ms(), hold, free as i64).await?;
        let started = due.len();
        for d in due {
            let Ok(slot) = self.slots.clone().acquire_owned().await else {
                break;
            };
            let me = self.clone();
            tokio::spawn(async move {
                me.deliver(d).await;
                drop(slot);
            });
        }
        Ok(started)
    }

    async fn deliver(&self, d: Due) {
        let link = self.config.public_url.as_deref().map(|base| {
            format!(
                "{}/gateways/{}",
                base.trim_end_matches('/'),
                app::api::forms::urlencode(&d.event.gateway)
            )
        });
        let body = alerts::body(d.format, &d.event, link.as_deref());
        let timestamp = now_unix();
        // A host named by its address is not looked up: its address is checked here.
        let literal = reqwest::Url::parse(&d.url)
            .ok()
            .and_then(|u| match u.host() {
                Some(url::Host::Ipv4(ip)) => local_address(ip.into()),
                Some(url::Host::Ipv6(ip)) => local_address(ip.into()),
                _ => None,
            });
        if let Some(why) = literal.filter(|_| !self.config.to_local_addresses) {
            self.failed(&d, None, refused_words(why)).await;
            return;
        }
        let id = d.event.delivery;
        let (code, error) = match self.post(&d, timestamp, body).await {
            Ok(r) if r.status().is_success() => {
                let attempt = Attempt::Delivered {
                    code: r.status().as_u16(),
                };
                if let Err(e) =
                    portico_store::alerts::record_attempt(&self.store, id, attempt).await
                {
                    tracing::warn!(delivery = id, "could not record a delivery: {e}");
                }
                return;
            }
            Ok(r) => (Some(r.status().as_u16()), format!("HTTP {}", r.status())),
            Err(e) if e.is_timeout() => (
                None,
                format!("no answer within {} s", self.config.timeout.as_secs_f64()),
            ),
            // Without the URL: a Slack webhook's path is its credential.
            Err(e) => (
                None,
                refused_lookup(&e).unwrap_or_else(|| e.without_url().to_string()),
            ),
        };
        self.failed(&d, code, error).await;
    }

    async fn post(
        &self,
        d: &Due,
        timestamp: i64,
        body: String,
    ) -> Result<reqwest::Response, reqwest::Error> {
        self.client
            .post(&d.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                alerts::SIGNATURE_HEADER,
                signature(&d.secret, timestamp, &body),
            )
            .header(alerts::TIMESTAMP_HEADER, timestamp.to_string())
            .header(alerts::EVENT_HEADER, d.event.kind.as_str())
            .header(alerts::DELIVERY_HEADER, d.event.delivery.to_string())
            .body(body)
            .send()
            .await
    }

    /// Records a failed try, and when the next is due.
    async fn failed(&self, d: &Due, code: Option<u16>, error: String) {
        let id = d.event.delivery;
        let attempts = d.attempts as u32 + 1;
        let retry_at_ms = alerts::retry_after(attempts)
            .map(|units| now_ms() + (self.config.retry_unit * units).as_millis() as i64);
        tracing::warn!(
            delivery = id,
            url = %alerts::masked_url(&d.url),
            attempts,
            "webhook delivery failed: {error}{}",
            if retry_at_ms.is_some() { "; tried again later" } else { "; given up" }
        );
        let attempt = Attempt::Failed {
            code,
            error: &error,
            retry_at_ms,
        };
        if let Err(e) = portico_store::alerts::record_attempt(&self.store, id, attempt).await {
            tracing::warn!(delivery = id, "could not record a delivery: {e}");
        }
    }
}

fn refused_words(why: &str) -> String {
    format!(
        "not sent: the webhook's host is at {why} address; Portico sends webhooks to other \
         hosts only (serve --webhooks-to-local-addresses allows it)"
    )
}

/// A send refused by the lookup (`AwayFromHere`), in words.
fn refused_lookup(e: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<LocalOnly>() {
            return Some(refused_words(refused.0));
        }
        source = cause.source();
    }
    None
}

/// Why `ip` is refused as a webhook's address, if it is: this machine's own (loopback),
/// link-local (the cloud's instance metadata service, 169.254.169.254 or fd00:ec2::254, among
/// them), unspecified, broadcast or multicast. An admin could otherwise aim a webhook at a
/// service that trusts local callers and read its answers' codes in the delivery log. Private
/// networks (10/8, 192.168/16, fc00::/7 …) are allowed: a team's chat server may live there.
pub fn local_address(ip: std::net::IpAddr) -> Option<&'static str> {
    use std::net::IpAddr;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() => Some("this machine's own (loopback)"),
        IpAddr::V4(v4) if v4.is_link_local() => Some("a link-local"),
        IpAddr::V4(v4) if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() => {
            Some("no single host's")
        }
        IpAddr::V6(v6) if v6.is_loopback() => Some("this machine's own (loopback)"),
        IpAddr::V6(v6)
            if (v6.segments()[0] & 0xffc0) == 0xfe80
                || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) =>
        {
            Some("a link-local")
        }
        IpAddr::V6(v6) if v6.is_unspecified() || v6.is_multicast() => Some("no single host's"),
        _ => None,
    }
}

/// A lookup that answered only local addresses.
#[derive(Debug)]
struct LocalOnly(&'static str);

impl std::fmt::Display for LocalOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", refused_words(self.0))
    }
}

impl std::error::Error for LocalOnly {}

/// The webhooks' name lookups: the system's, with local addresses (`local_address`) left out,
/// checked at the lookup the connection uses, so a name that resolves elsewhere when the
/// webhook is saved and here when it is sent is refused too.
struct AwayFromHere;

impl reqwest::dns::Resolve for AwayFromHere {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let why = found.iter().find_map(|a| local_address(a.ip()));
            let away: Vec<std::net::SocketAddr> = found
                .into_iter()
                .filter(|a| local_address(a.ip()).is_none())
                .collect();
            if away.is_empty() {
                let error: Box<dyn std::error::Error + Send + Sync> =
                    Box::new(LocalOnly(why.unwrap_or("no")));
                return Err(error);
            }
            let addrs: reqwest::dns::Addrs = Box::new(away.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::local_address;

    #[test]
    fn local_addresses_are_refused_and_private_networks_allowed() {
        for local in [
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "169.254.169.254",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
            "::",
            "255.255.255.255",
            "224.0.0.1",
        ] {
            assert!(local_address(local.parse().unwrap()).is_some(), "{local}");
        }
        for away in [
            "10.0.0.5",
            "192.168.1.10",
            "172.16.0.1",
            "fd12::1",
            "203.0.113.9",
        ] {
            assert!(local_address(away.parse().unwrap()).is_none(), "{away}");
        }
    }
}
