//! Field rules that mirror AWS's own limits. Each returns the message a form shows next to the
//! field; the same functions run in the browser as the user types and on the server.
//!
//! Validation only: the names Portico gives AWS resources (and the hash that shortens them to
//! AWS's limit) are made in `crate::plan::names`, nowhere else.

pub const GATEWAY_NAME_MAX: usize = 24;
pub const STAGE_NAME_MAX: usize = 128;
pub const PATH_MAX: usize = 1024;
pub const THROTTLE_RATE_MAX: f64 = 10_000.0;
pub const THROTTLE_BURST_MAX: u32 = 5_000;

/// AWS's quotas the shape runs into (FACTS.md section 6: the API Gateway and NLB quota
/// pages). A topology past one is refused here, by name, instead of failing halfway through a
/// plan in AWS. Some are adjustable on request; these are AWS's defaults.
pub mod quotas {
    /// Listeners per load balancer (not adjustable): one per backend port.
    pub const LISTENERS_PER_NLB: usize = 50;
    /// Stages per REST API.
    pub const STAGES_PER_API: usize = 10;
    /// Resources per REST API, the root and every path prefix counted.
    pub const RESOURCES_PER_API: usize = 300;
    /// Stage variables per stage (not adjustable), Portico's `backendPort` included.
    pub const VARIABLES_PER_STAGE: usize = 100;
    /// Usage plans per account and region.
    pub const USAGE_PLANS: usize = 300;
    /// Usage plans one API key is in.
    pub const USAGE_PLANS_PER_KEY: usize = 10;
    /// Targets per target group: instances behind one backend port.
    pub const TARGETS_PER_TARGET_GROUP: usize = 1_000;
    /// Targets per load balancer, an instance behind N ports counted N times.
    pub const TARGETS_PER_NLB: usize = 3_000;
}
pub const CACHE_SIZES_GB: [&str; 8] = ["0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"];
pub const METHODS: [&str; 7] = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"];
/// The stage variable that carries a stage's backend (listener) port: the planner sets it on
/// every stage and integrations without a fixed port read it, so users may not set it.
pub const BACKEND_PORT_VAR: &str = "backendPort";

/// The access-log format a stage writes when its log names none: the JSON line of AWS's
/// console, with `extendedRequestId` beside `requestId` (AWS's advice: log both).
pub const ACCESS_LOG_JSON: &str = r#"{"requestId":"$context.requestId","extendedRequestId":"$context.extendedRequestId","ip":"$context.identity.sourceIp","caller":"$context.identity.caller","user":"$context.identity.user","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","resourcePath":"$context.resourcePath","status":"$context.status","protocol":"$context.protocol","responseLength":"$context.responseLength"}"#;
/// Portico's bound on an access-log format (AWS documents none): a log line's template.
pub const ACCESS_LOG_FORMAT_MAX: usize = 4_096;

type Check = Result<(), String>;

fn is_hex(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `prefix-` followed by 8 or 17 lowercase hex digits (the two generations of AWS ids).
fn aws_id(value: &str, prefix: &str, what: &str) -> Check {
    match value.strip_prefix(prefix) {
        Some(rest) if is_hex(rest) && (rest.len() == 8 || rest.len() == 17) => Ok(()),
        _ => Err(format!(
            "{what} {value:?} is not valid: expected {prefix} followed by 8 or 17 hex digits."
        )),
    }
}

pub fn gateway_name(name: &str) -> Check {
    if name.is_empty() || name.len() > GATEWAY_NAME_MAX {
        return Err(format!("Gateway name must be 1 to {GATEWAY_NAME_MAX} characters (it prefixes AWS resource names)."));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) || name.ends_with('-') {
        return Err("Gateway name must start with a lowercase letter and not end with '-'.".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(format!(
            "Gateway name may only hold lowercase letters, digits and '-' (found {c:?})."
        ));
    }
    Ok(())
}

pub fn region(code: &str) -> Check {
    let parts: Vec<&str> = code.split('-').collect();
    let ok = match parts.as_slice() {
        [area, place, n] => area.len() == 2 && is_lower(area) && is_lower(place) && is_digits(n),
        [area, "gov", place, n] => {
            area.len() == 2 && is_lower(area) && is_lower(place) && is_digits(n)
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Region {code:?} is not an AWS region code such as ap-northeast-2."
        ))
    }
}

fn is_lower(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase())
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

pub fn vpc_id(id: &str) -> Check {
    aws_id(id, "vpc-", "VPC id")
}

pub fn subnet_id(id: &str) -> Check {
    aws_id(id, "subnet-", "Subnet id")
}

pub fn instance_id(id: &str) -> Check {
    aws_id(id, "i-", "Instance id")
}

pub fn role_arn(arn: &str) -> Check {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", partition, "iam", "", account, resource]
            if partition.starts_with("aws")
                && account.len() == 12
                && is_digits(account)
                && resource.starts_with("role/")
                && resource.len() > 5 =>
        {
            Ok(())
        }
        _ => Err(format!(
            "Role {arn:?} is not an IAM role ARN (arn:aws:iam::123456789012:role/name)."
        )),
    }
}

