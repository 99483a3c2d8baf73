//! Who acts, and why: the [`Actor`] of an admin use case, the reason rule every admin money and
//! order action shares, and the audit line each writes in the transaction of its change.

use smmd_domain::UserId;
use smmd_store::{NewAudit, User};

use crate::error::{ErrorCode, Refusal};

/// Most characters in an admin reason.
pub const MAX_REASON: usize = 500;

/// The admin performing a use case, as the audit log records them.
#[derive(Clone, Debug)]
pub struct Actor {
    pub id: Option<UserId>,
    /// The admin's e-mail (or `cli`), kept on the audit line even if the account changes later.
    pub name: String,
}

impl Actor {
    /// An admin account acting through REST or the pages.
    pub fn admin(user: &User) -> Actor {
        Actor {
            id: Some(user.id),
            name: user.email.clone(),
        }
    }

    /// The operator at the shell (`smmd user …`, `smmd orders …`): no account.
    pub fn cli() -> Actor {
        Actor {
            id: None,
            name: "cli".to_string(),
        }
    }

    /// The audit line of `action` (`order.refund`) on `subject` (`order:42`) at `now` (epoch
    /// ms), written by the store in the same transaction as the change.
    pub fn audit(&self, action: &str, subject: String, detail: String, now: i64) -> NewAudit {
        NewAudit {
            actor_id: self.id,
            actor: self.name.clone(),
            action: action.to_string(),
            subject,
            detail,
            now,
        }
    }
}

/// An admin reason: trimmed, 1 to [`MAX_REASON`] characters. The one rule for REST, the pages
/// and the CLI.
pub fn reason(text: &str) -> Result<&str, Refusal> {
    let r = text.trim();
    if r.is_empty() || r.chars().count() > MAX_REASON {
        return Err(Refusal::new(
            ErrorCode::ReasonRequired,
            "Give a reason of 1 to 500 characters",
        ));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_one_to_five_hundred_characters_after_trimming() {
        assert_eq!(reason("  typo in link "), Ok("typo in link"));
        assert_eq!(reason(&"ü".repeat(500)).map(|r| r.chars().count()), Ok(500));
        for bad in ["", "   ", &"a".repeat(501)] {
            assert_eq!(
                reason(bad).map_err(|e| e.code),
                Err(ErrorCode::ReasonRequired)
            );
        }
    }
}
