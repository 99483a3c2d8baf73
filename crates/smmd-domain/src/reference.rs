//! An order's public reference: the string the REST API (`/api/smm/orders/{reference}`), the
//! pages and the e-mails name an order by, beside its numeric id.
//!
//! Since migration 0036 a reference is the order's id as 9 (or more) lower-case hex digits,
//! zero-padded, followed by 4 random hex digits: `00000004d` + `a3f1` for order #77. Two rules
//! follow from that shape, and both are why it replaced 12 random hex digits:
//!
//! - **Unique by construction.** Two orders never share a reference (their ids differ), so a
//!   placement can never fail on the unique index `orders_reference`; 12 random digits
//!   collided with probability ~n²/2⁴⁹ over n orders, and a collision failed that `add`.
//!   References made before (exactly 12 digits) can never equal one made now (13 or more).
//! - **In id order.** For ids below 2³⁶ the references of consecutive orders sort next to
//!   each other, so the index takes each new one on its last page instead of on a random page
//!   of its own: one WAL page less per order on SQLite (issue 20, stop 54).
//!
//! The 4 random digits only keep a reference from being spelled out from an id; whoever asks
//! for an order by reference must still own it (another user's is "not found").

/// Hex digits of the id, at least (ids below 2³⁶ ≈ 6.9 × 10¹⁰ fill exactly these).
pub const ID_DIGITS: usize = 9;

/// Random hex digits after the id.
pub const TAIL_DIGITS: usize = 4;

/// The reference of order `id` with the random `tail`: `format!("{id:09x}{tail:04x}")`,
/// 13 characters for ids below 2³⁶, longer past them. (The PostgreSQL batch function of
/// migration 0036 builds the same string from the same two values; a store test compares
/// them.)
pub fn reference(id: i64, tail: u16) -> String {
    format!("{id:0w$x}{tail:04x}", w = ID_DIGITS)
}

/// Whether `text` has the shape of a reference, made before migration 0036 (12 hex digits)
/// or since (13 to 24): what an interface checks before it looks one up, so that other text
/// (an order id, a link) is never sent to the store as a reference. Case is not checked; the
/// store's references are lower-case.
pub fn is_reference(text: &str) -> bool {
    // An `i64` id takes at most 16 hex digits.
    (12..=16 + TAIL_DIGITS).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_is_the_id_in_hex_then_the_tail() {
        assert_eq!(reference(77, 0xa3f1), "00000004da3f1");
        assert_eq!(reference(1, 0), "0000000010000");
        assert_eq!(reference(0xf_ffff_ffff, 0xffff), "fffffffffffff");
        // Past 2³⁶ the id takes more digits; the reference stays unique.
        assert_eq!(reference(0x10_0000_0000, 7), "10000000000007");
    }

    #[test]
    fn references_sort_in_id_order_and_never_look_like_old_ones() {
        let mut last = String::new();
        for id in (1..200_000)
            .step_by(997)
            .chain([0xf_ffff_fff0, 0xf_ffff_ffff])
        {
            for tail in [0, 0x7fff, 0xffff] {
                let r = reference(id, tail);
                assert_eq!(r.len(), 13, "{r}");
                assert!(is_reference(&r));
                if tail == 0 {
                    assert!(r > last, "{r} after {last}");
                }
                last = r;
            }
        }
    }

    #[test]
    fn distinct_ids_never_share_a_reference_whatever_their_tails() {
        // Tails that scramble the low bits, so that only the id part can keep them apart.
        let refs: std::collections::HashSet<String> = (1..70_000)
            .map(|id: i64| reference(id, (id as u16).wrapping_mul(40_503)))
            .collect();
        assert_eq!(refs.len(), 69_999);
    }

    #[test]
    fn the_shape_check_takes_old_and_new_references_only() {
        assert!(is_reference("a1b2c3d4e5f6"));
        assert!(is_reference("A1B2C3D4E5F6"));
        assert!(is_reference(&reference(123, 9)));
        assert!(is_reference(&reference(i64::MAX, 9)));
        for bad in [
            "",
            "123",
            "a1b2c3d4e5f",
            "a1b2c3d4e5fg",
            "00000004d a3f1",
            "0x000004da3f1",
        ] {
            assert!(!is_reference(bad), "{bad}");
        }
        assert!(!is_reference(&"a".repeat(21)));
    }
}
