//! What the account holds, offered where a form takes AWS ids: the region's VPCs (a datalist),
//! and its subnets and instances as a list to pick from — each a button that adds the id to
//! the field (with JavaScript), and readable text without it. The save checks the ids anyway
//! (`crate::api::network::check`).

use crate::api::network::region_network;
use leptos::prelude::*;
use portico_core::account::Network;

/// Reads the region's network once `region` looks like one: as gateway `gateway`'s role, or
/// (None) for a new gateway.
pub fn network_of(
    gateway: Option<String>,
    region: impl Fn() -> String + Send + Sync + 'static,
) -> Resource<Option<Network>> {
    Resource::new(region, move |region| {
        let gateway = gateway.clone();
        async move {
            if portico_core::model::rules::region(region.trim()).is_err() {
                return None;
            }
            region_network(gateway, region).await.ok().flatten()
        }
    })
}

/// Adds `id` to a comma-separated list, once.
fn add(list: &str, id: &str) -> String {
    let mut ids = crate::api::forms::list(list);
    if !ids.iter().any(|i| i == id) {
        ids.push(id.to_owned());
    }
    ids.join(", ")
}

/// `(id, what it is)` to pick from, each adding its id to `value`.
#[component]
pub fn Picker(
    /// "Instances in vpc-…", say.
    title: String,
    choices: Vec<(String, String)>,
    value: RwSignal<String>,
) -> impl IntoView {
    if choices.is_empty() {
        return view! { <p class="muted small wide">{format!("{title}: none.")}</p> }.into_any();
    }
    view! {
        <div class="picker wide" role="group" aria-label=title.clone()>
            <span class="muted small">{format!("{title} (pick to add):")}</span>
            <ul>
                {choices.into_iter().map(|(id, what)| {
                    let pick = id.clone();
                    view! {
                        <li>
                            <button type="button" class="small" data-pick=id.clone()
                                on:click=move |_| value.update(|v| *v = add(v, &pick))>
                                <span class="mono">{id.clone()}</span>
                            </button>
                            <span class="muted small">{format!(" {what}")}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
    .into_any()
}

/// The region's VPCs, for an input with `list="vpc-choices"`.
#[component]
pub fn VpcChoices(network: Option<Network>) -> impl IntoView {
    view! {
        <datalist id="vpc-choices">
            {network.into_iter().flat_map(|n| n.vpcs).map(|v| view! {
                <option value=v.id.clone()>{format!("{} {}", v.name, v.cidr).trim().to_owned()}</option>
            }).collect_view()}
        </datalist>
    }
}

fn joined(parts: &[&str]) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" · ")
}

pub fn subnet_choices(n: &Network, vpc: &str) -> Vec<(String, String)> {
    n.subnets_of(vpc)
        .map(|s| (s.id.clone(), joined(&[&s.zone, &s.name, &s.cidr])))
        .collect()
}

pub fn instance_choices(n: &Network, vpc: &str) -> Vec<(String, String)> {
    n.instances_of(vpc)
        .map(|i| (i.id.clone(), joined(&[&i.name, &i.state, &i.private_ip])))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn picking_adds_an_id_once() {
        assert_eq!(super::add("", "i-1"), "i-1");
        assert_eq!(super::add("i-1", "i-2"), "i-1, i-2");
        assert_eq!(super::add("i-1, i-2", "i-1"), "i-1, i-2");
    }
}
