//! Services and order placement rules: the service types of SMM API v2 (spec §4.1), which `add`
//! parameters each type takes (spec §4.2), and [`validate_order`], the one function every
//! interface calls to turn raw order input into a priced [`OrderSpec`] or an [`OrderError`].
//!
//! Error texts are the PerfectPanel phrasings of spec §6.4, because reseller software matches
//! them; the same texts are shown on our own pages.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// The `type` of a service, selecting its `add` parameter set (spec §4.1, §4.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ServiceType {
    Default,
    Package,
    CustomComments,
    CustomCommentsPackage,
    Mentions,
    MentionsWithHashtags,
    MentionsCustomList,
    MentionsHashtag,
    MentionsUserFollowers,
    MentionsMediaLikers,
    CommentLikes,
    CommentReplies,
    Poll,
    InvitesFromGroups,
    Subscriptions,
    WebTraffic,
}

impl ServiceType {
    pub const ALL: [ServiceType; 16] = [
        ServiceType::Default,
        ServiceType::Package,
        ServiceType::CustomComments,
        ServiceType::CustomCommentsPackage,
        ServiceType::Mentions,
        ServiceType::MentionsWithHashtags,
        ServiceType::MentionsCustomList,
        ServiceType::MentionsHashtag,
        ServiceType::MentionsUserFollowers,
        ServiceType::MentionsMediaLikers,
        ServiceType::CommentLikes,
        ServiceType::CommentReplies,
        ServiceType::Poll,
        ServiceType::InvitesFromGroups,
        ServiceType::Subscriptions,
        ServiceType::WebTraffic,
    ];

    /// The canonical wire spelling (`"Custom Comments"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::Default => "Default",
            ServiceType::Package => "Package",
            ServiceType::CustomComments => "Custom Comments",
            ServiceType::CustomCommentsPackage => "Custom Comments Package",
            ServiceType::Mentions => "Mentions",
            ServiceType::MentionsWithHashtags => "Mentions with Hashtags",
            ServiceType::MentionsCustomList => "Mentions Custom List",
            ServiceType::MentionsHashtag => "Mentions Hashtag",
            ServiceType::MentionsUserFollowers => "Mentions User Followers",
            ServiceType::MentionsMediaLikers => "Mentions Media Likers",
            ServiceType::CommentLikes => "Comment Likes",
            ServiceType::CommentReplies => "Comment Replies",
            ServiceType::Poll => "Poll",
            ServiceType::InvitesFromGroups => "Invites from Groups",
            ServiceType::Subscriptions => "Subscriptions",
            ServiceType::WebTraffic => "Web Traffic",
        }
    }

    /// Tolerant parse (spec §6.3 rule 7): case-insensitive, `_` and `-` read as spaces, runs of
    /// spaces collapsed. `None` for an unknown type.
    pub fn parse(text: &str) -> Option<ServiceType> {
        let norm = normalise_words(text);
        ServiceType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(&norm))
    }

    /// Whether the quantity is chosen by the customer (`quantity` parameter required).
    pub fn takes_quantity(self) -> bool {
        !matches!(
            self,
            ServiceType::Package
                | ServiceType::CustomCommentsPackage
                | ServiceType::CustomComments
                | ServiceType::MentionsCustomList
                | ServiceType::CommentReplies
                | ServiceType::Subscriptions
        )
    }

    /// Whether the order is one package priced at `rate` (not per 1000).
    pub fn is_package(self) -> bool {
        matches!(
            self,
            ServiceType::Package | ServiceType::CustomCommentsPackage
        )
    }

    /// Whether drip-feed (`runs`, `interval`) applies to this type at all.
    pub fn supports_drip_feed(self) -> bool {
        matches!(self, ServiceType::Default | ServiceType::WebTraffic)
    }
}

