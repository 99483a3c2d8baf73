//! Logging in and out, and what happens when a session is missing or has ended: a page asked
//! for goes to `/login?next=<that page>` (saying the session ended when the browser still sent
//! one) and comes back to it after log-in; a form sent without a live session is kept (every
//! field but passwords, secrets and codes) in the log-in form, and after log-in the panel shows
//! it again to be sent with the new session: nothing typed is lost and nothing is sent without
//! a click. Admins land on `/admin`, customers on `/dashboard`. Unknown addresses get a page
//! that says so (`fallback`), JSON under `/api/`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::{html, Markup};

use super::{bare, html_response, page_error, t, PageForm};
use crate::auth::{self, open_session, session_cookie};
use crate::state::AppState;

/// The most a kept form may weigh (url-encoded); a bigger one is not kept (it says so).
const RESUME_MAX: usize = 64 * 1024;

/// `path` if it is a path of this panel to send a browser back to: starts with one `/` (not
/// `//` or `/\`, which browsers read as another host), no control characters, at most 2,000
/// bytes.
pub(crate) fn safe_next(path: &str) -> Option<&str> {
    let ok = path.starts_with('/')
        && !path.starts_with("//")
        && !path.starts_with("/\\")
        && path.len() <= 2_000
        && !path.chars().any(char::is_control);
    ok.then_some(path)
}

/// Whether a form field may be kept across a log-in: never passwords, secrets, codes (2FA) or
/// the old CSRF token.
fn keepable(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    !(n == "csrf_token" || n.contains("password") || n.contains("secret") || n.contains("code"))
}

/// What the log-in form carries besides the e-mail and password.
#[derive(Default)]
pub(super) struct LoginView<'a> {
    pub error: Option<&'a str>,
    pub email: &'a str,
    /// Why the person is here (the session ended), shown above the form.
    pub notice: Option<&'a str>,
    /// Where to go after log-in ([`safe_next`]).
    pub next: Option<&'a str>,
    /// A kept form (url-encoded fields) to offer again after log-in.
    pub resume: Option<&'a str>,
}

pub(super) fn login_form(v: LoginView<'_>) -> Markup {
    bare(
        &t("log-in"),
        html! {
            @if let Some(n) = v.notice { div.flash.info #session-notice { (n) } }
            @if let Some(e) = v.error { div.flash.err { (e) } }
            form method="post" action="/login" {
                @if let Some(next) = v.next { input type="hidden" name="next" value=(next); }
                @if let Some(r) = v.resume { input type="hidden" name="resume" value=(r); }
                label for="email" { (t("email")) }
                input #email type="email" name="email" value=(v.email) required autocomplete="username";
                label for="password" { (t("password")) }
                input #password type="password" name="password" required autocomplete="current-password";
                p { button type="submit" { (t("log-in")) } }
            }
            p.hint { a #forgot-link href="/forgot" { (t("forgot-password-link")) } }
            p.hint { (t("no-account-yet")) " " a #signup-link href=(match v.next {
                Some(n) => format!("/signup?{}", serde_urlencoded::to_string([("next", n)]).unwrap_or_default()),
                None => "/signup".into(),
            }) { (t("sign-up")) } }
        },
    )
}

/// A page asked for without a live session: to the log-in page, which brings the browser back
/// to it (`next`), saying the session ended when the browser sent one.
pub(super) fn to_login(parts: &Parts) -> Response {
    let had = session_cookie(&parts.headers).is_some();
    let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut q: Vec<(&str, &str)> = Vec::new();
    if parts.method == Method::GET && here != "/" && safe_next(here).is_some() {
        q.push(("next", here));
    }
    if had {
        q.push(("expired", "1"));
    }
    if q.is_empty() {
        return Redirect::to("/login").into_response();
    }
    let q = serde_urlencoded::to_string(q).unwrap_or_default();
    Redirect::to(&format!("/login?{q}")).into_response()
}

/// A form sent without a live session: the log-in page (401) keeping the form's fields, to be
/// offered again after log-in.
pub(super) fn form_without_session(path: &str, fields: &HashMap<String, String>) -> Response {
    if path == "/logout" {
        return Redirect::to("/login").into_response();
    }
    let mut kept: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| keepable(k))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    kept.sort();
    let encoded = serde_urlencoded::to_string(&kept).unwrap_or_default();
    let (notice, resume) = if encoded.len() <= RESUME_MAX && safe_next(path).is_some() {
        (t("session-ended-form-kept"), Some(encoded.as_str()))
    } else {
        (t("session-ended-form-lost"), None)
    };
    html_response(
        StatusCode::UNAUTHORIZED,
        login_form(LoginView {
            notice: Some(&notice),
            next: resume.is_some().then_some(path),
            resume,
            ..LoginView::default()
        }),
    )
}

pub(super) async fn login_page(Query(q): Query<HashMap<String, String>>) -> Response {
    let next = q.get("next").and_then(|n| safe_next(n));
    let ended = t("session-ended");
    let notice = q.contains_key("expired").then_some(ended.as_str());
    html_response(
        StatusCode::OK,
        login_form(LoginView {
            next,
            notice,
            ..LoginView::default()
        }),
    )
}

