//! Customers' order ids and transactions on the pages (issue 18): the numeric id API v2
//! returns is shown and searchable (another user's id finds nothing), and `/transactions` lists
//! the ledger with each row's order, with the whole ledger as CSV.

use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use smmd_domain::service::ServiceType;
use smmd_domain::Money;
use smmd_store::{Role, ServiceDraft};

use crate::helpers::{TestApp, T0};
use crate::pages::get;

pub async fn customers_find_orders_by_id_and_read_their_transactions(app: TestApp) {
    let (ann, ann_key) = app.account("ann@x.io", Role::User, "10").await;
    let (_, bob_key) = app.account("bob@x.io", Role::User, "10").await;
    let svc = app
        .store
        .create_service(
            ServiceDraft::new(
                "Instagram Followers",
                "Followers",
                ServiceType::Default,
                Money::parse("1.00").expect("m"),
                10,
                10_000,
            ),
            T0,
        )
        .await
        .expect("service");
    let add = |key: String, link: &'static str| {
        let app = &app;
        let sid = svc.id.0;
        async move {
            app.v2(&format!(
                "key={key}&action=add&service={sid}&link=https://instagram.com/{link}&quantity=100"
            ))
            .await
            .json["order"]
                .as_i64()
                .expect("an order id")
        }
    };
    let first = add(ann_key.clone(), "one").await;
    let second = add(ann_key.clone(), "two").await;
    let bobs = add(bob_key.clone(), "bob").await;
    let cancel = app
        .v2(&format!("key={ann_key}&action=cancel&orders={second}"))
        .await;
    assert!(
        cancel.json.to_string().contains("\"cancel\":1"),
        "{:?}",
        cancel.json
    );
    let (cookie, _) = app.session("ann@x.io").await;

    // The list shows the numeric ids; searching one finds just it, by id or "#id" or reference.
    let (_, list) = get(&app, "/orders", &cookie).await;
    assert!(
        list.contains(&format!("<b>#{first}</b>")) && list.contains(&format!("<b>#{second}</b>"))
    );
    for q in [first.to_string(), format!("%23{first}")] {
        let (_, found) = get(&app, &format!("/orders?q={q}"), &cookie).await;
        assert!(found.contains(&format!("<b>#{first}</b>")), "{q}");
        assert!(
            !found.contains(&format!("<b>#{second}</b>")),
            "{q}: only that order"
        );
    }
    let reference = app
        .store
        .order(smmd_domain::OrderId(first))
        .await
        .expect("o")
        .expect("o")
        .reference;
    let (_, found) = get(&app, &format!("/orders?q={reference}"), &cookie).await;
    assert!(found.contains(&format!("<b>#{first}</b>")));
    let (_, none) = get(&app, &format!("/orders?q={bobs}"), &cookie).await;
    assert!(
        !none.contains(&format!("<b>#{bobs}</b>")) && none.contains("No orders here yet"),
        "Bob's id finds nothing"
    );
    let (_, page) = get(&app, &format!("/orders/{reference}"), &cookie).await;
    assert!(page.contains(&format!("Order #{first}")));

    // The ledger: the deposit, two charges and the refund of the canceled order, newest first.
    let (status, tx) = get(&app, "/transactions", &cookie).await;
    assert_eq!(status, 200);
    let order_links = tx.matches("\">#").count();
    assert_eq!(order_links, 3, "two charges and a refund name their order");
    for part in [
        "Top-up",
        "+10.00",
        "Refund",
        "+0.10",
        "-0.10",
        &format!("#{second}"),
    ] {
        assert!(tx.contains(part), "{part} in the ledger");
    }
    assert!(
        tx.find("Refund").expect("r") < tx.find("Top-up").expect("t"),
        "newest first"
    );
    let csv = app
        .client
        .get(app.url("/transactions.csv"))
        .header(reqwest::header::COOKIE, &cookie)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    assert!(csv.headers().get(CONTENT_DISPOSITION).is_some());
    let text = csv.text().await.expect("t");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "id,created_at,kind,amount,balance_after,currency,order_id,note"
    );
    assert_eq!(lines.len(), 5, "a header and four rows: {text}");
    assert!(
        lines[1].contains(",refund,0.10,") && lines[1].contains(&format!(",USD,{second},")),
        "{}",
        lines[1]
    );
    assert!(
        lines[4].contains(",deposit,10.00,10.00,USD,,"),
        "{}",
        lines[4]
    );
    assert!(!text.contains("bob"), "only Ann's rows");
    let _ = ann;
    app.assert_ledger_consistent().await;
}
