//! The command line: `serve` (the default), `user`, `topology`, `plan`, `status`, `prices`,
//! `backup` and `restore`.

use app::api::users::ssr as users;
use clap::{Args, Parser, Subcommand};
use portico_core::health::ErrorThreshold;
use portico_core::model::topology::Topology;
use portico_core::model::Role;
use portico_store::{gateways, Store};
use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "portico",
    version,
    about = "Keep an API Gateway → VPC link → NLB topology in the shape your team wants."
)]
pub struct Cli {
    /// The database: a SQLite file (created when missing) or a PostgreSQL URL
    /// (`postgres://user:password@host/database`), where several servers can share it.
    #[arg(
        long,
        env = "PORTICO_DB",
        hide_env_values = true,
        default_value = "portico.db",
        global = true
    )]
    pub db: String,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the dashboard (the default).
    Serve(ServeArgs),
    /// Manage the people who may sign in.
    #[command(subcommand)]
    User(UserCommand),
    /// Read or write a gateway's desired topology as a YAML file.
    #[command(subcommand)]
    Topology(TopologyCommand),
    /// Prices for the cost estimates.
    #[command(subcommand)]
    Prices(PricesCommand),
    /// Print what the worker would do to make AWS match a gateway's topology (reads AWS,
    /// writes nothing).
    Plan { gateway: String },
    /// Print the state of every AWS resource a gateway owns, as AWS reports it now.
    Status {
        gateway: String,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Take over a hand-built setup (REST API → VPC link → one NLB → listeners and target groups
    /// → instances, stages, usage plans, keys) without replacing anything. --dry-run prints the
    /// topology file it would store, the resources that would gain Portico's tags, the keys it
    /// would list, and everything the shape cannot express; it reads AWS and writes nothing.
    Adopt {
        #[arg(long)]
        region: String,
        /// The REST API's id (e.g. a1b2c3d4e5).
        #[arg(long = "rest-api")]
        rest_api: String,
        /// The name the gateway gets in Portico.
        #[arg(long)]
        name: String,
        /// An IAM role to assume (another account).
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        dry_run: bool,
    },
    /// Write a consistent copy of the database to FILE, while servers keep using it.
    Backup { file: PathBuf },
    /// Replace the database with the backup FILE (refused while a server works on it).
    Restore { file: PathBuf },
    /// Copy the installation into another, empty database: a SQLite file to PostgreSQL (to
    /// run several servers), or PostgreSQL to a SQLite file. Everything but sign-in sessions
    /// goes; stop every server on the source first. The source is left as it was.
    Migrate {
        /// The database to copy (default: --db).
        #[arg(long)]
        from: Option<String>,
        /// The empty database to copy into: a new SQLite file or a postgres:// URL.
        #[arg(long)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum TopologyCommand {
    /// Print a gateway's desired topology as YAML.
    Export { gateway: String },
    /// Validate a topology file and store it as the desired state, all or nothing (the gateway
    /// is created when it does not exist yet).
    Apply {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        /// Only print what would change.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum PricesCommand {
    /// Read current prices from the AWS Price List API (needs pricing:GetProducts) for the
    /// regions in use, or those named, over the embedded table.
    Refresh {
        #[arg(long = "region")]
        regions: Vec<String>,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one and logs it).
    #[arg(long, env = "PORTICO_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Mark the session cookie Secure even on a loopback address (a TLS-terminating proxy on
    /// the same host). Off loopback, and with an https --public-url, it is Secure anyway.
    #[arg(long, env = "PORTICO_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Send the session cookie without Secure even off loopback: only for plain http on a
    /// network you trust (the cookie can then be read on the way).
    #[arg(
        long,
        env = "PORTICO_INSECURE_COOKIES",
        conflicts_with = "secure_cookies"
    )]
    pub insecure_cookies: bool,
    /// Seconds between drift checks of a gateway that is in sync.
    #[arg(long, env = "PORTICO_DRIFT_INTERVAL", default_value_t = 60)]
    pub drift_interval: u64,
    /// Seconds between health reads (reads only) of a gateway.
    #[arg(long, env = "PORTICO_HEALTH_INTERVAL", default_value_t = 15)]
    pub health_interval: u64,
    /// Seconds between reads of a gateway's traffic from CloudWatch (billed per metric asked
    /// for: at least the points' period of 300 s); 0: never read.
    #[arg(long, env = "PORTICO_METRICS_INTERVAL", default_value_t = portico_store::traffic::PERIOD as u64)]
    pub metrics_interval: u64,
    /// A stage is degraded when more than this percentage of its requests in five minutes
    /// answered 5xx …
    #[arg(
        long,
        env = "PORTICO_ERROR_RATE_PERCENT",
        default_value_t = ErrorThreshold::default().percent,
        value_parser = parse_percent
    )]
    pub error_rate_percent: f64,
    /// … and it had at least this many requests.
    #[arg(
        long,
        env = "PORTICO_ERROR_RATE_MIN_REQUESTS",
        default_value_t = ErrorThreshold::default().min_requests,
        value_parser = parse_count
    )]
    pub error_rate_min_requests: f64,
    /// Serve the pages without the worker (nothing is written to AWS).
    #[arg(long, env = "PORTICO_NO_WORKER")]
    pub no_worker: bool,
    /// Seconds the worker lease lasts unrenewed: with several servers on one database, another
    /// takes over the worker this long after the holder dies.
    #[arg(long, env = "PORTICO_LEASE_SECONDS", default_value_t = 30)]
    pub lease_seconds: u64,
    /// A bearer token /metrics asks for (Authorization: Bearer …); without it /metrics is open
    /// to anyone who reaches the server. Prefer the environment: arguments show in `ps`.
    #[arg(long, env = "PORTICO_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Send webhooks to this machine's own (loopback) and link-local addresses too, which are
    /// refused by default: a webhook could otherwise reach services that trust local callers.
    #[arg(long, env = "PORTICO_WEBHOOKS_TO_LOCAL_ADDRESSES")]
    pub webhooks_to_local_addresses: bool,
    /// Days a sign-in lasts however active it is (the idle limit is 12 hours).
    #[arg(long, env = "PORTICO_SESSION_DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u64).range(1..=365))]
    pub session_days: u64,
    /// A reverse proxy in front of Portico (an address or a CIDR range; repeat, or separate
    /// with commas in the environment): only from these peers are X-Forwarded-For /
    /// Forwarded (the client's address) and X-Forwarded-Host / -Proto believed.
    #[arg(long = "trusted-proxy", env = "PORTICO_TRUSTED_PROXIES", value_delimiter = ',',
          value_parser = crate::web::proxy::Proxies::parse_trusted)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The header the trusted proxy writes the client's address into: x-forwarded-for (nginx,
    /// Caddy, most load balancers) or forwarded (RFC 7239). Only that one is read: a client's
    /// own copy of the other passes through the proxy untouched.
    #[arg(long, env = "PORTICO_FORWARDED_HEADER", default_value = "x-forwarded-for",
          value_parser = crate::web::proxy::Forwarding::parse)]
    pub forwarded_header: crate::web::proxy::Forwarding,
    /// The origin people open Portico at (https://portico.example.com): the only origin a
    /// form may be sent from, whatever Host the proxy passes on.
    #[arg(long, env = "PORTICO_PUBLIC_URL",
          value_parser = crate::web::proxy::Origin::parse_public_url)]
    pub public_url: Option<crate::web::proxy::Origin>,
}