impl fmt::Display for ServiceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lower-cases nothing; trims, turns `_`/`-` into spaces and collapses whitespace.
pub fn normalise_words(text: &str) -> String {
    text.replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What validation needs to know about a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceRules {
    pub service_type: ServiceType,
    /// Selling price per 1000 units (per package for package types), panel currency.
    pub rate: Money,
    /// Minimum quantity per order (per run for drip-feed).
    pub min: i64,
    /// Maximum quantity per order (per run for drip-feed).
    pub max: i64,
    pub dripfeed: bool,
    /// The service's platform ([`platform_of`]); its links must have the platform's hosts
    /// ([`crate::link`]). `"other"` takes any host.
    pub platform: &'static str,
}

/// Raw order input as every interface delivers it: optional texts, already stripped of the
/// "absent" spellings (`""`, `"undefined"`, `"null"`) by the interface. Field names are the API v2
/// parameter names (spec §2.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderInput {
    pub link: Option<String>,
    pub quantity: Option<String>,
    pub runs: Option<String>,
    /// Minutes between drip-feed runs.
    pub interval: Option<String>,
    pub comments: Option<String>,
    pub usernames: Option<String>,
    pub hashtags: Option<String>,
    pub hashtag: Option<String>,
    pub username: Option<String>,
    pub media: Option<String>,
    pub answer_number: Option<String>,
    pub groups: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub posts: Option<String>,
    pub old_posts: Option<String>,
    /// Minutes, from [`SUBSCRIPTION_DELAYS`].
    pub delay: Option<String>,
    /// `d/m/Y`.
    pub expiry: Option<String>,
    pub country: Option<String>,
    pub device: Option<String>,
    pub type_of_traffic: Option<String>,
    pub google_keyword: Option<String>,
    pub referring_url: Option<String>,
}

/// Type-specific details of an accepted order, stored with it and forwarded to the provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderExtras {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usernames: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hashtag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_number: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_traffic: Option<WebTraffic>,
}

/// Parameters of a Subscriptions order (spec §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub min: i64,
    pub max: i64,
    /// New posts to process; `None` = unlimited, `Some(0)` = old posts only.
    pub posts: Option<i64>,
    pub old_posts: Option<i64>,
    /// Minutes.
    pub delay: i64,
    /// `(day, month, year)`.
    pub expiry: Option<(u32, u32, i32)>,
}

/// Parameters of a Web Traffic order (spec §4.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebTraffic {
    pub country: Option<String>,
    /// 1 Desktop, 2 Android, 3 iOS, 4 mixed mobile, 5 mixed mobile + desktop.
    pub device: Option<i64>,
    /// 1 Google keyword, 2 custom referrer, 3 blank referrer.
    pub type_of_traffic: Option<i64>,
    pub google_keyword: Option<String>,
    pub referring_url: Option<String>,
}

/// A validated, priced order, ready for the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSpec {
    /// The target, stored exactly as given (trimmed). `None` only for Subscriptions.
    pub link: Option<String>,
    /// Units per run (the whole order when not drip-fed; 1 for packages).
    pub quantity: i64,
    /// Drip-feed runs, when drip-fed.
    pub runs: Option<i64>,
    /// Drip-feed interval in minutes, when drip-fed.
    pub interval: Option<i64>,
    /// Units delivered in total: `quantity × runs` for drip-feed (spec §4.2).
    pub total_quantity: i64,
    /// The price: `rate × total_quantity / 1000` rounded up, or `rate` for a package.
    pub charge: Money,
    pub extras: OrderExtras,
}

/// The most drip-feed runs one order may have.
pub const MAX_RUNS: i64 = 1_000;
/// The longest drip-feed interval in minutes (30 days).
pub const MAX_INTERVAL_MINUTES: i64 = 43_200;
/// The longest link we store.
pub const MAX_LINK_LEN: usize = 2_048;
/// Allowed Subscriptions `delay` values in minutes (the union seen across panels, spec §4.2).
pub const SUBSCRIPTION_DELAYS: [i64; 22] = [
    0, 5, 10, 15, 20, 30, 40, 50, 60, 90, 120, 150, 180, 210, 240, 270, 300, 360, 420, 480, 540,
    600,
];

