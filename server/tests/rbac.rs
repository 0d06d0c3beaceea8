//! Every server function × every role and anonymous: viewers can't mutate, editors can't
//! manage users, anonymous callers must sign in. The matrix must name every registered server
//! function, so a new one cannot slip in unchecked.

#[allow(dead_code, reason = "each test binary uses its own part of the helpers")]
mod common;

use app::model::Role;
use axum::http::StatusCode;
use common::TestApp;
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
    ]
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

#[tokio::test]
async fn every_role_gets_exactly_what_it_may() {
    for case in cases() {
        for (i, who) in [
            Who::Anonymous,
            Who::As(Role::Viewer),
            Who::As(Role::Editor),
            Who::As(Role::Admin),
        ]
        .into_iter()
        .enumerate()
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
                .await;
            let cookie = match who {
                Who::Anonymous => None,
                Who::As(role) => Some(app.login(&format!("caller-{role}")).await),
            };
            let users_before: Vec<(String, String, bool)> =
                sqlx::query_as("SELECT name, role, disabled FROM users ORDER BY name")
                    .fetch_all(&app.pool)
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
                let users_after: Vec<(String, String, bool)> =
                    sqlx::query_as("SELECT name, role, disabled FROM users ORDER BY name")
                        .fetch_all(&app.pool)
                        .await
                        .unwrap();
                assert_eq!(
                    users_before, users_after,
                    "{} as {who:?} changed nothing",
                    case.name
                );
            }
        }
    }
}