impl ServeArgs {
    /// Whether the session cookie is `Secure`: yes unless the server is bound to loopback
    /// (a browser reaches it over plain http only there), said otherwise by a flag, or the
    /// public URL is https.
    pub fn secure_cookies(&self) -> bool {
        if self.insecure_cookies {
            return false;
        }
        if self.secure_cookies {
            return true;
        }
        match self.public_url.as_ref().and_then(|o| o.scheme.as_deref()) {
            Some("https") => true,
            Some(_) => false,
            None => !self.addr.ip().is_loopback(),
        }
    }
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            addr: ([127, 0, 0, 1], 3000).into(),
            secure_cookies: false,
            insecure_cookies: false,
            drift_interval: 60,
            health_interval: 15,
            metrics_interval: portico_store::traffic::PERIOD as u64,
            error_rate_percent: ErrorThreshold::default().percent,
            error_rate_min_requests: ErrorThreshold::default().min_requests,
            no_worker: false,
            lease_seconds: 30,
            trusted_proxies: vec![],
            forwarded_header: crate::web::proxy::Forwarding::XForwardedFor,
            public_url: None,
            session_days: 7,
            metrics_token: None,
            webhooks_to_local_addresses: false,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user. The password is read from standard input; when none is piped in, one is
    /// generated and printed once.
    Add {
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List users with their roles and status.
    List,
    /// Disable a user: they can no longer sign in, and their sessions stop working at once.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Set a user's password (from standard input; when none is piped in, one is generated and
    /// printed once): for an admin locked out, say. Every session of theirs ends.
    Password { name: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// A percentage: 0 to 100.
fn parse_percent(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("{s:?} is not a percentage from 0 to 100")),
    }
}

/// A count of requests: 0 or more.
fn parse_count(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a number of requests (0 or more)")),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Open(#[from] portico_store::OpenError),
    #[error("{0}")]
    Store(#[from] portico_store::StoreError),
    #[error("{0}")]
    App(#[from] app::error::AppError),
    #[error("{0}")]
    Serve(String),
    #[error("reading the password from standard input: {0}")]
    Stdin(std::io::Error),
    #[error("{0}")]
    Restore(#[from] portico_store::RestoreError),
    #[error("{0}; nothing was copied")]
    Copy(#[from] portico_store::CopyError),
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => crate::serve::serve(&cli.db, args).await,
        Command::User(cmd) => user(&cli.db, cmd).await,
        Command::Topology(cmd) => topology(&cli.db, cmd).await,
        Command::Plan { gateway } => plan(&cli.db, &gateway).await,
        Command::Adopt {
            region,
            rest_api,
            name,
            role,
            dry_run,
        } => adopt::adopt(&cli.db, &region, &rest_api, &name, role.as_deref(), dry_run).await,
        Command::Prices(PricesCommand::Refresh { regions }) => {
            let store = Store::connect(&cli.db).await?;
            let base = crate::aws::base_config().await;
            let report = crate::prices::refresh(&store, &base, regions)
                .await
                .map_err(CliError::Serve)?;
            for line in report {
                println!("{line}");
            }
            Ok(())
        }
        Command::Status { gateway, json } => status(&cli.db, &gateway, json).await,
        Command::Backup { file } => database::backup(&cli.db, &file).await,
        Command::Restore { file } => database::restore(&cli.db, &file).await,
        Command::Migrate { from, to } => database::migrate(&from.unwrap_or(cli.db), &to).await,
    }
}

/// What the worker sees for `gateway` now: its desired state, AWS as observed, and the plan it
/// would run. Reads AWS, writes nothing.
async fn preview(
    db: &str,
    gateway: &str,
) -> Result<
    (
        gateways::Desired,
        portico_core::plan::actual::Actual,
        portico_core::plan::Plan,
    ),
    CliError,
> {
    let store = Store::connect(db).await?;
    let id = gateways::load(&store, gateway).await?.id;
    let worker = crate::worker::Worker::from_environment(store, Default::default()).await;
    worker
        .preview(id)
        .await?
        .ok_or_else(|| CliError::Serve(format!("No gateway named {gateway:?}.")))
}

async fn plan(db: &str, gateway: &str) -> Result<(), CliError> {
    let (g, actual, p) = preview(db, gateway).await?;
    if g.releasing {
        println!(
            "Gateway {gateway} is being released: Portico's tags come off the {} resource(s) \
             it owns in AWS, which keep running; then its rows go.",
            actual.load_balancers.len()
                + actual.target_groups.len()
                + actual.vpc_links.len()
                + actual.rest_apis.len()
                + actual.all_usage_plans().count()
                + actual.all_api_keys().count()
        );
        return Ok(());
    }
    if p.is_empty() {
        println!(
            "Gateway {gateway}: AWS matches generation {}. Nothing to do.",
            g.generation
        );
        return Ok(());
    }
    println!(
        "Gateway {gateway}, generation {}: {} step(s), {} write(s){}",
        g.generation,
        p.steps.len(),
        p.writes(),
        if g.deleting {
            " (the gateway is being deleted)"
        } else {
            ""
        }
    );
    for line in p.lines() {
        println!("  {line}");
    }
    if p.needs_approval() {
        println!(
            "Needs an admin's approval: it removes {}.",
            p.guarded_steps().join(", ")
        );
    }
    Ok(())
}

async fn status(db: &str, gateway: &str, json: bool) -> Result<(), CliError> {
    let (g, actual, p) = preview(db, gateway).await?;
    if !json {
        let store = Store::connect(db).await?;
        println!(
            "{}",
            lease_words(portico_store::lease::current(&store).await?)
        );
        println!(
            "Installation: {} (the portico:installation tag on what it makes in AWS).",
            portico_store::installation::id(&store).await?
        );
    }
    let report = portico_core::plan::status::Report::new(&g.topology, &actual, &p);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Serve(e.to_string()))?
        );
    } else {
        print!("{}", report.text());
    }
    Ok(())
}

/// Who writes to AWS, in a sentence for `portico status`.
fn lease_words(lease: Option<portico_store::lease::Lease>) -> String {
    let now = portico_store::now_ms();
    match lease {
        None => "Worker: no server has run the worker on this database yet.".into(),
        Some(l) if l.expires_ms > now => format!(
            "Worker: {} writes to AWS (lease held for {} s, renewed {} s ago, expires in {} s).",
            l.holder,
            (now - l.acquired_ms) / 1000,
            (now - l.renewed_ms) / 1000,
            (l.expires_ms - now + 999) / 1000
        ),
        Some(l) => format!(
            "Worker: none (the lease of {} {} {} s ago; the next server to start or look takes it).",
            l.holder,
            if l.given_up() {
                "was given up"
            } else {
                "expired"
            },
            (now - l.expires_ms) / 1000
        ),
    }
}

async fn topology(db: &str, cmd: TopologyCommand) -> Result<(), CliError> {
    let store = Store::connect(db).await?;
    match cmd {
        TopologyCommand::Export { gateway } => {
            let g = gateways::load(&store, &gateway).await?;
            println!("# gateway {gateway}, generation {}", g.generation);
            print!("{}", g.topology.to_yaml().map_err(CliError::Serve)?);
        }
        TopologyCommand::Apply { file, dry_run } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| CliError::Serve(format!("cannot read {}: {e}", file.display())))?;
            let topology = Topology::from_yaml(&text).map_err(CliError::Serve)?;
            let name = topology.gateway.name.clone();
            let exists = gateways::load(&store, &name).await.is_ok();
            let changes = if exists {
                gateways::replace(
                    &store,
                    "cli",
                    &name,
                    None,
                    topology,
                    "topology.apply",
                    dry_run,
                )
                .await?
            } else {
                gateways::create(&store, "cli", topology, dry_run).await?
            };
            let verb = if dry_run { "would change" } else { "changed" };
            if changes.is_empty() {
                println!("{name}: nothing to change.");
            } else {
                println!("{name}: {verb} {} item(s):", changes.len());
                for change in &changes {
                    println!("  {change}");
                }
            }
        }
    }
    Ok(())
}