pub fn port(value: u32, what: &str) -> Check {
    if (1..=65_535).contains(&value) {
        Ok(())
    } else {
        Err(format!("{what} {value} is out of range: use 1 to 65535."))
    }
}

pub fn stage_name(name: &str) -> Check {
    if name.is_empty() {
        return Err("Stage name is required.".into());
    }
    if name.chars().count() > STAGE_NAME_MAX {
        return Err(format!(
            "Stage name is longer than {STAGE_NAME_MAX} characters."
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(format!(
            "Stage name may only hold letters, digits, '-' and '_' (found {c:?})."
        ));
    }
    Ok(())
}

/// A resource path: `/`, or `/seg/{param}/…` with `{proxy+}` allowed only as the last segment.
/// A route's backend path: starts with `/`, holds what a URL path may, and its parameters
/// (`{name}`) are the route's own.
pub fn backend_path(route: &str, backend: &str) -> Check {
    if !backend.starts_with('/') {
        return Err(format!("Backend path {backend:?} must start with '/'."));
    }
    if backend.len() > PATH_MAX {
        return Err(format!(
            "Backend path is longer than {PATH_MAX} characters."
        ));
    }
    for seg in backend.split('/').skip(1) {
        let literal = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | ':'))
        };
        let param = seg
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .is_some_and(|name| !name.is_empty() && literal(name) && !name.contains(':'));
        if !param && !literal(seg) {
            return Err(format!(
                "Backend path {backend:?}: segment {seg:?} is neither plain text nor one \
                 {{parameter}}."
            ));
        }
    }
    let params = |p: &str| -> Vec<String> {
        p.split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}').map(str::to_owned))
            .map(|s| s.trim_end_matches('+').to_owned())
            .collect()
    };
    let own = params(route);
    match params(backend).into_iter().find(|p| !own.contains(p)) {
        Some(p) => Err(format!(
            "Backend path {backend:?} uses {{{p}}}, which route {route:?} does not have."
        )),
        None => Ok(()),
    }
}

pub fn resource_path(path: &str) -> Check {
    if !path.starts_with('/') {
        return Err(format!("Path {path:?} must start with '/'."));
    }
    if path.len() > PATH_MAX {
        return Err(format!("Path is longer than {PATH_MAX} characters."));
    }
    if path == "/" {
        return Ok(());
    }
    let segments: Vec<&str> = path[1..].split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        if seg.is_empty() {
            return Err(format!(
                "Path {path:?} has an empty segment ('//' or a trailing '/')."
            ));
        }
        if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let (name, greedy) = match inner.strip_suffix('+') {
                Some(n) => (n, true),
                None => (inner, false),
            };
            if greedy && i != last {
                return Err(format!(
                    "Path {path:?}: a greedy segment {seg} may only be the last one."
                ));
            }
            if name.is_empty()
                || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!(
                    "Path {path:?}: {seg} is not a valid parameter name."
                ));
            }
        } else if let Some(c) = seg
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | ':')))
        {
            return Err(format!(
                "Path {path:?}: segment {seg:?} may not hold {c:?}."
            ));
        }
    }
    Ok(())
}

/// The shape AWS compares: a parent has at most one variable child, whatever its name or
/// greed, so `/a/{id}`, `/a/{name}` and `/a/{proxy+}` are the same resource.
pub fn normalised_path(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub fn methods(methods: &[String]) -> Check {
    if methods.is_empty() {
        return Err("Choose ANY or at least one method.".into());
    }
    if methods.iter().any(|m| m == "ANY") && methods.len() > 1 {
        return Err(
            "ANY already covers every method; choose ANY alone or a set of methods.".into(),
        );
    }
    match methods
        .iter()
        .find(|m| *m != "ANY" && !METHODS.contains(&m.as_str()))
    {
        Some(m) => Err(format!("{m:?} is not an HTTP method API Gateway accepts.")),
        None => Ok(()),
    }
}

pub fn throttle(rate: f64, burst: u32) -> Check {
    if !rate.is_finite() || !(0.0..=THROTTLE_RATE_MAX).contains(&rate) {
        return Err(format!(
            "Throttle rate must be 0 to {THROTTLE_RATE_MAX} requests per second."
        ));
    }
    if burst > THROTTLE_BURST_MAX {
        return Err(format!(
            "Throttle burst must be 0 to {THROTTLE_BURST_MAX} requests."
        ));
    }
    Ok(())
}

pub fn quota(limit: u32, period: super::topology::QuotaPeriod, offset: u32) -> Check {
    use super::topology::QuotaPeriod::*;
    if limit == 0 || limit > i32::MAX as u32 {
        return Err("Quota limit must be at least 1 request.".into());
    }
    let max_offset = match period {
        Day => 0,
        Week => 6,
        Month => 27,
    };
    if offset > max_offset {
        return Err(format!(
            "Quota offset for {period:?} must be 0 to {max_offset}."
        ));
    }
    Ok(())
}

pub fn health_interval(seconds: u32) -> Check {
    if (5..=300).contains(&seconds) {
        Ok(())
    } else {
        Err(format!(
            "Health-check interval {seconds} s is out of range: use 5 to 300."
        ))
    }
}

pub fn health_threshold(value: u32, what: &str) -> Check {
    if (2..=10).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "{what} threshold {value} is out of range: use 2 to 10."
        ))
    }
}

