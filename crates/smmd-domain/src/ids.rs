//! Identifier newtypes. Every id is a positive `i64` assigned by the store; the newtypes keep an
//! order id from being passed where a user id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A panel account (user or admin).
    UserId
);
id_type!(
    /// An order; also the id resellers see in API v2 (`{"order": id}`).
    OrderId
);
id_type!(
    /// A service of our catalog; the `service` field of API v2.
    ServiceId
);
id_type!(
    /// A catalog category.
    CategoryId
);
id_type!(
    /// A refill request; the `refill` field of API v2.
    RefillId
);
id_type!(
    /// An upstream provider panel.
    ProviderId
);
