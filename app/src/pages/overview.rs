//! The overview: every gateway with its health and monthly cost, or, for a new installation,
//! what to do next.

use crate::auth::CurrentUser;
use crate::model::Role;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let user = expect_context::<CurrentUser>();
    view! {
        <Title text="Overview"/>
        <h1>"Overview"</h1>
        <section class="empty-state" aria-labelledby="empty-title">
            <h2 id="empty-title">"No gateways yet"</h2>
            <p>
                "Portico keeps an API Gateway REST API, its VPC link and one shared internal \
                 Network Load Balancer in the shape your team describes: stages, backend ports, \
                 routes, usage plans and API keys."
            </p>
            <ol class="next-steps">
                {(user.role == Role::Admin).then(|| view! {
                    <li>
                        "Invite your team on the " <a href="/admin">"Admin"</a> " page: editors \
                         change the topology, viewers review it."
                    </li>
                })}
                <li>
                    "Point Portico at your AWS account: it uses the standard credential chain \
                     (environment, profile, SSO or an assumed role), see the README."
                </li>
                <li>"Describe your first gateway: its region, VPC, subnets and backend ports."</li>
            </ol>
        </section>
    }
}
