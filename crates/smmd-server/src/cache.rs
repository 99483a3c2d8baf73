//! Short-lived in-process caches for the reseller API hot path, timed by the injected clock.
//!
//! - [`ApiKeyCache`]: API key hash → (user id, role, child panel) for [`API_KEY_TTL_MS`]. Only
//!   identity is cached (a child panel's state is read on each order); balances and orders are always read from the store. Rotating a key on this instance
//!   drops the user's entries at once; on other instances an old key keeps working for at most
//!   the TTL.
//! - [`ServicesCache`] / [`CatalogCache`]: the serialised `action=services` list and the enabled
//!   catalog of the REST filters, each for [`SERVICES_TTL_MS`]. Placing an
//!   order always reads the service itself, so a disabled or repriced service takes effect for
//!   orders immediately; only the listing may lag by the TTL.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use smmd_domain::UserId;
use smmd_store::Role;

/// How long a verified API key is trusted without a database lookup.
pub const API_KEY_TTL_MS: i64 = 10_000;
/// How long a built services list is served.
pub const SERVICES_TTL_MS: i64 = 2_000;
/// Entries kept before the key cache is cleared (bounds memory under key spraying).
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub struct ApiKeyCache {
    map: Mutex<HashMap<String, (KeyOwner, i64)>>,
}

/// Whom an API key identifies: the user, their role, and the child panel whose dedicated
/// key it is (`None` for the user's own key).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyOwner {
    pub user: UserId,
    pub role: Role,
    pub panel: Option<i64>,
}

impl ApiKeyCache {
    /// The cached identity for a key hash, if fresh at `now` (epoch ms).
    pub fn get(&self, key_hash: &str, now: i64) -> Option<KeyOwner> {
        let map = self.map.lock().ok()?;
        map.get(key_hash)
            .filter(|(_, exp)| *exp > now)
            .map(|(o, _)| *o)
    }

    pub fn put(&self, key_hash: &str, owner: KeyOwner, now: i64) {
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= MAX_KEYS {
                map.clear();
            }
            map.insert(key_hash.to_string(), (owner, now + API_KEY_TTL_MS));
        }
    }

    /// Forgets every key of `user` (after a rotation or a role change).
    pub fn invalidate_user(&self, user: UserId) {
        if let Ok(mut map) = self.map.lock() {
            map.retain(|_, (o, _)| o.user != user);
        }
    }
}

/// One value kept for [`SERVICES_TTL_MS`] after it was built. [`TtlSlot::get_or_build`] builds
/// it once when it expires, however many requests find it expired at the same moment.
pub struct TtlSlot<T> {
    slot: Mutex<Option<(i64, T)>>,
    building: tokio::sync::Mutex<()>,
}

impl<T> Default for TtlSlot<T> {
    fn default() -> Self {
        TtlSlot {
            slot: Mutex::new(None),
            building: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T: Clone> TtlSlot<T> {
    /// The value, if built less than the TTL before `now` (epoch ms).
    pub fn get(&self, now: i64) -> Option<T> {
        let slot = self.slot.lock().ok()?;
        slot.as_ref()
            .filter(|(exp, _)| *exp > now)
            .map(|(_, b)| b.clone())
    }

    pub fn put(&self, value: T, now: i64) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((now + SERVICES_TTL_MS, value));
        }
    }

    pub fn invalidate(&self) {
        if let Ok(mut slot) = self.slot.lock() {
            *slot = None;
        }
    }

    /// The fresh value, or one built by `build` (single flight: requests that miss together
    /// wait for one build instead of each running it). A failed build stores nothing.
    pub async fn get_or_build<E, F>(&self, now: i64, build: F) -> Result<T, E>
    where
        F: std::future::Future<Output = Result<T, E>>,
    {
        if let Some(v) = self.get(now) {
            return Ok(v);
        }
        let _one = self.building.lock().await;
        if let Some(v) = self.get(now) {
            return Ok(v);
        }
        let v = build.await?;
        self.put(v.clone(), now);
        Ok(v)
    }
}

/// The serialised API v2 `action=services` list.
pub type ServicesCache = TtlSlot<Bytes>;

/// The enabled catalog for the REST service filters.
pub type CatalogCache = TtlSlot<std::sync::Arc<Vec<smmd_store::Service>>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_expire_and_rotation_forgets_them() {
        let c = ApiKeyCache::default();
        let owner = |id, role, panel| KeyOwner {
            user: UserId(id),
            role,
            panel,
        };
        c.put("h1", owner(1, Role::User, None), 1_000);
        c.put("h2", owner(2, Role::Admin, None), 1_000);
        c.put("h3", owner(1, Role::User, Some(7)), 1_000);
        assert_eq!(
            c.get("h1", 1_000 + API_KEY_TTL_MS - 1),
            Some(owner(1, Role::User, None))
        );
        assert_eq!(c.get("h3", 1_001), Some(owner(1, Role::User, Some(7))));
        assert_eq!(c.get("h1", 1_000 + API_KEY_TTL_MS), None, "expired");
        c.invalidate_user(UserId(1));
        assert_eq!(c.get("h1", 1_001), None);
        assert_eq!(c.get("h3", 1_001), None, "the user's panel keys too");
        assert_eq!(c.get("h2", 1_001), Some(owner(2, Role::Admin, None)));
    }

    #[tokio::test]
    async fn concurrent_misses_build_once() {
        let c = std::sync::Arc::new(ServicesCache::default());
        let builds = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (c, builds) = (c.clone(), builds.clone());
            tasks.push(tokio::spawn(async move {
                c.get_or_build(0, async {
                    builds.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    Ok::<_, ()>(Bytes::from_static(b"[1]"))
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.expect("join"), Ok(Bytes::from_static(b"[1]")));
        }
        assert_eq!(builds.load(std::sync::atomic::Ordering::SeqCst), 1);
        let failed = c
            .get_or_build(SERVICES_TTL_MS, async { Err::<Bytes, _>("db down") })
            .await;
        assert_eq!(failed, Err("db down"));
        assert!(c.get(SERVICES_TTL_MS).is_none(), "a failure stores nothing");
    }

    #[test]
    fn services_list_expires() {
        let c = ServicesCache::default();
        c.put(Bytes::from_static(b"[]"), 0);
        assert!(c.get(SERVICES_TTL_MS - 1).is_some());
        assert!(c.get(SERVICES_TTL_MS).is_none());
        c.put(Bytes::from_static(b"[]"), 0);
        c.invalidate();
        assert!(c.get(1).is_none());
    }
}
