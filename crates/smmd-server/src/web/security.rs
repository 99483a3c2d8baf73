//! Account security pages (issue 18): "forgot password" and the reset link's page, the e-mail
//! confirmation link and its resend, the second step of a log-in (the two-factor code), and
//! Settings → Security (turning two-factor on with a QR code, backup codes, turning it off,
//! and for admins the owner's policy). Every rule is `smmd_app::security`'s; these pages only
//! carry forms and never say whether an e-mail has an account.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use base64::Engine as _;
use maud::{html, Markup};
use smmd_app::UseCaseError;

use super::session::{foreign_form, safe_next};
use super::{bare, flash, html_response, layout, say, t, ta, to, PageForm, PageResult, PageUser};
use crate::auth::{self, session_cookie};
use crate::state::AppState;

fn field<'a>(f: &'a HashMap<String, String>, name: &str) -> &'a str {
    f.get(name).map(String::as_str).unwrap_or("")
}

fn forgot_form(message: Option<(&str, &str)>, email: &str) -> Markup {
    bare(
        &t("reset-title"),
        html! {
            @if let Some((kind, m)) = message { div.flash.(kind) #reset-notice { (m) } }
            p { (t("reset-intro")) }
            form method="post" action="/forgot" {
                label for="email" { (t("email")) }
                input #email type="email" name="email" value=(email) required autocomplete="username";
                p { button type="submit" { (t("send-link")) } }
            }
            p.hint { a href="/login" { (t("back-to-login")) } }
        },
    )
}

pub(super) async fn forgot_page() -> Response {
    html_response(StatusCode::OK, forgot_form(None, ""))
}

/// Sends the reset link (through the outbox); one answer whether or not the e-mail has an
/// account. Limited like log-ins, per address and e-mail.
pub(super) async fn forgot(
    State(st): State<AppState>,
    auth::ClientAddr(client): auth::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    if !auth::same_origin(&headers) {
        return Ok(foreign_form());
    }
    let email = field(&f, "email").trim();
    if let Err(secs) = st.logins.check(client, email) {
        let msg = super::too_many(secs);
        return Ok(html_response(
            StatusCode::TOO_MANY_REQUESTS,
            forgot_form(Some(("err", &msg)), email),
        ));
    }
    match smmd_app::security::request_password_reset(st.app(), st.mailer(), email).await {
        Ok(()) => Ok(html_response(
            StatusCode::OK,
            forgot_form(Some(("ok", &t("reset-link-sent"))), ""),
        )),
        Err(UseCaseError::Refused(r)) => Ok(html_response(
            super::refusal_status(r.code),
            forgot_form(Some(("err", &say(r.code, &r.message))), email),
        )),
        Err(e) => Err(e.into()),
    }
}

fn reset_form(token: &str, error: Option<&str>) -> Markup {
    bare(
        &t("new-password-title"),
        html! {
            @if let Some(e) = error { div.flash.err { (e) } }
            form method="post" action="/reset" {
                input type="hidden" name="token" value=(token);
                label for="password" { (t("new-password")) }
                input #password type="password" name="password" required minlength="8" autocomplete="new-password";
                p.hint { (t("new-password-hint")) }
                p { button type="submit" { (t("set-password")) } }
            }
        },
    )
}

pub(super) async fn reset_page(Query(q): Query<HashMap<String, String>>) -> Response {
    html_response(
        StatusCode::OK,
        reset_form(q.get("token").map_or("", String::as_str), None),
    )
}

pub(super) async fn reset(
    State(st): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    if !auth::same_origin(&headers) {
        return Ok(foreign_form());
    }
    let token = field(&f, "token");
    match smmd_app::security::reset_password(st.app(), token, field(&f, "password")).await {
        // Every session of the account ended with the reset (live sockets close at their next
        // session check, on every instance).
        Ok(_) => Ok(html_response(
            StatusCode::OK,
            bare(
                &t("password-changed-title"),
                html! {
                    p #reset-done { (t("password-changed-text")) }
                    p { a.button href="/login" { (t("log-in")) } }
                },
            ),
        )),
        Err(UseCaseError::Refused(r)) => Ok(html_response(
            super::refusal_status(r.code),
            reset_form(token, Some(&say(r.code, &r.message))),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The confirmation link of a sign-up.
pub(super) async fn confirm_page(
    State(st): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let token = q.get("token").map_or("", String::as_str);
    let body = match smmd_app::security::confirm_email(st.app(), token).await {
        Ok(_) => bare(
            &t("email-confirmed-title"),
            html! {
                p #confirmed { (t("email-confirmed-text")) }
                p { a.button href="/login" { (t("log-in")) } }
            },
        ),
        Err(UseCaseError::Refused(r)) => bare(
            &t("link-not-valid"),
            html! {
                div.flash.err { (say(r.code, &r.message)) }
                (resend_form(""))
            },
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(html_response(StatusCode::OK, body))
}

/// The form that sends the confirmation link again.
pub(super) fn resend_form(email: &str) -> Markup {
    html! {
        form method="post" action="/confirm/resend" {
            label for="resend-email" { (t("email")) }
            input #resend-email type="email" name="email" value=(email) required;
            p { button.secondary type="submit" { (t("resend-confirmation")) } }
        }
    }
}

/// What a sign-up under e-mail confirmation, and a log-in before it, show.
pub(super) fn check_inbox(email: &str) -> Markup {
    bare(
        &t("confirm-email-title"),
        html! {
            p #check-inbox { (ta("check-inbox-text", &[("email", email.into())])) }
            (resend_form(email))
        },
    )
}

pub(super) async fn resend_confirmation(
    State(st): State<AppState>,
    auth::ClientAddr(client): auth::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    if !auth::same_origin(&headers) {
        return Ok(foreign_form());
    }
    let email = field(&f, "email").trim();
    if st.logins.check(client, email).is_err() {
        return Ok(html_response(
            StatusCode::TOO_MANY_REQUESTS,
            check_inbox(email),
        ));
    }
    match smmd_app::security::send_confirmation(st.app(), st.mailer(), email).await {
        Ok(()) | Err(UseCaseError::Refused(_)) => {
            Ok(html_response(StatusCode::OK, check_inbox(email)))
        }
        Err(e) => Err(e.into()),
    }
}

fn code_form(next: Option<&str>, error: Option<&str>) -> Markup {
    bare(
        &t("code-title"),
        html! {
            @if let Some(e) = error { div.flash.err { (e) } }
            p { (t("code-intro")) }
            form method="post" action="/login/code" {
                @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                label for="code" { (t("code")) }
                input #code type="text" name="code" required autocomplete="one-time-code" inputmode="numeric" maxlength="20" autofocus;
                p {
                    button type="submit" { (t("log-in")) } " "
                    button.secondary #cancel-login type="submit" name="cancel" value="1" formnovalidate { (t("cancel")) }
                }
            }
        },
    )
}

/// The session of the request's cookie if it waits for its second factor.
async fn waiting(st: &AppState, headers: &HeaderMap) -> Option<(String, smmd_store::User)> {
    let hash = auth::token_hash(&session_cookie(headers)?);
    let s = st.store.session(&hash, st.clock.now_ms()).await.ok()??;
    s.pending_factor.then_some((hash, s.user))
}

pub(super) async fn code_page(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if waiting(&st, &headers).await.is_none() {
        return Redirect::to("/login").into_response();
    }
    let next = q.get("next").and_then(|n| safe_next(n));
    html_response(StatusCode::OK, code_form(next, None))
}

/// The second step of a log-in: a good code makes the waiting session a log-in. Wrong codes
/// count against the log-in limits of the address and account.
pub(super) async fn submit_code(
    State(st): State<AppState>,
    auth::ClientAddr(client): auth::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    if !auth::same_origin(&headers) {
        return Ok(foreign_form());
    }
    let Some((hash, user)) = waiting(&st, &headers).await else {
        return Ok(Redirect::to("/login").into_response());
    };
    let next = f.get("next").and_then(|n| safe_next(n));
    if f.contains_key("cancel") {
        // The waiting session ends here: back to the log-in form.
        auth::end_session(&st, &headers).await?;
        let mut resp = Redirect::to("/login").into_response();
        resp.headers_mut()
            .insert(header::SET_COOKIE, auth::clear_session_cookie(&st));
        return Ok(resp);
    }
    if let Err(secs) = st.logins.check(client, &user.email) {
        let msg = super::too_many(secs);
        return Ok(html_response(
            StatusCode::TOO_MANY_REQUESTS,
            code_form(next, Some(&msg)),
        ));
    }
    match smmd_app::security::complete_login(st.app(), user.id, &hash, field(&f, "code")).await {
        Ok(()) => Ok(Redirect::to(super::session::landing(next, &user)).into_response()),
        Err(UseCaseError::Refused(r)) => Ok(html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            code_form(next, Some(&say(r.code, &r.message))),
        )),
        Err(e) => Err(e.into()),
    }
}

/// The QR code of an `otpauth://` URL as an `<img>` source (an SVG `data:` URL: the CSP
/// allows `data:` images and nothing leaves the panel).
fn qr_data_url(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Some(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

fn codes_card(codes: &[String]) -> Markup {
    html! {
        div.card #backup-codes {
            h2 { (t("backup-codes-title")) }
            p { (t("backup-codes-text")) }
            ul.codes { @for c in codes { li { code { (c) } } } }
        }
    }
}

/// Settings → Security: two-factor (on: backup codes and turning it off; off: the set-up with
/// its QR code), and for admins the owner's policy.
pub(super) async fn security_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    Ok(html_response(
        StatusCode::OK,
        security_view(&st, &u, &q, None).await?,
    ))
}

async fn security_view(
    st: &AppState,
    u: &PageUser,
    q: &HashMap<String, String>,
    new_codes: Option<&[String]>,
) -> Result<Markup, super::PageError> {
    let state = st.store.two_factor(u.user.id).await?;
    let policy = st.policy().await;
    let brand = st.brand().await;
    let enrolment =
        (!u.user.two_factor).then(|| smmd_app::security::new_enrolment(&brand.name, &u.user.email));
    let content = html! {
        (flash(q))
        @if q.contains_key("required") {
            div.flash.info #two-factor-required { (t("two-factor-required")) }
        }
        @if let Some(codes) = new_codes { (codes_card(codes)) }
        div.card {
            h1 { (t("security")) }
            h2 { (t("two-factor-title")) }
            @if u.user.two_factor {
                p #two-factor-state { span.status.s-completed { (t("on")) } " " (t("two-factor-on-text")) " "
                    (ta("backup-codes-left", &[("n", state.backup_codes_left.into())])) }
                form method="post" action="/settings/security/codes" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    label for="codes-code" { (t("code")) }
                    input #codes-code type="text" name="code" required autocomplete="one-time-code" inputmode="numeric" maxlength="20";
                    p { button.secondary type="submit" { (t("make-backup-codes")) } }
                }
                h3 { (t("turn-off")) }
                form method="post" action="/settings/security/disable" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    label for="off-password" { (t("password")) }
                    input #off-password type="password" name="password" required autocomplete="current-password";
                    label for="off-code" { (t("code")) }
                    input #off-code type="text" name="code" required autocomplete="one-time-code" maxlength="20";
                    p { button.danger type="submit" { (t("turn-two-factor-off")) } }
                }
            } @else if let Some(e) = &enrolment {
                p #two-factor-state { span.status.s-canceled { (t("off")) } " " (t("two-factor-off-text")) }
                ol.steps {
                    li { (t("enrol-step-scan")) }
                    li { (t("enrol-step-code")) }
                }
                div.enrol {
                    @if let Some(src) = qr_data_url(&e.otpauth_url) {
                        img.qr src=(src) alt=(t("qr-alt")) width="200" height="200";
                    }
                    p { (t("totp-key")) " " code #totp-secret { (e.secret) } }
                }
                form method="post" action="/settings/security/enable" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    input type="hidden" name="secret" value=(e.secret);
                    label for="enable-code" { (t("code-from-app")) }
                    input #enable-code type="text" name="code" required autocomplete="one-time-code" inputmode="numeric" maxlength="10";
                    label for="enable-password" { (t("password")) }
                    input #enable-password type="password" name="password" required autocomplete="current-password";
                    p { button type="submit" { (t("turn-two-factor-on")) } }
                }
            }
        }
        @if u.user.role == smmd_store::Role::Admin {
            div.card {
                h2 { (t("panel-policy")) }
                form method="post" action="/settings/security/policy" {
                    input type="hidden" name="csrf_token" value=(u.csrf);
                    label.check { input type="checkbox" name="admin_two_factor" value="on" checked[policy.admin_two_factor]; " " (t("policy-admin-two-factor")) }
                    label.check { input type="checkbox" name="confirm_email" value="on" checked[policy.confirm_email]; " " (t("policy-confirm-email")) }
                    @if st.mailer().is_none() { p.hint { (t("email-off-hint")) } }
                    p { button type="submit" { (t("save")) } }
                }
            }
        }
    };
    Ok(layout(st, u, &t("security"), "settings", content))
}

/// The security page with new backup codes, shown this once, and `message`.
async fn show_codes(st: &AppState, u: &PageUser, message: &str, codes: &[String]) -> PageResult {
    let q = HashMap::from([("ok".to_string(), message.to_string())]);
    Ok(html_response(
        StatusCode::OK,
        security_view(st, u, &q, Some(codes)).await?,
    ))
}

fn refused_to_page(r: &smmd_app::Refusal) -> Response {
    to("/settings/security", "err", &say(r.code, &r.message))
}

pub(super) async fn enable(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    match smmd_app::security::enable_two_factor(
        st.app(),
        &u.user,
        field(&f, "password"),
        field(&f, "secret"),
        field(&f, "code"),
    )
    .await
    {
        Ok(codes) => {
            // The code just typed proves the second factor for this session too.
            st.store
                .pass_second_factor(&u.session.0, st.clock.now_ms())
                .await?;
            let mut u = u;
            u.user.two_factor = true;
            show_codes(&st, &u, &t("two-factor-now-on"), &codes).await
        }
        Err(UseCaseError::Refused(r)) => Ok(refused_to_page(&r)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn disable(State(st): State<AppState>, PageForm(u, f): PageForm) -> PageResult {
    match smmd_app::security::disable_two_factor(
        st.app(),
        &u.user,
        field(&f, "password"),
        field(&f, "code"),
    )
    .await
    {
        Ok(()) => Ok(to("/settings/security", "ok", &t("two-factor-now-off"))),
        Err(UseCaseError::Refused(r)) => Ok(refused_to_page(&r)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn renew_codes(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    match smmd_app::security::renew_backup_codes(st.app(), &u.user, field(&f, "code")).await {
        Ok(codes) => show_codes(&st, &u, &t("backup-codes-renewed"), &codes).await,
        Err(UseCaseError::Refused(r)) => Ok(refused_to_page(&r)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn save_policy(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    if u.user.role != smmd_store::Role::Admin {
        return Ok(super::session::fallback(axum::http::Uri::from_static(
            "/settings/security/policy",
        ))
        .await);
    }
    let p = smmd_app::security::Policy {
        admin_two_factor: f.contains_key("admin_two_factor"),
        confirm_email: f.contains_key("confirm_email"),
    };
    match smmd_app::security::set_policy(st.app(), &AppState::actor(&u.user), Some(&u.user), p)
        .await
    {
        Ok(_) => {
            st.policy.invalidate();
            Ok(to("/settings/security", "ok", &t("policy-saved")))
        }
        Err(UseCaseError::Refused(r)) => Ok(refused_to_page(&r)),
        Err(e) => Err(e.into()),
    }
}