/// A log-in or sign-up form posted from another site's page: refused before anything is read,
/// so nobody can be signed into an account of the attacker's choosing (log-in CSRF).
pub(super) fn foreign_form() -> Response {
    html_response(
        StatusCode::FORBIDDEN,
        bare(
            &t("foreign-form-title"),
            html! { p { (t("foreign-form-text")) " " a href="/login" { (t("log-in-here")) } } },
        ),
    )
}

pub(super) async fn login(
    State(st): State<AppState>,
    auth::ClientAddr(client): auth::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if !auth::same_origin(&headers) {
        return foreign_form();
    }
    let email = f.get("email").map(String::as_str).unwrap_or("");
    let password = f.get("password").map(String::as_str).unwrap_or("");
    let next = f.get("next").and_then(|n| safe_next(n));
    let resume = f
        .get("resume")
        .filter(|r| !r.is_empty() && r.len() <= RESUME_MAX)
        .map(String::as_str);
    fn again<'a>(
        error: &'a str,
        email: &'a str,
        next: Option<&'a str>,
        resume: Option<&'a str>,
    ) -> LoginView<'a> {
        LoginView {
            error: Some(error),
            email,
            next,
            resume,
            notice: None,
        }
    }
    let (device, new_device) = auth::device(&st, &headers);
    let user = match auth::check_login(&st, client, Some(&device), email, password).await {
        Ok(u) => u,
        Err(auth::LoginError::Wrong) => {
            return html_response(
                StatusCode::UNAUTHORIZED,
                login_form(again(&t("wrong-login"), email, next, resume)),
            )
        }
        Err(auth::LoginError::TooMany(secs)) => {
            let msg = super::too_many(secs);
            return html_response(
                StatusCode::TOO_MANY_REQUESTS,
                login_form(again(&msg, email, next, resume)),
            );
        }
        Err(auth::LoginError::Store(e)) => return page_error(e),
    };
    if user.email_pending {
        // The password was right: say what is missing, and offer the link again.
        return html_response(
            StatusCode::FORBIDDEN,
            super::security::check_inbox(&user.email),
        );
    }
    let (cookie, csrf) = match open_session(&st, &user).await {
        Ok(x) => x,
        Err(e) => return page_error(e.message),
    };
    let mut resp = match (next, resume) {
        // Two-factor: the session waits for the code (a kept form is not carried further).
        _ if user.two_factor => {
            let q = next
                .map(|n| {
                    format!(
                        "?{}",
                        serde_urlencoded::to_string([("next", n)]).unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            Redirect::to(&format!("/login/code{q}")).into_response()
        }
        (Some(next), Some(resume)) => html_response(StatusCode::OK, resend(next, resume, &csrf)),
        (next, _) => Redirect::to(landing(next, &user)).into_response(),
    };
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    if let Some(d) = new_device {
        resp.headers_mut().append(header::SET_COOKIE, d);
    }
    resp
}

/// Where a log-in lands: `next`, else `/admin` for admins and `/dashboard` for customers.
pub(super) fn landing<'a>(next: Option<&'a str>, user: &smmd_store::User) -> &'a str {
    match next {
        Some(n) => n,
        None if user.role == smmd_store::Role::Admin => "/admin",
        None => "/dashboard",
    }
}

/// The kept form, shown with what it holds, to be sent to `next` with the new session's token.
fn resend(next: &str, resume: &str, csrf: &str) -> Markup {
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(resume).unwrap_or_default();
    let fields: Vec<(String, String)> = fields.into_iter().filter(|(k, _)| keepable(k)).collect();
    let shown = |v: &str| {
        let mut t: String = v.chars().take(120).collect();
        if v.chars().count() > 120 {
            t.push('…');
        }
        t
    };
    bare(
        &t("resend-title"),
        html! {
            p { (t("resend-text")) }
            @if !fields.is_empty() {
                dl.facts.kept { @for (k, v) in &fields { @if !v.is_empty() {
                    div { dt { (k.replace('_', " ")) } dd { (shown(v)) } }
                } } }
            }
            form #resend method="post" action=(next) {
                input type="hidden" name="csrf_token" value=(csrf);
                @for (k, v) in &fields { input type="hidden" name=(k) value=(v); }
                p { button type="submit" { (t("send")) } " " a.button.secondary href="/dashboard" { (t("do-not-send")) } }
            }
        },
    )
}

pub(super) async fn logout(
    State(st): State<AppState>,
    headers: HeaderMap,
    _form: PageForm,
) -> Response {
    if let Err(e) = auth::end_session(&st, &headers).await {
        return page_error(e);
    }
    let mut resp = Redirect::to("/login").into_response();
    let clear = auth::clear_session_cookie(&st);
    resp.headers_mut().insert(header::SET_COOKIE, clear);
    resp
}

/// Any address no route serves: a page saying so with the ways on (HTML), or the REST error
/// shape under `/api/`.
pub(super) async fn fallback(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") || uri.path() == "/api" {
        return crate::error::AppError::not_found("Resource").into_response();
    }
    html_response(StatusCode::NOT_FOUND, not_found_page())
}

pub(super) fn not_found_page() -> Markup {
    bare(
        &t("page-not-found-title"),
        html! {
            p { (t("page-not-found-text")) }
            p.actions { a.button href="/" { (t("home")) } " " a.button.secondary href="/services" { (t("nav-services")) } " " a.button.secondary href="/login" { (t("log-in")) } }
        },
    )
}
