//! The local AWS sandbox for tests: one per test binary, started on first use from
//! `end2end/aws-sandbox/run` and stopped when the test process ends (it exits when its stdin
//! closes or its parent dies, so even a panicking or killed test run leaves nothing behind).
//! Tests that use it take turns: `Sandbox::lock()` resets it and hands out SDK clients.

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

pub struct Sandbox {
    pub url: String,
    _process: Mutex<(Child, ChildStdin)>,
}

static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A test's exclusive, freshly reset use of the sandbox.
pub struct Turn {
    pub url: String,
    _guard: tokio::sync::MutexGuard<'static, ()>,
}

impl Sandbox {
    fn start() -> Sandbox {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end/aws-sandbox/run");
        let mut child = Command::new("bash")
            .arg(script)
            .args(["--port", "0", "--exit-on-stdin-eof", "--parent-pid"])
            .arg(std::process::id().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start end2end/aws-sandbox/run");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("READY ") => break line[6..].trim().to_owned(),
                Some(Ok(_)) => continue,
                _ => panic!("the AWS sandbox exited before it was ready"),
            }
        };
        // Keep draining its output so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let stdin = child.stdin.take().expect("sandbox stdin");
        Sandbox {
            url,
            _process: Mutex::new((child, stdin)),
        }
    }

    /// Waits for this test's turn, then resets the sandbox to an empty account.
    pub async fn lock() -> Turn {
        let guard = TURN.lock().await;
        let url = tokio::task::spawn_blocking(|| SANDBOX.get_or_init(Sandbox::start).url.clone())
            .await
            .expect("sandbox start");
        let turn = Turn { url, _guard: guard };
        turn.control("POST", "/reset", Some(serde_json::json!({})))
            .await;
        turn
    }
}

impl Turn {
    /// SDK configuration for the sandbox. `attempts` = 1 shows every fault to the caller;
    /// more lets the SDK's standard retry policy absorb them.
    pub async fn sdk_config(&self, region: &str, attempts: u32) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(&self.url)
            .credentials_provider(aws_sdk_apigateway::config::Credentials::new(
                "sandbox", "sandbox", None, None, "sandbox",
            ))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(std::time::Duration::from_millis(10)),
            )
            .load()
            .await
    }

    pub async fn clients(&self, region: &str, attempts: u32) -> portico::aws::Clients {
        portico::aws::Clients::new(&self.sdk_config(region, attempts).await)
    }

    /// A call to the sandbox's control API (`/_sandbox/…`), answered as JSON.
    pub async fn control(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let req = http::Request::builder()
            .method(method)
            .uri(format!("{}/_sandbox{path}", self.url))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(
                body.map(|b| b.to_string()).unwrap_or_default(),
            )))
            .expect("request");
        let res = client.request(req).await.expect("sandbox control API");
        let status = res.status();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let value: Value = serde_json::from_slice(&bytes).expect("JSON from the sandbox");
        assert!(status.is_success(), "{method} {path}: {status} {value}");
        value
    }

    /// Switches moto's credential checks: `"0"` refuses every call (as AWS refuses expired or
    /// unknown credentials), `"inf"` accepts them again.
    pub async fn moto_auth(&self, setting: &str) {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let req = http::Request::builder()
            .method("POST")
            .uri(format!("{}/moto-api/reset-auth", self.url))
            .body(Full::new(Bytes::from(setting.to_owned())))
            .expect("request");
        let res = client.request(req).await.expect("moto's API");
        assert!(
            res.status().is_success(),
            "reset-auth {setting}: {}",
            res.status()
        );
    }

    /// How many times `service`'s `operation` was called since the last reset.
    pub async fn calls(&self, service: &str, operation: &str) -> u64 {
        let log = self.control("GET", "/calls", None).await;
        log["calls"][service][operation].as_u64().unwrap_or(0)
    }

    /// The demo account: a VPC, two subnets in two zones, two running instances.
    pub async fn demo(&self, region: &str) -> Value {
        self.control(
            "POST",
            "/demo",
            Some(serde_json::json!({ "region": region })),
        )
        .await
    }
}
