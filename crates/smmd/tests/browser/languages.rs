//! Languages and display currencies in a browser (issue 18): a visitor picks Spanish on the
//! log-in card; the demo customer then reads the panel in each shipped language chosen in
//! Settings — Arabic laid out right to left — with every page fitting a phone; and sees the
//! balance also in euros, following a live balance change with the server's own rounding.

use fantoccini::{Client, Locator};
use serde_json::Value;
use smmd_domain::{fx, Money};

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_panel_speaks_each_language_and_shows_a_display_currency() {
    run(
        "languages",
        |c, demo| async move { languages(&c, &demo).await },
    )
    .await;
}

async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("script")
}

async fn select(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .expect("select")
        .select_by_value(value)
        .await
        .expect("option");
}

/// What the demo's USD balance `text` is in euros at the sample feed's rate, as the server
/// and `app.js` round it.
fn euros(text: &str) -> String {
    let m = Money::parse(text.trim()).expect("a balance");
    fx::approx_text(
        fx::convert(m, 1_161_200, 1_000_000).expect("converts"),
        "EUR",
    )
}

async fn languages(c: &Client, demo: &Demo) {
    let base = demo.url.clone();

    // A visitor picks Spanish under the log-in card; the public pages follow.
    c.goto(&format!("{base}/login")).await.expect("login");
    click(c, "nav.languages a[lang=es]").await;
    wait_for_text(c, "h1", "Iniciar sesión").await;
    assert_eq!(js(c, "return document.documentElement.lang").await, "es");
    shoot(c, "login-es").await;
    c.goto(&base).await.expect("home");
    wait_for_text(c, ".hero", "Crear una cuenta").await;
    shoot(c, "home-es").await;

    // The customer chooses each language in Settings: every page then speaks it.
    sign_in(c, &base, &demo.user_email, &demo.user_password).await;
    for (code, welcome, new_order, dir) in [
        ("ru", "С возвращением", "Оформить заказ", "ltr"),
        ("ar", "مرحبًا بعودتك", "تنفيذ الطلب", "rtl"),
        ("es", "Hola de nuevo", "Hacer el pedido", "ltr"),
        ("en", "Welcome back", "Place order", "ltr"),
    ] {
        c.goto(&format!("{base}/settings")).await.expect("settings");
        select(c, "#language", code).await;
        click(c, "#language-card form[action='/settings/language'] button").await;
        wait_for_text(c, ".flash.ok", "").await;
        assert_eq!(js(c, "return document.documentElement.lang").await, code);
        c.goto(&format!("{base}/dashboard"))
            .await
            .expect("dashboard");
        wait_for_text(c, "h1", welcome).await;
        assert_eq!(js(c, "return document.documentElement.dir").await, dir);
        if dir == "rtl" {
            // Right to left: the brand starts at the right, the menu runs leftwards from it.
            let (brand, nav) = (
                js(c, "return document.querySelector('header.top .brand').getBoundingClientRect().right").await,
                js(c, "return document.querySelector('header.top nav a').getBoundingClientRect().right").await,
            );
            let width = js(c, "return document.documentElement.clientWidth").await;
            assert!(
                brand.as_f64().unwrap_or(0.0) > width.as_f64().unwrap_or(0.0) * 0.8
                    && nav.as_f64() < brand.as_f64(),
                "brand right {brand}, first menu item right {nav}, width {width}"
            );
        }
        shoot(c, &format!("dashboard-{code}")).await;
        c.goto(&format!("{base}/orders/new"))
            .await
            .expect("new order");
        wait_for_text(c, "#order-form button[type=submit]", new_order).await;
        shoot(c, &format!("new-order-{code}")).await;
    }

    // Euros beside the dollars, in the bar and on the dashboard.
    c.goto(&format!("{base}/settings")).await.expect("settings");
    select(c, "#display_currency", "EUR").await;
    click(c, "#display-currency-form button").await;
    wait_for_text(c, ".flash.ok", "Settings saved").await;
    shoot_at(c, "settings-language-currency", Some("language-card")).await;
    c.goto(&format!("{base}/dashboard"))
        .await
        .expect("dashboard");
    let balance = text_of(c, ".stat [data-balance]").await;
    let shown = text_of(c, ".stat [data-balance-approx]").await;
    assert_eq!(shown, euros(&balance));
    // The bar carries it too (shown from 1440 px wide, so the bar keeps one line).
    assert_eq!(
        js(
            c,
            "return document.querySelector('header.top [data-balance-approx]').textContent"
        )
        .await,
        shown.as_str()
    );
    shoot(c, "display-currency").await;

    // An order placed elsewhere (API v2) changes the balance live; the euros follow.
    api_order(demo, "https://instagram.com/fx_test", 1000).await;
    for _ in 0..100 {
        if text_of(c, ".stat [data-balance]").await != balance {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let after = text_of(c, ".stat [data-balance]").await;
    assert_ne!(after, balance, "the balance did not change live");
    assert_eq!(
        text_of(c, ".stat [data-balance-approx]").await,
        euros(&after)
    );

    // The owner pins a rate the ECB does not quote; customers can then choose it. The owner
    // chose no language, so this browser's pick from the log-in card (Spanish) applies.
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/currencies"))
        .await
        .expect("currencies");
    wait_for_text(c, "#rate-RUB", "Fijado").await;
    fill(c, "#pin-currency", "UAH").await;
    fill(c, "#pin-rate-value", "48.20").await;
    click(c, "#pin-form button[type=submit]").await;
    wait_for_text(c, "#rate-UAH", "48.20").await;
    wait_for_text(c, "#choices", "UAH").await;
    shoot(c, "admin-currencies").await;

    // The owner reads the admin pages in Arabic, right to left, on a phone too.
    c.goto(&format!("{base}/settings")).await.expect("settings");
    select(c, "#language", "ar").await;
    click(c, "#language-card form[action='/settings/language'] button").await;
    wait_for_text(c, ".flash.ok", "").await;
    for (path, name, heading) in [
        ("/admin", "admin-dashboard-ar", "لوحة التحكم"),
        ("/admin/services", "admin-services-ar", "الخدمات"),
        ("/admin/currencies", "admin-currencies-ar", "عملات العرض"),
    ] {
        c.goto(&format!("{base}{path}")).await.expect("admin page");
        wait_for_text(c, "h1", heading).await;
        assert_eq!(js(c, "return document.documentElement.dir").await, "rtl");
        shoot(c, name).await;
    }
}
