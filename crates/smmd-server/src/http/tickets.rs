//! REST for support tickets (issue 18). Customers: `/api/tickets` (list, open), one ticket with
//! its thread, a message, close. Admins: `/api/admin/tickets` (the queue by state and unread),
//! one ticket with internal notes, a reply or an internal note, close and reopen, and
//! `/api/admin/canned-replies`. Another customer's ticket is a 404, as orders are. Use cases:
//! `smmd_app::support`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_domain::ticket::TicketStatus;
use smmd_store::{CannedReply, Ticket, TicketMessage};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ApiPath, ApiQuery, JsonBody};
use crate::auth::{AdminUser, AuthUser};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tickets", get(my_tickets).post(open_ticket))
        .route("/api/tickets/{id}", get(my_ticket))
        .route("/api/tickets/{id}/messages", post(write_message))
        .route("/api/tickets/{id}/close", post(close_my_ticket))
        .route("/api/admin/tickets", get(ticket_queue))
        .route("/api/admin/tickets/{id}", get(admin_ticket))
        .route("/api/admin/tickets/{id}/messages", post(admin_message))
        .route("/api/admin/tickets/{id}/close", post(admin_close))
        .route("/api/admin/tickets/{id}/reopen", post(admin_reopen))
        .route(
            "/api/admin/canned-replies",
            get(list_canned).post(create_canned),
        )
        .route(
            "/api/admin/canned-replies/{id}",
            put(edit_canned).delete(delete_canned),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(
        my_tickets,
        open_ticket,
        my_ticket,
        write_message,
        close_my_ticket,
        ticket_queue,
        admin_ticket,
        admin_message,
        admin_close,
        admin_reopen,
        list_canned,
        create_canned,
        edit_canned,
        delete_canned
    ),
    components(schemas(
        TicketDto,
        TicketMessageDto,
        TicketThread,
        TicketPage,
        NewTicketBody,
        MessageBody,
        AdminMessageBody,
        CannedReplyDto,
        CannedReplyBody
    ))
)]
pub struct TicketsDoc;

/// A ticket.
#[derive(Serialize, ToSchema)]
pub struct TicketDto {
    id: i64,
    user_id: i64,
    /// The customer's e-mail.
    user_email: String,
    /// `order`, `payment`, `refill` or `other`.
    topic: &'static str,
    subject: String,
    /// `open` (waiting for an admin), `waiting` (for the customer) or `closed`.
    status: &'static str,
    /// The customer's orders it is about.
    order_ids: Vec<i64>,
    /// Epoch ms.
    created_at: i64,
    /// Epoch ms of the last message, note or state change.
    updated_at: i64,
    /// The customer wrote since an admin last read it.
    unread_by_admin: bool,
    /// An admin answered since the customer last read it.
    unread_by_customer: bool,
    /// Messages the customer sees.
    messages: i64,
}

pub(crate) fn ticket_dto(t: &Ticket) -> TicketDto {
    TicketDto {
        id: t.id,
        user_id: t.user_id.0,
        user_email: t.user_email.clone(),
        topic: t.topic.as_str(),
        subject: t.subject.clone(),
        status: t.status.as_str(),
        order_ids: t.order_ids.iter().map(|o| o.0).collect(),
        created_at: t.created_at,
        updated_at: t.updated_at,
        unread_by_admin: t.unread_by_admin,
        unread_by_customer: t.unread_by_customer,
        messages: t.messages,
    }
}

/// One message of a thread.
#[derive(Serialize, ToSchema)]
pub struct TicketMessageDto {
    id: i64,
    /// The author's e-mail.
    author: String,
    from_admin: bool,
    /// An admin's internal note (only admins receive these).
    internal: bool,
    body: String,
    /// Epoch ms.
    created_at: i64,
}

fn message_dto(m: &TicketMessage) -> TicketMessageDto {
    TicketMessageDto {
        id: m.id,
        author: m.author.clone(),
        from_admin: m.from_admin,
        internal: m.internal,
        body: m.body.clone(),
        created_at: m.created_at,
    }
}

/// A ticket with its thread, oldest message first.
#[derive(Serialize, ToSchema)]
pub struct TicketThread {
    ticket: TicketDto,
    messages: Vec<TicketMessageDto>,
}

#[derive(Serialize, ToSchema)]
pub struct TicketPage {
    items: Vec<TicketDto>,
    /// Pass as `before` for the next page.
    next_before: Option<i64>,
}

