//! Every AWS call the worker makes goes through `Caller::call`: each call first takes a token
//! from the account's pacer for its service (so Portico never provokes a 429 itself), every attempt is
//! counted by operation, and throttling, 5xx, timeouts and dropped connections are retried with
//! full-jitter exponential backoff — except a create that may have happened, which comes back
//! `Ambiguous` for the worker to observe before it tries again. Errors keep AWS's code, message and request id for the
//! journal and the page.

use super::pace::{Budget, Pacers, Prepaid, Quotas};
use aws_sdk_apigateway::config::http::HttpResponse;
use aws_sdk_apigateway::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_apigateway::operation::RequestId;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    ApiGateway,
    Elb,
    /// The AWS price list (read by the price refresh, never by the worker).
    Pricing,
    /// The account's VPCs, subnets and instances, for the forms (reads only).
    Ec2,
    /// Traffic metrics (GetMetricData only).
    CloudWatch,
}

impl Service {
    pub fn label(self) -> &'static str {
        match self {
            Service::ApiGateway => "apigateway",
            Service::Elb => "elbv2",
            Service::Pricing => "pricing",
            Service::Ec2 => "ec2",
            Service::CloudWatch => "cloudwatch",
        }
    }
}

/// Why a call failed, as the journal and the page show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub operation: &'static str,
    /// AWS's error code (`ThrottlingException`, `NotFoundException` …), when it sent one.
    pub code: Option<String>,
    pub message: String,
    pub request_id: Option<String>,
    pub kind: ErrorKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 429 / Throttling: retried.
    Throttled,
    /// 5xx: retried.
    Server,
    /// Timeout or connection failure: retried.
    Transport,
    /// AWS refused the request (4xx): not retried.
    Refused,
    /// A response the SDK could not read (e.g. an HTML error page): retried if 5xx.
    Unexpected,
    /// Not sent: a best-effort read (health) gave way to changes under the quota.
    Deferred,
    /// A create that failed in a way that leaves open whether AWS made it (5xx, a timeout, a
    /// dropped connection). Never retried blindly: the worker observes AWS first and adopts
    /// what is there.
    Ambiguous,
    /// Not tried again: while it backed off, this server stopped being the one that may
    /// write to AWS (`Caller::write_guard`).
    Superseded,
}

