//! The customer's account pages: sign-up, settings (order e-mails, webhook URL and signing
//! secret, password change) and the in-app notifications.

use smmd_app::UseCaseError;

use super::session::foreign_form;
use super::*;

fn signup_form(
    error: Option<&str>,
    email: &str,
    referred: Option<&str>,
    next: Option<&str>,
) -> Markup {
    bare(
        &t("create-account-title"),
        html! {
            @if let Some(e) = error { div.flash.err { (e) } }
            @if let Some(code) = referred { p.muted #referred { (t("invited-with-code")) " " code { (code) } } }
            form method="post" action="/signup" {
                @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                label for="email" { (t("email")) }
                input #email type="email" name="email" value=(email) required autocomplete="username";
                label for="password" { (t("password")) span.hint { " " (t("at-least-8")) } }
                input #password type="password" name="password" required minlength="8" autocomplete="new-password";
                p { button type="submit" { (t("sign-up")) } }
            }
            p.muted { (t("already-have-account")) " " a href=(login_link(next)) { (t("log-in")) } }
        },
    )
}

/// `/login`, carrying `next` when there is one.
fn login_link(next: Option<&str>) -> String {
    match next {
        Some(n) => format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", n)]).unwrap_or_default()
        ),
        None => "/login".into(),
    }
}

pub(super) async fn signup_page(
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let code = super::affiliate::cookie(&headers, super::affiliate::REF_COOKIE);
    let next = q.get("next").and_then(|n| super::session::safe_next(n));
    html_response(StatusCode::OK, signup_form(None, "", code.as_deref(), next))
}

