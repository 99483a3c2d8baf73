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
        "Create your account",
        html! {
            @if let Some(e) = error { div.flash.err { (e) } }
            @if let Some(code) = referred { p.muted #referred { "Invited with code " code { (code) } "." } }
            form method="post" action="/signup" {
                @if let Some(n) = next { input type="hidden" name="next" value=(n); }
                label for="email" { "E-mail" }
                input #email type="email" name="email" value=(email) required autocomplete="username";
                label for="password" { "Password" span.hint { " at least 8 characters" } }
                input #password type="password" name="password" required minlength="8" autocomplete="new-password";
                p { button type="submit" { "Sign up" } }
            }
            p.muted { "Already have an account? " a href=(login_link(next)) { "Log in" } }
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
                Some(why) => format!("Welcome! Your account is ready. {}", why.message()),
                None => "Welcome! Your account is ready.".to_string(),
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
            signup_form(Some(&r.message), email, code.as_deref(), next),
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
            div.card-head { h1 { "Settings" } a.button.secondary.small #security-link href="/settings/security" { "Security and two-factor" } }
            h2 { "Notifications" }
            form method="post" action="/settings" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                label.check {
                    input type="checkbox" name="email" value="1" checked[s.email];
                    " E-mail me when an order completes, ends partial or canceled, or a refill finishes"
                }
                label for="webhook_url" { "Webhook URL" span.hint { " we POST the same events here, signed" } }
                input #webhook_url type="url" name="webhook_url" placeholder="https://example.com/smm-webhook" value=[s.webhook_url.as_deref()];
                p { button type="submit" { "Save" } }
            }
            @if let Some(secret) = &s.webhook_secret {
                div.secret {
                    label for="webhook_secret" { "Signing secret" }
                    input #webhook_secret type="text" readonly value=(secret);
                    p.hint {
                        "Each webhook carries " code { "X-Smmd-Timestamp" } " and " code { "X-Smmd-Signature: sha256=…" }
                        ": the hex HMAC-SHA256 of " code { "timestamp.body" } " with this secret."
                    }
                    form method="post" action="/settings/webhook-secret" {
                        input type="hidden" name="csrf_token" value=(u.csrf);
                        button.secondary type="submit" { "New secret" }
                    }
                }
            }
            @if !deliveries.is_empty() {
                h3 { "Recent deliveries" }
                table {
                    thead { tr { th { "Channel" } th { "To" } th { "Status" } th { "Attempts" } th { "Last error" } } }
                    tbody { @for d in &deliveries {
                        tr {
                            td data-label="Channel" { (d.channel) }
                            td.link data-label="To" { (d.target) }
                            td data-label="Status" { (status_badge(&d.status)) }
                            td data-label="Attempts" { (d.attempts) }
                            td data-label="Last error" { (d.last_error.as_deref().unwrap_or("—")) }
                        }
                    } }
                }
            }
        }
        div.card {
            h2 { "Password" }
            form method="post" action="/settings/password" {
                input type="hidden" name="csrf_token" value=(u.csrf);
                label for="current" { "Current password" }
                input #current type="password" name="current" required autocomplete="current-password";
                label for="new" { "New password" span.hint { " at least 8 characters" } }
                input #new type="password" name="new" required minlength="8" autocomplete="new-password";
                p { button type="submit" { "Change password" } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Settings", "settings", content),
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
        Ok(_) => Ok(to("/settings", "ok", "Settings saved.")),
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &r.message)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn rotate_secret(
    State(st): State<AppState>,
    PageForm(u, _): PageForm,
) -> PageResult {
    match smmd_app::notifications::rotate_webhook_secret(st.app(), u.user.id).await {
        Ok(_) => Ok(to(
            "/settings",
            "ok",
            "New signing secret created; update your receiver.",
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &format!("{}.", r.message))),
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
            return Ok(to("/settings", "err", "The current password is wrong."))
        }
        Err(auth::LoginError::TooMany(secs)) => {
            return Ok(to(
                "/settings",
                "err",
                &format!("Too many attempts; try again in {secs} s."),
            ))
        }
        Err(auth::LoginError::Store(e)) => return Err(e.into()),
    }
    // This browser stays signed in; every other session and socket of the account ends.
    let keep = auth::session_cookie(&headers);
    match smmd_app::accounts::set_password(st.app(), u.user.id, new, keep.as_deref()).await {
        Ok(()) => Ok(to(
            "/settings",
            "ok",
            "Password changed. Every other session was signed out.",
        )),
        Err(UseCaseError::Refused(r)) => Ok(to("/settings", "err", &r.message)),
        Err(e) => Err(e.into()),
    }
}

/// `/notifications`: the caller's notifications, newest first; opening the page shows which are
/// new, and "Mark all read" clears the badge.
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
                h1 { "Notifications" }
                @if let Some(first) = list.first() {
                    @if u.unread > 0 {
                        form method="post" action="/notifications/read" {
                            input type="hidden" name="csrf_token" value=(u.csrf);
                            input type="hidden" name="up_to" value=(first.id);
                            button.secondary type="submit" { "Mark all read" }
                        }
                    }
                }
            }
            @if list.is_empty() {
                p.empty { "Nothing yet. You will hear here when an order finishes." }
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
                    p { a href=(format!("/notifications?before={}", last.id)) { "Older →" } }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&st, &u, "Notifications", "notifications", content),
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
