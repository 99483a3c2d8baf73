//! The language a page is rendered in. A middleware on every page route picks it before the
//! handler runs — the `lang` cookie a visitor chose with the picker (`/lang/{code}`), else the
//! browser's `Accept-Language` — and a signed-in user's own choice (Settings, stored on the
//! account) replaces it when the session is read ([`set`]). Page code asks [`t`] / [`ta`] for
//! its words; the messages live in `smmd-i18n`'s Fluent catalogues, which a test keeps
//! complete in every language, and another test checks every key this crate uses exists.

use std::cell::Cell;

use axum::extract::{Path, Query, Request};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
pub use smmd_i18n::{Arg, Lang};

tokio::task_local! {
    static LANG: Cell<Lang>;
}

/// The cookie a visitor's pick is kept in (a year; only the language code).
const COOKIE: &str = "lang";

/// The language of the page being rendered (English outside a page request).
pub fn lang() -> Lang {
    LANG.try_with(Cell::get).unwrap_or_default()
}

/// Runs `f` (a page rendered outside the pages' router, such as the hosting notices) in
/// `lang`.
pub fn render_in<T>(lang: Lang, f: impl FnOnce() -> T) -> T {
    LANG.sync_scope(Cell::new(lang), f)
}

/// Renders the rest of this request in `lang` (a signed-in user's own language).
pub fn set(lang: Lang) {
    let _ = LANG.try_with(|c| c.set(lang));
}

/// The message `key` in the page's language.
pub fn t(key: &str) -> String {
    lang().t(key)
}

