//! `TestApp`: a real router over a real database (a SQLite file, or PostgreSQL when the run is
//! on it: `PORTICO_TEST_DB=postgres`), driven in-process (no sockets), built by
//! one builder for every integration test: `TestApp::builder().with_sandbox(REGION)
//! .with_key_values().user("root", Role::Admin).build().await`, then `app.seed_in_sandbox(..)`
//! and `app.worker(fast())` for the tests that reconcile against the local AWS sandbox.

use app::state::AppState;
use app::throttle::LoginThrottle;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use leptos::prelude::LeptosOptions;
use portico::web::{self, WebConfig};
use portico_core::model::Role;
use portico_store::testing::TestPostgres;
use portico_store::Store;
use std::net::SocketAddr;
use tower::ServiceExt;

pub mod logs;
pub mod rig;
pub mod sandbox;

pub use rig::{fast, REGION};

pub const HOST: &str = "127.0.0.1:3000";
pub const ORIGIN: &str = "http://127.0.0.1:3000";

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    pub password: String,
    /// This test's turn at the local AWS sandbox (`with_sandbox`).
    pub sandbox: Option<rig::SandboxUse>,
    /// The test's directory (its SQLite file, files it writes).
    pub _dir: tempfile::TempDir,
    /// The test's PostgreSQL database, when the run is on PostgreSQL.
    pub postgres: Option<OnPostgres>,
}

/// The test's PostgreSQL database and the app's store on it. A database there is a server's
/// connections, not a file: a test that builds many apps (the role matrices) would keep every
/// app's idle connections open until the test ends (the router's session sweeper holds the
/// pool), past the test server's limit. So the store closes when its app goes.
pub struct OnPostgres {
    pub database: TestPostgres,
    store: Store,
}

impl Drop for OnPostgres {
    fn drop(&mut self) {
        let store = self.store.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { store.close().await });
        }
    }
}

/// What a test needs: the sandbox (its turn, reset, with short AWS waits), a key reader backed
/// by it, a login throttle, users.
pub struct Builder {
    throttle: LoginThrottle,
    region: Option<&'static str>,
    key_values: bool,
    users: Vec<(String, Role)>,
    session_lifetime: Option<std::time::Duration>,
    web: WebConfig,
}

impl Builder {
    pub fn with_throttle(mut self, throttle: LoginThrottle) -> Self {
        self.throttle = throttle;
        self
    }

    /// Takes this test's turn at the local AWS sandbox (reset; its demo account in `region`).
    pub fn with_sandbox(mut self, region: &'static str) -> Self {
        self.region = Some(region);
        self
    }

    /// Lets the key screen read values from the sandbox (needs `with_sandbox`).
    pub fn with_key_values(mut self) -> Self {
        self.key_values = true;
        self
    }

    pub fn user(mut self, name: &str, role: Role) -> Self {
        self.users.push((name.to_owned(), role));
        self
    }

    /// How long a sign-in lasts however active (the server's `--session-days`).
    pub fn with_session_lifetime(mut self, lifetime: std::time::Duration) -> Self {
        self.session_lifetime = Some(lifetime);
        self
    }

    /// The HTTP layer's settings (cookies, proxies).
    pub fn with_web(mut self, web: WebConfig) -> Self {
        self.web = web;
        self
    }