fn page(list: Vec<Ticket>) -> TicketPage {
    let full = list.len() as i64 >= smmd_app::support::PAGE;
    TicketPage {
        next_before: list.last().filter(|_| full).map(|t| t.id),
        items: list.iter().map(ticket_dto).collect(),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Before {
    /// Tickets with a smaller id (the previous page's `next_before`).
    before: Option<i64>,
}

/// The caller's tickets, newest first (50 a page).
#[utoipa::path(get, path = "/api/tickets", tag = "support", params(Before),
    responses((status = 200, body = TicketPage)))]
async fn my_tickets(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiQuery(q): ApiQuery<Before>,
) -> Result<Json<TicketPage>, AppError> {
    let list = smmd_app::support::my_tickets(st.app(), &user, q.before).await?;
    Ok(Json(page(list)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketBody {
    /// `order`, `payment`, `refill` or `other`.
    topic: String,
    /// 1 to 120 characters.
    #[schema(max_length = 120)]
    subject: String,
    /// Ids of the caller's own orders it is about (at most 20).
    #[schema(max_items = 20)]
    orders: Option<Vec<i64>>,
    /// The first message, 1 to 5000 characters.
    #[schema(max_length = 5000)]
    message: String,
}

/// Opens a ticket. 422 `invalid_ticket` (also for an order id that is not the caller's).
#[utoipa::path(post, path = "/api/tickets", tag = "support", request_body = NewTicketBody,
    responses((status = 201, body = TicketDto)))]
async fn open_ticket(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(b): JsonBody<NewTicketBody>,
) -> Result<(StatusCode, Json<TicketDto>), AppError> {
    let orders = b
        .orders
        .unwrap_or_default()
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ");
    let t = smmd_app::support::open_ticket(
        st.app(),
        &user,
        &smmd_app::support::TicketInput {
            topic: b.topic,
            subject: b.subject,
            orders,
            body: b.message,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ticket_dto(&t))))
}

async fn thread(
    st: &AppState,
    viewer: &smmd_store::User,
    id: i64,
) -> Result<TicketThread, AppError> {
    let (t, messages) = smmd_app::support::ticket(st.app(), viewer, id).await?;
    Ok(TicketThread {
        ticket: ticket_dto(&t),
        messages: messages.iter().map(message_dto).collect(),
    })
}

/// One of the caller's tickets with its thread (marks it read). 404 for another's.
#[utoipa::path(get, path = "/api/tickets/{id}", tag = "support",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketThread)))]
async fn my_ticket(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TicketThread>, AppError> {
    Ok(Json(thread(&st, &user, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// 1 to 5000 characters.
    #[schema(max_length = 5000)]
    message: String,
}

/// Writes on one of the caller's tickets (a closed one opens again). 404 for another's.
#[utoipa::path(post, path = "/api/tickets/{id}/messages", tag = "support",
    params(("id" = i64, Path, description = "Ticket id")), request_body = MessageBody,
    responses((status = 200, body = TicketDto)))]
async fn write_message(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<MessageBody>,
) -> Result<Json<TicketDto>, AppError> {
    let t = smmd_app::support::post_message(st.app(), &user, id, &b.message, false).await?;
    Ok(Json(ticket_dto(&t)))
}

/// Closes one of the caller's tickets. 409 `ticket_state` when it is closed already.
#[utoipa::path(post, path = "/api/tickets/{id}/close", tag = "support",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDto)))]
async fn close_my_ticket(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TicketDto>, AppError> {
    let t = smmd_app::support::set_closed(st.app(), &user, id, true).await?;
    Ok(Json(ticket_dto(&t)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// `open`, `waiting` or `closed`; any when absent.
    status: Option<String>,
    /// Only tickets with a customer message no admin has read.
    unread: Option<bool>,
    /// Tickets with a smaller id (the previous page's `next_before`).
    before: Option<i64>,
}

/// The support queue, newest first (50 a page).
#[utoipa::path(get, path = "/api/admin/tickets", tag = "admin", params(QueueQuery),
    responses((status = 200, body = TicketPage)))]
async fn ticket_queue(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiQuery(q): ApiQuery<QueueQuery>,
) -> Result<Json<TicketPage>, AppError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(TicketStatus::parse(s).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidQuery,
                "status is one of open, waiting, closed",
            )
        })?),
    };
    let list =
        smmd_app::support::queue(st.app(), status, q.unread.unwrap_or(false), q.before).await?;
    Ok(Json(page(list)))
}

