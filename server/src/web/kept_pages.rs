//! Rendered pages kept for the second they were rendered in. A page is drawn from the database,
//! the clock and AWS reads that are themselves kept longer (a region's network, a minute), for
//! the signed-in user; so a page rendered in this second for this user, under the database's
//! current data version (`Store::data_version`, moved by triggers on every change any process
//! makes), is the page a new render would make, and is answered again instead. (Such an AWS
//! read taken afresh within the second, as a refused save does, shows on the next second's
//! page.) A change by a
//! form, the worker, the CLI or another server moves the version, and the next request renders
//! afresh: nothing is invalidated by hand. Only the script nonce differs between answers: each
//! one gets its own, in its scripts and its Content-Security-Policy alike.
//!
//! Only the pages named in `KEPT` are kept; `NOT_KEPT` names the others and why, and a test
//! holds the two lists to the app's routes, so a new page is one or the other by decision.

use app::api::context::SignedIn;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portico_store::Store;
use std::sync::Arc;

/// The pages kept, by their routes (`app/src/routes.rs`): each is drawn from the database, the
/// clock and kept AWS reads only.
const KEPT: [&str; 11] = [
    "/",
    "/account",
    "/admin",
    "/audit",
    "/gateways/{name}",
    "/gateways/{name}/cost",
    "/gateways/{name}/diagram",
    "/gateways/{name}/file",
    "/gateways/{name}/history",
    "/gateways/{name}/keys",
    "/gateways/{name}/topology",
];

/// The pages never kept, and why (held to the routes, with `KEPT`, by a test below).
#[cfg(test)]
const NOT_KEPT: [(&str, &str); 3] = [
    ("/login", "it is for the signed-out"),
    ("/adopt", "it reads what AWS holds at each visit"),
    (
        "/gateways/{name}/keys/{key}",
        "it shows a key's value, once",
    ),
];

/// About 16 MB of pages. A kept page is asked for again only within its second, so what is
/// older is dead weight that the least-used order lets go first.
const CAPACITY_BYTES: u64 = 16 << 20;

/// The kept pages and the store whose data version names them.
pub struct KeptPages {
    store: Store,
    pages: quick_cache::sync::Cache<String, Arc<Page>, ByWeight>,
}

impl KeptPages {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            pages: quick_cache::sync::Cache::with_weighter(256, CAPACITY_BYTES, ByWeight),
        }
    }
}

#[derive(Clone)]
struct ByWeight;

impl quick_cache::Weighter<String, Arc<Page>> for ByWeight {
    fn weight(&self, key: &String, page: &Arc<Page>) -> u64 {
        (key.len() + page.weight()) as u64
    }
}

/// A rendered page: its headers, its body cut where its script nonce stood, and that nonce.
/// Or, kept as `NotKept`, the word that this second's render of it could not be kept, so
/// that those who waited for it render their own side by side.
enum Page {
    Kept {
        headers: HeaderMap,
        /// The body between the nonce's places (one piece when it has none).
        pieces: Vec<Bytes>,
        nonce: Option<String>,
    },
    NotKept,
}

impl Page {
    /// The page a render answered, if it can be kept: a 200 HTML page that sets no cookie
    /// and does not say it must not be stored. Else the answer itself, whole.
    async fn of(res: Response) -> Result<(Page, Response), Response> {
        let (html, no_store) = {
            let said = |name| res.headers().get(name).and_then(|v| v.to_str().ok());
            (
                said(header::CONTENT_TYPE).is_some_and(|v| v.starts_with("text/html")),
                said(header::CACHE_CONTROL).is_some_and(|v| v.contains("no-store")),
            )
        };
        if res.status() != StatusCode::OK
            || !html
            || no_store
            || res.headers().contains_key(header::SET_COOKIE)
        {
            return Err(res);
        }
        let (parts, body) = res.into_parts();
        // A page render's body is already whole in memory (`SsrMode::Async`).
        let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
            return Err(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        let nonce = parts
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .and_then(csp_nonce)
            .map(str::to_owned);
        let pieces = match (&nonce, std::str::from_utf8(&body)) {
            (Some(nonce), Ok(text)) => {
                let mut pieces = vec![];
                let mut at = 0;
                for (found, _) in text.match_indices(nonce.as_str()) {
                    pieces.push(body.slice(at..found));
                    at = found + nonce.len();
                }
                pieces.push(body.slice(at..));
                pieces
            }
            (None, _) => vec![body.clone()],
            // Not text: not a page to keep.
            (Some(_), Err(_)) => {
                return Err(Response::from_parts(parts, Body::from(body)));
            }
        };
        let mut headers = parts.headers.clone();
        headers.remove(header::CONTENT_LENGTH);
        let page = Page::Kept {
            headers,
            pieces,
            nonce,
        };
        Ok((page, Response::from_parts(parts, Body::from(body))))
    }

    fn weight(&self) -> usize {
        match self {
            Page::Kept {
                headers, pieces, ..
            } => pieces.iter().map(Bytes::len).sum::<usize>() + 64 * headers.len(),
            Page::NotKept => 1,
        }
    }

    /// The page again, with a nonce of its own in its scripts and its policy alike; None for
    /// `NotKept`.
    fn answer(&self) -> Option<Response> {
        let Page::Kept {
            headers,
            pieces,
            nonce,
        } = self
        else {
            return None;
        };
        let mut headers = headers.clone();
        let Some(old) = nonce else {
            let mut res = Response::new(Body::from(pieces[0].clone()));
            *res.headers_mut() = headers;
            return Some(res);
        };
        let new = leptos::nonce::Nonce::new().to_string();
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| HeaderValue::from_str(&v.replace(old.as_str(), &new)).ok());
        if let Some(csp) = csp {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        let mut body = Vec::with_capacity(self.weight());
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(new.as_bytes());
            }
            body.extend_from_slice(piece);
        }
        let mut res = Response::new(Body::from(body));
        *res.headers_mut() = headers;
        Some(res)
    }
}

