//! `/admin/alerts`: where the owner's phone hears admin alerts — a Telegram chat (bot token
//! and chat id) and a Discord channel (webhook address), each with the alert kinds it hears, a
//! test button and a remove button, and the newest channel messages with their errors.
//! Actions are `data-api` forms on `/api/admin/alert-channels/*`; secrets are write-only.

use smmd_domain::alert::{AlertChannel, AlertKind};

use super::*;

pub(super) async fn alerts_page(State(st): State<AppState>, AdminPage(u): AdminPage) -> PageResult {
    let channels = smmd_app::alert_channels::channels(st.app()).await?;
    let recent = smmd_app::alert_channels::recent_messages(st.app()).await?;
    let open = st.store.open_alerts().await?;
    let content = html! {
        div.card #alert-channels {
            div.card-head { h1 { (t("adm-alerts-on-your-phone")) } a href="/admin" { (t("adm-open-alerts")) } }
            p.hint {
                (t("adm-every-admin-alert-reaches-the")) " "
                (t("adm-a-telegram-chat-or-a")) " "
                (t("adm-so-an-alert-is-never")) " "
                @match open.len() {
                    0 => (t("adm-no-alert-is-open-now")),
                    1 => (t("adm-one-alert-is-open-now")),
                    n => { (n) " " (t("adm-alerts-are-open-now")) }
                }
            }
        }
        @for c in &channels {
            (channel_card(&st, &u, c))
        }
        div.card #channel-messages {
            div.card-head { h2 { (t("adm-recent-messages")) } span.hint { (t("adm-newest")) " " (smmd_app::alert_channels::RECENT) } }
            @if recent.is_empty() {
                p.muted { (t("adm-no-alert-has-gone-to")) }
            } @else {
                table.admin {
                    thead { tr { th { (t("channel")) } th { (t("to")) } th { (t("status")) } th { (t("when")) } th { (t("attempts")) } th { (t("last-error")) } } }
                    tbody { @for d in &recent {
                        tr {
                            td data-label=(t("channel")) { (AlertChannel::parse(d.channel).map_or(d.channel, |c| c.title())) }
                            td data-label=(t("to")) { (d.target) }
                            td data-label=(t("status")) { span class=(format!("status s-{}", d.status)) { (d.status) } }
                            td data-label=(t("when")) {
                                @match d.finished_at {
                                    Some(at) => (when(&st, at)),
                                    None => { (t("adm-next-try")) " " (when(&st, d.next_at)) },
                                }
                            }
                            td data-label=(t("attempts")) { (d.attempts) }
                            td data-label=(t("last-error")) { (d.last_error.as_deref().unwrap_or("—")) }
                        }
                    } }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, &t("adm-alerts-on-your-phone"), "admin", content),
    ))
}

fn channel_card(st: &AppState, u: &PageUser, c: &smmd_app::alert_channels::ChannelView) -> Markup {
    let name = c.channel.as_str();
    let url = format!("/api/admin/alert-channels/{name}");
    let id = |field: &str| format!("{name}-{field}");
    html! {
        div.card #(format!("channel-{name}")) {
            div.card-head {
                h2 { (c.channel.title()) }
                @if c.configured { span.status.s-completed { (t("on")) } } @else { span.status { (t("adm-not-set-up")) } }
            }
            @match c.channel {
                AlertChannel::Telegram => p.hint { (t("adm-create-a-bot-with-botfather")) },
                AlertChannel::Discord => p.hint { (t("adm-in-the-discord-channel-settings")) },
            }
            (api_form("PUT", &url, &ta("adm-channel-saved", &[("channel", c.channel.title().into())]), html! {
                @match c.channel {
                    AlertChannel::Telegram => {
                        label for=(id("secret")) { (t("adm-bot-token")) " " @if c.configured { span.hint { (t("adm-saved-leave-empty-to-keep")) } } }
                        input #(id("secret")) type="password" name="secret" autocomplete="off" maxlength="500"
                            placeholder="123456789:AA…" required[!c.configured];
                        label for=(id("chat")) { (t("adm-chat-id")) " " span.hint { (t("adm-a-number-like-1001234567890-or")) } }
                        input #(id("chat")) type="text" name="chat_id" value=(c.chat_id) maxlength="500" required;
                    }
                    AlertChannel::Discord => {
                        label for=(id("secret")) { (t("adm-webhook-address")) " " @if c.configured { span.hint { (t("adm-saved-leave-empty-to-keep")) } } }
                        input #(id("secret")) type="password" name="secret" autocomplete="off" maxlength="500"
                            placeholder="https://discord.com/api/webhooks/…" required[!c.configured];
                    }
                }
                fieldset.kinds {
                    legend { (t("adm-send-these-alerts")) }
                    @for k in AlertKind::ALL {
                        label.check {
                            input type="checkbox" name="kinds" value=(k.as_str()) data-type="list" checked[c.kinds.contains(k)];
                            " " (k.title())
                        }
                    }
                }
                p.actions {
                    (code_field(st, u, true))
                    button #(id("save")) type="submit" { (t("save")) }
                }
            }))
            @if c.configured {
                div.actions {
                    (api_form("POST", &format!("{url}/test"), &t("adm-test-message-sent-look-at"), html! {
                        button.secondary #(id("test")) type="submit" { (t("adm-send-a-test-message")) }
                    }))
                    (api_form("DELETE", &url, &ta("adm-channel-removed", &[("channel", c.channel.title().into())]), html! {
                        button.secondary #(id("remove")) type="submit" { (t("adm-remove")) }
                    }))
                }
            }
        }
    }
}