/// Why an order cannot be placed. `Display` is the message shown to the customer and sent in
/// API v2 `{"error": …}` (PerfectPanel phrasing where one exists, spec §6.4).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("Incorrect service ID")]
    IncorrectService,
    #[error("Incorrect link")]
    IncorrectLink,
    /// A link refused with a reason (`Display` starts with "Incorrect link").
    #[error("{0}")]
    Link(#[from] crate::link::LinkError),
    #[error("Incorrect quantity")]
    IncorrectQuantity,
    #[error("Quantity less than minimal {0}")]
    QuantityBelowMin(i64),
    #[error("Quantity more than maximum {0}")]
    QuantityAboveMax(i64),
    #[error("This service does not support drip-feed")]
    DripFeedNotAllowed,
    #[error("Incorrect runs")]
    IncorrectRuns,
    #[error("Incorrect interval")]
    IncorrectInterval,
    /// A required or malformed type-specific parameter, named as on the wire.
    #[error("Incorrect {0}")]
    IncorrectField(&'static str),
    #[error("Not enough funds on balance")]
    InsufficientFunds,
    #[error("You have active order with this link. Please wait until order being completed.")]
    ActiveOrderWithLink,
    #[error("Order amount is too large")]
    AmountTooLarge,
    /// The order would leave less than the rent reserve (`docs/billing.md`, Non-payment).
    #[error("Not enough funds on balance: {keep} stays reserved for {hours} hours of your rentals, and this order would leave {left}")]
    RentReserve {
        keep: crate::Money,
        hours: i64,
        left: crate::Money,
    },
}

/// Validates raw input against a service and prices it. Pure: the caller checks the service is
/// enabled, the balance and the active-link rule, which need the store.
///
/// Quantity rules (spec §4.2, §7.2): `quantity` is read only for types where the customer picks
/// it and ignored otherwise; Custom Comments, Mentions Custom List and Comment Replies take the
/// count of non-empty lines; packages are one unit priced at `rate`; drip-feed (Default and Web
/// Traffic services with drip-feed on) delivers `quantity` per run, `runs × quantity` in total,
/// with `min ≤ quantity ≤ max` checked per run. Subscriptions are prepaid for `max` units on
/// each of `posts + old_posts` posts (at least one post; unlimited subscriptions prepay one).
pub fn validate_order(rules: &ServiceRules, input: &OrderInput) -> Result<OrderSpec, OrderError> {
    let t = rules.service_type;
    let link = if t == ServiceType::Subscriptions {
        // A username (or a profile link) to watch; optional.
        match opt_trim(&input.link) {
            Some(l) if l.chars().any(crate::link::is_forbidden_char) || l.len() > MAX_LINK_LEN => {
                return Err(crate::link::LinkError::Characters.into())
            }
            other => other.map(str::to_string),
        }
    } else {
        // No link at all is API v2's plain "Incorrect link" (spec vector); a link that is
        // there but wrong says what to fix.
        let raw = opt_trim(&input.link).ok_or(OrderError::IncorrectLink)?;
        Some(crate::link::normalize_link(raw, rules.platform)?)
    };
    let mut extras = OrderExtras::default();

    let quantity = match t {
        ServiceType::Package | ServiceType::CustomCommentsPackage => {
            if t == ServiceType::CustomCommentsPackage {
                extras.comments = required_lines(&input.comments, "comments", false)?;
            }
            1
        }
        ServiceType::CustomComments => {
            extras.comments = required_lines(&input.comments, "comments", false)?;
            count(&extras.comments)
        }
        ServiceType::MentionsCustomList => {
            extras.usernames = required_lines(&input.usernames, "usernames", true)?;
            count(&extras.usernames)
        }
        ServiceType::CommentReplies => {
            extras.username = Some(required_text(&input.username, "username")?);
            extras.comments = required_lines(&input.comments, "comments", false)?;
            count(&extras.comments)
        }
        ServiceType::Subscriptions => {
            let sub = parse_subscription(rules, input)?;
            let posts = (sub.posts.unwrap_or(0) + sub.old_posts.unwrap_or(0)).max(1);
            let q = sub
                .max
                .checked_mul(posts)
                .ok_or(OrderError::AmountTooLarge)?;
            extras.subscription = Some(sub);
            q
        }
        _ => {
            let q = parse_count(input.quantity.as_deref()).ok_or(OrderError::IncorrectQuantity)?;
            match t {
                ServiceType::Mentions => {
                    extras.usernames = required_lines(&input.usernames, "usernames", true)?;
                }
                ServiceType::MentionsWithHashtags => {
                    extras.usernames = required_lines(&input.usernames, "usernames", true)?;
                    extras.hashtags = required_lines(&input.hashtags, "hashtags", true)?
                        .into_iter()
                        .map(|h| h.trim_start_matches('#').to_string())
                        .filter(|h| !h.is_empty())
                        .collect();
                    if extras.hashtags.is_empty() {
                        return Err(OrderError::IncorrectField("hashtags"));
                    }
                }
                ServiceType::MentionsHashtag => {
                    let h = required_text(&input.hashtag, "hashtag")?;
                    extras.hashtag = Some(h.trim_start_matches('#').to_string());
                }
                ServiceType::MentionsUserFollowers | ServiceType::CommentLikes => {
                    extras.username = Some(required_text(&input.username, "username")?);
                }
                ServiceType::MentionsMediaLikers => {
                    extras.media = Some(required_text(&input.media, "media")?);
                }
                ServiceType::Poll => {
                    let n = parse_count(input.answer_number.as_deref())
                        .filter(|n| *n >= 1)
                        .ok_or(OrderError::IncorrectField("answer_number"))?;
                    extras.answer_number = Some(n);
                }
                ServiceType::InvitesFromGroups => {
                    extras.groups = required_lines(&input.groups, "groups", false)?;
                }
                ServiceType::WebTraffic => extras.web_traffic = Some(parse_web_traffic(input)?),
                _ => {}
            }
            q
        }
    };

    if !t.is_package() && t != ServiceType::Subscriptions {
        if quantity < rules.min {
            return Err(OrderError::QuantityBelowMin(rules.min));
        }
        if quantity > rules.max {
            return Err(OrderError::QuantityAboveMax(rules.max));
        }
    }

    let (runs, interval) = parse_drip_feed(rules, input)?;
    let total_quantity = quantity
        .checked_mul(runs.unwrap_or(1))
        .ok_or(OrderError::AmountTooLarge)?;
    let charge = if t.is_package() {
        rules.rate
    } else {
        Money::charge_for(rules.rate, total_quantity).ok_or(OrderError::AmountTooLarge)?
    };
    Ok(OrderSpec {
        link,
        quantity,
        runs,
        interval,
        total_quantity,
        charge,
        extras,
    })
}

fn count(items: &[String]) -> i64 {
    i64::try_from(items.len()).unwrap_or(i64::MAX)
}

fn opt_trim(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A non-negative whole number, optionally surrounded by whitespace; fractions, signs other than
/// a leading `+`, and anything else → `None` (spec §7.2: "reject fractions for counts").
pub fn parse_count(text: Option<&str>) -> Option<i64> {
    let t = text?.trim();
    let digits = t.strip_prefix('+').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

fn required_text(v: &Option<String>, field: &'static str) -> Result<String, OrderError> {
    let t = opt_trim(v).ok_or(OrderError::IncorrectField(field))?;
    if t.chars().any(char::is_control) || t.len() > MAX_LINK_LEN {
        return Err(OrderError::IncorrectField(field));
    }
    Ok(t.to_string())
}

/// Splits a multi-line list on `\n`/`\r\n`, trims, drops empty lines (spec §7.2); with
/// `commas`, also splits on commas (`usernames`, `hashtags`: `"test, testing"`).
pub fn split_lines(text: &str, commas: bool) -> Vec<String> {
    text.split(|c| c == '\n' || c == '\r' || (commas && c == ','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn required_lines(
    v: &Option<String>,
    field: &'static str,
    commas: bool,
) -> Result<Vec<String>, OrderError> {
    let lines = v
        .as_deref()
        .map(|t| split_lines(t, commas))
        .unwrap_or_default();
    if lines.is_empty() || lines.len() > 100_000 {
        return Err(OrderError::IncorrectField(field));
    }
    Ok(lines)
}

fn parse_drip_feed(
    rules: &ServiceRules,
    input: &OrderInput,
) -> Result<(Option<i64>, Option<i64>), OrderError> {
    let runs_text = opt_trim(&input.runs);
    let interval_text = opt_trim(&input.interval);
    if runs_text.is_none() && interval_text.is_none() {
        return Ok((None, None));
    }
    if !rules.dripfeed || !rules.service_type.supports_drip_feed() {
        return Err(OrderError::DripFeedNotAllowed);
    }
    let runs = parse_count(runs_text)
        .filter(|r| (1..=MAX_RUNS).contains(r))
        .ok_or(OrderError::IncorrectRuns)?;
    let interval = parse_count(interval_text)
        .filter(|i| (1..=MAX_INTERVAL_MINUTES).contains(i))
        .ok_or(OrderError::IncorrectInterval)?;
    Ok((Some(runs), Some(interval)))
}

fn parse_subscription(
    rules: &ServiceRules,
    input: &OrderInput,
) -> Result<Subscription, OrderError> {
    let _ = required_text(&input.username, "username")?;
    let min = parse_count(input.min.as_deref()).ok_or(OrderError::IncorrectField("min"))?;
    let max = parse_count(input.max.as_deref()).ok_or(OrderError::IncorrectField("max"))?;
    if min < rules.min {
        return Err(OrderError::QuantityBelowMin(rules.min));
    }
    if max > rules.max {
        return Err(OrderError::QuantityAboveMax(rules.max));
    }
    if min > max {
        return Err(OrderError::IncorrectField("max"));
    }
    let optional_count = |v: &Option<String>, f: &'static str| -> Result<Option<i64>, OrderError> {
        match opt_trim(v) {
            None => Ok(None),
            Some(t) => parse_count(Some(t))
                .filter(|n| *n <= 100_000)
                .map(Some)
                .ok_or(OrderError::IncorrectField(f)),
        }
    };
    let posts = optional_count(&input.posts, "posts")?;
    let old_posts = optional_count(&input.old_posts, "old_posts")?;
    let delay = match opt_trim(&input.delay) {
        None => 0,
        Some(t) => parse_count(Some(t))
            .filter(|d| SUBSCRIPTION_DELAYS.contains(d))
            .ok_or(OrderError::IncorrectField("delay"))?,
    };
    let expiry = match opt_trim(&input.expiry) {
        None => None,
        Some(t) => Some(parse_dmy(t).ok_or(OrderError::IncorrectField("expiry"))?),
    };
    Ok(Subscription {
        min,
        max,
        posts,
        old_posts,
        delay,
        expiry,
    })
}

/// Parses `d/m/Y` (spec §3: `11/11/2022`) and checks the day exists.
pub fn parse_dmy(text: &str) -> Option<(u32, u32, i32)> {
    let mut parts = text.split('/');
    let d: u32 = parts.next()?.trim().parse().ok()?;
    let m: u32 = parts.next()?.trim().parse().ok()?;
    let y: i32 = parts.next()?.trim().parse().ok()?;
    if parts.next().is_some() || !(1970..=9999).contains(&y) || !(1..=12).contains(&m) {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    (1..=days).contains(&d).then_some((d, m, y))
}

fn parse_web_traffic(input: &OrderInput) -> Result<WebTraffic, OrderError> {
    let small = |v: &Option<String>, f: &'static str, hi: i64| -> Result<Option<i64>, OrderError> {
        match opt_trim(v) {
            None => Ok(None),
            Some(t) => parse_count(Some(t))
                .filter(|n| (1..=hi).contains(n))
                .map(Some)
                .ok_or(OrderError::IncorrectField(f)),
        }
    };
    let device = small(&input.device, "device", 5)?;
    let type_of_traffic = small(&input.type_of_traffic, "type_of_traffic", 3)?;
    let google_keyword = opt_trim(&input.google_keyword).map(str::to_string);
    let referring_url = opt_trim(&input.referring_url).map(str::to_string);
    if type_of_traffic == Some(1) && google_keyword.is_none() {
        return Err(OrderError::IncorrectField("google_keyword"));
    }
    if type_of_traffic == Some(2) && referring_url.is_none() {
        return Err(OrderError::IncorrectField("referring_url"));
    }
    Ok(WebTraffic {
        country: opt_trim(&input.country).map(str::to_string),
        device,
        type_of_traffic,
        google_keyword,
        referring_url,
    })
}

#[cfg(test)]
mod tests;

/// The platforms a service can be for, with the words that name them in a category or service
/// name. Checked in order; the first match wins.
const PLATFORM_WORDS: [(&str, &[&str]); 16] = [
    ("instagram", &["instagram", "insta ", "igtv", "reels"]),
    ("tiktok", &["tiktok", "tik tok"]),
    ("youtube", &["youtube", "yt "]),
    ("twitter", &["twitter", "tweet", "x.com", "x (twitter)"]),
    ("facebook", &["facebook", "fb "]),
    ("telegram", &["telegram"]),
    ("threads", &["threads"]),
    ("spotify", &["spotify"]),
    ("twitch", &["twitch"]),
    ("linkedin", &["linkedin"]),
    ("discord", &["discord"]),
    ("soundcloud", &["soundcloud"]),
    ("snapchat", &["snapchat"]),
    ("pinterest", &["pinterest"]),
    ("reddit", &["reddit"]),
    ("website", &["website", "web traffic", "traffic"]),
];

/// Every platform [`platform_of`] can answer, `other` last.
pub const PLATFORMS: [&str; 17] = [
    "instagram",
    "tiktok",
    "youtube",
    "twitter",
    "facebook",
    "telegram",
    "threads",
    "spotify",
    "twitch",
    "linkedin",
    "discord",
    "soundcloud",
    "snapchat",
    "pinterest",
    "reddit",
    "website",
    "other",
];

/// The platform of a service, read from its category then its name (case-insensitive), or
/// `"other"`. Panels name categories "Instagram Followers", "TikTok Views", "YouTube – Likes".
pub fn platform_of(category: &str, name: &str) -> &'static str {
    for text in [category, name] {
        let text = format!("{} ", text.to_lowercase());
        if let Some((p, _)) = PLATFORM_WORDS
            .iter()
            .find(|(_, words)| words.iter().any(|w| text.contains(w)))
        {
            return p;
        }
    }
    "other"
}

#[cfg(test)]
mod platform_tests {
    use super::*;

    #[test]
    fn platforms_come_from_the_category_first_then_the_name() {
        assert_eq!(
            platform_of("Instagram Followers", "Real followers"),
            "instagram"
        );
        assert_eq!(platform_of("TikTok Views", ""), "tiktok");
        assert_eq!(
            platform_of("Best sellers", "YouTube Likes [Refill]"),
            "youtube"
        );
        assert_eq!(platform_of("Web Traffic", "Visitors"), "website");
        assert_eq!(platform_of("Misc", "Mystery box"), "other");
        // The category wins over words in the name.
        assert_eq!(
            platform_of("Telegram Members", "from Instagram promo"),
            "telegram"
        );
        assert!(PLATFORM_WORDS.iter().all(|(p, _)| PLATFORMS.contains(p)));
    }
}