pub fn health_path(path: &str) -> Check {
    if !path.starts_with('/')
        || path.len() > 1024
        || path.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!("Health-check path {path:?} must start with '/' and hold no spaces (at most 1024 characters)."));
    }
    Ok(())
}

pub fn deregistration_delay(seconds: u32) -> Check {
    if seconds <= 3600 {
        Ok(())
    } else {
        Err(format!(
            "Deregistration delay {seconds} s is out of range: use 0 to 3600."
        ))
    }
}

pub fn variable_name(name: &str) -> Check {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(format!(
            "Stage variable name {name:?} may only hold letters, digits and '_' (1 to 64)."
        ));
    }
    if name == BACKEND_PORT_VAR {
        return Err(format!(
            "{BACKEND_PORT_VAR} is set by Portico from the stage's backend port."
        ));
    }
    Ok(())
}

pub fn variable_value(value: &str) -> Check {
    let ok = value.len() <= 512
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#&=,".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!("Stage variable value {value:?} may only hold letters, digits and -._~:/?#&=, (at most 512)."))
    }
}

pub fn plan_name(name: &str) -> Check {
    if name.trim().is_empty() || name.len() > 64 {
        return Err("Usage plan name must be 1 to 64 characters.".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ')))
    {
        return Err(format!(
            "Usage plan name may only hold letters, digits, spaces and -_. (found {c:?})."
        ));
    }
    Ok(())
}

/// The ARN partition a region is in.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Where a stage in `region` may write its access log: a CloudWatch Logs group or a Kinesis
/// Data Firehose stream whose name starts `amazon-apigateway-` (AWS's rule), in the gateway's
/// own region and partition.
pub fn access_log_destination(arn: &str, region: &str) -> Check {
    let example = format!(
        "arn:{}:logs:{region}:123456789012:log-group:NAME",
        partition(region)
    );
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", part, service, in_region, account, resource] = parts.as_slice() else {
        return Err(format!(
            "Access log destination {arn:?} is not an ARN: use a log group's ({example}) or a Firehose stream's."
        ));
    };
    if account.len() != 12 || !is_digits(account) {
        return Err(format!(
            "Access log destination {arn:?} has no 12-digit account id."
        ));
    }
    if *part != partition(region) || in_region != &region {
        return Err(format!(
            "Access log destination {arn:?} is not in the gateway's region: use one in {region} ({example})."
        ));
    }
    match *service {
        "logs" => match resource.strip_prefix("log-group:") {
            Some(name)
                if (1..=512).contains(&name.len())
                    && name.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || b"_-/.#".contains(&b)
                    }) =>
            {
                Ok(())
            }
            _ => Err(format!(
                "Access log destination {arn:?} does not name a log group ({example}): a name is 1 to 512 letters, digits and _-/.#"
            )),
        },
        "firehose" => match resource.strip_prefix("deliverystream/amazon-apigateway-") {
            Some(rest)
                if resource.len() <= "deliverystream/".len() + 64
                    && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b)) =>
            {
                Ok(())
            }
            _ => Err(format!(
                "Access log destination {arn:?} is not a Firehose stream API Gateway may write to: its name must start with amazon-apigateway-."
            )),
        },
        other => Err(format!(
            "Access log destination {arn:?} is a {other} ARN: use a CloudWatch Logs group or a Firehose stream."
        )),
    }
}

/// An access-log format: one line, naming the request (`$context.requestId` or
/// `$context.extendedRequestId`, as AWS requires), and never the caller's API key value.
pub fn access_log_format(format: &str) -> Check {
    if format.trim().is_empty() {
        return Err("Access log format is empty: leave it out for the JSON default.".into());
    }
    let length = format.chars().count();
    if length > ACCESS_LOG_FORMAT_MAX {
        return Err(format!(
            "Access log format is {length} characters: at most {ACCESS_LOG_FORMAT_MAX}."
        ));
    }
    if format.contains(['\n', '\r']) {
        return Err("Access log format must be one line (each request writes one).".into());
    }
    if !format.contains("$context.requestId") && !format.contains("$context.extendedRequestId") {
        return Err(
            "Access log format must hold $context.requestId or $context.extendedRequestId (AWS requires one)."
                .into(),
        );
    }
    // `$context.identity.apiKeyId` (the key's id) is fine; the value is not.
    let key_value = format
        .match_indices("$context.identity.apiKey")
        .any(|(at, found)| {
            !format[at + found.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
        });
    if key_value {
        return Err(
            "Access log format must not hold $context.identity.apiKey: it writes callers' API key values into the log."
                .into(),
        );
    }
    Ok(())
}
