//! Behind a reverse proxy: who the client is, and which origin the pages are served at.
//!
//! Forwarding headers are believed only from peers inside `--trusted-proxy` ranges: from
//! anyone else they are ignored, since any client can send them. The client is the first
//! address, walking the forwarded chain from the right (the hop nearest to Portico), that is
//! not itself a trusted proxy; what a client wrote into the header before the first proxy
//! added its own entry is never reached. The origin a state-changing request must come from
//! is `--public-url` when given, else what a trusted proxy says (`X-Forwarded-Proto` and
//! `-Host`, or `Forwarded`), else the request's own `Host`.

use app::api::context::ClientAddr;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Where pages are served: a scheme and an authority (`host[:port]`), both lowercase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub scheme: Option<String>,
    pub authority: String,
}

impl Origin {
    /// `https://portico.example.com` (a trailing `/` allowed; no path, query or user).
    pub fn parse_public_url(url: &str) -> Result<Origin, String> {
        let bad = || {
            format!(
                "--public-url {url:?} is not an origin: write it as https://host or \
                 https://host:port, without a path"
            )
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let scheme = scheme.to_ascii_lowercase();
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if !matches!(scheme.as_str(), "http" | "https")
            || authority.is_empty()
            || authority.contains(['/', '?', '#', '@', ' '])
        {
            return Err(bad());
        }
        Ok(Origin {
            scheme: Some(scheme),
            authority: authority.to_ascii_lowercase(),
        })
    }

    /// Does a request's `Origin` (or `Referer`) name this origin?
    pub fn admits(&self, source: &str) -> bool {
        let Some((scheme, rest)) = source.split_once("://") else {
            return false;
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        authority.eq_ignore_ascii_case(&self.authority)
            && self
                .scheme
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case(scheme))
    }
}

/// Which header a trusted proxy writes: X-Forwarded-For (with X-Forwarded-Host / -Proto) or
/// RFC 7239's Forwarded (`for=`, `host=`, `proto=`). Only that one is believed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Forwarding {
    #[default]
    XForwardedFor,
    Forwarded,
}

impl Forwarding {
    pub fn parse(text: &str) -> Result<Forwarding, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Forwarding::XForwardedFor),
            "forwarded" => Ok(Forwarding::Forwarded),
            other => Err(format!(
                "--forwarded-header {other:?}: use x-forwarded-for or forwarded"
            )),
        }
    }
}

/// The proxy settings of `portico serve`.
#[derive(Clone, Debug, Default)]
pub struct Proxies {
    pub trusted: Vec<IpNet>,
    pub header: Forwarding,
    pub public: Option<Origin>,
}

/// What the proxy layer found out about a request, for the cross-site check.
#[derive(Clone, Debug)]
pub struct ExpectedOrigin(pub Option<Origin>);

impl Proxies {
    /// `CIDR` or a single address (`10.0.0.5` is `10.0.0.5/32`).
    pub fn parse_trusted(text: &str) -> Result<IpNet, String> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map_err(|_| {
                format!("--trusted-proxy {text:?} is not an address or a CIDR range (10.0.0.0/8)")
            })
    }

    fn trusts(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.trusted.iter().any(|net| net.contains(&addr))
    }

    /// The client behind `peer`, from the request's forwarding headers when `peer` is trusted.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_for(self.header, headers);
        let mut client = peer;
        for hop in chain.iter().rev() {
            match hop {
                Some(addr) if self.trusts(*addr) => client = *addr,
                Some(addr) => return *addr,
                // A hop that is not an address ("unknown", garbage): the last trusted hop is
                // the nearest thing to the client that can be vouched for.
                None => return client,
            }
        }
        client
    }

    /// The origin pages are served at, as far as this request can tell (a peer that is not
    /// known is not trusted).
    pub fn origin(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<Origin> {
        if let Some(public) = &self.public {
            return Some(public.clone());
        }
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(',').next().unwrap_or_default().trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        if peer.is_some_and(|p| self.trusts(p)) {
            let (host, proto) = match self.header {
                Forwarding::XForwardedFor => (text("x-forwarded-host"), text("x-forwarded-proto")),
                Forwarding::Forwarded => {
                    let forwarded = forwarded_params(headers);
                    (
                        forwarded.get("host").cloned(),
                        forwarded.get("proto").cloned(),
                    )
                }
            };
            if let Some(host) = host {
                return Some(Origin {
                    scheme: proto.map(|p| p.to_ascii_lowercase()),
                    authority: host.to_ascii_lowercase(),
                });
            }
        }
        text(header::HOST.as_str()).map(|host| Origin {
            scheme: None,
            authority: host.to_ascii_lowercase(),
        })
    }
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) as IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// One forwarded hop as written: `203.0.113.7`, `"[2001:db8::1]:4711"`, `198.51.100.2:80`.
fn hop(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_matches('"');
    if let Ok(a) = t.parse::<IpAddr>() {
        return Some(canonical(a));
    }
    if let Ok(s) = t.parse::<SocketAddr>() {
        return Some(canonical(s.ip()));
    }
    t.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|a| a.parse().ok())
        .map(canonical)
}

/// The forwarded chain, leftmost (the original client) first: every `X-Forwarded-For` header,
/// or the `for=` of every `Forwarded` element — whichever the proxy writes, never the other.
fn forwarded_for(header: Forwarding, headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    if header == Forwarding::XForwardedFor {
        return headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter(|h| !h.trim().is_empty())
            .map(hop)
            .collect();
    }
    headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|element| {
            element.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| hop(v))
            })
        })
        .collect()
}