impl ErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::Server => "server",
            ErrorKind::Transport => "transport",
            ErrorKind::Refused => "refused",
            ErrorKind::Unexpected => "unexpected",
            ErrorKind::Deferred => "deferred",
            ErrorKind::Ambiguous => "ambiguous",
            ErrorKind::Superseded => "superseded",
        }
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.operation)?;
        if let Some(code) = &self.code {
            write!(f, "{code}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for AwsError {}

/// The codes AWS answers when it does not take the credentials themselves.
const CREDENTIAL_CODES: [&str; 6] = [
    "ExpiredToken",
    "ExpiredTokenException",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
];

const ACCESS_DENIED_CODES: [&str; 3] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
];

/// The IAM action an operation needs, as a policy names it: ELB's actions are its operations,
/// API Gateway's are HTTP verbs on the resource's ARN, the price list's are its operations.
fn iam_action(service: Service, operation: &str) -> String {
    match service {
        Service::Elb => format!("elasticloadbalancing:{operation}"),
        Service::Pricing => format!("pricing:{operation}"),
        Service::Ec2 => format!("ec2:{operation}"),
        Service::CloudWatch => format!("cloudwatch:{operation}"),
        Service::ApiGateway => {
            let verb = [
                ("Get", "GET"),
                ("Create", "POST"),
                ("Put", "PUT"),
                ("Tag", "PUT"),
                ("Update", "PATCH"),
                ("Delete", "DELETE"),
                ("Untag", "DELETE"),
            ]
            .iter()
            .find(|(p, _)| operation.starts_with(p))
            .map_or("POST", |(_, v)| v);
            format!("apigateway:{verb} (for {operation})")
        }
    }
}

/// The innermost cause of an error, as a sentence ("Connection refused (os error 111)"), not
/// the debug dump of the layers around it.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = err;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

const THROTTLING_CODES: [&str; 5] = [
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
];

impl AwsError {
    pub fn from_sdk<E>(
        service: Service,
        operation: &'static str,
        err: &SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let request_id = err.request_id().map(str::to_owned);
        match err {
            SdkError::ServiceError(answer) => {
                let e = answer.err();
                let status = status_of(answer.raw());
                let code = e.code().map(str::to_owned);
                let throttled = status == Some(429)
                    || code
                        .as_deref()
                        .is_some_and(|c| THROTTLING_CODES.contains(&c));
                let (kind, message) = match (&code, e.message()) {
                    (Some(c), m) if CREDENTIAL_CODES.contains(&c.as_str()) => (
                        Some(ErrorKind::Refused),
                        format!(
                            "AWS did not accept Portico's credentials ({}); check what the \
                             credential chain finds (environment, profile, SSO, the role)",
                            m.unwrap_or(c)
                        ),
                    ),
                    (Some(c), m) if ACCESS_DENIED_CODES.contains(&c.as_str()) => (
                        Some(ErrorKind::Refused),
                        format!(
                            "AccessDenied on {} — add it to Portico's IAM policy ({})",
                            iam_action(service, operation),
                            m.unwrap_or("access denied")
                        ),
                    ),
                    (Some(_), Some(m)) => (None, m.to_owned()),
                    (Some(c), None) => (None, c.clone()),
                    (None, _) if matches!(status, Some(401 | 403)) => (
                        Some(ErrorKind::Refused),
                        format!(
                            "AWS refused the request (HTTP {}): check the credentials the \
                             credential chain finds and that Portico's IAM policy allows \
                             {operation}",
                            status.unwrap_or(0)
                        ),
                    ),
                    (None, _) => (
                        Some(ErrorKind::Unexpected),
                        format!("unexpected AWS response (HTTP {})", status.unwrap_or(0)),
                    ),
                };
                let kind = if throttled {
                    ErrorKind::Throttled
                } else if kind == Some(ErrorKind::Refused) {
                    ErrorKind::Refused
                } else if status.is_some_and(|s| s >= 500) {
                    ErrorKind::Server
                } else {
                    kind.unwrap_or(ErrorKind::Refused)
                };
                AwsError {
                    operation,
                    code,
                    message,
                    request_id,
                    kind,
                }
            }
            SdkError::TimeoutError(_) => AwsError {
                operation,
                code: None,
                message: "timed out".into(),
                request_id,
                kind: ErrorKind::Transport,
            },
            SdkError::DispatchFailure(d) => AwsError {
                operation,
                code: None,
                message: match d.as_connector_error() {
                    Some(c) if c.is_timeout() => "could not reach AWS: timed out".into(),
                    Some(c) => format!("could not reach AWS: {}", root_cause(c)),
                    None => format!("could not send the request: {}", root_cause(err)),
                },
                request_id,
                kind: ErrorKind::Transport,
            },
            SdkError::ResponseError(r) => {
                let status = status_of(r.raw());
                AwsError {
                    operation,
                    code: None,
                    message: format!("unexpected AWS response (HTTP {})", status.unwrap_or(0)),
                    request_id,
                    kind: if status.is_some_and(|s| s >= 500) {
                        ErrorKind::Server
                    } else {
                        ErrorKind::Unexpected
                    },
                }
            }
            other => AwsError {
                operation,
                code: None,
                message: root_cause(other),
                request_id,
                kind: ErrorKind::Unexpected,
            },
        }
    }

    pub fn retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Throttled | ErrorKind::Server | ErrorKind::Transport
        )
    }

    pub fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

fn status_of(raw: &HttpResponse) -> Option<u16> {
    Some(raw.status().as_u16())
}

/// Who calls: the pacers' key (account) and region, and the retry policy.
#[derive(Clone, Debug)]
pub struct Caller {
    pub pacers: Arc<Pacers>,
    pub account: String,
    pub region: String,
    pub retry: Retry,
    /// Reads that may be skipped (health refreshes) take API Gateway quota only while this
    /// many tokens stay free for changes; None waits like any call.
    pub best_effort_reserve: Option<f64>,
    /// A routine look's reads (a drift check's, a health read's), with what it prepaid when it
    /// was admitted (`Pacers::admit_routine`): each read sent, retries included, spends that
    /// first and is then charged to the budget routine looks share (`pace::IDLE_SHARE` of each
    /// service's read rate). None: not routine.
    pub routine: Option<Arc<Prepaid>>,
    /// Asked before a change is tried again: a retry can come many seconds after the last
    /// check (backoff up to `Retry::cap`), long enough for another server to take over.
    pub write_guard: Option<Arc<dyn WriteGuard>>,
    /// A call a page makes (a key's value shown once, an adoption): paced by the part of AWS's
    /// buckets kept for pages, counted in this database so every server takes from the same
    /// (`pace::pages`), not by the worker's pacers. None: the worker's call.
    pub pages: Option<portico_store::Store>,
}

/// Whether this process may still write to AWS (the worker's lease, checked by
/// compare-and-set). Lives here as a trait so `aws` imports nothing of the worker.
pub trait WriteGuard: Send + Sync + std::fmt::Debug {
    fn may_write(&self) -> std::pin::Pin<Box<dyn Future<Output = bool> + Send + '_>>;
}

/// Calls that only read (the rest change something, and a retry of them is a write).
fn reads(operation: &str) -> bool {
    ["Get", "Describe", "List"]
        .iter()
        .any(|p| operation.starts_with(p))
}

#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 8,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(20),
        }
    }
}

