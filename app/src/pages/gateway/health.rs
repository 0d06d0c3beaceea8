//! Health: the gateway's level with the reason in words, each part, and a timeline per resource
//! over the last 24 hours, and the traffic over the last hour, day or 30 days (plain SVG drawn on
//! the server, the traffic charts as images: works without JavaScript, prints, has titles).

use crate::api::health::{HealthView, TrafficWindow};
use crate::components::error::LoadError;
use crate::error::AppError;
use leptos::prelude::*;

fn colour(level: portico_core::health::Level) -> &'static str {
    match level {
        portico_core::health::Level::Healthy => "#1a7f37",
        portico_core::health::Level::Pending => "#2754c5",
        portico_core::health::Level::Degraded => "#9a6700",
        portico_core::health::Level::Unknown => "#6e7781",
        portico_core::health::Level::Unhealthy => "#c62828",
    }
}

#[component]
pub fn HealthSection(
    data: Resource<Result<HealthView, AppError>>,
    /// The tab's URL, for the traffic window's links.
    here: String,
) -> impl IntoView {
    view! {
        <section class="card" id="health" aria-labelledby="health-title">
            <h2 id="health-title">"Health"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || {
                    let here = here.clone();
                    Suspend::new(async move {
                    match data.await {
                        Err(err) => view! { <LoadError err/> }.into_any(),
                        Ok(view) => view! { <HealthBody view here/> }.into_any(),
                    }
                })}}
            </Transition>
        </section>
    }
}

#[component]
fn HealthBody(view: HealthView, here: String) -> impl IntoView {
    let window = view.window;
    let Some(health) = view.health.clone() else {
        return view! { <p class="empty">"The worker has not read this gateway's health yet."</p> }
            .into_any();
    };
    let (words, tone) = health.level.words();
    let at = view.at.clone().unwrap_or_default();
    let (from, to) = (view.from, view.to.max(view.from + 1));
    let (label_w, bar_w, row_h) = (230.0_f64, 520.0_f64, 22.0_f64);
    let height = row_h * view.tracks.len() as f64 + 24.0;
    let x = move |t: i64| label_w + bar_w * ((t - from) as f64 / (to - from) as f64);
    view! {
        <p class="status-line" data-health=format!("{:?}", health.level)>
            <span class=format!("pill {tone}")>{words}</span>" "{health.reason.clone()}
            " " <span class="muted small">{format!("Read {at} UTC.")}</span>
        </p>
        <details class="health-parts">
            <summary>{format!("Parts ({})", health.parts.len())}</summary>
            <table class="table">
                <thead><tr><th scope="col">"Part"</th><th scope="col">"State"</th><th scope="col">"In AWS's words"</th></tr></thead>
                <tbody>
                    {health.parts.iter().map(|p| {
                        let (w, t) = p.level.words();
                        view! {
                            <tr data-part=p.resource.clone()>
                                <td>{p.resource.clone()}</td>
                                <td><span class=format!("pill {t}")>{w}</span></td>
                                <td class="small">{p.reason.clone()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </details>
        <figure class="chart">
            <svg role="img" aria-labelledby="timeline-title" width="100%" viewBox=format!("0 0 {} {height}", label_w + bar_w + 10.0)
                xmlns="http://www.w3.org/2000/svg" class="timeline">
                <title id="timeline-title">"Health of each part over the last 24 hours"</title>
                {view.tracks.iter().enumerate().map(|(i, track)| {
                    let y = row_h * i as f64;
                    view! {
                        <g>
                            <text x="0" y={y + 15.0} font-size="12" fill="currentColor">{track.resource.clone()}</text>
                            {track.segments.iter().map(|s| {
                                let (x0, x1) = (x(s.from), x(s.to));
                                let (w, _) = s.level.words();
                                view! {
                                    <rect x=x0 y={y + 4.0} width={(x1 - x0).max(1.0)} height={row_h - 8.0} fill=colour(s.level)>
                                        <title>{format!("{}: {w} — {}", track.resource, s.reason)}</title>
                                    </rect>
                                }
                            }).collect_view()}
                        </g>
                    }
                }).collect_view()}
                <text x=label_w y={height - 4.0} font-size="11" fill="currentColor">"24 h ago"</text>
                <text x={label_w + bar_w} y={height - 4.0} font-size="11" fill="currentColor" text-anchor="end">"now"</text>
            </svg>
            <figcaption class="muted small">"Green healthy, blue pending, amber degraded, red unhealthy; hover a bar for AWS's words."</figcaption>
        </figure>
        <h3 id="traffic-title">{format!("Traffic, {}", window.words())}</h3>
        <nav class="windows" aria-label="Traffic window">
            {TrafficWindow::ALL.into_iter().map(|w| {
                let href = format!("{here}?traffic={}#traffic-title", w.param());
                view! {
                    <a href=href aria-current=(w == window).then_some("true")>{w.words()}</a>
                }
            }).collect_view()}
        </nav>
        {(window == TrafficWindow::Hour).then(|| view! {
            <p class="muted small">"The load balancer's and the backend ports' charts are in hourly points: see them over the last 24 hours or 30 days."</p>
        })}
        {view.traffic_error.clone().map(|e| view! {
            <p class="alert warn">"CloudWatch could not be read at the last try: "{e}</p>
        })}
        <div class="traffic" aria-labelledby="traffic-title">
            {view.traffic.iter().map(|c| view! {
                <figure class="chart" data-subject=c.subject.clone()>
                    <figcaption class="small">{c.title.clone()}</figcaption>
                    <img src=c.src.clone() alt=c.title.clone() loading="lazy"
                        width=portico_core::chart::WIDTH height=portico_core::chart::HEIGHT/>
                </figure>
            }).collect_view()}
        </div>
    }
    .into_any()
}
