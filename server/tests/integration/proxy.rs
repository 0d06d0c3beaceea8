//! Behind a real reverse proxy (Debian's nginx, configured as the README says): the real
//! `portico serve --trusted-proxy` sees each client's own address through it, takes forms
//! posted from the public origin though nginx rewrites Host, and still refuses cross-site
//! posts. Clients connect from distinct loopback addresses (127.0.0.2, 127.0.0.3 …), so the
//! per-client sign-in throttle is tested with real peers.

use crate::common::TestApp;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use portico_core::model::Role;
use std::net::{IpAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portico");
const NGINX: &str = "/usr/sbin/nginx";

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The README's nginx snippet, in a server of its own on `port`.
fn nginx(dir: &Path, port: u16, upstream: u16) -> Running {
    let d = dir.display();
    let conf = format!(
        // One process (no master and workers), so killing the child stops all of nginx.
        "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\n\
         events {{}}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
               proxy_pass http://127.0.0.1:{upstream};\n\
               proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
               proxy_set_header X-Forwarded-Proto $scheme;\n\
               proxy_set_header X-Forwarded-Host $http_host;\n    }}\n  }}\n}}\n"
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new(NGINX)
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx (Debian's nginx package)");
    Running(child)
}

/// An HTTP client whose connections come from `from`.
fn client_from(from: &str) -> Client<HttpConnector, Full<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_local_address(Some(from.parse::<IpAddr>().unwrap()));
    Client::builder(TokioExecutor::new()).build(connector)
}

struct Answer {
    status: u16,
    cookie: Option<String>,
    body: String,
}

async fn post(
    client: &Client<HttpConnector, Full<Bytes>>,
    url: &str,
    origin: &str,
    cookie: Option<&str>,
    extra: &[(&str, &str)],
    form: &str,
) -> Answer {
    let mut req = http::Request::post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .header("origin", origin);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    for (k, v) in extra {
        req = req.header(*k, *v);
    }
    let res = client
        .request(req.body(Full::new(Bytes::from(form.to_owned()))).unwrap())
        .await
        .expect("request through nginx");
    let status = res.status().as_u16();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("portico_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned());
    let body =
        String::from_utf8_lossy(&res.into_body().collect().await.unwrap().to_bytes()).into_owned();
    Answer {
        status,
        cookie,
        body,
    }
}

#[tokio::test]
async fn behind_nginx_each_client_is_itself_and_forms_from_the_public_origin_pass() {
    let app = TestApp::builder().user("root", Role::Admin).build().await;
    let dir = app._dir.path().to_owned();
    let (inner, outer) = (free_port(), free_port());
    let _portico = Running(
        Command::new(BIN)
            .args(["--db", &app.db_arg()])
            .args([
                "serve",
                "--no-worker",
                "--addr",
                &format!("127.0.0.1:{inner}"),
            ])
            .args(["--trusted-proxy", "127.0.0.1"])
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start portico serve"),
    );
    let _nginx = nginx(&dir, outer, inner);
    let public = format!("http://127.0.0.1:{outer}");
    let login = format!("{public}/api/login");
    let (a, b) = (client_from("127.0.0.2"), client_from("127.0.0.3"));
    let right = format!(
        "name=root&password={}",
        app::api::forms::urlencode(&app.password)
    );
    // Wait until both are up: nginx listens, then answers 502 until Portico does.
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", outer))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "nginx never up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    loop {
        let r = post(&b, &login, &public, None, &[], "name=nobody&password=x").await;
        if r.status != 502 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Wrong passwords from 127.0.0.2, one forged X-Forwarded-For among them: the account is
    // held back for that client only.
    for i in 0..5 {
        let spoof: &[(&str, &str)] = if i == 4 {
            &[("x-forwarded-for", "198.51.100.7")]
        } else {
            &[]
        };
        let r = post(&a, &login, &public, None, spoof, "name=root&password=wrong").await;
        assert_eq!(r.status, 422, "{}", r.body);
    }
    let held = post(
        &a,
        &login,
        &public,
        None,
        &[("x-forwarded-for", "198.51.100.8")],
        &right,
    )
    .await;
    assert_eq!(held.status, 429, "{}", held.body);
    // Another client signs in to the same account at once: the proxy is not one client.
    let signed = post(&b, &login, &public, None, &[], &right).await;
    assert!(signed.status < 400, "{} {}", signed.status, signed.body);
    let cookie = signed.cookie.expect("a session");

    // An edit posted from the public origin passes, though nginx passes Host as the upstream.
    let form = "name=behind-proxy&region=us-east-1&vpc_id=vpc-0123456789abcdef0\
                &subnet_ids=subnet-0123456789abcdef0";
    let url = format!("{public}/api/create_gateway");
    let edit = post(&b, &url, &public, Some(&cookie), &[], form).await;
    assert!(edit.status < 400, "{} {}", edit.status, edit.body);
    assert!(portico_store::gateways::load(&app.store, "behind-proxy")
        .await
        .is_ok());
    // The same post from another site is refused, whatever forwarded host it claims.
    let forged = post(
        &b,
        &url,
        "http://evil.example",
        Some(&cookie),
        &[("x-forwarded-host", "evil.example")],
        &form.replace("behind-proxy", "forged"),
    )
    .await;
    assert_eq!(forged.status, 403, "{}", forged.body);
    assert!(portico_store::gateways::load(&app.store, "forged")
        .await
        .is_err());
}