async fn user(db: &str, cmd: UserCommand) -> Result<(), CliError> {
    let store = Store::connect(db).await?;
    match cmd {
        UserCommand::Add { name, role } => {
            let (password, generated) = match read_piped_password()? {
                Some(p) => (p, false),
                None => (app::passwords::generate(), true),
            };
            users::create(&store, "cli", &name, role, &password).await?;
            println!("Added {role} {:?}.", name.trim());
            if generated {
                println!("Password (shown once, store it now): {password}");
            }
        }
        UserCommand::List => {
            let rows = users::list(&store).await?;
            if rows.is_empty() {
                println!("No users. Add the first admin: portico user add NAME --role admin");
            }
            for u in rows {
                let status = if u.disabled { "disabled" } else { "active" };
                println!(
                    "{:<24} {:<7} {:<9} added {}",
                    u.name,
                    u.role.as_str(),
                    status,
                    u.created
                );
            }
        }
        UserCommand::Disable { name } => {
            users::set_disabled(&store, "cli", &name, true).await?;
            println!("Disabled {:?}.", name.trim());
        }
        UserCommand::Enable { name } => {
            users::set_disabled(&store, "cli", &name, false).await?;
            println!("Enabled {:?}.", name.trim());
        }
        UserCommand::Password { name } => {
            let (password, generated) = match read_piped_password()? {
                Some(p) => (p, false),
                None => (app::passwords::generate(), true),
            };
            users::set_password(&store, "cli", &name, &password).await?;
            println!(
                "New password set for {:?}; their sessions are signed out.",
                name.trim()
            );
            if generated {
                println!("Password (shown once, store it now): {password}");
            }
        }
    }
    Ok(())
}

/// The password piped on standard input (one line), or `None` on a terminal or empty input.
fn read_piped_password() -> Result<Option<String>, CliError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(CliError::Stdin)?;
    let line = text.lines().next().unwrap_or_default().to_owned();
    Ok((!line.is_empty()).then_some(line))
}

mod adopt;
mod database;
#[cfg(test)]
mod tests;
