//! One server function per form: save or delete a backend port, stage, route or usage plan,
//! the gateway's settings, and the usage assumptions. Each names the entity it edits, so the
//! edit core can refuse a stale edit of that entity and merge edits of others.
#![expect(
    clippy::too_many_arguments,
    reason = "a server function takes one argument per form field, so forms post plain names"
)]

use crate::error::AppError;
use leptos::prelude::*;

/// Every form's path: the editor's role, the edit core (which refuses a stale edit of `entity`
/// and runs `edit` on the topology as stored now), the worker woken, back to the page.
#[cfg(feature = "ssr")]
async fn apply(
    gateway: &str,
    from: i64,
    entity: &str,
    action: &str,
    edit: impl FnOnce(&mut portico_core::model::topology::Topology) -> Result<(), AppError> + Clone,
) -> Result<(), AppError> {
    let (me, state) =
        crate::api::context::require(portico_core::model::Role::Editor, "edit the topology")
            .await?;
    // Backend ports bring in instances: checked against the account first.
    if action == "port.save" {
        crate::api::network::check_edit(&state, gateway, edit.clone()).await?;
    }
    portico_store::gateways::edit(&state.store, &me.name, gateway, from, entity, action, edit)
        .await?;
    state.wake_worker();
    // Back to the form's tab with the form closed (with or without JavaScript).
    let tab = if action == "usage.save" {
        "cost"
    } else {
        "topology"
    };
    leptos_axum::redirect(&format!(
        "/gateways/{}/{tab}",
        crate::api::forms::urlencode(gateway)
    ));
    Ok(())
}

#[cfg(feature = "ssr")]
fn missing(what: &str) -> AppError {
    AppError::NotFound(format!("{what} does not exist (any more)."))
}

/// Puts `value` in place of the entry keyed `original`, or adds it when there is none:
/// refuses a clash with another entry (`clash` names it) and an original that is gone
/// (`noun` names its kind).
#[cfg(feature = "ssr")]
fn put<T, K: PartialEq + std::fmt::Display>(
    items: &mut Vec<T>,
    key_of: impl Fn(&T) -> K,
    original: Option<K>,
    value: T,
    noun: &str,
    clash: impl FnOnce(&K) -> String,
) -> Result<(), AppError> {
    let key = key_of(&value);
    if original.as_ref() != Some(&key) && items.iter().any(|i| key_of(i) == key) {
        return Err(AppError::Conflict(format!(
            "{} already exists.",
            clash(&key)
        )));
    }
    if let Some(old) = &original {
        if !items.iter().any(|i| key_of(i) == *old) {
            return Err(missing(&format!("{noun} {old}")));
        }
        items.retain(|i| key_of(i) != *old);
    }
    items.push(value);
    Ok(())
}

