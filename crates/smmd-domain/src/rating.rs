//! Service ratings (issue 18): a customer rates a service once per order of theirs that ended
//! with a delivery (Completed or Partial), 1 to 5 stars with an optional comment. Stars alone
//! count at once; a comment waits for an admin's approval before the rating shows or counts, and
//! a rejected one never does. Averages are shown to one decimal, computed in integers.

/// Longest comment, in characters.
pub const COMMENT_MAX: usize = 500;

/// Where a rating stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RatingStatus {
    /// Has a comment an admin has not looked at: neither shown nor counted.
    Pending,
    /// Shown and counted.
    Approved,
    /// Neither shown nor counted, for good.
    Rejected,
}

impl RatingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RatingStatus::Pending => "pending",
            RatingStatus::Approved => "approved",
            RatingStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<RatingStatus> {
        [
            RatingStatus::Pending,
            RatingStatus::Approved,
            RatingStatus::Rejected,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Why a rating is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("A rating is 1 to 5 stars")]
    Stars,
    #[error("A comment has at most 500 characters")]
    Comment,
    #[error("Only an order that was delivered (Completed or Partial) can be rated")]
    NotDelivered,
    #[error("This order is already rated")]
    AlreadyRated,
}

/// The stars and the trimmed comment of a new rating, with the status it starts in.
pub fn check_rating(stars: i64, comment: &str) -> Result<(i64, String, RatingStatus), RatingError> {
    if !(1..=5).contains(&stars) {
        return Err(RatingError::Stars);
    }
    let c = comment.trim();
    if c.chars().count() > COMMENT_MAX || c.chars().any(|ch| ch.is_control() && ch != '\n') {
        return Err(RatingError::Comment);
    }
    let status = if c.is_empty() {
        RatingStatus::Approved
    } else {
        RatingStatus::Pending
    };
    Ok((stars, c.to_string(), status))
}

/// Whether an order in `status` may be rated.
pub fn can_rate(status: crate::order::OrderStatus) -> bool {
    use crate::order::OrderStatus as S;
    matches!(status, S::Completed | S::Partial)
}

/// The average of `count` ratings totalling `sum` stars, to one decimal, half up ("4.8");
/// `None` without ratings.
pub fn average(sum: i64, count: i64) -> Option<String> {
    if count <= 0 {
        return None;
    }
    let tenths = (sum * 20 + count) / (count * 2);
    Some(format!("{}.{}", tenths / 10, tenths % 10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::OrderStatus;

    #[test]
    fn ratings_are_one_to_five_and_comments_wait_for_an_admin() {
        assert_eq!(
            check_rating(5, "  "),
            Ok((5, String::new(), RatingStatus::Approved))
        );
        assert_eq!(
            check_rating(1, " slow \n"),
            Ok((1, "slow".into(), RatingStatus::Pending))
        );
        for bad in [0, 6, -1] {
            assert_eq!(check_rating(bad, ""), Err(RatingError::Stars));
        }
        assert_eq!(
            check_rating(3, &"é".repeat(COMMENT_MAX + 1)),
            Err(RatingError::Comment)
        );
        assert_eq!(check_rating(3, "a\u{0}b"), Err(RatingError::Comment));
        assert!(can_rate(OrderStatus::Completed) && can_rate(OrderStatus::Partial));
        assert!(!can_rate(OrderStatus::Canceled) && !can_rate(OrderStatus::InProgress));
    }

    #[test]
    fn averages_round_half_up_to_one_decimal() {
        assert_eq!(average(0, 0), None);
        assert_eq!(average(5, 1).as_deref(), Some("5.0"));
        assert_eq!(average(24, 5).as_deref(), Some("4.8"));
        // 4.75 → 4.8, 4.25 → 4.3, 14/3 = 4.666… → 4.7
        assert_eq!(average(19, 4).as_deref(), Some("4.8"));
        assert_eq!(average(17, 4).as_deref(), Some("4.3"));
        assert_eq!(average(14, 3).as_deref(), Some("4.7"));
        assert_eq!(average(1, 3).as_deref(), Some("0.3"));
    }
}