impl Retry {
    /// Full jitter: a random wait up to base × 2^attempt, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// A skippable read not sent (`ErrorKind::Deferred`), counted as such.
fn deferred(operation: &'static str, why: &str) -> AwsError {
    metrics::counter!("portico_aws_errors_total", "operation" => operation, "kind" => "deferred")
        .increment(1);
    AwsError {
        operation,
        code: None,
        message: why.into(),
        request_id: None,
        kind: ErrorKind::Deferred,
    }
}

impl Caller {
    /// A caller for `region`, as `role_arn` when given (its pacers' account key), with the
    /// default retries, nothing skippable and no write guard.
    pub fn new(pacers: Arc<Pacers>, region: &str, role_arn: Option<&str>) -> Caller {
        Caller {
            pacers,
            account: role_arn.unwrap_or("default").to_owned(),
            region: region.to_owned(),
            retry: Retry::default(),
            best_effort_reserve: None,
            routine: None,
            write_guard: None,
            pages: None,
        }
    }

    /// The same caller, for a page's calls (`Caller::pages`).
    pub fn for_pages(self, store: portico_store::Store) -> Caller {
        Caller {
            pages: Some(store),
            ..self
        }
    }

    /// Runs `f` until it succeeds, fails for good, or runs out of attempts. Returns the output
    /// and AWS's request id.
    pub async fn call<T, E, F, Fut>(
        &self,
        service: Service,
        operation: &'static str,
        mut f: F,
    ) -> Result<(T, Option<String>), AwsError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        T: RequestId,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut attempt = 0;
        loop {
            if let Some(store) = &self.pages {
                let paced = super::pace::pages::take(
                    store,
                    service,
                    &self.account,
                    &self.region,
                    operation,
                )
                .await;
                if let Err(message) = paced {
                    return Err(AwsError {
                        operation,
                        code: None,
                        message,
                        request_id: None,
                        kind: ErrorKind::Refused,
                    });
                }
            } else if service == Service::Elb {
                self.pacers
                    .acquire_for(Quotas::Elb, &self.account, &self.region, operation)
                    .await;
            } else if service == Service::CloudWatch {
                self.pacers
                    .acquire_for(Quotas::CloudWatch, &self.account, &self.region, operation)
                    .await;
            } else if service == Service::ApiGateway {
                match self.best_effort_reserve {
                    Some(reserve) => {
                        if !self.pacers.try_acquire_spare(
                            &self.account,
                            &self.region,
                            operation,
                            reserve,
                        ) {
                            return Err(deferred(
                                operation,
                                "skipped: the API Gateway quota is kept for changes",
                            ));
                        }
                    }
                    None => {
                        self.pacers
                            .acquire(&self.account, &self.region, operation)
                            .await
                    }
                }
            }
            // After pacing, right before sending: a write goes out only while this
            // server still holds the worker lease.
            if !reads(operation) {
                if let Some(guard) = &self.write_guard {
                    if !guard.may_write().await {
                        return Err(AwsError {
                            operation,
                            code: None,
                            message: "not sent: another Portico server took the worker lease \
                                      meanwhile"
                                .into(),
                            request_id: None,
                            kind: ErrorKind::Superseded,
                        });
                    }
                }
            }
            // A routine look's read, sent: from what it prepaid, else charged to its budget.
            if let Some(prepaid) = self.routine.as_deref().filter(|_| reads(operation)) {
                let budget = match service {
                    Service::Elb => Some(Budget::Elb),
                    Service::ApiGateway => Some(Budget::ApiGateway),
                    _ => None,
                };
                if let Some(budget) = budget {
                    self.pacers
                        .charge_routine(&self.account, &self.region, budget, prepaid);
                }
            }
            metrics::counter!(
                "portico_aws_calls_total",
                "service" => service.label(),
                "operation" => operation
            )
            .increment(1);
            match f().await {
                Ok(out) => {
                    let id = out.request_id().map(str::to_owned);
                    return Ok((out, id));
                }
                Err(e) => {
                    let mut err = AwsError::from_sdk(service, operation, &e);
                    // A create that may have happened is not tried again here: the worker
                    // observes AWS first and adopts what the call made.
                    if operation.starts_with("Create")
                        && matches!(
                            err.kind,
                            ErrorKind::Server | ErrorKind::Transport | ErrorKind::Unexpected
                        )
                    {
                        err.kind = ErrorKind::Ambiguous;
                        err.message = format!(
                            "{}; AWS may have made it, so Portico looks before trying again",
                            err.message
                        );
                    }
                    metrics::counter!(
                        "portico_aws_errors_total",
                        "operation" => operation,
                        "kind" => err.kind.label()
                    )
                    .increment(1);
                    attempt += 1;
                    if !err.retryable() || attempt >= self.retry.attempts {
                        return Err(err);
                    }
                    tracing::debug!(%err, attempt, "retrying");
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                }
            }
        }
    }
}
