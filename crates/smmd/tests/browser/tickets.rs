//! A support ticket's round trip in a browser (issue 18): the demo customer opens a ticket
//! about their order from the Support page; the admin finds it unread in the queue, adds a
//! canned reply, starts the answer from it, writes an internal note, and sends; the customer
//! sees the answer (and never the note), and closes the ticket.

use fantoccini::{Client, Locator};

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_goes_from_customer_to_admin_and_back() {
    run("tickets", |c, demo| async move { tickets(&c, &demo).await }).await;
}

async fn tickets(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    let order = api_order(demo, "https://instagram.com/ticket_test", 100).await;

    // The customer opens a ticket about the order.
    sign_in(c, &base, &demo.user_email, &demo.user_password).await;
    c.goto(&format!("{base}/tickets")).await.expect("support");
    fill(c, "#ticket-subject", "Followers not arriving").await;
    fill(c, "#ticket-orders", &format!("#{order}")).await;
    fill(c, "#ticket-message", "It has been a day and nothing came.").await;
    click(c, "#open-ticket").await;
    let url = wait_for_path(c, "/tickets/").await;
    let id: i64 = url
        .path()
        .trim_start_matches("/tickets/")
        .parse()
        .expect("ticket id");
    wait_for_text(c, ".flash.ok", "Ticket opened").await;
    wait_for_text(c, "#ticket .hint", &format!("#{order}")).await;
    shoot(c, "ticket").await;

    // The admin: unread in the queue, a canned reply, an answer from it, an internal note.
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/tickets?unread=1"))
        .await
        .expect("queue");
    wait_for_text(c, "#ticket-queue", "Followers not arriving").await;
    fill(c, "#canned-title", "Refill started").await;
    fill(
        c,
        "#canned-body",
        "We asked the provider for a refill; it arrives within 24 hours.",
    )
    .await;
    click(c, "#save-canned").await;
    wait_for_text(c, "#canned-replies", "Refill started").await;
    shoot(c, "admin-tickets").await;
    c.goto(&format!("{base}/admin/tickets/{id}"))
        .await
        .expect("ticket");
    wait_for_text(c, "#ticket-orders", &format!("#{order}")).await;
    fill(c, "#reply", "VIP customer: check the provider's panel.").await;
    click(c, "#internal").await;
    click(c, "#send-reply").await;
    wait_for_text(c, "#thread", "Internal note").await;
    c.find(Locator::Css("#canned"))
        .await
        .expect("canned select")
        .select_by_label("Refill started")
        .await
        .expect("pick");
    let filled = c
        .find(Locator::Css("#reply"))
        .await
        .expect("reply")
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(filled.starts_with("We asked the provider"), "{filled}");
    click(c, "#send-reply").await;
    wait_for_text(c, "#ticket .card-head", "Waiting for customer").await;
    shoot(c, "admin-ticket").await;

    // The customer sees the answer, never the note, and closes the ticket.
    sign_in(c, &base, &demo.user_email, &demo.user_password).await;
    c.goto(&format!("{base}/tickets")).await.expect("support");
    wait_for_text(c, "#tickets", "New answer").await;
    shoot(c, "tickets").await;
    c.goto(&format!("{base}/tickets/{id}"))
        .await
        .expect("ticket");
    wait_for_text(c, "#thread", "We asked the provider for a refill").await;
    let thread = text_of(c, "#thread").await;
    assert!(
        !thread.contains("VIP customer"),
        "the note stays internal: {thread}"
    );
    click(c, "#close-ticket").await;
    wait_for_text(c, "#ticket .card-head", "Closed").await;
}
