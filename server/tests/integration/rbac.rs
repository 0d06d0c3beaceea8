//! Every server function × every role and anonymous: viewers can't mutate, editors can't
//! manage users, anonymous callers must sign in. The matrix must name every registered server
//! function, so a new one cannot slip in unchecked.

use crate::common::TestApp;
use axum::http::StatusCode;
use portico_core::model::Role;
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug)]
enum Who {
    Anonymous,
    As(Role),
}

/// What each caller gets: `Ok` (2xx or a redirect), or the refusal status.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    Allowed,
    Refused(StatusCode),
}
use Expect::*;
const NEEDS_SIGN_IN: Expect = Refused(StatusCode::UNAUTHORIZED);
const FORBIDDEN: Expect = Refused(StatusCode::FORBIDDEN);

struct Case {
    name: &'static str,
    form: fn(&TestApp) -> Vec<(&'static str, String)>,
    /// anonymous, viewer, editor, admin
    expect: [Expect; 4],
}

fn no_args(_: &TestApp) -> Vec<(&'static str, String)> {
    vec![]
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "me",
            form: no_args,
            expect: [Allowed; 4],
        },
        Case {
            name: "needs_first_admin",
            form: no_args,
            expect: [Allowed; 4],
        },
        Case {
            name: "login",
            form: |app| {
                vec![
                    ("name", "target".into()),
                    ("password", app.password.clone()),
                ]
            },
            expect: [Allowed; 4],
        },
        Case {
            name: "logout",
            form: no_args,
            expect: [Allowed; 4],
        },
        Case {
            name: "list_audit",
            form: no_args,
            expect: [NEEDS_SIGN_IN, Allowed, Allowed, Allowed],
        },
        Case {
            name: "list_users",
            form: no_args,
            expect: [NEEDS_SIGN_IN, FORBIDDEN, FORBIDDEN, Allowed],
        },
        Case {
            name: "add_user",
            form: |app| {
                vec![
                    ("name", "newcomer".into()),
                    ("role", "admin".into()),
                    ("password", app.password.clone()),
                ]
            },
            expect: [NEEDS_SIGN_IN, FORBIDDEN, FORBIDDEN, Allowed],
        },
        Case {
            name: "set_user_role",
            form: |_| vec![("name", "target".into()), ("role", "admin".into())],
            expect: [NEEDS_SIGN_IN, FORBIDDEN, FORBIDDEN, Allowed],
        },
        Case {
            name: "set_user_disabled",
            form: |_| vec![("name", "target".into()), ("disabled", "true".into())],
            expect: [NEEDS_SIGN_IN, FORBIDDEN, FORBIDDEN, Allowed],
        },
        Case {
            name: "reset_password",
            form: |_| vec![("name", "target".into())],
            expect: ADMINS,
        },
        Case {
            name: "list_webhooks",
            form: no_args,
            expect: ADMINS,
        },
        Case {
            name: "create_webhook",
            form: |_| {
                vec![
                    ("url", "https://alerts.example.com/portico".into()),
                    ("scope", "seed".into()),
                    ("format", "json".into()),
                    ("secret", "s".repeat(portico_core::alerts::SECRET_MIN)),
                    ("ev_drift", "on".into()),
                ]
            },
            expect: ADMINS,
        },
        Case {
            // No such webhook: an admin gets as far as the store.
            name: "delete_webhook",
            form: |_| vec![("id", "999".into())],
            expect: [
                NEEDS_SIGN_IN,
                FORBIDDEN,
                FORBIDDEN,
                Refused(StatusCode::NOT_FOUND),
            ],
        },
        Case {
            name: "change_password",
            form: |app| {
                vec![
                    ("current", app.password.clone()),
                    ("new_password", "a-new-password-for-me".into()),
                ]
            },
            expect: READERS,
        },
        Case {
            name: "sign_out_everywhere",
            form: no_args,
            expect: READERS,
        },
        Case {
            name: "list_gateways",
            form: |_| vec![("page", "1".into())],
            expect: READERS,
        },
        Case {
            name: "get_gateway",
            form: |_| vec![("name", "seed".into())],
            expect: READERS,
        },
        Case {
            name: "gateway_prices",
            form: |_| vec![("name", "seed".into())],
            expect: READERS,
        },
        Case {
            name: "gateway_history",
            form: |_| vec![("name", "seed".into())],
            expect: READERS,
        },
        Case {
            name: "create_gateway",
            form: |_| {
                vec![
                    ("name", "other".into()),
                    ("region", "us-east-1".into()),
                    ("vpc_id", "vpc-0123456789abcdef0".into()),
                    ("subnet_ids", "subnet-0123456789abcdef0".into()),
                ]
            },
            expect: ADMINS,
        },
        Case {
            name: "save_settings",
            form: |_| {
                gw(&[
                    ("region", "ap-northeast-2"),
                    ("vpc_id", "vpc-0a1b2c3d4e5f60718"),
                    ("subnet_ids", "subnet-0a1b2c3d4e5f60719"),
                    ("endpoint_type", "REGIONAL"),
                    ("apply_mode", "approve"),
                    ("drift_mode", "report"),
                ])
            },
            expect: ADMINS,
        },
        Case {
            name: "save_port",
            form: |_| {
                gw(&[
                    ("port", "9090"),
                    ("health_protocol", "TCP"),
                    ("interval_seconds", "30"),
                    ("healthy_threshold", "3"),
                    ("unhealthy_threshold", "3"),
                    ("deregistration_delay", "30"),
                    ("instances", "i-0a1b2c3d4e5f6071b"),
                ])
            },
            expect: EDITORS,
        },
        Case {
            name: "delete_port",
            form: |_| gw(&[("port", "8080")]),
            expect: EDITORS_BUT_IN_USE,
        },
        Case {
            name: "save_stage",
            form: |_| gw(&[("name", "qa"), ("backend_port", "8080")]),
            expect: EDITORS,
        },
        Case {
            name: "delete_stage",
            form: |_| gw(&[("name", "dev")]),
            expect: EDITORS_BUT_IN_USE,
        },
        Case {
            name: "save_route",
            form: |_| {
                gw(&[
                    ("path", "/qa/{proxy+}"),
                    ("methods", "ANY"),
                    ("api_key_required", "on"),
                ])
            },
            expect: EDITORS,
        },
        Case {
            name: "delete_route",
            form: |_| gw(&[("path", "/dev/{proxy+}")]),
            expect: EDITORS,
        },
        Case {
            name: "save_usage_plan",
            form: |_| gw(&[("name", "gold"), ("stages", "dev")]),
            expect: EDITORS,
        },
        Case {
            name: "delete_usage_plan",
            form: |_| gw(&[("name", "standard")]),
            expect: EDITORS,
        },
        Case {
            name: "save_usage",
            form: |_| {
                gw(&[
                    ("requests_per_month", "5"),
                    ("average_response_kb", "1"),
                    ("new_connections_per_second", "1"),
                    ("active_connections", "1"),
                ])
            },
            expect: EDITORS,
        },
        Case {
            name: "delete_gateway",
            form: |_| vec![("name", "seed".into()), ("confirm", "seed".into())],
            expect: ADMINS,
        },
        // Adoption and the account's network need AWS: without it (these tests) an admin
        // is told so; everyone else is refused first.
        Case {
            name: "adoptable",
            form: |_| vec![("region", "ap-northeast-2".into())],
            expect: ADMINS_WITH_AWS,
        },
        Case {
            name: "inspect_adoption",
            form: |_| {
                vec![
                    ("region", "ap-northeast-2".into()),
                    ("rest_api", "a1b2c3d4e5".into()),
                    ("name", "orders".into()),
                ]
            },
            expect: ADMINS_WITH_AWS,
        },
        Case {
            name: "adopt_api",
            form: |_| {
                vec![
                    ("region", "ap-northeast-2".into()),
                    ("rest_api", "a1b2c3d4e5".into()),
                    ("name", "orders".into()),
                ]
            },
            expect: ADMINS_WITH_AWS,
        },
        Case {
            name: "region_network",
            form: |_| {
                vec![
                    ("gateway", "seed".into()),
                    ("region", "ap-northeast-2".into()),
                ]
            },
            expect: EDITORS,
        },
        // For a new gateway (no gateway's role to read as): admins.
        Case {
            name: "region_network",
            form: |_| vec![("region", "ap-northeast-2".into())],
            expect: ADMINS,
        },
        Case {
            name: "restore_generation",
            form: |_| gw(&[("generation", "1")]),
            expect: EDITORS,
        },
        Case {
            name: "upload_topology",
            form: |_| {
                vec![
                    ("gateway", "seed".into()),
                    (
                        "yaml",
                        include_str!("../../../examples/seed-topology.yaml").into(),
                    ),
                ]
            },
            expect: EDITORS,
        },
        // The same upload changing the gateway's own settings is an admin's, like
        // save_settings.
        Case {
            name: "upload_topology",
            form: |_| {
                let seed = include_str!("../../../examples/seed-topology.yaml");
                vec![
                    ("gateway", "seed".into()),
                    (
                        "yaml",
                        seed.replace("apply_mode: auto", "apply_mode: approve"),
                    ),
                ]
            },
            expect: ADMINS,
        },
        Case {
            name: "list_api_keys",
            form: |_| vec![("gateway", "seed".into())],
            expect: READERS,
        },
        Case {
            name: "issue_api_key",
            form: |_| {
                vec![
                    ("gateway", "seed".into()),
                    ("name", "new-key".into()),
                    ("owner", "team-b".into()),
                    ("usage_plans", "standard".into()),
                ]
            },
            expect: ADMINS,
        },
        Case {
            name: "rotate_api_key",
            form: |_| {
                vec![
                    ("gateway", "seed".into()),
                    ("key", "1".into()),
                    ("grace_hours", "24".into()),
                ]
            },
            expect: ADMINS,
        },
        Case {
            name: "revoke_api_key",
            form: |_| {
                vec![
                    ("gateway", "seed".into()),
                    ("key", "1".into()),
                    ("confirm", "yes".into()),
                ]
            },
            expect: ADMINS,
        },
        Case {
            // Allowed for admins: the key is not in AWS yet, so the answer is "creating".
            name: "reveal_api_key",
            form: |_| vec![("gateway", "seed".into()), ("key", "1".into())],
            expect: ADMINS,
        },
        Case {
            name: "gateway_health",
            form: |_| vec![("name", "seed".into()), ("window", "Month".into())],
            expect: READERS,
        },
        Case {
            name: "gateway_measured_cost",
            form: |_| vec![("name", "seed".into())],
            expect: READERS,
        },
        Case {
            name: "gateway_diagram",
            form: |_| vec![("name", "seed".into())],
            expect: READERS,
        },
        Case {
            name: "gateway_runs",
            form: |_| vec![("name", "seed".into())],
            expect: READERS,
        },
        Case {
            name: "approve_plan",
            form: |_| vec![("name", "seed".into()), ("plan", "1".into())],
            expect: ADMINS,
        },
        Case {
            name: "reconcile_now",
            form: |_| vec![("name", "seed".into())],
            expect: EDITORS,
        },
    ]
}

