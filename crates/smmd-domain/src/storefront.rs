//! The storefront's rules (issue 18): what an admin may set as the panel's brand (name, tagline,
//! colour, logo), which pages exist, and the refill guarantee a provider's service name
//! announces ("[60 days refill]", "R30", "Refill: 30D", "No refill").

/// The pages an admin can write, with their default titles: (slug, title).
pub const PAGES: [(&str, &str); 3] = [
    ("terms", "Terms of service"),
    ("faq", "Frequently asked questions"),
    ("contact", "Contact"),
];

/// Longest page body accepted, in bytes (Markdown).
pub const PAGE_MAX_BYTES: usize = 50_000;
/// Largest logo accepted, in bytes (decoded).
pub const LOGO_MAX_BYTES: usize = 128 * 1024;
/// The longest guarantee a name can announce, in days: "lifetime" reads as this.
pub const LIFETIME_DAYS: i64 = 365;

/// Why a storefront value was refused; the text says what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorefrontError {
    #[error("The name is 1 to 60 characters")]
    Name,
    #[error("The tagline is at most 160 characters on one line")]
    Tagline,
    #[error("The colour is a hex colour such as #4f46e5")]
    Color,
    #[error("The logo is a PNG, JPEG or WebP image of at most 128 KiB, sent as a data: URL")]
    Logo,
    #[error("There is no page {0:?}: pages are terms, faq and contact")]
    Page(String),
    #[error("A page title is 1 to 80 characters and its text at most 50,000 bytes")]
    PageText,
}

fn one_line(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// The brand name, trimmed: 1–60 characters, one line.
pub fn check_name(name: &str) -> Result<String, StorefrontError> {
    let n = name.trim();
    let len = n.chars().count();
    if (1..=60).contains(&len) && one_line(n) {
        Ok(n.to_string())
    } else {
        Err(StorefrontError::Name)
    }
}

/// The tagline, trimmed: at most 160 characters, one line (empty = none).
pub fn check_tagline(tagline: &str) -> Result<String, StorefrontError> {
    let t = tagline.trim();
    if t.chars().count() <= 160 && one_line(t) {
        Ok(t.to_string())
    } else {
        Err(StorefrontError::Tagline)
    }
}

/// A colour as `#rrggbb` (lower case); `#rgb` is expanded.
pub fn check_color(color: &str) -> Result<String, StorefrontError> {
    let c = color.trim().to_ascii_lowercase();
    let hex = c.strip_prefix('#').ok_or(StorefrontError::Color)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(StorefrontError::Color);
    }
    match hex.len() {
        6 => Ok(c),
        3 => Ok(format!(
            "#{}",
            hex.chars().flat_map(|h| [h, h]).collect::<String>()
        )),
        _ => Err(StorefrontError::Color),
    }
}

/// A darker shade of a `#rrggbb` colour (each channel × 0.8), for hover states and
/// gradients; the input is assumed checked by [`check_color`].
pub fn darker(color: &str) -> String {
    let hex = color.trim_start_matches('#');
    let channel = |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("00"), 16).unwrap_or(0);
    let dim = |v: u8| (u16::from(v) * 4 / 5) as u8;
    format!(
        "#{:02x}{:02x}{:02x}",
        dim(channel(0)),
        dim(channel(2)),
        dim(channel(4))
    )
}

/// The image kinds a logo may be, told by their first bytes (never by what the sender says).
pub fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A logo's bytes and type, checked: at most [`LOGO_MAX_BYTES`], and really a PNG, JPEG or
/// WebP (SVG is refused: it can carry script).
pub fn check_logo(bytes: &[u8]) -> Result<&'static str, StorefrontError> {
    if bytes.is_empty() || bytes.len() > LOGO_MAX_BYTES {
        return Err(StorefrontError::Logo);
    }
    image_type(bytes).ok_or(StorefrontError::Logo)
}

/// The slug of a page that exists ([`PAGES`]).
pub fn check_page(slug: &str) -> Result<&'static str, StorefrontError> {
    PAGES
        .iter()
        .find(|(s, _)| *s == slug)
        .map(|(s, _)| *s)
        .ok_or_else(|| StorefrontError::Page(slug.chars().take(40).collect()))
}

/// A page's title and body: title 1–80 characters on one line, body at most
/// [`PAGE_MAX_BYTES`] (empty removes the page).
pub fn check_page_text(title: &str, body: &str) -> Result<(String, String), StorefrontError> {
    let t = title.trim();
    let len = t.chars().count();
    if !(1..=80).contains(&len) || !one_line(t) || body.len() > PAGE_MAX_BYTES {
        return Err(StorefrontError::PageText);
    }
    Ok((t.to_string(), body.trim_end().to_string()))
}

