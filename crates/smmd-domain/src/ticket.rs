//! Support tickets (issue 18): what a ticket is about, its states, and the one rule that moves
//! it. A customer opens a ticket (`open`); an admin's reply hands it back to the customer
//! (`waiting`); the customer's message makes it `open` again, even after it was closed; either
//! side closes it; an admin may reopen a closed one. Internal notes (admins only) never change
//! the state and are never shown to the customer.

/// What a ticket is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TicketTopic {
    Order,
    Payment,
    Refill,
    Other,
}

impl TicketTopic {
    pub const ALL: [TicketTopic; 4] = [
        TicketTopic::Order,
        TicketTopic::Payment,
        TicketTopic::Refill,
        TicketTopic::Other,
    ];

    /// Stored text: `order`, `payment`, `refill`, `other`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TicketTopic::Order => "order",
            TicketTopic::Payment => "payment",
            TicketTopic::Refill => "refill",
            TicketTopic::Other => "other",
        }
    }

    /// The topic's name on pages.
    pub const fn title(self) -> &'static str {
        match self {
            TicketTopic::Order => "An order",
            TicketTopic::Payment => "A payment",
            TicketTopic::Refill => "A refill",
            TicketTopic::Other => "Something else",
        }
    }

    pub fn parse(text: &str) -> Option<TicketTopic> {
        TicketTopic::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// Where a ticket stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    /// Waiting for an admin.
    Open,
    /// Answered: waiting for the customer.
    Waiting,
    Closed,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 3] = [
        TicketStatus::Open,
        TicketStatus::Waiting,
        TicketStatus::Closed,
    ];

    /// Stored text: `open`, `waiting`, `closed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Waiting => "waiting",
            TicketStatus::Closed => "closed",
        }
    }

    /// The state's name on pages.
    pub const fn title(self) -> &'static str {
        match self {
            TicketStatus::Open => "Open",
            TicketStatus::Waiting => "Waiting for customer",
            TicketStatus::Closed => "Closed",
        }
    }

    pub fn parse(text: &str) -> Option<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What someone does to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketAction {
    /// The customer writes (a new message, or the first one).
    CustomerMessage,
    /// An admin answers the customer.
    AdminReply,
    /// An admin writes a note only admins see.
    AdminNote,
    /// The customer or an admin closes it.
    Close,
    /// An admin opens a closed ticket again.
    Reopen,
}

/// The state after `action` on a ticket in `from`, or `None` when the action does not apply
/// (closing a closed ticket, reopening one that is not closed).
pub fn next_status(from: TicketStatus, action: TicketAction) -> Option<TicketStatus> {
    use TicketAction as A;
    use TicketStatus as S;
    match (from, action) {
        (_, A::CustomerMessage) => Some(S::Open),
        (_, A::AdminReply) => Some(S::Waiting),
        (s, A::AdminNote) => Some(s),
        (S::Open | S::Waiting, A::Close) => Some(S::Closed),
        (S::Closed, A::Reopen) => Some(S::Open),
        (S::Closed, A::Close) | (S::Open | S::Waiting, A::Reopen) => None,
    }
}

/// Most characters of a ticket's subject.
pub const MAX_SUBJECT: usize = 120;
/// Most characters of one message.
pub const MAX_BODY: usize = 5_000;
/// Most orders one ticket names.
pub const MAX_ORDERS: usize = 20;

/// The order ids in `text` (`"123, #124 125"`: numbers separated by commas or spaces, each
/// optionally after `#`), in order, without repeats.
///
/// Errors: what is wrong, for the customer (`"abc" is not an order id`, more than
/// [`MAX_ORDERS`]).
pub fn parse_order_ids(text: &str) -> Result<Vec<i64>, String> {
    let mut ids = Vec::new();
    for word in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let id = word
            .trim_start_matches('#')
            .parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| format!("{word:?} is not an order id"))?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.len() > MAX_ORDERS {
        return Err(format!("A ticket names at most {MAX_ORDERS} orders"));
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_moves_tickets_between_customer_and_admin() {
        use TicketAction as A;
        use TicketStatus as S;
        assert_eq!(next_status(S::Open, A::AdminReply), Some(S::Waiting));
        assert_eq!(next_status(S::Waiting, A::CustomerMessage), Some(S::Open));
        assert_eq!(next_status(S::Closed, A::CustomerMessage), Some(S::Open));
        assert_eq!(next_status(S::Waiting, A::AdminNote), Some(S::Waiting));
        assert_eq!(next_status(S::Closed, A::AdminNote), Some(S::Closed));
        assert_eq!(next_status(S::Waiting, A::Close), Some(S::Closed));
        assert_eq!(next_status(S::Closed, A::Close), None);
        assert_eq!(next_status(S::Closed, A::Reopen), Some(S::Open));
        assert_eq!(next_status(S::Open, A::Reopen), None);
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
        }
        for t in TicketTopic::ALL {
            assert_eq!(TicketTopic::parse(t.as_str()), Some(t));
        }
        assert_eq!(TicketTopic::parse("spam"), None);
    }

    #[test]
    fn order_ids_are_read_from_what_people_type() {
        assert_eq!(
            parse_order_ids("123, #124 125  123"),
            Ok(vec![123, 124, 125])
        );
        assert_eq!(parse_order_ids(""), Ok(vec![]));
        assert!(parse_order_ids("12 abc")
            .expect_err("a word")
            .contains("\"abc\""));
        assert!(parse_order_ids("0").is_err());
        assert!(parse_order_ids("-5").is_err());
        let many = (1..=21)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(parse_order_ids(&many)
            .expect_err("too many")
            .contains("at most 20"));
    }
}
