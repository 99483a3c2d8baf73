//! The SMM API v2 wire format (`docs/smm-api-v2.md`), shared by our reseller server, the provider
//! client and the simulator: "emit strictly, accept leniently".
//!
//! - [`Params`] merges the query string and a body (form, multipart fields or JSON object) into one
//!   parameter map the way PHP's `$_REQUEST` does (body wins, spec §7.2), and reads optional
//!   parameters treating `""`, `"undefined"` and `"null"` as absent.
//! - [`Action`] is the normalised `action` (trimmed, case-insensitive).
//! - [`id_list`] parses `orders=1, 2,3,` style lists (at most [`MAX_IDS`]).
//! - The `err*` constants are the PerfectPanel error texts of spec §6.4.
//! - [`StatusItem`] and friends serialise the canonical response shapes of spec §7.1.

#[cfg(feature = "axum")]
pub mod http;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use smmd_domain::service::OrderInput;

/// Most ids one `orders` / `refills` list may carry (spec §2.2).
pub const MAX_IDS: usize = 100;

pub const ERR_INVALID_KEY: &str = "Invalid API key";
pub const ERR_INCORRECT_REQUEST: &str = "Incorrect request";
pub const ERR_INCORRECT_ORDER: &str = "Incorrect order ID";
pub const ERR_REFILL_NOT_FOUND: &str = "Refill not found";
pub const ERR_TOO_MANY_IDS: &str = "Too many IDs: at most 100 per request";
/// The body of an HTTP 429 (spec §2.6: panels that publish limits answer so).
pub const ERR_TOO_MANY_REQUESTS: &str = "Too many requests";

/// The actions of API v2 (spec §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Services,
    Add,
    Status,
    Refill,
    RefillStatus,
    Cancel,
    Balance,
}

impl Action {
    /// Trimmed, case-insensitive; `None` for anything else (→ `Incorrect request`).
    pub fn parse(text: &str) -> Option<Action> {
        match text.trim().to_ascii_lowercase().as_str() {
            "services" => Some(Action::Services),
            "add" => Some(Action::Add),
            "status" => Some(Action::Status),
            "refill" => Some(Action::Refill),
            "refill_status" => Some(Action::RefillStatus),
            "cancel" => Some(Action::Cancel),
            "balance" => Some(Action::Balance),
            _ => None,
        }
    }
}

/// Request parameters after merging every source. Keys are lower-cased; `name[]` keys (PHP
/// arrays) are joined into `name` with commas.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(BTreeMap<String, String>);

/// Why a request body could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("the request body is not valid form data")]
    Form,
    #[error("the request body is not a JSON object")]
    Json,
}

impl Params {
    /// Merges `sources` in order; a later source wins for the same key.
    pub fn merge(sources: impl IntoIterator<Item = Vec<(String, String)>>) -> Params {
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        for pairs in sources {
            let mut arrays: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (k, v) in pairs {
                let key = k.trim().to_ascii_lowercase();
                if let Some(base) = key.strip_suffix("[]") {
                    arrays.entry(base.to_string()).or_default().push(v);
                } else {
                    map.insert(key, v);
                }
            }
            for (k, vs) in arrays {
                map.insert(k, vs.join(","));
            }
        }
        Params(map)
    }

    /// Pairs of a query string or `application/x-www-form-urlencoded` body (`+` is a space).
    pub fn form_pairs(text: &[u8]) -> Result<Vec<(String, String)>, ParamsError> {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(text).map_err(|_| ParamsError::Form)
    }