/// Creates a user account and signs it in. Sign-up is rate limited like log-in (per client
/// address and per e-mail).
pub(super) async fn signup(
    State(st): State<AppState>,
    auth::ClientAddr(client): auth::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> PageResult {
    if !auth::same_origin(&headers) {
        return Ok(foreign_form());
    }
    let email = f.get("email").map(String::as_str).unwrap_or("").trim();
    let password = f.get("password").map(String::as_str).unwrap_or("");
    let code = super::affiliate::cookie(&headers, super::affiliate::REF_COOKIE);
    let next = f.get("next").and_then(|n| super::session::safe_next(n));
    if let Err(secs) = st.logins.check(client, email) {
        let msg = super::too_many(secs);
        return Ok(html_response(
            StatusCode::TOO_MANY_REQUESTS,
            signup_form(Some(&msg), email, code.as_deref(), next),
        ));
    }
    let (device, new_device) = auth::device(&st, &headers);
    let ctx = smmd_app::affiliates::SignUpContext {
        code: code.as_deref(),
        ip: Some(client),
        device: Some(&device),
    };
    match smmd_app::accounts::sign_up(st.app(), email, password, &ctx).await {
        Ok((user, _key, ignored)) => {
            // Under the owner's e-mail confirmation (and with e-mail to send it), the account
            // waits for its link before it can log in.
            if st.policy().await.confirm_email && st.mailer().is_some() {
                smmd_app::security::require_confirmation(st.app(), st.mailer(), &user).await?;
                let mut resp =
                    html_response(StatusCode::OK, super::security::check_inbox(&user.email));
                if let Some(d) = new_device {
                    resp.headers_mut().append(header::SET_COOKIE, d);
                }
                return Ok(resp);
            }
            let (cookie, _) = open_session(&st, &user).await?;
            let welcome = match ignored {
                Some(why) => format!("{} {}", t("welcome-ready"), why.message()),
                None => t("welcome-ready"),
            };
            // On to where the visitor was going (an order form from the services page), else
            // a new order.
            let to = next.unwrap_or("/orders/new");
            let sep = if to.contains('?') { '&' } else { '?' };
            let mut resp = Redirect::to(&format!(
                "{to}{sep}ok={}",
                url::form_urlencoded::byte_serialize(welcome.as_bytes()).collect::<String>()
            ))
            .into_response();
            resp.headers_mut().insert(header::SET_COOKIE, cookie);
            if let Some(d) = new_device {
                resp.headers_mut().append(header::SET_COOKIE, d);
            }
            if code.is_some() {
                // The referral is made (or refused) once: the cookie has done its work.
                resp.headers_mut().append(
                    header::SET_COOKIE,
                    HeaderValue::from_static(
                        "smmd_ref=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
                    ),
                );
            }
            Ok(resp)
        }
        Err(UseCaseError::Refused(r)) => Ok(html_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            signup_form(Some(&say(r.code, &r.message)), email, code.as_deref(), next),
        )),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn settings_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let s = match st.store.notification_settings(u.user.id).await {
        Ok(s) => s,
        Err(e) => return page_error(e),
    };
    let deliveries = st
        .store
        .deliveries_of_user(u.user.id, 10)
        .await
        .unwrap_or_default();
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head { h1 { (t("nav-settings")) } a.button.secondary.small #security-link href="/settings/security" { (t("security-and-2fa")) } }
            h2 { (t("nav-notifications")) }
            form method="post" action="/settings" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                label.check {
                    input type="checkbox" name="email" value="1" checked[s.email];
                    " " (t("settings-email-me"))
                }
                label for="webhook_url" { (t("webhook-url")) span.hint { " " (t("settings-webhook-hint")) } }
                input #webhook_url type="url" name="webhook_url" placeholder="https://example.com/smm-webhook" value=[s.webhook_url.as_deref()];
                p { button type="submit" { (t("save")) } }
            }
            @if let Some(secret) = &s.webhook_secret {
                div.secret {
                    label for="webhook_secret" { (t("signing-secret")) }
                    input #webhook_secret type="text" readonly value=(secret);
                    p.hint {
                        (t("settings-signature-1")) " " code { "X-Smmd-Timestamp" } ", " code { "X-Smmd-Signature: sha256=…" }
                        " — " (t("settings-signature-2")) " " code { "timestamp.body" }
                    }
                    form method="post" action="/settings/webhook-secret" {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button.secondary type="submit" { (t("new-secret")) }
                    }
                }
            }
            @if !deliveries.is_empty() {
                h3 { (t("recent-deliveries")) }
                table {
                    thead { tr { th { (t("channel")) } th { (t("to")) } th { (t("status")) } th { (t("attempts")) } th { (t("last-error")) } } }
                    tbody { @for d in &deliveries {
                        tr {
                            td data-label=(t("channel")) { (d.channel) }
                            td.link data-label=(t("to")) { (d.target) }
                            td data-label=(t("status")) { (status_badge(&d.status)) }
                            td data-label=(t("attempts")) { (d.attempts) }
                            td data-label=(t("last-error")) { (d.last_error.as_deref().unwrap_or("—")) }
                        }
                    } }
                }
            }
        }
        div.card #language-card {
            h2 { (t("language-and-currency")) }
            form method="post" action="/settings/language" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                label for="language" { (t("language-of-pages")) }
                select #language name="language" {
                    option value="" selected[u.user.language.is_none()] { (t("language-browser")) }
                    @for l in i18n::Lang::ALL {
                        option value=(l.code()) lang=(l.code()) selected[u.user.language.as_deref() == Some(l.code())] { (l.native_name()) }
                    }
                }
                p { button type="submit" { (t("save")) } }
            }
            form #display-currency-form method="post" action="/settings/currency" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                label for="display_currency" { (t("display-currency")) }
                select #display_currency name="display_currency" {
                    option value="" selected[u.user.display_currency.is_none()] { (ta("display-currency-none", &[("currency", st.config.panel.currency.as_str().into())])) }
                    @for c in u.fx.choices() {
                        option value=(c) selected[u.user.display_currency.as_deref() == Some(c)] { (c) }
                    }
                }
                p.hint { (ta("display-currency-hint", &[("currency", st.config.panel.currency.as_str().into())])) }
                p { button type="submit" { (t("save")) } }
            }
        }
        div.card {
            h2 { (t("password")) }
            form method="post" action="/settings/password" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                label for="current" { (t("current-password")) }
                input #current type="password" name="current" required autocomplete="current-password";
                label for="new" { (t("new-password")) span.hint { " " (t("at-least-8")) } }
                input #new type="password" name="new" required minlength="8" autocomplete="new-password";
                p { button type="submit" { (t("change-password")) } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-settings"), "settings", content),
    )
}

