//! `TestApp`: a real router over a real SQLite file, driven in-process (no sockets).

use app::model::Role;
use app::state::AppState;
use app::throttle::LoginThrottle;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use leptos::prelude::LeptosOptions;
use portico::web::{self, WebConfig};
use sqlx::SqlitePool;
use std::net::SocketAddr;
use tower::ServiceExt;

pub mod sandbox;

pub const HOST: &str = "127.0.0.1:3000";
pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub struct TestApp {
    pub router: Router,
    pub pool: SqlitePool,
    pub password: String,
    pub _dir: tempfile::TempDir,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// The session cookie this reply sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("portico_session="))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_throttle(LoginThrottle::default()).await
    }

    pub async fn with_throttle(throttle: LoginThrottle) -> Self {
        Self::build(throttle, None).await
    }

    /// With a way to read API key values (the sandbox's), for the show-once screen.
    pub async fn with_key_values(key_values: std::sync::Arc<dyn app::state::KeyValues>) -> Self {
        Self::build(LoginThrottle::default(), Some(key_values)).await
    }

    async fn build(
        throttle: LoginThrottle,
        key_values: Option<std::sync::Arc<dyn app::state::KeyValues>>,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let pool = portico::db::open(&dir.path().join("portico.db"))
            .await
            .expect("open db");
        let leptos = LeptosOptions::builder().output_name("portico").build();
        let mut state = AppState::new(pool.clone(), leptos, throttle);
        if let Some(kv) = key_values {
            state = state.with_key_values(kv);
        }
        let router = web::router(state, &WebConfig::default())
            .await
            .expect("router")
            .layer(MockConnectInfo(SocketAddr::from(([10, 1, 2, 3], 40000))));
        // Random per run, so no password lives in the repository.
        let password = app::auth::ssr::generate_password();
        Self {
            router,
            pool,
            password,
            _dir: dir,
        }
    }

    pub async fn user(self, name: &str, role: Role) -> Self {
        app::api::users::ssr::create(&self.pool, "test", name, role, &self.password)
            .await
            .expect("create user");
        self
    }

    /// The seed topology as gateway `seed`, at generation 2 (created, then one edit), so a
    /// restore of generation 1 has something to do.
    pub async fn seed_gateway(self) -> Self {
        use app::api::gateways::ssr;
        let seed = ssr::parse_yaml(include_str!("../../../examples/seed-topology.yaml")).unwrap();
        let mut first = seed.clone();
        first.usage.requests_per_month = 1;
        ssr::create(&self.pool, "test", first, false)
            .await
            .expect("create seed");
        ssr::replace(&self.pool, "test", "seed", None, seed, "test", false)
            .await
            .expect("seed gen 2");
        // A plan of generation 2 waiting for an admin, as the worker stores one in approve
        // mode (plan id 1).
        let id: i64 = sqlx::query_scalar("SELECT id FROM gateways WHERE name = 'seed'")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let plan = app::plan::plan(
            Some(&ssr::load(&self.pool, "seed").await.unwrap().2),
            &[],
            &Default::default(),
        );
        portico::worker::store::insert_plan(
            &self.pool,
            id,
            2,
            "edit",
            &plan,
            true,
            "awaiting_approval",
        )
        .await
        .expect("a plan awaiting approval");
        // An API key issued by root (key id 1), not yet made in AWS.
        sqlx::query(
            "INSERT INTO api_keys (gateway_id, name, owner, plans, enabled, created_by, created_at) \
             VALUES (?, 'partner', 'team-a', '[\"standard\"]', 1, 'root', 0)",
        )
        .bind(id)
        .execute(&self.pool)
        .await
        .expect("a key");
        self
    }

    /// The latest generation of a gateway.
    pub async fn generation(&self, gateway: &str) -> i64 {
        sqlx::query_scalar("SELECT generation FROM gateways WHERE name = ?")
            .bind(gateway)
            .fetch_one(&self.pool)
            .await
            .expect("the gateway exists")
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> Reply {
        let mut req = Request::get(path).header(header::HOST, HOST);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// A server-function call as the browser's fetch makes it (same origin, JSON reply).
    pub async fn call(&self, name: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
        self.post(
            &format!("/api/{name}"),
            cookie,
            form,
            Some(ORIGIN),
            "application/json",
        )
        .await
    }

    pub async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        form: &[(&str, &str)],
        origin: Option<&str>,
        accept: &str,
    ) -> Reply {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::post(path)
            .header(header::HOST, HOST)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, accept)
            .header(header::CONTENT_LENGTH, body.len());
        if let Some(o) = origin {
            req = req.header(header::ORIGIN, o);
        }
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        self.send(req.body(Body::from(body)).unwrap()).await
    }

    /// Signs in and returns the session cookie.
    pub async fn login(&self, name: &str) -> String {
        let reply = self
            .call(
                "login",
                None,
                &[("name", name), ("password", &self.password)],
            )
            .await;
        assert!(
            reply.status.is_success() || reply.status.is_redirection(),
            "login of {name}: {} {}",
            reply.status,
            reply.body
        );
        reply.session_cookie().expect("login sets a session cookie")
    }

    pub async fn audit_actions(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT action FROM audit ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }
}

pub use app::api::forms::urlencode;

/// Asserts a refusal: its status, and a message the user can act on.
pub fn refused(r: &Reply, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.body.contains(message),
        "expected {message:?} in {}",
        r.body
    );
}