    /// Pairs of a JSON object body: strings as they are, numbers as their literal text, booleans
    /// as `1`/`0`, arrays joined with commas (lists of ids) or newlines (lists of strings),
    /// `null` dropped.
    pub fn json_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ParamsError> {
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
            return Err(ParamsError::Json);
        };
        let scalar = |v: &Value| -> Option<String> {
            match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
                _ => None,
            }
        };
        let mut out = Vec::with_capacity(obj.len());
        for (k, v) in &obj {
            let text = match v {
                Value::Array(items) => {
                    let parts: Vec<String> = items.iter().filter_map(scalar).collect();
                    let sep = if items.iter().all(|i| i.is_number()) {
                        ","
                    } else {
                        "\n"
                    };
                    Some(parts.join(sep))
                }
                other => scalar(other),
            };
            if let Some(t) = text {
                out.push((k.clone(), t));
            }
        }
        Ok(out)
    }

    /// The raw value of `name`, if present at all.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// An optional parameter: trimmed; `""`, `"undefined"` and `"null"` count as absent (§7.2).
    pub fn get(&self, name: &str) -> Option<&str> {
        let v = self.0.get(name)?.trim();
        if v.is_empty() || v.eq_ignore_ascii_case("undefined") || v.eq_ignore_ascii_case("null") {
            None
        } else {
            Some(v)
        }
    }

    /// Like [`Params::get`] but keeps inner text untouched (comment lists keep their lines).
    fn get_untrimmed(&self, name: &str) -> Option<String> {
        self.get(name).map(|_| self.0[name].clone())
    }

    /// The order fields of an `add` request.
    pub fn order_input(&self) -> OrderInput {
        let g = |n: &str| self.get(n).map(str::to_string);
        OrderInput {
            link: g("link"),
            quantity: g("quantity"),
            runs: g("runs"),
            interval: g("interval"),
            comments: self.get_untrimmed("comments"),
            usernames: self.get_untrimmed("usernames"),
            hashtags: self.get_untrimmed("hashtags"),
            hashtag: g("hashtag"),
            username: g("username"),
            media: g("media"),
            answer_number: g("answer_number"),
            groups: self.get_untrimmed("groups"),
            min: g("min"),
            max: g("max"),
            posts: g("posts"),
            old_posts: g("old_posts"),
            delay: g("delay"),
            expiry: g("expiry"),
            country: g("country"),
            device: g("device"),
            type_of_traffic: g("type_of_traffic"),
            google_keyword: g("google_keyword"),
            referring_url: g("referring_url"),
        }
    }
}

/// One requested id: the token as sent (the key of a multi-status answer) and its numeric value
/// if it is a positive integer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdToken {
    pub text: String,
    pub id: Option<i64>,
}

impl IdToken {
    /// The id as JSON: an integer when numeric (canonical), else the token text.
    pub fn json(&self) -> Value {
        match self.id {
            Some(i) => Value::from(i),
            None => Value::from(self.text.clone()),
        }
    }
}

/// Parses a comma-separated id list: spaces, empty items and duplicates tolerated (the first
/// occurrence wins). More than [`MAX_IDS`] distinct ids is an error.
pub fn id_list(text: &str) -> Result<Vec<IdToken>, &'static str> {
    let mut out: Vec<IdToken> = Vec::new();
    for part in text.split(',') {
        let t = part.trim();
        if t.is_empty() || out.iter().any(|o| o.text == t) {
            continue;
        }
        let id = t
            .parse::<i64>()
            .ok()
            .filter(|i| *i > 0 && t.bytes().all(|b| b.is_ascii_digit()));
        out.push(IdToken {
            text: t.to_string(),
            id,
        });
        if out.len() > MAX_IDS {
            return Err(ERR_TOO_MANY_IDS);
        }
    }
    Ok(out)
}

/// `{"error": "…"}`: the only member of every error object (spec §7.1).
pub fn error_value(message: &str) -> Value {
    serde_json::json!({ "error": message })
}

/// One order in `action=status` (spec §4.3): all five fields are JSON strings. The numbers
/// are kept as numbers and written as their decimal text (`charge` in the panel currency's
/// units, `"0.090000"` style), so an answer is serialised without a `String` per field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StatusItem<'a> {
    #[serde(serialize_with = "as_text")]
    pub charge: smmd_domain::Money,
    #[serde(serialize_with = "as_text")]
    pub start_count: i64,
    pub status: &'a str,
    #[serde(serialize_with = "as_text")]
    pub remains: i64,
    pub currency: &'a str,
}

/// `{"balance": "…", "currency": "…"}` of `action=balance` (spec §4.2): the balance as decimal
/// text in the panel currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BalanceItem<'a> {
    #[serde(serialize_with = "as_text")]
    pub balance: smmd_domain::Money,
    pub currency: &'a str,
}