/// The nonce a page's Content-Security-Policy allows scripts by.
fn csp_nonce(csp: &str) -> Option<&str> {
    let rest = &csp[csp.find("'nonce-")? + "'nonce-".len()..];
    Some(&rest[..rest.find('\'')?]).filter(|n| !n.is_empty())
}

/// Whether `path` is one of the `KEPT` pages. A path the router and the app could read
/// differently (a backslash, an escape, a dot segment) is not.
fn kept(path: &str) -> bool {
    let plain = !path.contains(['\\', '%']) && !path.split('/').any(|s| s == "." || s == "..");
    plain && KEPT.iter().any(|route| matches(route, path))
}

/// Whether `path` is `route`'s, a `{…}` standing for any one segment.
fn matches(route: &str, path: &str) -> bool {
    let (mut route, mut path) = (route.split('/'), path.split('/'));
    loop {
        match (route.next(), path.next()) {
            (None, None) => return true,
            (Some(r), Some(p)) if r.starts_with('{') => {
                if p.is_empty() {
                    return false;
                }
            }
            (Some(r), Some(p)) if r == p => {}
            _ => return false,
        }
    }
}

/// The middleware: inside the page guard, which resolved the signed-in user.
pub async fn keep(State(kept_pages): State<Arc<KeptPages>>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET || !kept(req.uri().path()) {
        return next.run(req).await;
    }
    let Some(SignedIn(user)) = req.extensions().get::<SignedIn>().cloned() else {
        return next.run(req).await;
    };
    // Read before anything the render reads: if it has not moved, neither has what the page
    // shows. A database that cannot say renders as it would have (and says why).
    let Ok(version) = kept_pages.store.data_version().await else {
        return next.run(req).await;
    };
    let key = format!(
        "{} {version} {} {} {}\n{}",
        portico_store::now_unix(),
        user.id,
        user.role,
        user.name,
        req.uri().path_and_query().map_or("/", |p| p.as_str()),
    );
    let guard = match kept_pages.pages.get_value_or_guard_async(&key).await {
        Ok(page) => {
            if let Some(res) = page.answer() {
                metrics::counter!("portico_page_renders_total", "answer" => "kept").increment(1);
                return res;
            }
            None
        }
        Err(guard) => Some(guard),
    };
    metrics::counter!("portico_page_renders_total", "answer" => "rendered").increment(1);
    let res = next.run(req).await;
    let Some(guard) = guard else {
        return res;
    };
    let (page, res) = match Page::of(res).await {
        Ok((page, res)) => (page, res),
        Err(res) => (Page::NotKept, res),
    };
    let _ = guard.insert(Arc::new(page));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_by_segment() {
        assert!(kept("/"));
        assert!(kept("/gateways/seed"));
        assert!(kept("/gateways/seed/cost"));
        assert!(!kept("/gateways/"));
        assert!(!kept("/gateways/seed/keys/12"));
        assert!(!kept("/gateways/seed/cost/more"));
        assert!(!kept("/login"));
        assert!(!kept("/adopt"));
        assert!(!kept("/gateways/seed/topology.yaml"));
        assert!(!kept("/api/gateway_runs"));
        assert!(!kept("/gateways/seed\\keys\\12"));
        assert!(!kept("/gateways/%73eed"));
        assert!(!kept("/gateways/.."));
    }

    #[test]
    fn the_nonce_is_read_from_the_policy() {
        assert_eq!(csp_nonce(&app::page_csp("abc+/=")), Some("abc+/="));
        assert_eq!(csp_nonce("default-src 'none'"), None);
    }

    /// Every page the app routes is kept or named as not kept, and nothing else is named.
    #[test]
    fn every_route_is_kept_or_says_why_not() {
        let mut routes: Vec<String> = leptos_axum::generate_route_list(app::App)
            .iter()
            .map(|r| r.path().to_owned())
            .collect();
        routes.sort();
        routes.dedup();
        let mut named: Vec<String> = KEPT
            .iter()
            .copied()
            .chain(NOT_KEPT.iter().map(|(route, _)| *route))
            .map(|r| r.replace('{', ":").replace('}', ""))
            .collect();
        named.sort();
        let routes: Vec<String> = routes
            .into_iter()
            .map(|r| {
                r.split('/')
                    .map(|s| match s.strip_prefix('{') {
                        Some(s) => format!(":{}", s.trim_end_matches('}')),
                        None => s.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        assert_eq!(named, routes);
    }
}