    pub async fn build(self) -> TestApp {
        let sandbox = match self.region {
            Some(region) => Some(rig::SandboxUse::take(region).await),
            None => None,
        };
        // The key values' AWS side, made once the store is (its calls are paced there).
        let key_values = match (&sandbox, self.key_values) {
            (Some(s), true) => Some(s.turn.sdk_config(s.region, 3).await),
            (None, true) => panic!("with_key_values needs with_sandbox"),
            _ => None,
        };
        let networks: Option<std::sync::Arc<dyn app::state::Networks>> = match &sandbox {
            Some(s) => Some(std::sync::Arc::new(
                portico::aws::network::SdkNetworks::new(
                    s.turn.sdk_config(s.region, 3).await,
                    Default::default(),
                ),
            )),
            None => None,
        };
        let mut app = TestApp::build(
            self.throttle,
            key_values,
            networks,
            self.session_lifetime,
            &self.web,
        )
        .await;
        app.sandbox = sandbox;
        for (name, role) in &self.users {
            app = app.user(name, *role).await;
        }
        app
    }
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
            .find(|c| c.starts_with("portico_session=") || c.starts_with("__Host-portico_session="))
            .map(|c| c.split(';').next().unwrap_or_default().to_owned())
    }
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder {
            throttle: LoginThrottle::default(),
            region: None,
            key_values: false,
            users: vec![],
            session_lifetime: None,
            web: WebConfig::default(),
        }
    }

    /// No sandbox, no users: HTTP tests.
    pub async fn new() -> Self {
        Self::builder().build().await
    }

    pub async fn with_throttle(throttle: LoginThrottle) -> Self {
        Self::builder().with_throttle(throttle).build().await
    }

    /// The database as the `portico` binary's `--db` names it: the file, or the URL.
    pub fn db_arg(&self) -> String {
        match &self.postgres {
            Some(pg) => pg.database.url().to_owned(),
            None => self._dir.path().join("portico.db").display().to_string(),
        }
    }

    /// Another server on this app's database: a connection pool and a router of its own, so
    /// only what is in the database (sessions, users, plans, the throttle's counts) is shared,
    /// as between two `portico serve` behind a load balancer. It signs in with the same
    /// password.
    pub async fn replica(&self) -> TestApp {
        let store = Store::connect(&self.db_arg()).await.expect("open db");
        let leptos = LeptosOptions::builder().output_name("portico").build();
        let state = AppState::new(store.clone(), leptos, LoginThrottle::default());
        let router = web::router(state, &WebConfig::default())
            .await
            .expect("router")
            .layer(MockConnectInfo(SocketAddr::from(([10, 1, 2, 4], 40000))));
        Self {
            router,
            store,
            password: self.password.clone(),
            sandbox: None,
            _dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        }
    }

    /// For the rows no store function reads (`portico_store::testing::query…`).
    pub fn db(&self) -> &Store {
        &self.store
    }

    async fn build(
        throttle: LoginThrottle,
        key_values: Option<aws_config::SdkConfig>,
        networks: Option<std::sync::Arc<dyn app::state::Networks>>,
        session_lifetime: Option<std::time::Duration>,
        web: &WebConfig,
    ) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (store, postgres) = if portico_store::testing::on_postgres() {
            let database = TestPostgres::start().await;
            let store = Store::connect(database.url()).await.expect("open db");
            let on = OnPostgres {
                database,
                store: store.clone(),
            };
            (store, Some(on))
        } else {
            let store = Store::open(&dir.path().join("portico.db"))
                .await
                .expect("open db");
            (store, None)
        };
        let leptos = LeptosOptions::builder().output_name("portico").build();
        let mut state = AppState::new(store.clone(), leptos, throttle);
        if let Some(config) = key_values {
            state = state.with_key_values(std::sync::Arc::new(
                portico::aws::keys::SdkKeyValues::new(config, Default::default(), store.clone()),
            ));
        }
        if let Some(n) = networks {
            state = state.with_networks(n);
        }
        if let Some(lifetime) = session_lifetime {
            state.session_lifetime = lifetime;
        }
        let router = web::router(state, web)
            .await
            .expect("router")
            .layer(MockConnectInfo(SocketAddr::from(([10, 1, 2, 3], 40000))));
        // Random per run, so no password lives in the repository.
        let password = app::passwords::generate();
        Self {
            router,
            store,
            password,
            sandbox: None,
            _dir: dir,
            postgres,
        }
    }

    pub async fn user(self, name: &str, role: Role) -> Self {
        app::api::users::ssr::create(&self.store, "test", name, role, &self.password)
            .await
            .expect("create user");
        self
    }

    /// The seed topology as gateway `seed`, at generation 2 (created, then one edit), so a
    /// restore of generation 1 has something to do.
    pub async fn seed_gateway(self) -> Self {
        use portico_core::plan::lifecycle::{PlanReason, PlanStatus};
        use portico_store::gateways;
        let seed = seed_topology();
        let mut first = seed.clone();
        first.usage.requests_per_month = 1;
        gateways::create(&self.store, "test", first, false)
            .await
            .expect("create seed");
        gateways::replace(&self.store, "test", "seed", None, seed, "test", false)
            .await
            .expect("seed gen 2");
        // A plan of generation 2 waiting for an admin, as the worker stores one in approve
        // mode (plan id 1).
        let desired = gateways::load(&self.store, "seed").await.unwrap();
        let plan = portico_core::plan::plan(Some(&desired.topology), &[], &Default::default());
        portico_store::plans::insert(
            &self.store,
            &portico_store::plans::NewPlan {
                gateway: desired.id,
                generation: 2,
                reason: PlanReason::Edit,
                plan: &plan,
                needs_approval: true,
                status: PlanStatus::AwaitingApproval,
            },
        )
        .await
        .expect("a plan awaiting approval");
        // An API key issued by root (key id 1), not yet made in AWS.
        portico_store::testing::query(
            "INSERT INTO api_keys (gateway_id, name, owner, plans, enabled, created_by, created_at) \
             VALUES (?, 'partner', 'team-a', '[\"standard\"]', TRUE, 'root', 0)",
        )
        .bind(desired.id)
        .execute(self.db())
        .await
        .expect("a key");
        self
    }

    /// The latest generation of a gateway.
    pub async fn generation(&self, gateway: &str) -> i64 {
        portico_store::gateways::load(&self.store, gateway)
            .await
            .expect("the gateway exists")
            .generation
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
        portico_store::testing::query_scalar("SELECT action FROM audit ORDER BY id")
            .fetch_all(self.db())
            .await
            .unwrap()
    }
}

pub use app::api::forms::urlencode;

/// `examples/seed-topology.yaml`, parsed.
pub fn seed_topology() -> portico_core::model::topology::Topology {
    portico_core::model::topology::Topology::from_yaml(include_str!(
        "../../../../examples/seed-topology.yaml"
    ))
    .expect("the seed parses")
}

/// Asserts a refusal: its status, and a message the user can act on.
pub fn refused(r: &Reply, status: StatusCode, message: &str) {
    assert_eq!(r.status, status, "{}", r.body);
    assert!(
        r.body.contains(message),
        "expected {message:?} in {}",
        r.body
    );
}
