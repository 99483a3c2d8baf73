//! What a notification says: titles, in-app text, e-mail text and the webhook body of each
//! event, as pure functions of the event (no I/O), so every channel says the same thing.
//! People read them in their own language (the account's, `smmd-i18n`'s catalogue `mail.ftl`,
//! English when they chose none); webhook bodies are data and stay the same in every language.

use serde_json::json;
use smmd_domain::alert::AlertChannel;
use smmd_domain::order::EventKind;
use smmd_store::{Alert, AlertRecipient, BillingNotice, NewNotification, NotifiableEvent};

use smmd_i18n::{Arg, Lang};

use crate::NotifySettings;

/// The language a user reads notifications in: the account's choice, else English.
fn lang_of(settings: &smmd_store::NotificationSettings) -> Lang {
    settings
        .language
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_default()
}

/// The webhook `type` and notification kind of an event: `order.completed`, `order.partial`,
/// `order.canceled`, `order.delayed` (the stuck-order ladder opened a ticket about it),
/// `refill.completed`, `refill.rejected`.
pub fn kind_of(e: &NotifiableEvent) -> String {
    match e.kind {
        EventKind::Refill => format!("refill.{}", e.status),
        EventKind::Stuck => "order.delayed".to_string(),
        _ => format!("order.{}", e.status),
    }
}