/// The first `Forwarded` element's parameters (`host`, `proto`), lowercase keys.
fn forwarded_params(headers: &HeaderMap) -> std::collections::HashMap<String, String> {
    headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| {
                    let (k, v) = pair.split_once('=')?;
                    Some((
                        k.trim().to_ascii_lowercase(),
                        v.trim().trim_matches('"').to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Puts the client's address (`ClientAddr`) and the expected origin (`ExpectedOrigin`) on
/// every request, for the throttle and the cross-site check.
pub async fn locate(State(proxies): State<Arc<Proxies>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = proxies.client(peer, req.headers());
        req.extensions_mut().insert(ClientAddr(client));
    }
    let origin = proxies.origin(peer, req.headers());
    req.extensions_mut().insert(ExpectedOrigin(origin));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn proxies(nets: &[&str]) -> Proxies {
        Proxies {
            trusted: nets
                .iter()
                .map(|n| Proxies::parse_trusted(n).unwrap())
                .collect(),
            header: Forwarding::XForwardedFor,
            public: None,
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_peers() {
        let p = proxies(&["10.0.0.0/8", "127.0.0.1"]);
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.1")]);
        assert_eq!(p.client(ip("203.0.113.9"), &spoofed), ip("203.0.113.9"));
        // Through the proxy: the client's own (spoofed) entry is left of the one the proxy
        // added, and is never reached.
        let through = headers(&[("x-forwarded-for", "198.51.100.1, 203.0.113.9")]);
        assert_eq!(p.client(ip("10.1.2.3"), &through), ip("203.0.113.9"));
        // Two trusted proxies in a row.
        let two = headers(&[("x-forwarded-for", "203.0.113.9, 10.9.9.9")]);
        assert_eq!(p.client(ip("127.0.0.1"), &two), ip("203.0.113.9"));
        // Several headers are one list; IPv6 with a port; a dual-stack peer.
        let split = headers(&[
            ("x-forwarded-for", "198.51.100.1"),
            ("x-forwarded-for", "[2001:db8::7]:4711"),
        ]);
        assert_eq!(p.client(ip("::ffff:10.0.0.1"), &split), ip("2001:db8::7"));
        // Garbage stops the walk at the last hop that can be vouched for.
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, not-an-ip")]);
        assert_eq!(p.client(ip("10.0.0.1"), &garbage), ip("10.0.0.1"));
        // No header: the proxy itself.
        assert_eq!(p.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        // RFC 7239, from a proxy that writes it; the client's own X-Forwarded-For is ignored
        // then (and its Forwarded is, from a proxy that writes X-Forwarded-For).
        let rfc = headers(&[
            (
                "forwarded",
                "for=198.51.100.1;proto=https, for=\"[2001:db8::1]:80\"",
            ),
            ("x-forwarded-for", "198.51.100.99"),
        ]);
        let p7239 = Proxies {
            header: Forwarding::Forwarded,
            ..p.clone()
        };
        assert_eq!(p7239.client(ip("10.0.0.1"), &rfc), ip("2001:db8::1"));
        assert_eq!(p.client(ip("10.0.0.1"), &rfc), ip("198.51.100.99"));
        let only_rfc = headers(&[("forwarded", "for=198.51.100.1")]);
        assert_eq!(p.client(ip("10.0.0.1"), &only_rfc), ip("10.0.0.1"));
    }

    #[test]
    fn the_expected_origin() {
        let p = proxies(&["10.0.0.0/8"]);
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-host", "portico.example.com"),
            ("x-forwarded-proto", "https"),
        ]);
        let behind = p.origin(Some(ip("10.0.0.1")), &h).unwrap();
        assert!(behind.admits("https://portico.example.com"));
        assert!(!behind.admits("http://portico.example.com"));
        assert!(!behind.admits("https://127.0.0.1:3000"));
        // From an untrusted peer the forwarded host is not believed.
        let direct = p.origin(Some(ip("203.0.113.9")), &h).unwrap();
        assert!(direct.admits("http://127.0.0.1:3000/login"));
        assert!(!direct.admits("https://portico.example.com"));
        // A public URL decides, whatever the headers.
        let public = Proxies {
            public: Some(Origin::parse_public_url("https://Portico.Example.com/").unwrap()),
            ..p
        };
        let o = public.origin(Some(ip("203.0.113.9")), &h).unwrap();
        assert!(o.admits("https://portico.example.com/gateways/shop"));
        assert!(!o.admits("https://portico.example.com.evil.example"));
        assert!(!o.admits("https://evil.example/portico.example.com"));
    }

    #[test]
    fn settings_are_checked() {
        for bad in [
            "ftp://x",
            "https://",
            "https://x/path",
            "x.example",
            "https://u@x",
        ] {
            assert!(Origin::parse_public_url(bad).is_err(), "{bad}");
        }
        assert!(Proxies::parse_trusted("10.0.0.0/8").is_ok());
        assert!(Proxies::parse_trusted("2001:db8::/32").is_ok());
        assert!(Proxies::parse_trusted("10.0.0.5").is_ok());
        assert!(Proxies::parse_trusted("10.0.0.0/33").is_err());
        assert!(Proxies::parse_trusted("proxy.internal").is_err());
    }
}
