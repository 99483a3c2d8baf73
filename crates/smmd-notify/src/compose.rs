//! What a notification says: titles, in-app text, e-mail text and the webhook body of each
//! event, as pure functions of the event (no I/O), so every channel says the same thing.

use serde_json::json;
use smmd_domain::alert::AlertChannel;
use smmd_domain::order::EventKind;
use smmd_store::{Alert, AlertRecipient, BillingNotice, NewNotification, NotifiableEvent};

use crate::NotifySettings;

/// The webhook `type` and notification kind of an event: `order.completed`, `order.partial`,
/// `order.canceled`, `refill.completed`, `refill.rejected`.
pub fn kind_of(e: &NotifiableEvent) -> String {
    match e.kind {
        EventKind::Refill => format!("refill.{}", e.status),
        _ => format!("order.{}", e.status),
    }
}

fn outcome(e: &NotifiableEvent, currency: &str) -> (String, String) {
    let refund = e
        .amount
        .filter(|a| a.is_positive())
        .map(|a| format!("{a} {currency} refunded"));
    let reference = &e.order.reference;
    let refill = e.kind == EventKind::Refill;
    match (if refill { "refill" } else { "order" }, e.status.as_str()) {
        ("refill", "completed") => (
            format!("Refill of order {reference} completed"),
            "The provider finished the refill.".to_string(),
        ),
        ("refill", _) => (
            format!("Refill of order {reference} rejected"),
            format!(
                "The provider refused the refill{}.",
                if e.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", e.detail)
                }
            ),
        ),
        (_, "completed") => (
            format!("Order {reference} completed"),
            "All of it was delivered.".to_string(),
        ),
        (_, "partial") => (
            format!("Order {reference} partially completed"),
            format!(
                "{} of {} were not delivered; {}.",
                e.order.remains.unwrap_or(0),
                e.order.total_quantity,
                refund.unwrap_or_else(|| "nothing was refunded".into())
            ),
        ),
        (_, _) => (
            format!("Order {reference} canceled"),
            refund.map_or_else(|| "Nothing was charged.".into(), |r| format!("{r}.")),
        ),
    }
}

/// The notification of an order event for its owner, with an e-mail if the owner wants one
/// and e-mail is configured, and a webhook if the owner set a URL.
pub fn order_notification(
    e: &NotifiableEvent,
    s: &NotifySettings,
    email_enabled: bool,
) -> NewNotification {
    let kind = kind_of(e);
    let (title, summary) = outcome(e, &s.currency);
    let o = &e.order;
    let what = format!(
        "{} × {}{}",
        o.total_quantity,
        e.service_name,
        o.link
            .as_deref()
            .map(|l| format!(" for {l}"))
            .unwrap_or_default()
    );
    let body = format!("{what}. {summary}");
    let email_text = format!(
        "Hello,\n\n{title}.\n\n{what}\n{summary}\n\nSee the order: {}/orders/{}\n\n— {}\n\n\
         You receive these e-mails because order e-mails are on; turn them off in Settings: {}/settings\n",
        s.base_url, o.reference, s.panel_name, s.base_url
    );
    let webhook_body = json!({
        "id": format!("evt_{}", e.event_id),
        "type": kind,
        "created_at": e.created_at,
        "order": {
            "id": o.id.0,
            "reference": o.reference,
            "service": o.service_id.0,
            "service_name": e.service_name,
            "link": o.link,
            "quantity": o.total_quantity,
            "status": o.status.as_str(),
            "charge": o.charge.to_string(),
            "refunded": o.refunded.to_string(),
            "currency": s.currency,
            "start_count": o.start_count,
            "remains": o.remains,
        },
        "refill": (e.kind == EventKind::Refill).then(|| json!({ "status": e.status, "detail": e.detail })),
    });
    NewNotification {
        user_id: o.user_id,
        source: format!("event:{}", e.event_id),
        kind,
        title,
        body,
        order_id: Some(o.id),
        created_at: e.created_at,
        email: (email_enabled && e.settings.email).then(|| e.user_email.clone()),
        email_text,
        webhook: e
            .settings
            .webhook_url
            .clone()
            .map(|url| (url, webhook_body.to_string())),
    }
}

/// A readable title for an alert kind ([`AlertKind::title`]); a kind this build does not
/// know (written by a newer version) is shown as its words.
pub fn alert_title(kind: &str) -> String {
    match smmd_domain::alert::AlertKind::parse(kind) {
        Some(k) => k.title().to_string(),
        None => {
            let text = kind.replace('_', " ");
            let mut c = text.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect())
                .unwrap_or_default()
        }
    }
}

/// The event type of an alert kind ([`AlertKind::event`]); `alert.<kind>` for a kind this
/// build does not know.
///
/// [`AlertKind::event`]: smmd_domain::alert::AlertKind::event
pub fn alert_event(kind: &str) -> String {
    match smmd_domain::alert::AlertKind::parse(kind) {
        Some(k) => k.event(),
        None => format!("alert.{kind}"),
    }
}

/// The notification of an admin alert for one admin.
pub fn alert_notification(
    a: &Alert,
    to: &AlertRecipient,
    s: &NotifySettings,
    email_enabled: bool,
) -> NewNotification {
    let title = alert_title(&a.kind);
    NewNotification {
        user_id: to.user_id,
        source: format!("alert:{}", a.id),
        kind: alert_event(&a.kind),
        title: title.clone(),
        body: a.message.clone(),
        order_id: None,
        created_at: a.created_at,
        email: (email_enabled && to.settings.email).then(|| to.email.clone()),
        email_text: format!(
            "{title} ({}).\n\n{}\n\nAdmin dashboard: {}/admin\n\n— {}\n",
            a.subject, a.message, s.base_url, s.panel_name
        ),
        webhook: to.settings.webhook_url.clone().map(|url| {
            let body = json!({
                "id": format!("alert_{}", a.id),
                "type": alert_event(&a.kind),
                "created_at": a.created_at,
                "alert": { "kind": a.kind, "subject": a.subject, "message": a.message },
            });
            (url, body.to_string())
        }),
    }
}

