//! Payout methods (`docs/affiliates.md`, Payout methods and transfer): the kinds an affiliate
//! may submit, what their details must look like, and how they are masked in every list (the
//! whole details are shown only to the admin deciding a payout and in its CSV).

/// How an affiliate is paid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MethodKind {
    /// Binance Pay: an e-mail or a Binance Pay id (digits).
    BinancePay,
    /// A crypto wallet address (letters and digits, 20 to 128).
    Crypto,
    /// A PayPal e-mail.
    Paypal,
    /// Bank details (IBAN, account, name), free text.
    Bank,
    /// Anything else the owner accepts, free text.
    Other,
}

impl MethodKind {
    pub const ALL: [MethodKind; 5] = [
        MethodKind::BinancePay,
        MethodKind::Crypto,
        MethodKind::Paypal,
        MethodKind::Bank,
        MethodKind::Other,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            MethodKind::BinancePay => "binance_pay",
            MethodKind::Crypto => "crypto",
            MethodKind::Paypal => "paypal",
            MethodKind::Bank => "bank",
            MethodKind::Other => "other",
        }
    }

    /// A name for pages.
    pub const fn title(self) -> &'static str {
        match self {
            MethodKind::BinancePay => "Binance Pay",
            MethodKind::Crypto => "Crypto address",
            MethodKind::Paypal => "PayPal",
            MethodKind::Bank => "Bank transfer",
            MethodKind::Other => "Other",
        }
    }

    pub fn parse(text: &str) -> Option<MethodKind> {
        MethodKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// The details, trimmed, when they fit the kind; otherwise why not.
    pub fn validate(self, details: &str) -> Result<String, String> {
        let d = details.trim();
        if d.is_empty() {
            return Err("payout details are required".into());
        }
        if d.chars().any(|c| c.is_control() && c != '\n') {
            return Err("payout details must not contain control characters".into());
        }
        let email = |d: &str| {
            let ok = d.len() <= 254
                && !d.contains(char::is_whitespace)
                && d.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains('@')
                });
            ok.then(|| d.to_string())
        };
        match self {
            MethodKind::Paypal => {
                email(d).ok_or_else(|| "PayPal needs the account's e-mail address".into())
            }
            MethodKind::BinancePay => email(d)
                .or_else(|| {
                    ((6..=20).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| d.to_string())
                })
                .ok_or_else(|| "Binance Pay needs an e-mail address or a Pay id (digits)".into()),
            MethodKind::Crypto => {
                let ok = (20..=128).contains(&d.len())
                    && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b':');
                ok.then(|| d.to_string())
                    .ok_or_else(|| "a crypto address is 20 to 128 letters and digits".to_string())
            }
            MethodKind::Bank | MethodKind::Other => {
                if d.chars().count() > 500 {
                    Err("payout details are at most 500 characters".into())
                } else {
                    Ok(d.to_string())
                }
            }
        }
    }
}

/// `details` masked for lists: an e-mail keeps its first two letters and its domain
/// (`pa***@gmail.com`); anything else keeps its last four characters (`****1234`).
pub fn mask(details: &str) -> String {
    let d = details.trim();
    if let Some((local, domain)) = d.split_once('@') {
        let head: String = local.chars().take(2).collect();
        return format!("{head}***@{domain}");
    }
    let chars: Vec<char> = d.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() <= 4 {
        return "****".into();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("****{tail}")
}

/// Whether an affiliate who last submitted a method at `last_change_ms` may submit another at
/// `now_ms`: one change per `cool_down_days`, so a taken-over account cannot redirect a payout
/// in a hurry. `Err(until_ms)` names when the next change is allowed.
pub fn change_allowed(
    last_change_ms: Option<i64>,
    now_ms: i64,
    cool_down_days: i64,
) -> Result<(), i64> {
    let Some(last) = last_change_ms else {
        return Ok(());
    };
    let until = last.saturating_add(cool_down_days.saturating_mul(crate::clock::DAY_MS));
    if now_ms < until {
        Err(until)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_checked_per_kind() {
        assert_eq!(
            MethodKind::Paypal.validate("  pay@example.com "),
            Ok("pay@example.com".into())
        );
        assert!(MethodKind::Paypal.validate("not an email").is_err());
        assert!(MethodKind::Paypal.validate("a@b").is_err());
        assert!(MethodKind::BinancePay.validate("123456789").is_ok());
        assert!(MethodKind::BinancePay.validate("12ab").is_err());
        assert!(MethodKind::Crypto
            .validate("TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE")
            .is_ok());
        assert!(MethodKind::Crypto.validate("short").is_err());
        assert!(MethodKind::Crypto
            .validate("TQn9Y2khEsLJW1ChVWF MSMeRDow5KcbLSE")
            .is_err());
        assert!(MethodKind::Bank.validate(&"x".repeat(501)).is_err());
        assert!(MethodKind::Other.validate("   ").is_err());
        assert!(MethodKind::Other.validate("cash\u{0007}").is_err());
        assert_eq!(MethodKind::parse("paypal"), Some(MethodKind::Paypal));
        assert_eq!(MethodKind::parse("venmo"), None);
    }

    #[test]
    fn one_change_per_cool_down() {
        let day = crate::clock::DAY_MS;
        assert_eq!(change_allowed(None, 0, 7), Ok(()));
        assert_eq!(change_allowed(Some(0), 7 * day - 1, 7), Err(7 * day));
        assert_eq!(change_allowed(Some(0), 7 * day, 7), Ok(()));
        assert_eq!(change_allowed(Some(5), 5, 0), Ok(()));
    }

    #[test]
    fn lists_never_show_whole_details() {
        assert_eq!(mask("paul@gmail.com"), "pa***@gmail.com");
        assert_eq!(mask("TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"), "****bLSE");
        assert_eq!(mask("DE89 3704 0044 0532 0130 00"), "****3000");
        assert_eq!(mask("abc"), "****");
        assert!(!mask("123456789").contains("12345"));
    }
}
