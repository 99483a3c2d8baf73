//! Conformance cases — The catalogue: services and categories.

use crate::*;
use smmd_domain::service::ServiceType;
use std::sync::Arc;

use super::*;

pub async fn services_and_categories_round_trip(store: Arc<dyn Store>) {
    let svc = followers(&store).await;
    assert_eq!(
        (svc.category.as_str(), svc.rate, svc.min, svc.max),
        ("Instagram Followers", m("0.90"), 50, 10_000)
    );
    let mut d = ServiceDraft::new(
        "Instagram Followers",
        "Comments",
        ServiceType::CustomComments,
        m("8"),
        1,
        1500,
    );
    d.description = "Custom comments 💬".into();
    d.provider_service_id = Some("308".into());
    d.provider_rate = Some(m("0.08011"));
    let c = store
        .create_service(d.clone(), NOW)
        .await
        .expect("comments");
    assert_eq!(
        (c.category_id, c.service_type),
        (svc.category_id, ServiceType::CustomComments)
    );
    assert_eq!(store.service(c.id).await.expect("read"), Some(c.clone()));
    d.enabled = false;
    d.category = "Hidden".into();
    let hidden = store
        .update_service(c.id, d, NOW + 1)
        .await
        .expect("update");
    assert!(!hidden.enabled && hidden.category == "Hidden");
    assert_eq!(store.list_services(true).await.expect("list").len(), 1);
    assert_eq!(store.list_services(false).await.expect("list").len(), 2);
    let cats = store.list_categories().await.expect("cats");
    assert_eq!(
        cats.iter()
            .map(|c| (c.name.as_str(), c.services))
            .collect::<Vec<_>>(),
        vec![("Instagram Followers", 1), ("Hidden", 0)]
    );
    let missing = store
        .update_service(
            smmd_domain::ServiceId(31_337),
            ServiceDraft::new("X", "X", ServiceType::Default, m("1"), 1, 2),
            NOW,
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}