/// Writes a value as a JSON string of its `Display` text (API v2 sends numbers as strings).
fn as_text<T: std::fmt::Display, S: serde::Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// One service in `action=services` (spec §4.1, canonical types of §7.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceItem {
    pub service: i64,
    pub name: String,
    #[serde(rename = "type")]
    pub service_type: String,
    pub category: String,
    pub rate: String,
    pub min: String,
    pub max: String,
    pub refill: bool,
    pub cancel: bool,
    pub dripfeed: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn status_and_balance_serialise_every_field_as_a_string_in_spec_order() {
        let item = StatusItem {
            charge: smmd_domain::Money::from_micros(278_190),
            start_count: 3572,
            status: "Partial",
            remains: -5,
            currency: "USD",
        };
        let text = serde_json::to_string(&item).expect("json");
        assert_eq!(
            text,
            r#"{"charge":"0.27819","start_count":"3572","status":"Partial","remains":"-5","currency":"USD"}"#
        );
        // The same bytes as the tree the server built before (`preserve_order`).
        let tree = serde_json::json!({
            "charge": "0.27819", "start_count": "3572", "status": "Partial",
            "remains": "-5", "currency": "USD"
        });
        assert_eq!(text, serde_json::to_string(&tree).expect("json"));
        let balance = BalanceItem {
            balance: smmd_domain::Money::from_micros(-1_500_000),
            currency: "EUR",
        };
        assert_eq!(
            serde_json::to_string(&balance).expect("json"),
            r#"{"balance":"-1.50","currency":"EUR"}"#
        );
    }

    #[test]
    fn body_wins_over_query_and_keys_are_case_insensitive() {
        let p = Params::merge([
            pairs(&[("key", "Q"), ("Action", "status")]),
            pairs(&[("key", "B")]),
        ]);
        assert_eq!((p.get("key"), p.get("action")), (Some("B"), Some("status")));
    }

    #[test]
    fn absent_spellings_are_absent() {
        let p = Params::merge([pairs(&[
            ("runs", "undefined"),
            ("interval", " NULL "),
            ("link", " "),
            ("quantity", " 100 "),
        ])]);
        assert_eq!(
            (
                p.get("runs"),
                p.get("interval"),
                p.get("link"),
                p.get("quantity")
            ),
            (None, None, None, Some("100"))
        );
    }

    #[test]
    fn form_decoding_turns_plus_into_space_and_keeps_newlines() {
        let p = Params::merge([Params::form_pairs(b"comments=good+pic%0Agreat+photo%0D%0A%3A%29%0A%0A&link=https%3A%2F%2Fx%2F%3Fa%3D1%26b%3D2")
            .expect("form")]);
        assert_eq!(
            p.order_input().comments.as_deref(),
            Some("good pic\ngreat photo\r\n:)\n\n")
        );
        assert_eq!(p.get("link"), Some("https://x/?a=1&b=2"));
    }

    #[test]
    fn json_bodies_stringify_numbers_and_join_arrays() {
        let p = Params::merge([Params::json_pairs(br#"{"key":"K","service":1,"quantity":"100","orders":[1,2],"comments":["a","b"],"x":null,"f":true}"#)
            .expect("json")]);
        assert_eq!(
            (
                p.get("service"),
                p.get("orders"),
                p.get("comments"),
                p.get("x"),
                p.get("f")
            ),
            (Some("1"), Some("1,2"), Some("a\nb"), None, Some("1"))
        );
        assert!(Params::json_pairs(b"[1,2]").is_err());
        assert!(Params::json_pairs(b"{bad").is_err());
    }

    #[test]
    fn php_array_keys_are_joined() {
        let p = Params::merge([Params::form_pairs(b"orders[]=1&orders[]=2").expect("form")]);
        assert_eq!(p.get("orders"), Some("1,2"));
    }

    #[test]
    fn actions_are_trimmed_and_case_insensitive() {
        assert_eq!(Action::parse(" Refill_Status "), Some(Action::RefillStatus));
        assert_eq!(Action::parse("add-order"), None);
        assert_eq!(Action::parse(""), None);
    }

    #[test]
    fn id_lists_tolerate_spaces_trailing_commas_and_duplicates() {
        let ids = id_list("23501, 100,,23501, abc,").expect("list");
        assert_eq!(
            ids.iter().map(|t| t.text.as_str()).collect::<Vec<_>>(),
            vec!["23501", "100", "abc"]
        );
        assert_eq!(
            ids.iter().map(|t| t.id).collect::<Vec<_>>(),
            vec![Some(23501), Some(100), None]
        );
        assert_eq!(
            id_list("-5,+7,0")
                .expect("list")
                .iter()
                .map(|t| t.id)
                .collect::<Vec<_>>(),
            vec![None, None, None]
        );
        let many = (1..=101)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(id_list(&many), Err(ERR_TOO_MANY_IDS));
        let hundred = (1..=100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(id_list(&hundred).map(|v| v.len()), Ok(100));
    }

    proptest! {
        #[test]
        fn any_form_body_decodes_or_errors_without_panicking(body in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Params::form_pairs(&body).map(|p| Params::merge([p]).order_input());
            let _ = Params::json_pairs(&body);
        }
    }
}
