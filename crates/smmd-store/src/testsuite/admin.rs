//! Conformance cases — The admin audit log.

use crate::*;
use std::sync::Arc;

use super::*;

pub async fn the_audit_log_keeps_admin_actions_newest_first(store: Arc<dyn Store>) {
    let admin = user(&store, "ad@x.io", "0").await;
    for (i, action) in ["user.credit", "order.refund", "service.edit"]
        .iter()
        .enumerate()
    {
        store
            .record_audit(NewAudit {
                actor_id: Some(admin.id),
                actor: admin.email.clone(),
                action: (*action).to_string(),
                subject: format!("thing:{i}"),
                detail: "because".to_string(),
                now: NOW + i as i64,
            })
            .await
            .expect("audit");
    }
    let all = store.audit_log(None, 10).await.expect("log");
    assert_eq!(
        all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["service.edit", "order.refund", "user.credit"]
    );
    assert_eq!(all[0].actor_id, Some(admin.id));
    let older = store.audit_log(Some(all[0].id), 1).await.expect("log");
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].action, "order.refund");
}
