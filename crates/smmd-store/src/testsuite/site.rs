//! The storefront's content: brand values and pages round-trip, are removed back to the
//! default, and each change commits with its audit line.

use crate::*;
use std::sync::Arc;

use super::*;

fn audit(action: &str, detail: &str) -> Option<NewAudit> {
    Some(NewAudit {
        actor_id: None,
        actor: "root@x.io".into(),
        action: action.into(),
        subject: "site".into(),
        detail: detail.into(),
        now: NOW,
    })
}

pub async fn storefront_values_and_pages_round_trip_with_their_audit(store: Arc<dyn Store>) {
    assert!(store.site_settings().await.expect("read").is_empty());
    let set = |pairs: &[(&str, Option<&str>)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect::<Vec<_>>()
    };
    store
        .set_site_settings(
            &set(&[
                ("brand.name", Some("Boost <Hub>")),
                ("brand.color", Some("#0f766e")),
            ]),
            NOW,
            audit("site.brand", "name, color"),
        )
        .await
        .expect("set");
    store
        .set_site_settings(
            &set(&[
                ("brand.color", Some("#b91c1c")),
                ("brand.tagline", Some("Fast")),
            ]),
            NOW + 1,
            None,
        )
        .await
        .expect("replace");
    assert_eq!(
        store.site_settings().await.expect("read"),
        vec![
            ("brand.color".to_string(), "#b91c1c".to_string()),
            ("brand.name".to_string(), "Boost <Hub>".to_string()),
            ("brand.tagline".to_string(), "Fast".to_string()),
        ]
    );
    // Removing a value returns it to the default; removing an absent one is no error.
    store
        .set_site_settings(
            &set(&[("brand.tagline", None), ("brand.logo", None)]),
            NOW + 2,
            None,
        )
        .await
        .expect("remove");
    assert_eq!(store.site_settings().await.expect("read").len(), 2);

    let page = |slug: &str, body: &str, at: i64| SitePage {
        slug: slug.into(),
        title: format!("{slug} title"),
        body: body.into(),
        updated_at: at,
    };
    store
        .save_site_page(
            &page("terms", "# Terms\n\nBe nice.", NOW),
            audit("site.page", "terms"),
        )
        .await
        .expect("page");
    store
        .save_site_page(&page("faq", "Q?", NOW), None)
        .await
        .expect("page");
    store
        .save_site_page(&page("terms", "Updated.", NOW + 5), None)
        .await
        .expect("replaced");
    assert_eq!(
        store.site_pages().await.expect("pages"),
        vec![page("faq", "Q?", NOW), page("terms", "Updated.", NOW + 5)]
    );
    store
        .save_site_page(&page("faq", "", NOW + 6), None)
        .await
        .expect("removed");
    assert_eq!(
        store.site_pages().await.expect("pages"),
        vec![page("terms", "Updated.", NOW + 5)]
    );
    let log = store.audit_log(None, 10).await.expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["site.page", "site.brand"],
        "one line per audited change"
    );
    assert_ledger_consistent(&store).await;
}
