//! REST for hosted child panels (issue 19, `docs/child-panels.md`): a root user rents one
//! and follows its provisioning; the root admin lists every child and suspends, resumes or
//! terminates one (through its rental). Nothing here opens anything inside a child: that
//! takes the child's own credentials on the child's own hostname. Use cases:
//! `smmd_app::panels`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_domain::panel::{PanelState, ProvisionStep};
use smmd_store::PanelRecord;
use utoipa::{OpenApi, ToSchema};

use super::{ApiPath, JsonBody};
use crate::auth::{AdminUser, AuthUser};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/panels", get(my_panels).post(rent))
        .route("/api/admin/panels", get(all_panels))
        .route("/api/admin/panels/{id}/{action}", post(admin_action))
}

#[derive(OpenApi)]
#[openapi(
    paths(my_panels, rent, all_panels, admin_action),
    components(schemas(PanelDto, RentPanelBody, PanelActionBody))
)]
pub struct PanelsDoc;

/// A child panel as its renter and the root admin see it (never its admin's password hash or
/// its key).
#[derive(Serialize, ToSchema)]
pub struct PanelDto {
    id: i64,
    /// The renter's account on this (the root) panel.
    owner_id: i64,
    rental_id: i64,
    /// Its hostnames, the main one first.
    hostnames: Vec<String>,
    /// Its brand name.
    name: String,
    /// Its money's currency.
    currency: String,
    /// The renter's default markup on this panel's prices, basis points.
    markup_bp: i64,
    /// `provisioning`, `active`, `suspended`, `terminated` or `removed`.
    state: String,
    /// While provisioning: the step that runs next (`storage`, `admin`, `api_key`,
    /// `provider`, `catalog`, `start`), its number and how many there are.
    step: Option<String>,
    step_number: Option<usize>,
    steps_total: usize,
    /// The failure of the step that runs next; it is retried.
    error: Option<String>,
    /// When suspended: `non_payment` or `admin`.
    suspended_for: Option<String>,
    /// When terminated: when its data is removed (epoch ms).
    remove_at: Option<i64>,
    /// The child admin's e-mail.
    admin_email: String,
    /// Epoch ms.
    created_at: i64,
}

fn dto(p: PanelRecord) -> PanelDto {
    let state = p.state();
    let (step, suspended_for, remove_at) = match state {
        PanelState::Provisioning { step } => (Some(step), None, None),
        PanelState::Suspended { reason } => (None, Some(reason.as_str().to_string()), None),
        PanelState::Terminated { remove_at } => (None, None, Some(remove_at)),
        _ => (None, None, None),
    };
    PanelDto {
        id: p.id,
        owner_id: p.owner_id.0,
        rental_id: p.rental_id,
        hostnames: p.hostnames,
        name: p.name,
        currency: p.currency,
        markup_bp: p.markup_bp,
        state: state.as_str().to_string(),
        step: step.map(|s| s.as_str().to_string()),
        step_number: step.map(ProvisionStep::number),
        steps_total: ProvisionStep::ALL.len(),
        error: p.error,
        suspended_for,
        remove_at,
        admin_email: p.admin_email,
        created_at: p.created_at,
    }
}

/// The caller's child panels, newest first.
#[utoipa::path(get, path = "/api/panels", tag = "panels",
    responses((status = 200, body = [PanelDto])))]
async fn my_panels(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<Vec<PanelDto>>, AppError> {
    let panels = st.store.panels_of(user.id).await?;
    Ok(Json(panels.into_iter().map(dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RentPanelBody {
    /// A plan whose entitlement is `child_panel`.
    plan_id: i64,
    /// 1 to 5 hostnames separated by commas or spaces, the main one first.
    #[schema(max_length = 1300)]
    hostnames: String,
    /// Brand name, 1 to 80 characters.
    #[schema(max_length = 320)]
    name: String,
    /// ISO 4217; empty or absent: this panel's currency.
    #[schema(max_length = 3)]
    currency: Option<String>,
    /// The child admin's log-in e-mail.
    #[schema(max_length = 254)]
    admin_email: String,
    /// The child admin's password, 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024)]
    admin_password: String,
    /// Default markup on this panel's prices, basis points (0 to 100000); absent: 5000.
    #[schema(minimum = 0, maximum = 100000)]
    markup_bp: Option<i64>,
}

/// Rents a child panel: the plan's setup fee and first hour are paid from the caller's
/// balance and provisioning starts (follow it with `GET /api/panels`). 422 `invalid_panel`,
/// 409 `hostname_taken`, 402/409 as renting a plan.
#[utoipa::path(post, path = "/api/panels", tag = "panels",
    request_body = RentPanelBody, responses((status = 201, body = PanelDto)))]
async fn rent(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(b): JsonBody<RentPanelBody>,
) -> Result<(StatusCode, Json<PanelDto>), AppError> {
    let (root_currency, reserved) = st.rent_terms();
    let input = smmd_app::panels::RentInput {
        plan_id: b.plan_id,
        hostnames: b.hostnames,
        name: b.name,
        currency: b.currency.unwrap_or_default(),
        admin_email: b.admin_email,
        admin_password: b.admin_password,
        markup_bp: b.markup_bp,
    };
    let terms = smmd_app::panels::RentTerms {
        root_currency: &root_currency,
        reserved: &reserved,
    };
    let p = smmd_app::panels::rent(st.app(), terms, user.id, &input).await?;
    st.registry_wake.notify_one();
    Ok((StatusCode::CREATED, Json(dto(p))))
}

/// Every child panel of this deployment, oldest first.
#[utoipa::path(get, path = "/api/admin/panels", tag = "admin",
    responses((status = 200, body = [PanelDto])))]
async fn all_panels(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Vec<PanelDto>>, AppError> {
    let panels = st.store.panels().await?;
    Ok(Json(panels.into_iter().map(dto).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PanelActionBody {
    /// Why (audited), 1 to 500 characters.
    #[schema(max_length = 2000)]
    reason: String,
}

/// `suspend` (customers see "temporarily unavailable", the child's orders are refused here),
/// `resume` (lifts an admin suspension) or `terminate` (the child stops serving; its data is
/// kept `retain_days`). 404 `not_found`, 409 `invalid_rental_action`, 422 `reason_required`.
#[utoipa::path(post, path = "/api/admin/panels/{id}/{action}", tag = "admin",
    params(("id" = i64, Path), ("action" = String, Path, description = "suspend, resume or terminate")),
    request_body = PanelActionBody, responses((status = 200, body = PanelDto)))]
async fn admin_action(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath((id, action)): ApiPath<(i64, String)>,
    JsonBody(b): JsonBody<PanelActionBody>,
) -> Result<Json<PanelDto>, AppError> {
    use smmd_app::panels::PanelAction;
    let action = match action.as_str() {
        "suspend" => PanelAction::Suspend,
        "resume" => PanelAction::Resume,
        "terminate" => PanelAction::Terminate,
        _ => return Err(AppError::not_found("Panel action")),
    };
    let p =
        smmd_app::panels::admin_action(st.app(), &AppState::actor(&admin), id, action, &b.reason)
            .await?;
    st.registry_wake.notify_one();
    Ok(Json(dto(p)))
}