#[server(prefix = "/api", endpoint = "save_port")]
pub async fn save_port(
    gateway: String,
    from: i64,
    original: Option<String>,
    port: String,
    listener_port: Option<String>,
    health_protocol: String,
    health_path: Option<String>,
    interval_seconds: String,
    healthy_threshold: String,
    unhealthy_threshold: String,
    deregistration_delay: String,
    instances: String,
) -> Result<(), AppError> {
    use crate::api::forms::{list, number, optional};
    use portico_core::model::topology::{BackendPort, HealthCheck, HealthProtocol};
    let original: Option<u32> = optional("Original port", original.as_deref())?;
    let value = BackendPort {
        port: number("Backend port", &port)?,
        listener_port: optional("Listener port", listener_port.as_deref())?,
        health_check: HealthCheck {
            protocol: if health_protocol == "HTTP" {
                HealthProtocol::Http
            } else {
                HealthProtocol::Tcp
            },
            path: health_path.filter(|p| !p.trim().is_empty() && health_protocol == "HTTP"),
            interval_seconds: number("Health-check interval", &interval_seconds)?,
            healthy_threshold: number("Healthy threshold", &healthy_threshold)?,
            unhealthy_threshold: number("Unhealthy threshold", &unhealthy_threshold)?,
        },
        deregistration_delay: number("Deregistration delay", &deregistration_delay)?,
        instances: list(&instances),
    };
    let key = format!("port {}", original.unwrap_or(value.port));
    apply(&gateway, from, &key, "port.save", move |t| {
        if let Some(old) = original.filter(|old| *old != value.port) {
            let users = t.users_of_port(old);
            if !users.is_empty() {
                return Err(AppError::Conflict(format!(
                    "Port {old} is used by {}; point them at another port before renumbering it.",
                    users.join(", ")
                )));
            }
        }
        put(
            &mut t.ports,
            |p| p.port,
            original,
            value,
            "Backend port",
            |k| format!("Backend port {k}"),
        )
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_port")]
pub async fn delete_port(gateway: String, from: i64, port: u32) -> Result<(), AppError> {
    apply(
        &gateway,
        from,
        &format!("port {port}"),
        "port.delete",
        move |t| {
            if t.port(port).is_none() {
                return Err(missing(&format!("Backend port {port}")));
            }
            let users = t.users_of_port(port);
            if !users.is_empty() {
                return Err(AppError::Conflict(format!(
                    "Port {port} is used by {}; nothing was deleted.",
                    users.join(", ")
                )));
            }
            t.ports.retain(|p| p.port != port);
            Ok(())
        },
    )
    .await
}

#[server(prefix = "/api", endpoint = "save_stage")]
pub async fn save_stage(
    gateway: String,
    from: i64,
    original: Option<String>,
    name: String,
    backend_port: String,
    throttle_rate: Option<String>,
    throttle_burst: Option<String>,
    cache_gb: Option<String>,
    variables: Option<String>,
    access_log: Option<String>,
    access_log_destination: Option<String>,
    access_log_format: Option<String>,
) -> Result<(), AppError> {
    use crate::api::forms::{number, pairs};
    use portico_core::model::topology::Stage;
    let original = original.filter(|o| !o.is_empty());
    let throttle =
        crate::api::forms::throttle(throttle_rate.as_deref(), throttle_burst.as_deref())?;
    let value = Stage {
        name: name.trim().to_owned(),
        backend_port: number("Backend port", &backend_port)?,
        throttle,
        cache_gb: cache_gb.filter(|c| !c.trim().is_empty()),
        variables: pairs(variables.as_deref().unwrap_or_default())?,
        access_log: crate::api::forms::access_log(
            access_log.as_deref(),
            access_log_destination.as_deref(),
            access_log_format.as_deref(),
        )?,
    };
    let key = format!("stage {}", original.as_deref().unwrap_or(&value.name));
    apply(&gateway, from, &key, "stage.save", move |t| {
        if let Some(old) = original.as_deref().filter(|old| *old != value.name) {
            let plans = t.plans_of_stage(old);
            if !plans.is_empty() {
                return Err(AppError::Conflict(format!(
                    "Stage {old} is covered by {}; rename it there first.",
                    plans.join(", ")
                )));
            }
        }
        put(
            &mut t.stages,
            |s| s.name.clone(),
            original,
            value,
            "Stage",
            |k| format!("A stage named {k:?}"),
        )
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_stage")]
pub async fn delete_stage(gateway: String, from: i64, name: String) -> Result<(), AppError> {
    apply(
        &gateway,
        from,
        &format!("stage {name}"),
        "stage.delete",
        move |t| {
            if t.stage(&name).is_none() {
                return Err(missing(&format!("Stage {name}")));
            }
            let plans = t.plans_of_stage(&name);
            if !plans.is_empty() {
                return Err(AppError::Conflict(format!(
                    "Stage {name} is covered by {}; nothing was deleted.",
                    plans.join(", ")
                )));
            }
            t.stages.retain(|s| s.name != name);
            Ok(())
        },
    )
    .await
}

#[server(prefix = "/api", endpoint = "save_route")]
pub async fn save_route(
    gateway: String,
    from: i64,
    original: Option<String>,
    path: String,
    methods: String,
    api_key_required: Option<String>,
    port: Option<String>,
    backend_path: Option<String>,
) -> Result<(), AppError> {
    use crate::api::forms::{list, optional};
    use portico_core::model::topology::Route;
    let original = original.filter(|o| !o.is_empty());
    let value = Route {
        path: path.trim().to_owned(),
        methods: list(&methods.to_ascii_uppercase()),
        api_key_required: api_key_required.is_some(),
        port: optional("Backend port", port.as_deref())?,
        backend_path,
    };
    let key = format!("route {}", original.as_deref().unwrap_or(&value.path));
    apply(&gateway, from, &key, "route.save", move |t| {
        put(
            &mut t.routes,
            |r| r.path.clone(),
            original,
            value,
            "Route",
            |k| format!("A route {k}"),
        )
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_route")]
pub async fn delete_route(gateway: String, from: i64, path: String) -> Result<(), AppError> {
    apply(
        &gateway,
        from,
        &format!("route {path}"),
        "route.delete",
        move |t| {
            if !t.routes.iter().any(|r| r.path == path) {
                return Err(missing(&format!("Route {path}")));
            }
            t.routes.retain(|r| r.path != path);
            Ok(())
        },
    )
    .await
}

#[server(prefix = "/api", endpoint = "save_usage_plan")]
pub async fn save_usage_plan(
    gateway: String,
    from: i64,
    original: Option<String>,
    name: String,
    throttle_rate: Option<String>,
    throttle_burst: Option<String>,
    quota_limit: Option<String>,
    quota_period: Option<String>,
    quota_offset: Option<String>,
    stages: Option<String>,
) -> Result<(), AppError> {
    use crate::api::forms::{list, optional};
    use portico_core::model::topology::{Quota, QuotaPeriod, UsagePlan};
    let original = original.filter(|o| !o.is_empty());
    let throttle =
        crate::api::forms::throttle(throttle_rate.as_deref(), throttle_burst.as_deref())?;
    let quota = match optional::<u32>("Quota limit", quota_limit.as_deref())? {
        None => None,
        Some(limit) => Some(Quota {
            limit,
            period: match quota_period.as_deref().unwrap_or("MONTH") {
                "DAY" => QuotaPeriod::Day,
                "WEEK" => QuotaPeriod::Week,
                "MONTH" => QuotaPeriod::Month,
                other => {
                    return Err(AppError::Invalid(format!(
                        "Quota period {other:?} is not DAY, WEEK or MONTH."
                    )))
                }
            },
            offset: optional("Quota offset", quota_offset.as_deref())?.unwrap_or(0),
        }),
    };
    let value = UsagePlan {
        name: name.trim().to_owned(),
        throttle,
        quota,
        stages: list(stages.as_deref().unwrap_or_default()),
    };
    let key = format!("usage plan {}", original.as_deref().unwrap_or(&value.name));
    apply(&gateway, from, &key, "usage_plan.save", move |t| {
        put(
            &mut t.usage_plans,
            |p| p.name.clone(),
            original,
            value,
            "Usage plan",
            |k| format!("A usage plan named {k:?}"),
        )
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_usage_plan")]
pub async fn delete_usage_plan(gateway: String, from: i64, name: String) -> Result<(), AppError> {
    apply(
        &gateway,
        from,
        &format!("usage plan {name}"),
        "usage_plan.delete",
        move |t| {
            if !t.usage_plans.iter().any(|p| p.name == name) {
                return Err(missing(&format!("Usage plan {name}")));
            }
            t.usage_plans.retain(|p| p.name != name);
            Ok(())
        },
    )
    .await
}

#[server(prefix = "/api", endpoint = "save_usage")]
pub async fn save_usage(
    gateway: String,
    from: i64,
    requests_per_month: String,
    average_response_kb: String,
    new_connections_per_second: String,
    active_connections: String,
) -> Result<(), AppError> {
    use crate::api::forms::number;
    use portico_core::model::topology::UsageAssumptions;
    let value = UsageAssumptions {
        requests_per_month: number("Requests per month", &requests_per_month)?,
        average_response_kb: number("Average response size", &average_response_kb)?,
        new_connections_per_second: number(
            "New connections per second",
            &new_connections_per_second,
        )?,
        active_connections: number("Active connections", &active_connections)?,
    };
    apply(
        &gateway,
        from,
        "usage assumptions",
        "usage.save",
        move |t| {
            t.usage = value;
            Ok(())
        },
    )
    .await
}

/// Region, network and modes (admins only: a change here replaces the NLB or the VPC link).
#[server(prefix = "/api", endpoint = "save_settings")]
pub async fn save_settings(
    gateway: String,
    from: i64,
    region: String,
    vpc_id: String,
    subnet_ids: String,
    endpoint_type: String,
    role_arn: Option<String>,
    apply_mode: String,
    drift_mode: String,
) -> Result<(), AppError> {
    use portico_core::model::topology::{ApplyMode, DriftMode, EndpointType};
    let (me, state) = crate::api::context::require(
        portico_core::model::Role::Admin,
        "change a gateway's settings",
    )
    .await?;
    let endpoint_type = match endpoint_type.as_str() {
        "REGIONAL" => EndpointType::Regional,
        "EDGE" => EndpointType::Edge,
        "PRIVATE" => EndpointType::Private,
        other => {
            return Err(AppError::Invalid(format!(
                "Endpoint type {other:?} is not REGIONAL, EDGE or PRIVATE."
            )))
        }
    };
    let apply_mode = if apply_mode == "approve" {
        ApplyMode::Approve
    } else {
        ApplyMode::Auto
    };
    let drift_mode = if drift_mode == "report" {
        DriftMode::Report
    } else {
        DriftMode::Correct
    };
    let subnets = crate::api::forms::list(&subnet_ids);
    let role_arn = role_arn
        .filter(|r| !r.trim().is_empty())
        .map(|r| r.trim().to_owned());
    let change = move |t: &mut portico_core::model::topology::Topology| {
        let g = &mut t.gateway;
        g.region = region.trim().to_owned();
        g.vpc_id = vpc_id.trim().to_owned();
        g.subnet_ids = subnets;
        g.endpoint_type = endpoint_type;
        g.role_arn = role_arn;
        g.apply_mode = apply_mode;
        g.drift_mode = drift_mode;
        Ok::<(), AppError>(())
    };
    crate::api::network::check_edit(&state, &gateway, change.clone()).await?;
    portico_store::gateways::edit(
        &state.store,
        &me.name,
        &gateway,
        from,
        "gateway",
        "gateway.settings",
        change,
    )
    .await?;
    state.wake_worker();
    leptos_axum::redirect(&format!(
        "/gateways/{}/topology",
        crate::api::forms::urlencode(&gateway)
    ));
    Ok(())
}