fn outcome(e: &NotifiableEvent, currency: &str, l: Lang) -> (String, String) {
    let refund = e.amount.filter(|a| a.is_positive()).map(|a| {
        l.ta(
            "mail-refunded",
            &[
                ("amount", a.to_string().into()),
                ("currency", currency.into()),
            ],
        )
    });
    let reference: Arg<'_> = e.order.reference.as_str().into();
    let title = |key: &str| l.ta(key, &[("reference", reference.clone())]);
    if e.kind == EventKind::Stuck {
        return (title("mail-order-delayed"), l.t("mail-order-delayed-text"));
    }
    let refill = e.kind == EventKind::Refill;
    match (if refill { "refill" } else { "order" }, e.status.as_str()) {
        ("refill", "completed") => (
            title("mail-refill-completed"),
            l.t("mail-refill-completed-text"),
        ),
        ("refill", _) if e.detail.is_empty() => (
            title("mail-refill-rejected"),
            l.t("mail-refill-rejected-text"),
        ),
        ("refill", _) => (
            title("mail-refill-rejected"),
            l.ta(
                "mail-refill-rejected-why",
                &[("why", e.detail.as_str().into())],
            ),
        ),
        (_, "completed") => (
            title("mail-order-completed"),
            l.t("mail-order-completed-text"),
        ),
        (_, "partial") => (
            title("mail-order-partial"),
            l.ta(
                "mail-order-partial-text",
                &[
                    ("remains", e.order.remains.unwrap_or(0).into()),
                    ("quantity", e.order.total_quantity.into()),
                    (
                        "refund",
                        refund
                            .unwrap_or_else(|| l.t("mail-nothing-refunded"))
                            .into(),
                    ),
                ],
            ),
        ),
        (_, _) => (
            title("mail-order-canceled"),
            refund.map_or_else(|| l.t("mail-nothing-charged"), |r| format!("{r}.")),
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
    let l = lang_of(&e.settings);
    let (title, summary) = outcome(e, &s.currency, l);
    let o = &e.order;
    let what = match o.link.as_deref() {
        Some(link) => l.ta(
            "mail-what-for",
            &[
                ("quantity", o.total_quantity.into()),
                ("service", e.service_name.as_str().into()),
                ("link", link.into()),
            ],
        ),
        None => l.ta(
            "mail-what",
            &[
                ("quantity", o.total_quantity.into()),
                ("service", e.service_name.as_str().into()),
            ],
        ),
    };
    let body = format!("{what}. {summary}");
    let email_text = format!(
        "{}\n\n{title}.\n\n{what}\n{summary}\n\n{}: {}/orders/{}\n\n— {}\n\n{}: {}/settings\n",
        l.t("mail-hello"),
        l.t("mail-see-order"),
        s.base_url,
        o.reference,
        s.panel_name,
        l.t("mail-why-order-emails"),
        s.base_url
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
    alert_title_in(kind, Lang::En)
}

/// [`alert_title`] in `lang` (the catalogue's `alert-<kind>`, English where it has none).
pub fn alert_title_in(kind: &str, lang: Lang) -> String {
    let key = format!("alert-{kind}");
    if Lang::has(&key) {
        return lang.t(&key);
    }
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
    let l = lang_of(&to.settings);
    let title = alert_title_in(&a.kind, l);
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
            "{title} ({}).\n\n{}\n\n{}: {}/admin\n\n— {}\n",
            a.subject,
            a.message,
            l.t("mail-admin-dashboard"),
            s.base_url,
            s.panel_name
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

/// What a billing notice says in `l`: its title and in-app text. The notice's `detail` was
/// written by the engine (amounts, an order) and is quoted as it is.
fn billing_text(n: &BillingNotice, l: Lang) -> (String, String) {
    let rental = match (n.rental_id, &n.plan_name) {
        (Some(id), Some(plan)) => l.ta(
            "mail-rental-plan",
            &[("id", id.into()), ("plan", plan.as_str().into())],
        ),
        (Some(id), None) => l.ta("mail-rental", &[("id", id.into())]),
        (None, _) => String::new(),
    };
    let detail = if n.detail.is_empty() {
        String::new()
    } else {
        format!(" ({})", n.detail)
    };
    let with = |key: &str| {
        l.ta(
            key,
            &[
                ("rental", rental.as_str().into()),
                ("detail", detail.as_str().into()),
                ("text", n.detail.as_str().into()),
                ("hours", n.threshold.unwrap_or(0).into()),
            ],
        )
    };
    let pair = |title: &str, body: &str| (with(title), with(body));
    match n.kind.as_str() {
        "rental.activated" => pair("mail-rental-activated", "mail-rental-activated-text"),
        "rental.past_due" => pair("mail-rental-past-due", "mail-rental-past-due-text"),
        "rental.suspended" => pair("mail-rental-suspended", "mail-rental-suspended-text"),
        "rental.resumed" => pair("mail-rental-resumed", "mail-rental-resumed-text"),
        "rental.terminated" => pair("mail-rental-terminated", "mail-rental-terminated-text"),
        "rental.runway_low" => pair("mail-runway-low", "mail-runway-low-text"),
        "commission.approved" => pair("mail-commission-approved", "mail-detail"),
        "commission.clawed_back" => pair("mail-commission-clawed-back", "mail-detail"),
        "payout.created" => pair("mail-payout-created", "mail-payout-created-text"),
        "payout.paid" => pair("mail-payout-paid", "mail-detail"),
        "payout.rejected" => pair("mail-payout-rejected", "mail-detail"),
        "payout.returned" => pair("mail-payout-returned", "mail-detail"),
        "payout_method.submitted" => pair("mail-method-changed", "mail-method-changed-text"),
        "payout_method.approved" => pair("mail-method-approved", "mail-method-approved-text"),
        "payout_method.rejected" => pair("mail-method-rejected", "mail-detail"),
        "ticket.replied" => pair("mail-ticket-replied", "mail-ticket-replied-text"),
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
    let l = lang_of(&n.settings);
    let (title, body) = billing_text(n, l);
    // Affiliate notices (commission.*, payout.*) and support answers (ticket.*) share this
    // feed; each links to its page.
    let (page, path) = if n.kind.starts_with("rental.") {
        ("mail-your-billing", "/billing")
    } else if n.kind.starts_with("ticket.") {
        ("mail-your-tickets", "/tickets")
    } else {
        ("mail-your-affiliate", "/affiliate")
    };
    let email_text = format!(
        "{}\n\n{title}.\n\n{body}\n\n{}: {}{path}\n\n— {}\n",
        l.t("mail-hello"),
        l.t(page),
        s.base_url,
        s.panel_name
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
