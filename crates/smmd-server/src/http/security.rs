//! REST for account security (issue 18): a password reset asked and used without a session
//! (`/api/auth/password-reset`, one answer whether or not the e-mail has an account), and the
//! owner's policy (`/api/admin/security`). Use cases: `smmd_app::security`. The step-up of
//! money and security routes reads the `X-2FA-Code` header ([`crate::auth::AuthUser::step_up`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use super::JsonBody;
use crate::auth::{AdminUser, ClientAddr};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/password-reset", post(request_password_reset))
        .route(
            "/api/auth/password-reset/confirm",
            post(confirm_password_reset),
        )
        .route(
            "/api/admin/security",
            get(security_policy).put(set_security_policy),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        request_password_reset,
        confirm_password_reset,
        security_policy,
        set_security_policy
    ),
    components(schemas(ResetRequest, ResetAccepted, ResetConfirm, ResetDone, PolicyDto))
)]
pub struct SecurityDoc;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    /// The e-mail of the account.
    email: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResetAccepted {
    /// Always `accepted`: the answer never says whether the e-mail has an account.
    status: &'static str,
}

/// Sends a password reset link (one hour, works once) to the e-mail if an account has it.
/// The same 202 whether or not it has; 422 `invalid_email`, 429 past the log-in limits of
/// the address, 409 `email_unavailable` on a panel without SMTP.
#[utoipa::path(post, path = "/api/auth/password-reset", tag = "account",
    request_body = ResetRequest,
    responses((status = 202, body = ResetAccepted),
        (status = 429, body = crate::error::ErrorBody, description = "Too many attempts from this address"),
        (status = 409, body = crate::error::ErrorBody, description = "E-mail is off on this panel (email_unavailable)")))]
async fn request_password_reset(
    State(st): State<AppState>,
    ClientAddr(client): ClientAddr,
    JsonBody(b): JsonBody<ResetRequest>,
) -> Result<(StatusCode, Json<ResetAccepted>), AppError> {
    if let Err(secs) = st.logins.check(client, &b.email) {
        return Err(AppError::new(
            ErrorCode::TooManyAttempts,
            format!("Too many attempts from this address: retry in {secs} s"),
        ));
    }
    smmd_app::security::request_password_reset(st.app(), st.mailer(), &b.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(ResetAccepted { status: "accepted" }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The token of the link (64 hex digits).
    token: String,
    /// The new password (8 to 1024 characters).
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ResetDone {
    /// Always `reset`: every session of the account has ended.
    status: &'static str,
}

/// Sets a new password with a reset link's token; every session of the account ends.
/// 422 `invalid_token` (unknown, used or expired), `weak_password`.
#[utoipa::path(post, path = "/api/auth/password-reset/confirm", tag = "account",
    request_body = ResetConfirm, responses((status = 200, body = ResetDone)))]
async fn confirm_password_reset(
    State(st): State<AppState>,
    JsonBody(b): JsonBody<ResetConfirm>,
) -> Result<Json<ResetDone>, AppError> {
    smmd_app::security::reset_password(st.app(), &b.token, &b.password).await?;
    Ok(Json(ResetDone { status: "reset" }))
}

/// The owner's account-security policy.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDto {
    /// Admins must have two-factor on to use admin pages and routes.
    admin_two_factor: bool,
    /// New sign-ups confirm their e-mail (a link) before they can log in.
    confirm_email: bool,
}

fn policy_dto(p: smmd_app::security::Policy) -> PolicyDto {
    PolicyDto {
        admin_two_factor: p.admin_two_factor,
        confirm_email: p.confirm_email,
    }
}

/// The security policy.
#[utoipa::path(get, path = "/api/admin/security", tag = "admin",
    responses((status = 200, body = PolicyDto)))]
async fn security_policy(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<PolicyDto>, AppError> {
    Ok(Json(policy_dto(
        smmd_app::security::policy(st.app()).await?,
    )))
}

/// Sets the security policy (audited as `security.policy`). Requiring two-factor of admins
/// needs the caller to have it on: 403 `two_factor_required` otherwise.
#[utoipa::path(put, path = "/api/admin/security", tag = "admin",
    request_body = PolicyDto, responses((status = 200, body = PolicyDto)))]
async fn set_security_policy(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(b): JsonBody<PolicyDto>,
) -> Result<Json<PolicyDto>, AppError> {
    let p = smmd_app::security::set_policy(
        st.app(),
        &AppState::actor(&admin),
        Some(&admin),
        smmd_app::security::Policy {
            admin_two_factor: b.admin_two_factor,
            confirm_email: b.confirm_email,
        },
    )
    .await?;
    st.policy.invalidate();
    Ok(Json(policy_dto(p)))
}