const READERS: [Expect; 4] = [NEEDS_SIGN_IN, Allowed, Allowed, Allowed];
const EDITORS: [Expect; 4] = [NEEDS_SIGN_IN, FORBIDDEN, Allowed, Allowed];
const ADMINS: [Expect; 4] = [NEEDS_SIGN_IN, FORBIDDEN, FORBIDDEN, Allowed];
/// Admins', and unavailable on a server without AWS.
const ADMINS_WITH_AWS: [Expect; 4] = [
    NEEDS_SIGN_IN,
    FORBIDDEN,
    FORBIDDEN,
    Refused(StatusCode::SERVICE_UNAVAILABLE),
];
/// Allowed by role, then refused by the rule that something still uses it.
const EDITORS_BUT_IN_USE: [Expect; 4] = [
    NEEDS_SIGN_IN,
    FORBIDDEN,
    Refused(StatusCode::CONFLICT),
    Refused(StatusCode::CONFLICT),
];

/// The seed gateway's name and generation, plus the form's own fields.
fn gw(fields: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut out = vec![("gateway", "seed".to_string()), ("from", "2".to_string())];
    out.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    out
}

#[test]
fn the_matrix_covers_every_server_function() {
    let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.trim_start_matches("/api/").to_owned())
        .collect();
    let covered: BTreeSet<String> = cases().iter().map(|c| c.name.to_owned()).collect();
    assert_eq!(
        registered, covered,
        "add the missing server functions to the RBAC matrix"
    );
}

