//! Ledger idempotency keys: every balance change is a ledger row under a unique key, and the
//! key says what paid for it, so the same cause can never move money twice. This module is the
//! one place each key shape is written (architecture §3).
//!
//! | key | written by |
//! |---|---|
//! | `order:<id>:charge` | placing an order |
//! | `order:<id>:refund`, then `order:<id>:refund:<target µ>` | refunds and their top-ups |
//! | `payment:<id>` | an approved manual payment request |
//! | `admin:<request id>` | an admin credit or debit (the request id makes a retry a replay) |
//! | `test-top-up:<user>:<nonce>` | the demo's instant test funds |
//! | `demo:seed-balance` | the demo's seeded customer |
//! | `rent:<rental>:<hour>` | one billed hour of a rental (hour = its start, epoch ms) |
//! | `rent-credit:<rental>:<hour>` | an admin's credit of that billed hour |

/// The key of an order's charge.
pub fn charge_key(order_id: i64) -> String {
    format!("order:{order_id}:charge")
}

/// The key of an order's first refund.
pub fn refund_key(order_id: i64) -> String {
    format!("order:{order_id}:refund")
}

/// The key of a later refund top-up to `target_micros` (the total refunded after it), so each
/// distinct target pays once.
pub fn refund_top_up_key(order_id: i64, target_micros: i64) -> String {
    format!("{}:{target_micros}", refund_key(order_id))
}

/// The key of an approved payment request's credit.
pub fn payment_key(payment_id: i64) -> String {
    format!("payment:{payment_id}")
}

/// The key of an admin balance adjustment, from the request id the admin (or the page) sent.
pub fn admin_key(request_id: &str) -> String {
    format!("admin:{request_id}")
}

/// The key of one demo test top-up; `nonce` makes each click its own credit.
pub fn test_top_up_key(user_id: i64, nonce: &str) -> String {
    format!("test-top-up:{user_id}:{nonce}")
}

/// The key of the charge of one billed hour of a rental (`docs/billing.md`): `hour_ms` is the
/// hour's start (epoch ms), so each (rental, hour) is paid at most once, whoever bills it.
pub fn rent_key(rental_id: i64, hour_ms: i64) -> String {
    format!("rent:{rental_id}:{hour_ms}")
}

/// The key of a rental's one-off setup fee, paid with its first hour.
pub fn rent_setup_key(rental_id: i64) -> String {
    format!("rent:{rental_id}:setup")
}

/// The key of an admin's credit of one billed hour (at most once per hour).
pub fn rent_credit_key(rental_id: i64, hour_ms: i64) -> String {
    format!("rent-credit:{rental_id}:{hour_ms}")
}

/// The key of the demo customer's seeded balance (once per demo database).
pub const DEMO_SEED_KEY: &str = "demo:seed-balance";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_cause_and_never_collide_across_kinds() {
        let keys = [
            charge_key(7),
            refund_key(7),
            refund_top_up_key(7, 400_000),
            payment_key(7),
            admin_key("7"),
            test_top_up_key(7, "ab"),
            DEMO_SEED_KEY.to_string(),
            rent_key(7, 1_773_100_800_000),
            rent_credit_key(7, 1_773_100_800_000),
        ];
        assert_eq!(keys[0], "order:7:charge");
        assert_eq!(keys[2], "order:7:refund:400000");
        assert_eq!(keys[7], "rent:7:1773100800000");
        let mut unique = keys.to_vec();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
    }
}
