//! REST for the owner's alert channels (issue 18): which admin alerts also go to a Telegram
//! chat and a Discord channel, the secrets to reach them (write-only: never answered back), a
//! test message sent at once, and the newest messages of the outbox with their errors. Use
//! cases: `smmd_app::alert_channels`. Saving a secret is a security action: it takes the
//! step-up code (`X-2FA-Code`) from accounts with two-factor on.

use axum::extract::State;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_app::alert_channels::{ChannelInput, ChannelView};
use smmd_domain::alert::{AlertChannel, AlertKind};
use utoipa::{OpenApi, ToSchema};

use super::notifications::DeliveryDto;
use super::{ApiPath, JsonBody};
use crate::auth::{AdminAuth, AdminUser};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/alert-channels", get(alert_channels))
        .route(
            "/api/admin/alert-channels/{channel}",
            put(save_alert_channel).delete(remove_alert_channel),
        )
        .route(
            "/api/admin/alert-channels/{channel}/test",
            post(test_alert_channel),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        alert_channels,
        save_alert_channel,
        remove_alert_channel,
        test_alert_channel
    ),
    components(schemas(
        AlertChannelsDto,
        AlertChannelDto,
        AlertKindDto,
        AlertChannelBody,
        ChannelTested
    ))
)]
pub struct AlertChannelsDoc;

/// One channel; the secret is never answered.
#[derive(Serialize, ToSchema)]
pub struct AlertChannelDto {
    /// `telegram` or `discord`.
    channel: &'static str,
    /// Whether a secret is saved, so the channel sends.
    configured: bool,
    /// The Telegram chat id; empty for Discord or when not set up.
    chat_id: String,
    /// The alert kinds sent there.
    kinds: Vec<&'static str>,
    /// Epoch ms of the last save; null when not set up.
    updated_at: Option<i64>,
}

/// An alert kind the panel raises.
#[derive(Serialize, ToSchema)]
pub struct AlertKindDto {
    /// Stored text, as in `kinds`: `job_failed`, `provider_balance_low`, …
    kind: &'static str,
    title: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct AlertChannelsDto {
    /// Telegram then Discord, set up or not.
    channels: Vec<AlertChannelDto>,
    /// Every alert kind, for choosing.
    kinds: Vec<AlertKindDto>,
    /// The newest messages sent or waiting, with their last error.
    recent: Vec<DeliveryDto>,
}

pub(crate) fn channel_dto(v: &ChannelView) -> AlertChannelDto {
    AlertChannelDto {
        channel: v.channel.as_str(),
        configured: v.configured,
        chat_id: v.chat_id.clone(),
        kinds: v.kinds.iter().map(|k| k.as_str()).collect(),
        updated_at: v.updated_at,
    }
}

/// The channel named in the path: `telegram` or `discord`, else 404.
fn channel(text: &str) -> Result<AlertChannel, AppError> {
    AlertChannel::parse(text).ok_or_else(|| AppError::not_found("Alert channel"))
}

/// The owner's alert channels, the alert kinds and the newest channel messages.
#[utoipa::path(get, path = "/api/admin/alert-channels", tag = "admin",
    responses((status = 200, body = AlertChannelsDto)))]
async fn alert_channels(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<AlertChannelsDto>, AppError> {
    let channels = smmd_app::alert_channels::channels(st.app()).await?;
    let recent = smmd_app::alert_channels::recent_messages(st.app()).await?;
    Ok(Json(AlertChannelsDto {
        channels: channels.iter().map(channel_dto).collect(),
        kinds: AlertKind::ALL
            .iter()
            .map(|k| AlertKindDto {
                kind: k.as_str(),
                title: k.title(),
            })
            .collect(),
        recent: recent.into_iter().map(DeliveryDto::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertChannelBody {
    /// Telegram: the bot token from @BotFather (`123456789:AA…`); Discord: the channel's webhook
    /// address (`https://discord.com/api/webhooks/<id>/<token>`). Empty or absent keeps the saved
    /// one (required the first time).
    #[schema(max_length = 500)]
    secret: Option<String>,
    /// Telegram only: the chat (`-1001234567890` or `@channel_name`).
    #[schema(max_length = 500)]
    chat_id: Option<String>,
    /// The alert kinds to send there (see `kinds` of the GET); empty sends none.
    kinds: Vec<String>,
}

/// Sets up or changes a channel (audited as `alerts.channel`; the secret is sealed and never
/// answered). 422 `invalid_alert_channel`; 404 for another channel name.
#[utoipa::path(put, path = "/api/admin/alert-channels/{channel}", tag = "admin",
    operation_id = "save_alert_channel",
    params(("channel" = String, Path, description = "`telegram` or `discord`")),
    request_body = AlertChannelBody, responses((status = 200, body = AlertChannelDto)))]
async fn save_alert_channel(
    State(st): State<AppState>,
    AdminAuth(auth): AdminAuth,
    headers: axum::http::HeaderMap,
    ApiPath(name): ApiPath<String>,
    JsonBody(b): JsonBody<AlertChannelBody>,
) -> Result<Json<AlertChannelDto>, AppError> {
    let channel = channel(&name)?;
    auth.step_up(&st, crate::auth::code_header(&headers))
        .await?;
    let secret = st.secret_key()?;
    let view = smmd_app::alert_channels::save_channel(
        st.app(),
        &AppState::actor(&auth.user),
        &secret,
        channel,
        &ChannelInput {
            secret: b.secret.unwrap_or_default(),
            chat_id: b.chat_id.unwrap_or_default(),
            kinds: b.kinds,
        },
    )
    .await?;
    Ok(Json(channel_dto(&view)))
}

/// Removes a channel and its secret (audited as `alerts.channel_remove`); messages still
/// waiting for it then fail. 404 when it is not set up.
#[utoipa::path(delete, path = "/api/admin/alert-channels/{channel}", tag = "admin",
    params(("channel" = String, Path, description = "`telegram` or `discord`")),
    responses((status = 204, description = "Removed")))]
async fn remove_alert_channel(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(name): ApiPath<String>,
) -> Result<axum::http::StatusCode, AppError> {
    let channel = channel(&name)?;
    smmd_app::alert_channels::remove_channel(st.app(), &AppState::actor(&admin), channel).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct ChannelTested {
    /// Always `sent`: the service took the test message.
    status: &'static str,
}

/// Sends a test message to the channel now (not through the outbox), waiting at most the
/// notification timeout. 404 when it is not set up; 422 `alert_channel_failed` with what
/// Telegram or Discord answered.
#[utoipa::path(post, path = "/api/admin/alert-channels/{channel}/test", tag = "admin",
    params(("channel" = String, Path, description = "`telegram` or `discord`")),
    responses((status = 200, body = ChannelTested)))]
async fn test_alert_channel(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<ChannelTested>, AppError> {
    let channel = channel(&name)?;
    smmd_app::alert_channels::test_channel(st.app(), &st.notifier()?, channel).await?;
    Ok(Json(ChannelTested { status: "sent" }))
}