// One test per role (a column of the matrix), so the four run side by side: each builds a
// fresh app per server function, users' password hashes included.
#[tokio::test]
async fn anonymous_gets_exactly_what_it_may() {
    every_case_as(0, Who::Anonymous).await;
}

#[tokio::test]
async fn a_viewer_gets_exactly_what_it_may() {
    every_case_as(1, Who::As(Role::Viewer)).await;
}

#[tokio::test]
async fn an_editor_gets_exactly_what_it_may() {
    every_case_as(2, Who::As(Role::Editor)).await;
}

#[tokio::test]
async fn an_admin_gets_exactly_what_it_may() {
    every_case_as(3, Who::As(Role::Admin)).await;
}

/// Every server function called as `who`, against column `i` of the matrix.
async fn every_case_as(i: usize, who: Who) {
    for case in cases() {
        {
            // A fresh app per call, so one call's effect never changes the next one's answer.
            let app = TestApp::new()
                .await
                .user("root", Role::Admin)
                .await
                .user("caller-viewer", Role::Viewer)
                .await
                .user("caller-editor", Role::Editor)
                .await
                .user("caller-admin", Role::Admin)
                .await
                .user("target", Role::Viewer)
                .await
                .seed_gateway()
                .await;
            let cookie = match who {
                Who::Anonymous => None,
                Who::As(role) => Some(app.login(&format!("caller-{role}")).await),
            };
            let users_before: Vec<(String, String, bool)> = portico_store::testing::query_as(
                "SELECT name, role, disabled FROM users ORDER BY name",
            )
            .fetch_all(app.db())
            .await
            .unwrap();
            let form = (case.form)(&app);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = app.call(case.name, cookie.as_deref(), &form).await;
            let got = if reply.status.is_success() || reply.status.is_redirection() {
                Allowed
            } else {
                Refused(reply.status)
            };
            assert_eq!(
                got, case.expect[i],
                "{} as {who:?}: {}",
                case.name, reply.body
            );
            if got != Allowed {
                let generation: i64 = portico_store::testing::query_scalar(
                    "SELECT generation FROM gateways WHERE name = 'seed'",
                )
                .fetch_one(app.db())
                .await
                .unwrap();
                assert_eq!(
                    generation, 2,
                    "{} as {who:?} made no new generation",
                    case.name
                );
                let users_after: Vec<(String, String, bool)> = portico_store::testing::query_as(
                    "SELECT name, role, disabled FROM users ORDER BY name",
                )
                .fetch_all(app.db())
                .await
                .unwrap();
                assert_eq!(
                    users_before, users_after,
                    "{} as {who:?} changed nothing",
                    case.name
                );
                let plans: Vec<(String, i64)> =
                    portico_store::testing::query_as("SELECT status, (SELECT nudged_at FROM gateways WHERE name = 'seed') FROM plans")
                        .fetch_all(app.db())
                        .await
                        .unwrap();
                assert_eq!(
                    plans,
                    vec![("awaiting_approval".to_string(), 0)],
                    "{} as {who:?} approved or nudged nothing",
                    case.name
                );
                let keys: Vec<String> = portico_store::testing::query_scalar(
                    "SELECT CAST(id AS TEXT) || ':' || COALESCE(CAST(revoked_at AS TEXT), '') \
                     || ':' || COALESCE(CAST(replaced_at AS TEXT), '') \
                     || ':' || COALESCE(CAST(revealed_at AS TEXT), '') FROM api_keys",
                )
                .fetch_all(app.db())
                .await
                .unwrap();
                assert_eq!(
                    keys,
                    vec!["1:::".to_string()],
                    "{} as {who:?} issued, rotated, revoked or revealed nothing",
                    case.name
                );
            }
        }
    }
}
