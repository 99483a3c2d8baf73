//! Support tickets (issue 18, migration 0023): a customer's ticket with its messages, the
//! admins' internal notes, who has read what, and the admins' canned replies. Each write is one
//! transaction with what it tells others: a customer's message raises the `ticket_waiting`
//! alert (the admins hear it in the panel, by e-mail and on their channels); an admin's reply
//! resolves it and writes the `ticket.replied` notice the customer hears (in-app, e-mail,
//! webhook); closing resolves it. Times are epoch ms.

use async_trait::async_trait;
use serde::Serialize;
use smmd_domain::ticket::{TicketStatus, TicketTopic};
use smmd_domain::{OrderId, UserId};

use crate::{NewAudit, StoreResult};

/// A ticket as lists and pages show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    pub id: i64,
    pub user_id: UserId,
    /// The customer's e-mail.
    pub user_email: String,
    pub topic: TicketTopic,
    pub subject: String,
    pub status: TicketStatus,
    /// The customer's orders it is about (checked as theirs when written).
    pub order_ids: Vec<OrderId>,
    pub created_at: i64,
    /// The last change: a message, a note, a close or reopen.
    pub updated_at: i64,
    /// The customer wrote after an admin last read it.
    pub unread_by_admin: bool,
    /// An admin answered after the customer last read it.
    pub unread_by_customer: bool,
    /// Messages the customer sees (internal notes not counted).
    pub messages: i64,
}

/// One message of a ticket's thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TicketMessage {
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: Option<UserId>,
    /// The author's e-mail as it was.
    pub author: String,
    pub from_admin: bool,
    /// An admin's note: never shown to the customer.
    pub internal: bool,
    pub body: String,
    pub created_at: i64,
}

/// A ticket to open, with its first message.
#[derive(Clone, Debug)]
pub struct NewTicket {
    pub user_id: UserId,
    pub author: String,
    pub topic: TicketTopic,
    pub subject: String,
    pub order_ids: Vec<OrderId>,
    pub body: String,
    pub now: i64,
}

/// A message to add to a ticket that is in `expected`, moving it to `next`
/// ([`smmd_domain::ticket::next_status`]).
#[derive(Clone, Debug)]
pub struct TicketPost {
    pub ticket_id: i64,
    pub author_id: UserId,
    pub author: String,
    pub from_admin: bool,
    pub internal: bool,
    pub body: String,
    pub expected: TicketStatus,
    pub next: TicketStatus,
    pub now: i64,
}

/// Which tickets to list, newest change first.
#[derive(Clone, Debug, Default)]
pub struct TicketQuery {
    /// One customer's tickets only.
    pub user: Option<UserId>,
    pub status: Option<TicketStatus>,
    /// Only tickets the customer wrote in since an admin last read them.
    pub unread_by_admin: bool,
    /// Tickets with a smaller id (the previous page's last).
    pub before: Option<i64>,
    /// 1 to 200.
    pub limit: i64,
}

/// An admin's prepared answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CannedReply {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub updated_at: i64,
}

/// How a write on a ticket ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TicketWrite {
    Done(Ticket),
    /// No such ticket.
    NotFound,
    /// The ticket was no longer in the expected state (someone else acted first).
    Moved(TicketStatus),
}

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Opens a ticket (`open`) with its first message and raises `ticket_waiting`.
    async fn open_ticket(&self, t: &NewTicket) -> StoreResult<Ticket>;

    /// Adds a message if the ticket is still in `p.expected`, moving it to `p.next`: a
    /// customer's message raises `ticket_waiting`; an admin's reply (not a note) resolves it
    /// and writes the customer's `ticket.replied` notice.
    async fn post_ticket_message(&self, p: &TicketPost) -> StoreResult<TicketWrite>;

    /// Moves the ticket from `expected` to `next` (close, reopen) with the audit line (admins);
    /// closing resolves `ticket_waiting`.
    async fn set_ticket_status(
        &self,
        id: i64,
        expected: TicketStatus,
        next: TicketStatus,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<TicketWrite>;

    /// One ticket.
    async fn ticket(&self, id: i64) -> StoreResult<Option<Ticket>>;

    /// Tickets matching `q`, newest change first.
    async fn tickets(&self, q: &TicketQuery) -> StoreResult<Vec<Ticket>>;

    /// A ticket's thread, oldest first; internal notes only when `internal`.
    async fn ticket_messages(&self, id: i64, internal: bool) -> StoreResult<Vec<TicketMessage>>;

    /// Records that the customer (`by_admin` false) or an admin read the ticket at `now`.
    async fn mark_ticket_read(&self, id: i64, by_admin: bool, now: i64) -> StoreResult<()>;

    /// Tickets waiting for an admin (open), and those with a customer message no admin read.
    async fn ticket_counts(&self) -> StoreResult<(i64, i64)>;

    /// The canned replies, by title.
    async fn canned_replies(&self) -> StoreResult<Vec<CannedReply>>;

    /// Creates (`id` None) or replaces a canned reply; `NotFound` for an unknown id.
    async fn save_canned_reply(
        &self,
        id: Option<i64>,
        title: &str,
        body: &str,
        now: i64,
    ) -> StoreResult<CannedReply>;

    /// Deletes a canned reply; false when there was none.
    async fn delete_canned_reply(&self, id: i64) -> StoreResult<bool>;
}