/// The refill guarantee a service name announces, in days: "[60 days refill]", "Refill 30D",
/// "R30", "30-day guarantee", "Lifetime refill" ([`LIFETIME_DAYS`]), "No refill" (0). `None`
/// when the name says nothing about it (the panel's default then applies).
pub fn guarantee_from_name(name: &str) -> Option<i64> {
    let lower = name.to_lowercase();
    if [
        "no refill",
        "non refill",
        "non-refill",
        "without refill",
        "no guarantee",
    ]
    .iter()
    .any(|p| lower.contains(p))
    {
        return Some(0);
    }
    let mentions = lower.contains("refill") || lower.contains("guarantee");
    if mentions && lower.contains("lifetime") {
        return Some(LIFETIME_DAYS);
    }
    // Words of the name: runs of letters or digits.
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        // "r30" / "r 30": a refill shorthand on its own.
        if let Some(n) = w.strip_prefix('r').and_then(days_number) {
            return Some(n);
        }
        if *w == "r" {
            if let Some(n) = words.get(i + 1).and_then(|n| days_number(n)) {
                return Some(n);
            }
        }
        if !mentions {
            continue;
        }
        // "30d", "30days"
        if let Some(n) = w
            .strip_suffix("days")
            .or_else(|| w.strip_suffix("day"))
            .or_else(|| w.strip_suffix('d'))
            .and_then(days_number)
        {
            return Some(n);
        }
        // "30 days", "30 day", "30 d"
        if let Some(n) = days_number(w) {
            if matches!(words.get(i + 1), Some(&"days" | &"day" | &"d")) {
                return Some(n);
            }
        }
    }
    None
}

/// A whole number of days from 1 to [`LIFETIME_DAYS`] written in digits.
fn days_number(w: &str) -> Option<i64> {
    if w.is_empty() || w.len() > 4 || !w.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    w.parse().ok().filter(|n| (1..=LIFETIME_DAYS).contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_announce_their_guarantee_in_the_market_s_spellings() {
        for (name, days) in [
            ("YouTube Views [Non-drop, 60 days refill]", Some(60)),
            ("Instagram Followers [Real, 30 days refill]", Some(30)),
            ("IG Followers | R30 | 10k/day", Some(30)),
            ("IG Followers R 45", Some(45)),
            ("Followers - Refill: 90D", Some(90)),
            ("TikTok Likes [7 Day Refill]", Some(7)),
            ("Followers 30-day guarantee", Some(30)),
            ("Followers [Lifetime Refill]", Some(LIFETIME_DAYS)),
            ("Instagram Likes [No Refill]", Some(0)),
            ("Views [Non-Refill] 1M/day", Some(0)),
            ("Instagram Likes [Fast]", None),
            // Numbers that are not days of refill.
            ("Followers 30 days delivery", None),
            ("Followers 5000/day", None),
            ("Refill 9999 days", None),
            ("Russia 30", None),
        ] {
            assert_eq!(guarantee_from_name(name), days, "{name}");
        }
    }

    #[test]
    fn brand_values_are_checked_and_normalised() {
        assert_eq!(check_name("  Boost Hub "), Ok("Boost Hub".into()));
        assert_eq!(check_name(" "), Err(StorefrontError::Name));
        assert_eq!(check_name(&"x".repeat(61)), Err(StorefrontError::Name));
        assert_eq!(check_name("a\nb"), Err(StorefrontError::Name));
        assert_eq!(check_tagline(""), Ok(String::new()));
        assert_eq!(
            check_tagline(&"é".repeat(161)),
            Err(StorefrontError::Tagline)
        );
        assert_eq!(check_color("#4F46E5"), Ok("#4f46e5".into()));
        assert_eq!(check_color("#abc"), Ok("#aabbcc".into()));
        for bad in ["4f46e5", "#4f46e", "#ggg", "red", "#4f46e5;x", ""] {
            assert_eq!(check_color(bad), Err(StorefrontError::Color), "{bad}");
        }
        assert_eq!(darker("#ffffff"), "#cccccc");
        assert_eq!(darker("#4f46e5"), "#3f38b7");
    }

    #[test]
    fn logos_are_images_by_their_bytes_and_small() {
        let png = [
            &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a][..],
            &[0; 16],
        ]
        .concat();
        assert_eq!(check_logo(&png), Ok("image/png"));
        assert_eq!(check_logo(&[0xff, 0xd8, 0xff, 0xe0, 1]), Ok("image/jpeg"));
        assert_eq!(check_logo(b"RIFF\0\0\0\0WEBPVP8 "), Ok("image/webp"));
        let svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>";
        assert_eq!(check_logo(svg), Err(StorefrontError::Logo), "no SVG");
        assert_eq!(check_logo(&[]), Err(StorefrontError::Logo));
        let big = [&png[..], &vec![0; LOGO_MAX_BYTES]].concat();
        assert_eq!(check_logo(&big), Err(StorefrontError::Logo));
    }

    #[test]
    fn only_the_three_pages_exist_and_their_text_is_bounded() {
        assert_eq!(check_page("faq"), Ok("faq"));
        assert!(check_page("../etc").is_err());
        assert_eq!(
            check_page_text(" Terms ", "Body\n\n"),
            Ok(("Terms".into(), "Body".into()))
        );
        assert!(check_page_text("", "x").is_err());
        assert!(check_page_text("T", &"x".repeat(PAGE_MAX_BYTES + 1)).is_err());
    }
}
