//! REST for a user's notifications (session cookie or Bearer key): the in-app list with the
//! unread count, marking read, the e-mail and webhook settings (with the webhook signing
//! secret), and the recent e-mail and webhook deliveries with their outcome.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_store::{DeliveryRecord, Notification, NotificationSettings};
use utoipa::{OpenApi, ToSchema};

use super::api::Page;
use super::{clamp_limit, ApiQuery, JsonBody};
use crate::auth::AuthUser;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/account/notifications", get(list_notifications))
        .route(
            "/api/account/notifications/read",
            post(mark_notifications_read),
        )
        .route(
            "/api/account/notification-settings",
            get(notification_settings).put(update_notification_settings),
        )
        .route(
            "/api/account/notification-settings/webhook-secret",
            post(rotate_webhook_secret),
        )
        .route("/api/account/deliveries", get(list_deliveries))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_notifications,
        mark_notifications_read,
        notification_settings,
        update_notification_settings,
        rotate_webhook_secret,
        list_deliveries
    ),
    components(schemas(
        NotificationDto,
        NotificationPage,
        ReadBody,
        ReadDto,
        SettingsDto,
        SettingsBody,
        DeliveryDto
    ))
)]
pub struct NotificationsDoc;

/// An in-app notification.
#[derive(Serialize, ToSchema)]
pub struct NotificationDto {
    id: i64,
    /// `order.completed`, `order.partial`, `order.canceled`, `refill.completed`,
    /// `refill.rejected`, or `alert.<kind>` for admins.
    kind: String,
    title: String,
    body: String,
    /// The order it is about (API v2 id).
    order_id: Option<i64>,
    /// Epoch ms.
    created_at: i64,
    /// Epoch ms; absent while unread.
    read_at: Option<i64>,
}

impl From<Notification> for NotificationDto {
    fn from(n: Notification) -> Self {
        NotificationDto {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            order_id: n.order_id.map(|o| o.0),
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationPage {
    items: Vec<NotificationDto>,
    /// Unread notifications in all.
    unread: i64,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<i64>,
}

#[derive(Deserialize, ToSchema)]
pub struct ReadBody {
    /// Marks every notification with an id up to this one read.
    up_to: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ReadDto {
    /// How many were unread and are now read.
    marked: u64,
    unread: i64,
}

/// Notification preferences.
#[derive(Serialize, ToSchema)]
pub struct SettingsDto {
    /// E-mail when an order completes, ends partial or canceled, or a refill finishes.
    email: bool,
    /// Where the same events are POSTed as signed webhooks.
    webhook_url: Option<String>,
    /// The HMAC-SHA256 key of `X-Smmd-Signature` (`sha256=` + hex of HMAC over
    /// `"{X-Smmd-Timestamp}.{body}"`); present while a URL is set.
    webhook_secret: Option<String>,
}

impl From<NotificationSettings> for SettingsDto {
    fn from(s: NotificationSettings) -> Self {
        SettingsDto {
            email: s.email,
            webhook_url: s.webhook_url,
            webhook_secret: s.webhook_secret,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct SettingsBody {
    email: bool,
    /// `https://…` (or `http://…`); null or empty removes the webhook (and its secret).
    webhook_url: Option<String>,
}

/// An e-mail or webhook delivery of one of the caller's notifications.
#[derive(Serialize, ToSchema)]
pub struct DeliveryDto {
    id: i64,
    notification_id: i64,
    /// `email`, `webhook`, or the owner's `telegram` or `discord`.
    channel: String,
    /// The address, URL, Telegram chat id or `discord`.
    target: String,
    /// `pending`, `sent` or `failed`.
    status: String,
    attempts: i64,
    /// Epoch ms of the next attempt while pending.
    next_at: i64,
    last_error: Option<String>,
    finished_at: Option<i64>,
}

impl From<DeliveryRecord> for DeliveryDto {
    fn from(d: DeliveryRecord) -> Self {
        DeliveryDto {
            id: d.id,
            notification_id: d.notification_id,
            channel: d.channel.to_string(),
            target: d.target,
            status: d.status,
            attempts: d.attempts,
            next_at: d.next_at,
            last_error: d.last_error,
            finished_at: d.finished_at,
        }
    }
}

/// The caller's notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/api/account/notifications", tag = "account", params(Page),
    responses((status = 200, body = NotificationPage)))]
async fn list_notifications(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<NotificationPage>, AppError> {
    let limit = clamp_limit(page.limit, 50, 200);
    let items = st
        .store
        .notifications_of_user(user.id, page.before, limit)
        .await?;
    let next_before = (items.len() as i64 == limit)
        .then(|| items.last().map(|n| n.id))
        .flatten();
    Ok(Json(NotificationPage {
        unread: st.store.unread_notifications(user.id).await?,
        items: items.into_iter().map(NotificationDto::from).collect(),
        next_before,
    }))
}

/// Marks the caller's notifications up to `up_to` read.
#[utoipa::path(post, path = "/api/account/notifications/read", tag = "account",
    request_body = ReadBody, responses((status = 200, body = ReadDto)))]
async fn mark_notifications_read(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(body): JsonBody<ReadBody>,
) -> Result<Json<ReadDto>, AppError> {
    let marked = st
        .store
        .mark_notifications_read(user.id, body.up_to, st.clock.now_ms())
        .await?;
    Ok(Json(ReadDto {
        marked,
        unread: st.store.unread_notifications(user.id).await?,
    }))
}

/// The caller's notification settings.
#[utoipa::path(get, path = "/api/account/notification-settings", tag = "account",
    responses((status = 200, body = SettingsDto)))]
async fn notification_settings(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<SettingsDto>, AppError> {
    Ok(Json(st.store.notification_settings(user.id).await?.into()))
}

/// Saves the caller's notification settings. A first webhook URL gets a new signing secret.
#[utoipa::path(put, path = "/api/account/notification-settings", tag = "account",
    request_body = SettingsBody, responses((status = 200, body = SettingsDto)))]
async fn update_notification_settings(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(body): JsonBody<SettingsBody>,
) -> Result<Json<SettingsDto>, AppError> {
    let saved = smmd_app::notifications::update_notification_settings(
        st.app(),
        user.id,
        body.email,
        body.webhook_url.as_deref(),
        false,
        st.config.notifications.allow_private_webhooks,
    )
    .await?;
    Ok(Json(saved.into()))
}

/// Replaces the webhook signing secret (409 `no_webhook` without a webhook URL).
#[utoipa::path(post, path = "/api/account/notification-settings/webhook-secret", tag = "account",
    responses((status = 200, body = SettingsDto)))]
async fn rotate_webhook_secret(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<SettingsDto>, AppError> {
    let saved = smmd_app::notifications::rotate_webhook_secret(st.app(), user.id).await?;
    Ok(Json(saved.into()))
}

/// The last 50 e-mail and webhook deliveries of the caller's notifications, newest first.
#[utoipa::path(get, path = "/api/account/deliveries", tag = "account",
    responses((status = 200, body = Vec<DeliveryDto>)))]
async fn list_deliveries(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<Vec<DeliveryDto>>, AppError> {
    let items = st.store.deliveries_of_user(user.id, 50).await?;
    Ok(Json(items.into_iter().map(DeliveryDto::from).collect()))
}
