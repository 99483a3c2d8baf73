//! Pages without a live session (issue 18): a page asked for comes back after log-in, a form
//! sent after the session ended is kept (never its passwords) and offered again with the new
//! session, admins land on `/admin`, and unknown addresses say so.

use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use smmd_domain::Clock;
use smmd_store::Role;

use crate::helpers::TestApp;
use crate::pages::{csrf_of, get};

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn session_of(r: &reqwest::Response) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("smmd_session="))
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_string()
}

/// The value of the hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&quot;", "\""),
    )
}

async fn log_in(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url("/login"))
        .header("origin", app.base.trim_end_matches('/'))
        .form(form)
        .send()
        .await
        .expect("log in")
}

pub async fn pages_without_a_session_keep_where_people_were_and_what_they_typed(app: TestApp) {
    let a = smmd_app::App::new(app.store.as_ref(), &app.clock as &dyn Clock);
    smmd_app::accounts::register(a, "keep@x.io", "password123", Role::User, None)
        .await
        .expect("user");
    smmd_app::accounts::register(a, "boss@x.io", "password123", Role::Admin, None)
        .await
        .expect("admin");

    // A page asked for without a session comes back after log-in; with an ended session the
    // log-in page says so.
    let none = app
        .client
        .get(app.url("/orders/new?service=3"))
        .send()
        .await
        .expect("s");
    assert_eq!(none.status(), 303);
    assert_eq!(location(&none), "/login?next=%2Forders%2Fnew%3Fservice%3D3");
    let stale = "smmd_session=0123456789abcdef0123456789abcdef";
    let ended = app
        .client
        .get(app.url("/orders"))
        .header(COOKIE, stale)
        .send()
        .await
        .expect("s");
    assert_eq!(location(&ended), "/login?next=%2Forders&expired=1");
    let (status, page) = get(&app, &location(&ended), "").await;
    assert_eq!(status, 200);
    assert!(page.contains("Your session has ended"), "{page}");
    assert_eq!(hidden(&page, "next").as_deref(), Some("/orders"));
    let back = log_in(
        &app,
        &[
            ("email", "keep@x.io"),
            ("password", "password123"),
            ("next", "/orders"),
        ],
    )
    .await;
    assert_eq!(
        (back.status().as_u16(), location(&back)),
        (303, "/orders".into())
    );
    // Only a path of this panel: another host is never a way on.
    for evil in [
        "//evil.example/x",
        "https://evil.example",
        "/\\evil.example",
    ] {
        let r = log_in(
            &app,
            &[
                ("email", "keep@x.io"),
                ("password", "password123"),
                ("next", evil),
            ],
        )
        .await;
        assert_eq!(location(&r), "/dashboard", "{evil}");
    }

    // A form sent after the session ended: kept in the log-in form, passwords left out.
    let sent = app
        .client
        .post(app.url("/settings"))
        .header(COOKIE, stale)
        .form(&[
            ("csrf_token", "0123456789abcdef0123456789abcdef"),
            ("email", "1"),
            ("webhook_url", "https://hooks.example/smmd?a=1&b=2"),
            ("current_password", "hunter2"),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(sent.status(), 401);
    let page = sent.text().await.expect("t");
    assert!(page.contains("what you typed is kept"), "{page}");
    assert!(!page.contains("hunter2"), "no password is kept");
    let resume = hidden(&page, "resume").expect("the kept form");
    assert_eq!(hidden(&page, "next").as_deref(), Some("/settings"));
    // Nothing was written meanwhile.
    let wrong = log_in(
        &app,
        &[
            ("email", "keep@x.io"),
            ("password", "nope"),
            ("next", "/settings"),
            ("resume", &resume),
        ],
    )
    .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        hidden(&wrong.text().await.expect("t"), "resume").as_deref(),
        Some(resume.as_str()),
        "a wrong password keeps the form too"
    );
    let again = log_in(
        &app,
        &[
            ("email", "keep@x.io"),
            ("password", "password123"),
            ("next", "/settings"),
            ("resume", &resume),
        ],
    )
    .await;
    assert_eq!(again.status(), 200);
    let cookie = session_of(&again);
    let page = again.text().await.expect("t");
    assert!(page.contains("Send your form again"), "{page}");
    assert!(
        page.contains("https://hooks.example/smmd?a=1&amp;b=2"),
        "shown: {page}"
    );
    assert!(!page.contains("hunter2"));
    // The offered form carries the new session's token and the kept fields; sending it saves.
    let csrf = csrf_of(&page);
    let (_, settings) = get(&app, "/settings", &cookie).await;
    assert_eq!(csrf, csrf_of(&settings), "the new session's token");
    let resent = app
        .client
        .post(app.url("/settings"))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("email", hidden(&page, "email").expect("kept").as_str()),
            (
                "webhook_url",
                hidden(&page, "webhook_url").expect("kept").as_str(),
            ),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(resent.status(), 303);
    assert!(
        location(&resent).contains("Settings+saved"),
        "{}",
        location(&resent)
    );
    let (_, settings) = get(&app, "/settings", &cookie).await;
    assert!(settings.contains("https://hooks.example/smmd?a=1&amp;b=2"));

    // Admins land on the admin dashboard, customers on theirs.
    let admin = log_in(&app, &[("email", "boss@x.io"), ("password", "password123")]).await;
    assert_eq!(location(&admin), "/admin");
    let customer = log_in(&app, &[("email", "keep@x.io"), ("password", "password123")]).await;
    assert_eq!(location(&customer), "/dashboard");

    // Unknown addresses: a page that says so (with the pages' headers), JSON under /api/.
    for cookie in ["", customer_cookie(&customer).as_str()] {
        let r = app
            .client
            .get(app.url("/no/such/page"))
            .header(COOKIE, cookie)
            .send()
            .await
            .expect("s");
        assert_eq!(r.status(), 404);
        assert!(r.headers().get(CONTENT_SECURITY_POLICY).is_some());
        let html = r.text().await.expect("t");
        assert!(
            html.contains("Page not found") && html.contains("href=\"/\""),
            "{html}"
        );
    }
    let api = app
        .client
        .get(app.url("/api/no-such"))
        .send()
        .await
        .expect("s");
    assert_eq!(api.status(), 404);
    assert!(api
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json")));
}

fn customer_cookie(r: &reqwest::Response) -> String {
    session_of(r)
}
