//! `/admin/panels` (issue 19): every hosted child panel as the root admin sees it — owner,
//! hostnames, state (the provisioning step and its error while being set up), what it bought
//! here (orders and revenue through its renter) and its last order — with suspend, resume and
//! terminate as `data-api` forms on `/api/admin/panels/{id}/*`. Nothing opens a child's
//! inside: that takes the child's own credentials on its own hostname.

use std::collections::HashMap as Map;

use smmd_domain::billing::rental::SuspendReason;
use smmd_domain::panel::{PanelState, ProvisionStep};

use super::*;

pub(super) async fn panels_page(State(st): State<AppState>, AdminPage(u): AdminPage) -> Response {
    let (panels, activity) = match tokio::try_join!(st.store.panels(), st.store.panel_activity()) {
        Ok(v) => v,
        Err(e) => return page_error(e),
    };
    let activity: Map<i64, _> = activity.into_iter().map(|a| (a.panel_id, a)).collect();
    let mut owners = Map::new();
    for p in &panels {
        if let std::collections::hash_map::Entry::Vacant(slot) = owners.entry(p.owner_id) {
            let email = match st.store.user(p.owner_id).await {
                Ok(u) => u.map(|u| u.email).unwrap_or_default(),
                Err(e) => return page_error(e),
            };
            slot.insert(email);
        }
    }
    let cur = &st.config.panel.currency;
    let content = html! {
        div.card {
            div.card-head { h1 { (t("nav-panels")) } }
            p.muted { (t("adm-panels-intro")) }
            @if panels.is_empty() { p.empty { (t("adm-panels-none")) } } @else {
                table.admin #panels {
                    thead { tr { th { (t("panel-brand")) } th { (t("adm-user")) } th { (t("panel-hostnames")) } th { (t("state")) } th { (t("nav-orders")) } th { (t("adm-revenue")) } th { (t("adm-last-order")) } th { (t("adm-action")) } } }
                    tbody { @for p in &panels {
                        @let state = p.state();
                        @let a = activity.get(&p.id);
                        tr #(format!("panel-{}", p.id)) {
                            td data-label=(t("panel-brand")) { span { b { (p.name) } br; span.hint { "#" (p.id) " · " (p.currency) " · " (when(&st, p.created_at)) } } }
                            td data-label=(t("adm-user")) { a href=(format!("/admin/users/{}", p.owner_id.0)) { (owners.get(&p.owner_id).map(String::as_str).unwrap_or("?")) } }
                            td data-label=(t("panel-hostnames")) { span { @for (i, h) in p.hostnames.iter().enumerate() { @if i > 0 { br; } code { (h) } } } }
                            td data-label=(t("state")) { span {
                                (status_badge(state.as_str()))
                                @match state {
                                    PanelState::Provisioning { step } => { br; span.hint { (ta("panel-step", &[("n", (step.number() as i64).into()), ("total", (ProvisionStep::ALL.len() as i64).into())])) } }
                                    PanelState::Suspended { reason } => { br; span.hint { (status_label(reason.as_str())) } }
                                    PanelState::Terminated { remove_at } => { br; span.hint { (t("panel-removed-on")) " " (when(&st, remove_at)) } }
                                    _ => {}
                                }
                                @if let Some(e) = &p.error { br; span.hint.err { (e) } }
                            } }
                            td data-label=(t("nav-orders")) { (a.map_or(0, |a| a.orders)) }
                            td data-label=(t("adm-revenue")) { (a.map(|a| a.revenue).unwrap_or_default()) " " (cur) }
                            td data-label=(t("adm-last-order")) { @match a.and_then(|a| a.last_order_at) { Some(at) => { (when(&st, at)) } None => { "—" } } }
                            td data-label=(t("adm-action")) {
                                @if matches!(state, PanelState::Active | PanelState::Provisioning { .. }) {
                                    (api_form("POST", &format!("/api/admin/panels/{}/suspend", p.id), &t("adm-panel-suspended"), html! {
                                        (reason_field(&t("adm-why"))) button.small.secondary type="submit" { (t("adm-suspend")) }
                                    }))
                                }
                                @if state == (PanelState::Suspended { reason: SuspendReason::Admin }) {
                                    (api_form("POST", &format!("/api/admin/panels/{}/resume", p.id), &t("adm-panel-resumed"), html! {
                                        (reason_field(&t("adm-why"))) button.small type="submit" { (t("adm-resume")) }
                                    }))
                                }
                                @if !matches!(state, PanelState::Terminated { .. } | PanelState::Removed) {
                                    (api_form("POST", &format!("/api/admin/panels/{}/terminate", p.id), &t("adm-panel-terminated"), html! {
                                        (reason_field(&t("adm-why"))) button.small.danger type="submit" { (t("adm-terminate")) }
                                    }))
                                }
                            }
                        }
                    } }
                }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-panels"), "admin-panels", content),
    )
}

/// `GET /admin/archive`: this panel's [`smmd_app::panels::Archive`] as a JSON download — what a
/// terminated child's admin takes away before its data is removed (any panel's admin may take
/// one).
pub(super) async fn archive(State(st): State<AppState>, AdminPage(_u): AdminPage) -> Response {
    match smmd_app::panels::archive(st.app()).await {
        Ok(a) => {
            let name = st
                .config
                .panel
                .name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '-'
                    }
                })
                .collect::<String>();
            let disposition = format!("attachment; filename=\"{name}-archive.json\"");
            match serde_json::to_vec(&a) {
                Ok(body) => (
                    StatusCode::OK,
                    [
                        (
                            axum::http::header::CONTENT_TYPE,
                            "application/json".to_string(),
                        ),
                        (axum::http::header::CONTENT_DISPOSITION, disposition),
                    ],
                    body,
                )
                    .into_response(),
                Err(e) => page_error(e),
            }
        }
        Err(e) => page_error(e),
    }
}