/// The message `key` with its variables (`("n", 3.into())`) in the page's language.
pub fn ta(key: &str, args: &[(&str, Arg<'_>)]) -> String {
    lang().ta(key, args)
}

/// A visitor's language: the `lang` cookie if it names a shipped language, else the best
/// match of `Accept-Language`, else English.
pub fn from_headers(headers: &HeaderMap) -> Lang {
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .and_then(|(_, v)| Lang::parse(v));
    cookie.unwrap_or_else(|| {
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::negotiate)
            .unwrap_or_default()
    })
}

/// Middleware: runs the request with the visitor's language ([`from_headers`]); answers say
/// they vary by the headers it read.
pub async fn scope(req: Request, next: Next) -> Response {
    let lang = from_headers(req.headers());
    let mut resp = LANG.scope(Cell::new(lang), next.run(req)).await;
    resp.headers_mut().append(
        header::VARY,
        HeaderValue::from_static("accept-language, cookie"),
    );
    resp
}

/// Where `/lang/{code}` goes back to.
#[derive(serde::Deserialize)]
pub struct Back {
    next: Option<String>,
}

/// `GET /lang/{code}?next=/path`: keeps a visitor's pick in the `lang` cookie and goes back to
/// `next`, else to the page the link was on (the `Referer`'s path, on this panel), else `/`.
/// Only paths are followed, never another host. An unknown code clears the pick (back to
/// the browser's language).
pub async fn choose(
    Path(code): Path<String>,
    Query(q): Query<Back>,
    headers: HeaderMap,
) -> Response {
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok())
        .map(|u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_string(),
        });
    let next = q
        .next
        .as_deref()
        .or(referer.as_deref())
        .and_then(super::session::safe_next)
        .unwrap_or("/");
    let cookie = match Lang::parse(&code) {
        Some(l) => format!(
            "{COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            l.code()
        ),
        None => format!("{COOKIE}=; Path=/; Max-Age=0; SameSite=Lax"),
    };
    let mut resp = Redirect::to(next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// The language links of public pages; each comes back to the page it is on.
pub fn picker() -> Markup {
    let current = lang();
    html! {
        nav.languages aria-label=(t("language-picker")) {
            @for l in Lang::ALL {
                a lang=(l.code()) hreflang=(l.code()) href=(format!("/lang/{}", l.code()))
                    aria-current=[(l == current).then_some("true")] { (l.native_name()) }
            }
        }
    }
}

/// The strings `app.js` shows (status names, its messages), in the page's language, as the
/// JSON of `<meta name="i18n">`: the script reads them from there (no inline script).
pub fn script_strings() -> String {
    const KEYS: [&str; 25] = [
        "status-queued",
        "status-submitting",
        "status-needs_review",
        "status-processing",
        "status-in_progress",
        "status-completed",
        "status-partial",
        "status-canceled",
        "status-pending",
        "status-rejected",
        "js-nothing-changed",
        "js-done",
        "js-not-done",
        "js-unreachable",
        "js-server-answered",
        "js-quantity-whole",
        "js-quantity-range",
        "js-runs-range",
        "event-cancel-requested",
        "event-refill",
        "event-stuck-refresh",
        "event-stuck-speed_up",
        "event-stuck-cancel",
        "event-stuck-ticket",
        "js-alert",
    ];
    // Variables stay `{name}` for the script to fill in.
    let holes: Vec<(&str, Arg<'_>)> = ["status", "min", "max", "kind"]
        .iter()
        .map(|v| (*v, Arg::from(format!("{{{v}}}"))))
        .collect();
    let l = lang();
    let map: serde_json::Map<String, serde_json::Value> = KEYS
        .iter()
        .map(|k| (k.to_string(), serde_json::Value::String(l.ta(k, &holes))))
        .collect();
    serde_json::Value::Object(map).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The string literals passed to `name(` in `src` (`t("nav-orders")` → `nav-orders`):
    /// the message keys a file asks for by name.
    fn keys_called(src: &str, name: &str) -> Vec<String> {
        let pat = format!("{name}(\"");
        let mut out = Vec::new();
        let mut rest = src;
        while let Some(i) = rest.find(&pat) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + pat.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
        out
    }

    fn sources() -> Vec<(std::path::PathBuf, String)> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs = vec![root.join("src/web"), root.join("src/web/admin")];
        let mut files = vec![
            root.join("../smmd-notify/src/compose.rs"),
            root.join("../smmd-app/src/security.rs"),
        ];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("source dir") {
                let p = e.expect("entry").path();
                if p.extension().is_some_and(|x| x == "rs") {
                    files.push(p);
                }
            }
        }
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).expect("source");
                // The code, not its tests.
                let code = text.split("#[cfg(test)]").next().unwrap_or("").to_string();
                (p, code)
            })
            .collect()
    }

    /// Every key the pages and e-mails ask for by name exists in the English catalogue (and
    /// so, by `smmd_i18n::check`, in every language): a typo or a key added to the code but
    /// not to the catalogue fails here, not on a page.
    #[test]
    fn every_key_the_code_names_is_in_the_catalogue() {
        let mut missing = Vec::new();
        let mut seen = 0;
        for (path, src) in sources() {
            for name in ["t", "ta", "title", "pair", "with", "unit"] {
                for key in keys_called(&src, name) {
                    // Only catalogue-shaped literals (`pair("a", "b")` has two).
                    if !key.contains('-') || key.contains(' ') {
                        continue;
                    }
                    seen += 1;
                    if !Lang::has(&key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
            // pair("title-key", "body-key"): the second literal too.
            for (i, _) in src.match_indices("pair(\"") {
                let args = &src[i..src[i..].find(')').map_or(src.len(), |e| i + e)];
                for key in args.split('"').skip(1).step_by(2) {
                    if key.contains('-') && !Lang::has(key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(
            seen > 400,
            "the scan found only {seen} keys: is it still reading the pages?"
        );
        assert!(
            missing.is_empty(),
            "keys missing from the catalogue:\n{}",
            missing.join("\n")
        );
    }

    /// The keys pages keep in tables (menus, filters, the API page) and the ones `app.js`
    /// reads exist too.
    #[test]
    fn table_keys_are_in_the_catalogue() {
        let mut keys: Vec<&str> = super::super::CUSTOMER_NAV.iter().map(|n| n.2).collect();
        keys.extend(super::super::admin::NAV.iter().map(|n| n.2));
        keys.extend(super::super::orders::STATUS_FILTERS.iter().map(|f| f.1));
        keys.extend(super::super::home::DOCS.iter().map(|d| d.what));
        let script: serde_json::Value =
            serde_json::from_str(&script_strings()).expect("script strings are JSON");
        let script = script.as_object().expect("an object");
        keys.extend(script.keys().map(String::as_str));
        let missing: Vec<&&str> = keys.iter().filter(|k| !Lang::has(k)).collect();
        assert!(missing.is_empty(), "missing: {missing:?}");
        // app.js fills its own holes: they stay `{name}` in every language.
        for l in Lang::ALL {
            let s = LANG.sync_scope(Cell::new(l), script_strings);
            assert!(s.contains("{min}") && s.contains("{max}"), "{l}: {s}");
        }
    }

    #[test]
    fn a_visitor_gets_the_cookie_language_else_the_browser_one() {
        let h = |pairs: &[(&str, &str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.append(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    HeaderValue::from_str(v).expect("value"),
                );
            }
            m
        };
        assert_eq!(from_headers(&h(&[])), Lang::En);
        assert_eq!(
            from_headers(&h(&[("accept-language", "ru-RU,ru;q=0.9")])),
            Lang::Ru
        );
        assert_eq!(
            from_headers(&h(&[("accept-language", "ru"), ("cookie", "a=1; lang=ar")])),
            Lang::Ar
        );
        // A cookie naming no shipped language is ignored.
        assert_eq!(
            from_headers(&h(&[("accept-language", "es"), ("cookie", "lang=xx")])),
            Lang::Es
        );
    }
}