pub(super) async fn save_settings(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let saved = smmd_app::notifications::update_notification_settings(
        st.app(),
        u.user.id,
        f.get("email").is_some_and(|v| v == "1"),
        f.get("webhook_url").map(String::as_str),
        false,
        st.config.notifications.allow_private_webhooks,
    )
    .await;
    match saved {
        Ok(_) => Ok(to("/settings", "ok", &t("settings-saved"))),
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// Settings → Language: the language of the user's pages and e-mails
/// ([`smmd_app::notifications::set_language`]); the answer is already in it.
pub(super) async fn save_language(
    State(st): State<AppState>,
    headers: HeaderMap,
    PageForm(u, f): PageForm,
) -> PageResult {
    let code = f.get("language").map(String::as_str);
    match smmd_app::notifications::set_language(st.app(), u.user.id, code).await {
        Ok(lang) => {
            // The choice, or the browser's language when it was cleared.
            i18n::set(lang.unwrap_or_else(|| i18n::from_headers(&headers)));
            Ok(to("/settings", "ok", &t("language-saved")))
        }
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// Settings → display currency ([`smmd_app::currencies::set_display_currency`]).
pub(super) async fn save_display_currency(
    State(st): State<AppState>,
    PageForm(u, f): PageForm,
) -> PageResult {
    let code = f.get("display_currency").map(String::as_str);
    match smmd_app::currencies::set_display_currency(
        st.app(),
        u.user.id,
        &st.config.panel.currency,
        code,
    )
    .await
    {
        Ok(_) => Ok(to("/settings", "ok", &t("settings-saved"))),
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn rotate_secret(
    State(st): State<AppState>,
    PageForm(u, _): PageForm,
) -> PageResult {
    match smmd_app::notifications::rotate_webhook_secret(st.app(), u.user.id).await {
        Ok(_) => Ok(to("/settings", "ok", &t("new-secret-created"))),
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// Changes the password after checking the current one; every other session ends.
pub(super) async fn change_password(
    State(st): State<AppState>,
    auth::ClientAddr(client): auth::ClientAddr,
    headers: HeaderMap,
    PageForm(u, f): PageForm,
) -> PageResult {
    let current = f.get("current").map(String::as_str).unwrap_or("");
    let new = f.get("new").map(String::as_str).unwrap_or("");
    // The current password is checked under the log-in limit, like any log-in.
    let device = auth::known_device(&headers);
    match auth::check_login(&st, client, device.as_deref(), &u.user.email, current).await {
        Ok(_) => {}
        Err(auth::LoginError::Wrong) => {
            return Ok(to("/settings", "err", &t("current-password-wrong")))
        }
        Err(auth::LoginError::TooMany(secs)) => {
            return Ok(to("/settings", "err", &super::too_many(secs)))
        }
        Err(auth::LoginError::Store(e)) => return Err(e.into()),
    }
    // This browser stays signed in; every other session and socket of the account ends.
    let keep = auth::session_cookie(&headers);
    match smmd_app::accounts::set_password(st.app(), u.user.id, new, keep.as_deref()).await {
        Ok(()) => Ok(to("/settings", "ok", &t("password-changed-sessions"))),
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &say(r.code, &r.message))),
        Err(e) => Err(e.into()),
    }
}

/// `/notifications`: the caller's notifications, newest first; opening the page shows which are
/// new, and (t("mark-all-read")) clears the badge.
pub(super) async fn notifications_page(
    State(st): State<AppState>,
    u: PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let before = q.get("before").and_then(|b| b.parse::<i64>().ok());
    let list = match st.store.notifications_of_user(u.user.id, before, 50).await {
        Ok(l) => l,
        Err(e) => return page_error(e),
    };
    let content = html! {
        (flash(&q))
        div.card {
            div.card-head {
                h1 { (t("nav-notifications")) }
                @if let Some(first) = list.first() {
                    @if u.unread > 0 {
                        form method="post" action="/notifications/read" {
                            input type="hidden" name="csrf_token" value=(u.csrf);
                            input type="hidden" name="up_to" value=(first.id);
                            button.secondary type="submit" { (t("mark-all-read")) }
                        }
                    }
                }
            }
            @if list.is_empty() {
                p.empty { (t("notifications-nothing")) }
            } @else {
                ul.notifications {
                    @for n in &list {
                        li class=[n.read_at.is_none().then_some("unread")] {
                            div.title { (n.title) }
                            div.body { (n.body) }
                            div.hint { (super::orders::when(&st, n.created_at)) }
                        }
                    }
                }
                @if list.len() == 50 { @if let Some(last) = list.last() {
                    p { a href=(format!("/notifications?before={}", last.id)) { (t("older")) } }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, &t("nav-notifications"), "notifications", content),
    )
}

pub(super) async fn mark_read(State(st): State<AppState>, PageForm(u, f): PageForm) -> Response {
    let up_to = f
        .get("up_to")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    match st
        .store
        .mark_notifications_read(u.user.id, up_to, st.clock.now_ms())
        .await
    {
        Ok(_) => Redirect::to("/notifications").into_response(),
        Err(e) => page_error(e),
    }
}