/// Any ticket with its thread and internal notes (marks it read for the admins).
#[utoipa::path(get, path = "/api/admin/tickets/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketThread)))]
async fn admin_ticket(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TicketThread>, AppError> {
    Ok(Json(thread(&st, &admin, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminMessageBody {
    /// 1 to 5000 characters.
    #[schema(max_length = 5000)]
    message: String,
    /// An internal note the customer never sees (default false: a reply).
    internal: Option<bool>,
}

/// Answers the customer (the ticket then waits for them) or writes an internal note.
#[utoipa::path(post, path = "/api/admin/tickets/{id}/messages", tag = "admin",
    params(("id" = i64, Path, description = "Ticket id")), request_body = AdminMessageBody,
    responses((status = 200, body = TicketDto)))]
async fn admin_message(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<AdminMessageBody>,
) -> Result<Json<TicketDto>, AppError> {
    let t = smmd_app::support::post_message(
        st.app(),
        &admin,
        id,
        &b.message,
        b.internal.unwrap_or(false),
    )
    .await?;
    Ok(Json(ticket_dto(&t)))
}

/// Closes a ticket (audited as `ticket.close`). 409 `ticket_state` when closed already.
#[utoipa::path(post, path = "/api/admin/tickets/{id}/close", tag = "admin",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDto)))]
async fn admin_close(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TicketDto>, AppError> {
    let t = smmd_app::support::set_closed(st.app(), &admin, id, true).await?;
    Ok(Json(ticket_dto(&t)))
}

/// Reopens a closed ticket (audited as `ticket.reopen`). 409 `ticket_state` when not closed.
#[utoipa::path(post, path = "/api/admin/tickets/{id}/reopen", tag = "admin",
    params(("id" = i64, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDto)))]
async fn admin_reopen(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TicketDto>, AppError> {
    let t = smmd_app::support::set_closed(st.app(), &admin, id, false).await?;
    Ok(Json(ticket_dto(&t)))
}

/// A canned reply.
#[derive(Serialize, ToSchema)]
pub struct CannedReplyDto {
    id: i64,
    title: String,
    body: String,
    /// Epoch ms.
    updated_at: i64,
}

fn canned_dto(c: &CannedReply) -> CannedReplyDto {
    CannedReplyDto {
        id: c.id,
        title: c.title.clone(),
        body: c.body.clone(),
        updated_at: c.updated_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyBody {
    /// 1 to 80 characters.
    #[schema(max_length = 80)]
    title: String,
    /// 1 to 5000 characters.
    #[schema(max_length = 5000)]
    body: String,
}

/// The canned replies, by title.
#[utoipa::path(get, path = "/api/admin/canned-replies", tag = "admin",
    responses((status = 200, body = Vec<CannedReplyDto>)))]
async fn list_canned(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<Vec<CannedReplyDto>>, AppError> {
    let list = smmd_app::support::canned_replies(st.app()).await?;
    Ok(Json(list.iter().map(canned_dto).collect()))
}

/// Adds a canned reply. 422 `invalid_canned_reply`.
#[utoipa::path(post, path = "/api/admin/canned-replies", tag = "admin",
    request_body = CannedReplyBody, responses((status = 201, body = CannedReplyDto)))]
async fn create_canned(
    State(st): State<AppState>,
    _admin: AdminUser,
    JsonBody(b): JsonBody<CannedReplyBody>,
) -> Result<(StatusCode, Json<CannedReplyDto>), AppError> {
    let c = smmd_app::support::save_canned_reply(st.app(), None, &b.title, &b.body).await?;
    Ok((StatusCode::CREATED, Json(canned_dto(&c))))
}

/// Edits a canned reply. 404 for an unknown id; 422 `invalid_canned_reply`.
#[utoipa::path(put, path = "/api/admin/canned-replies/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Canned reply id")),
    request_body = CannedReplyBody, responses((status = 200, body = CannedReplyDto)))]
async fn edit_canned(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<CannedReplyBody>,
) -> Result<Json<CannedReplyDto>, AppError> {
    let c = smmd_app::support::save_canned_reply(st.app(), Some(id), &b.title, &b.body).await?;
    Ok(Json(canned_dto(&c)))
}

/// Deletes a canned reply. 404 for an unknown id.
#[utoipa::path(delete, path = "/api/admin/canned-replies/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Canned reply id")),
    responses((status = 204, description = "Deleted")))]
async fn delete_canned(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, AppError> {
    smmd_app::support::delete_canned_reply(st.app(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
