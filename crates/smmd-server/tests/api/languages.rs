//! Languages and display currencies (issue 18) as visitors, customers and admins meet them:
//! pages in the browser's language or the visitor's pick (a cookie, a safe way back), in the
//! account's own language once chosen (REST or Settings), Arabic right to left; display
//! currencies converting what customers see at the feed's or a pinned rate while money stays
//! in the panel currency; bad input refused with nothing written.

use reqwest::header::{ACCEPT_LANGUAGE, COOKIE, LOCATION, SET_COOKIE, VARY};
use reqwest::Method;
use serde_json::json;
use smmd_domain::Clock;
use smmd_store::Role;

use crate::helpers::TestApp;
use crate::smm::account;

/// GETs `path` with these headers: (status, headers, body).
async fn page(
    app: &TestApp,
    path: &str,
    headers: &[(reqwest::header::HeaderName, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = app.client.get(app.url(path));
    for (k, v) in headers {
        req = req.header(k, *v);
    }
    let r = req.send().await.expect("send");
    let (status, h) = (r.status().as_u16(), r.headers().clone());
    (status, h, r.text().await.expect("text"))
}

pub async fn pages_speak_the_visitors_and_the_accounts_language(app: TestApp) {
    // A visitor: the browser's language, else English.
    let (s, h, html) = page(
        &app,
        "/login",
        &[(ACCEPT_LANGUAGE, "es-ES,es;q=0.9,en;q=0.5")],
    )
    .await;
    assert_eq!(s, 200);
    assert!(html.contains(r#"<html lang="es" dir="ltr">"#), "{html}");
    assert!(html.contains("Iniciar sesión") && html.contains("¿Olvidaste tu contraseña?"));
    assert!(h
        .get_all(VARY)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.contains("accept-language"))));
    let (_, _, html) = page(&app, "/login", &[(ACCEPT_LANGUAGE, "ar-EG,ar;q=0.9")]).await;
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#) && html.contains("تسجيل الدخول"));
    let (_, _, html) = page(&app, "/login", &[(ACCEPT_LANGUAGE, "ja,de;q=0.8")]).await;
    assert!(
        html.contains(r#"<html lang="en" dir="ltr">"#) && html.contains("Forgot your password?")
    );
    // app.js gets its words from the page (statuses, messages) in the same language.
    let (_, _, html) = page(&app, "/login", &[(ACCEPT_LANGUAGE, "ru")]).await;
    assert!(
        html.contains(r#"<meta name="i18n""#) && html.contains("Выполнен"),
        "{html}"
    );

    // The visitor's pick: a cookie that outranks the browser, and a way back that stays here.
    let (s, h, _) = page(&app, "/lang/ru?next=/services", &[]).await;
    assert_eq!(s, 303);
    assert_eq!(h[LOCATION], "/services");
    let set = h[SET_COOKIE].to_str().expect("cookie");
    assert!(
        set.starts_with("lang=ru;") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let (_, _, html) = page(
        &app,
        "/services",
        &[(ACCEPT_LANGUAGE, "es"), (COOKIE, "lang=ru")],
    )
    .await;
    assert!(
        html.contains(r#"lang="ru""#) && html.contains("Услуги"),
        "{html}"
    );
    for bad in ["//evil.example/x", "https://evil.example/", "/\\evil"] {
        let q = serde_urlencoded::to_string([("next", bad)]).expect("q");
        let (s, h, _) = page(&app, &format!("/lang/ar?{q}"), &[]).await;
        assert_eq!((s, h[LOCATION].to_str().expect("loc")), (303, "/"), "{bad}");
    }
    // Without `next`, back to the page the link was on (its path only, never another host).
    let (_, h, _) = page(
        &app,
        "/lang/es",
        &[(
            reqwest::header::REFERER,
            "http://evil.example/reset?token=abc",
        )],
    )
    .await;
    assert_eq!(h[LOCATION], "/reset?token=abc");
    let (_, h, _) = page(&app, "/lang/es", &[]).await;
    assert_eq!(h[LOCATION], "/");
    // An unknown language clears the pick.
    let (_, h, _) = page(&app, "/lang/xx", &[]).await;
    assert!(h[SET_COOKIE].to_str().expect("c").contains("Max-Age=0"));
    // The not-found page speaks too.
    let (s, _, html) = page(&app, "/no-such-page", &[(ACCEPT_LANGUAGE, "es")]).await;
    assert_eq!(s, 404);
    assert!(html.contains("Página no encontrada"));

    // A customer's own language wins over the browser's, on every page, and is theirs over REST.
    let ann = account(&app, "ann@x.io", Role::User, "5").await;
    let (cookie, _) = app.session("ann@x.io").await;
    let (s, prefs) = ann.get("/api/account/preferences").await;
    assert_eq!(s, 200, "{prefs}");
    assert_eq!(prefs["language"], serde_json::Value::Null);
    assert_eq!(prefs["languages"], json!(["en", "es", "ru", "ar"]));
    let (s, prefs) = ann
        .call(
            Method::PUT,
            "/api/account/preferences",
            Some(json!({"language": "es-MX"})),
        )
        .await;
    assert_eq!((s, &prefs["language"]), (200, &json!("es")), "{prefs}");
    let (_, _, html) = page(
        &app,
        "/dashboard",
        &[(COOKIE, &cookie), (ACCEPT_LANGUAGE, "ru")],
    )
    .await;
    assert!(
        html.contains(r#"<html lang="es""#) && html.contains("Hola de nuevo"),
        "{html}"
    );
    assert!(html.contains("Nuevo pedido") && html.contains("Cerrar sesión"));
    // Bad input: a clear error, nothing written (the other field either).
    for body in [
        json!({"language": "xx"}),
        json!({"language": "ru", "display_currency": "ZZZ"}),
        json!({"language": "ru", "extra": 1}),
    ] {
        let (s, e) = ann
            .call(Method::PUT, "/api/account/preferences", Some(body.clone()))
            .await;
        assert_eq!(s, 422, "{body} {e}");
    }
    let (_, prefs) = ann.get("/api/account/preferences").await;
    assert_eq!(prefs["language"], "es");
    // Arabic is right to left for the signed-in pages too.
    ann.call(
        Method::PUT,
        "/api/account/preferences",
        Some(json!({"language": "ar"})),
    )
    .await;
    let (_, _, html) = page(&app, "/orders", &[(COOKIE, &cookie)]).await;
    assert!(html.contains(r#"<html lang="ar" dir="rtl">"#) && html.contains("الطلبات"));
    // Cleared: the browser's again.
    ann.call(
        Method::PUT,
        "/api/account/preferences",
        Some(json!({"language": null})),
    )
    .await;
    let (_, _, html) = page(
        &app,
        "/orders",
        &[(COOKIE, &cookie), (ACCEPT_LANGUAGE, "ru")],
    )
    .await;
    assert!(html.contains(r#"<html lang="ru""#), "{html}");
}

pub async fn display_currencies_convert_what_customers_see(app: TestApp) {
    let admin = account(&app, "owner@x.io", Role::Admin, "0").await;
    let ann = account(&app, "ann@x.io", Role::User, "10").await;
    let (cookie, _) = app.session("ann@x.io").await;
    // No rate yet: nothing to choose, and choosing is refused.
    let (s, rates) = ann.get("/api/currency-rates").await;
    assert_eq!(s, 200, "{rates}");
    assert_eq!(
        (
            rates["panel_currency"].as_str(),
            rates["display_currencies"].as_array().map(Vec::len)
        ),
        (Some("USD"), Some(0))
    );
    let (s, e) = ann
        .call(
            Method::PUT,
            "/api/account/preferences",
            Some(json!({"display_currency": "EUR"})),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_display_currency"))
    );

    // A day of the ECB's rates (the feed's real format, through the job's rules).
    let day = smmd_jobs::rates::parse_ecb(smmd_jobs::rates::SAMPLE_FEED).expect("feed");
    smmd_jobs::rates::apply(app.store.as_ref(), &day, 1_000, app.clock.now_ms())
        .await
        .expect("apply");
    app.clock.advance_ms(5_000); // past the pages' 2 s rate cache
    let (_, rates) = ann.get("/api/currency-rates").await;
    let choices = rates["display_currencies"].as_array().expect("choices");
    assert!(choices.contains(&json!("EUR")) && choices.contains(&json!("GBP")));
    assert!(
        !choices.contains(&json!("USD")),
        "the panel's own is not a choice"
    );
    let usd = rates["rates"]
        .as_array()
        .expect("rates")
        .iter()
        .find(|r| r["currency"] == "USD")
        .expect("usd");
    assert_eq!(
        (usd["per_eur"].as_str(), usd["pinned"].as_bool()),
        (Some("1.1612"), Some(false))
    );

    // Ann sees euros beside her dollars: 10.00 USD / 1.1612 = 8.6118 → ≈ 8.61 EUR.
    let (s, prefs) = ann
        .call(
            Method::PUT,
            "/api/account/preferences",
            Some(json!({"display_currency": "eur"})),
        )
        .await;
    assert_eq!(
        (s, prefs["display_currency"].as_str()),
        (200, Some("EUR")),
        "{prefs}"
    );
    let (_, _, html) = page(&app, "/dashboard", &[(COOKIE, &cookie)]).await;
    assert!(html.contains("≈ 8.61 EUR"), "{html}");
    assert!(html.contains(r#"data-fx-from="1161200""#) && html.contains(r#"data-fx-to="1000000""#));
    // Money stays in dollars.
    let (_, balance) = ann
        .post("/api/v2", json!({"key": ann.key, "action": "balance"}))
        .await;
    assert_eq!(
        (balance["balance"].as_str(), balance["currency"].as_str()),
        (Some("10.00"), Some("USD"))
    );

    // Pinning is the admin's, checked and audited.
    let (s, _) = ann
        .call(
            Method::PUT,
            "/api/admin/currency-rates/RUB",
            Some(json!({"rate": "93.50"})),
        )
        .await;
    assert_eq!(s, 403);
    for (code, rate) in [
        ("RUB", "abc"),
        ("RUB", "0"),
        ("EUR", "1"),
        ("RUBLE", "93.5"),
        ("RUB", "1.1234567"),
    ] {
        let (s, e) = admin
            .call(
                Method::PUT,
                &format!("/api/admin/currency-rates/{code}"),
                Some(json!({"rate": rate})),
            )
            .await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (422, Some("invalid_rate")),
            "{code} {rate}"
        );
    }
    let (s, pinned) = admin
        .call(
            Method::PUT,
            "/api/admin/currency-rates/rub",
            Some(json!({"rate": "93.50"})),
        )
        .await;
    assert_eq!(
        (s, pinned["currency"].as_str(), pinned["pinned"].as_bool()),
        (200, Some("RUB"), Some(true)),
        "{pinned}"
    );
    let (s, _) = ann
        .call(
            Method::PUT,
            "/api/account/preferences",
            Some(json!({"display_currency": "RUB"})),
        )
        .await;
    assert_eq!(s, 200);
    // 10 × 93.50 / 1.1612 = 805.201… → ≈ 805.20 RUB.
    let (_, _, html) = page(&app, "/dashboard", &[(COOKIE, &cookie)]).await;
    assert!(html.contains("≈ 805.20 RUB"), "{html}");
    // Unpinned: RUB had no feed rate, so it goes and nothing is shown.
    let (s, _) = admin
        .call(Method::DELETE, "/api/admin/currency-rates/RUB", None)
        .await;
    assert_eq!(s, 204);
    let (s, e) = admin
        .call(Method::DELETE, "/api/admin/currency-rates/RUB", None)
        .await;
    assert_eq!((s, e["error"]["code"].as_str()), (404, Some("not_found")));
    let (_, _, html) = page(&app, "/dashboard", &[(COOKIE, &cookie)]).await;
    assert!(!html.contains("≈"), "{html}");
    let (_, log) = admin.get("/api/admin/audit").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .expect("audit")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("currency."))
        .collect();
    assert_eq!(actions, ["currency.unpin", "currency.pin"]);
    // The admin page lists the rates with their source.
    let (admin_cookie, _) = app.session("owner@x.io").await;
    let (s, _, html) = page(&app, "/admin/currencies", &[(COOKIE, &admin_cookie)]).await;
    assert_eq!(s, 200);
    assert!(html.contains("rate-USD") && html.contains("1.1612") && html.contains("2026-12-02"));
    // Admins read their pages in their own language too.
    admin
        .call(
            Method::PUT,
            "/api/account/preferences",
            Some(json!({"language": "es"})),
        )
        .await;
    let (_, _, html) = page(&app, "/admin/currencies", &[(COOKIE, &admin_cookie)]).await;
    assert!(
        html.contains("Monedas de visualización") && html.contains("Fijar un tipo"),
        "{html}"
    );
    let (_, _, html) = page(&app, "/admin", &[(COOKIE, &admin_cookie)]).await;
    assert!(
        html.contains("Ingresos") && html.contains("Pedidos por estado"),
        "{html}"
    );
}