/// The text of an admin alert in the owner's Telegram chat or Discord channel: the panel,
/// the alert's title and subject, its message and where to act, within the channel's limit.
pub fn alert_channel_text(a: &Alert, channel: AlertChannel, s: &NotifySettings) -> String {
    let text = format!(
        "⚠ {} · {}\n{}\n({})\n{}/admin",
        s.panel_name,
        alert_title(&a.kind),
        a.message,
        a.subject,
        s.base_url
    );
    smmd_domain::alert::clip(&text, channel.max_chars())
}

/// What a billing notice says: its title and in-app text.
fn billing_text(n: &BillingNotice) -> (String, String) {
    let rental = match (n.rental_id, &n.plan_name) {
        (Some(id), Some(plan)) => format!("Rental #{id} ({plan})"),
        (Some(id), None) => format!("Rental #{id}"),
        (None, _) => String::new(),
    };
    let detail = if n.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", n.detail)
    };
    match n.kind.as_str() {
        "rental.activated" => (
            format!("{rental} is active"),
            "It is billed by the hour from your balance.".to_string(),
        ),
        "rental.past_due" => (
            format!("{rental} is past due"),
            format!(
                "Your balance did not pay an hour{detail}. It keeps running while you add funds; unpaid hours are collected oldest first."
            ),
        ),
        "rental.suspended" => (
            format!("{rental} is suspended"),
            format!("It stopped{detail}. Add funds to pay what is due and it resumes."),
        ),
        "rental.resumed" => (
            format!("{rental} is running again"),
            format!("It resumed{detail}."),
        ),
        "rental.terminated" => (
            format!("{rental} has ended"),
            format!("It was terminated{detail}."),
        ),
        "rental.runway_low" => (
            format!(
                "Your balance covers less than {} hours of rentals",
                n.threshold.unwrap_or(0)
            ),
            format!("{}. Add funds to keep them running.", n.detail),
        ),
        "commission.approved" => (
            "Commission approved".to_string(),
            format!("{}.", n.detail),
        ),
        "commission.clawed_back" => (
            "Commission clawed back".to_string(),
            format!("{}.", n.detail),
        ),
        "payout.created" => (
            "Payout created".to_string(),
            format!("{}. An admin pays it shortly.", n.detail),
        ),
        "payout.paid" => ("Payout sent".to_string(), format!("{}.", n.detail)),
        "payout.rejected" => ("Payout rejected".to_string(), format!("{}.", n.detail)),
        "payout.returned" => ("Payout returned".to_string(), format!("{}.", n.detail)),
        "payout_method.submitted" => (
            "Payout method changed".to_string(),
            format!(
                "{} was submitted as your payout method; an admin reviews it. If you did not do this, change your password and contact support now.",
                n.detail
            ),
        ),
        "payout_method.approved" => (
            "Payout method approved".to_string(),
            format!("{} is your payout method now.", n.detail),
        ),
        "payout_method.rejected" => (
            "Payout method rejected".to_string(),
            format!("{}.", n.detail),
        ),
        "ticket.replied" => (
            "Support answered your ticket".to_string(),
            format!("{}. Read the answer and reply on the ticket's page.", n.detail),
        ),
        other => (other.to_string(), n.detail.clone()),
    }
}

/// The notification of a billing notice for its renter, with an e-mail if the renter wants
/// one and e-mail is configured, and a webhook (`type` = the notice's kind) if they set a URL.
pub fn billing_notification(
    n: &BillingNotice,
    s: &NotifySettings,
    email_enabled: bool,
) -> NewNotification {
    let (title, body) = billing_text(n);
    // Affiliate notices (commission.*, payout.*) and support answers (ticket.*) share this
    // feed; each links to its page.
    let (page, path) = if n.kind.starts_with("rental.") {
        ("Your billing", "/billing")
    } else if n.kind.starts_with("ticket.") {
        ("Your tickets", "/tickets")
    } else {
        ("Your affiliate account", "/affiliate")
    };
    let email_text = format!(
        "Hello,\n\n{title}.\n\n{body}\n\n{page}: {}{path}\n\n— {}\n",
        s.base_url, s.panel_name
    );
    let webhook_body = json!({
        "id": format!("bill_{}", n.id),
        "type": n.kind,
        "created_at": n.created_at,
        "rental": n.rental_id.map(|id| json!({ "id": id, "plan": n.plan_name })),
        "runway": n.runway_hours.map(|h| json!({ "hours": h, "threshold_hours": n.threshold })),
        "detail": n.detail,
    });
    NewNotification {
        user_id: n.user_id,
        source: format!("billing:{}", n.id),
        kind: n.kind.clone(),
        title,
        body,
        order_id: None,
        created_at: n.created_at,
        // A payout method change is a security notice: it is e-mailed whatever the preference
        // (docs/affiliates.md: "changing the method … e-mails the account").
        email: (email_enabled && (n.settings.email || n.kind.starts_with("payout_method.")))
            .then(|| n.user_email.clone()),
        email_text,
        webhook: n
            .settings
            .webhook_url
            .clone()
            .map(|url| (url, webhook_body.to_string())),
    }
}
