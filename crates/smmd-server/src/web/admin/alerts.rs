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
            div.card-head { h1 { "Alerts on your phone" } a href="/admin" { "Open alerts →" } }
            p.hint {
                "Every admin alert reaches the admins in the panel and by e-mail. Choose which ones also go to "
                "a Telegram chat or a Discord channel: messages wait in the outbox and are retried for about 7 hours, "
                "so an alert is never held up by Telegram or Discord. "
                @match open.len() {
                    0 => "No alert is open now.",
                    1 => "One alert is open now.",
                    n => { (n) " alerts are open now." }
                }
            }
        }
        @for c in &channels {
            (channel_card(&st, &u, c))
        }
        div.card #channel-messages {
            div.card-head { h2 { "Recent messages" } span.hint { "newest " (smmd_app::alert_channels::RECENT) } }
            @if recent.is_empty() {
                p.muted { "No alert has gone to a channel yet." }
            } @else {
                table.admin {
                    thead { tr { th { "Channel" } th { "To" } th { "Status" } th { "When" } th { "Attempts" } th { "Last error" } } }
                    tbody { @for d in &recent {
                        tr {
                            td data-label="Channel" { (AlertChannel::parse(d.channel).map_or(d.channel, |c| c.title())) }
                            td data-label="To" { (d.target) }
                            td data-label="Status" { span class=(format!("status s-{}", d.status)) { (d.status) } }
                            td data-label="When" {
                                @match d.finished_at {
                                    Some(at) => (when(&st, at)),
                                    None => { "next try " (when(&st, d.next_at)) },
                                }
                            }
                            td data-label="Attempts" { (d.attempts) }
                            td data-label="Last error" { (d.last_error.as_deref().unwrap_or("—")) }
                        }
                    } }
                }
            }
        }
    };
    Ok(html_response(
        StatusCode::OK,
        layout(&st, &u, "Alerts on your phone", "admin", content),
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
                @if c.configured { span.status.s-completed { "On" } } @else { span.status { "Not set up" } }
            }
            @match c.channel {
                AlertChannel::Telegram => p.hint { "Create a bot with @BotFather, add it to your chat or channel, and paste its token and the chat id here." },
                AlertChannel::Discord => p.hint { "In the Discord channel: Settings → Integrations → Webhooks → New Webhook → Copy Webhook URL." },
            }
            (api_form("PUT", &url, &format!("{} saved", c.channel.title()), html! {
                @match c.channel {
                    AlertChannel::Telegram => {
                        label for=(id("secret")) { "Bot token " @if c.configured { span.hint { "saved; leave empty to keep it" } } }
                        input #(id("secret")) type="password" name="secret" autocomplete="off" maxlength="500"
                            placeholder="123456789:AA…" required[!c.configured];
                        label for=(id("chat")) { "Chat id " span.hint { "a number like -1001234567890, or @channel_name" } }
                        input #(id("chat")) type="text" name="chat_id" value=(c.chat_id) maxlength="500" required;
                    }
                    AlertChannel::Discord => {
                        label for=(id("secret")) { "Webhook address " @if c.configured { span.hint { "saved; leave empty to keep it" } } }
                        input #(id("secret")) type="password" name="secret" autocomplete="off" maxlength="500"
                            placeholder="https://discord.com/api/webhooks/…" required[!c.configured];
                    }
                }
                fieldset.kinds {
                    legend { "Send these alerts" }
                    @for k in AlertKind::ALL {
                        label.check {
                            input type="checkbox" name="kinds" value=(k.as_str()) data-type="list" checked[c.kinds.contains(k)];
                            " " (k.title())
                        }
                    }
                }
                p.actions {
                    (code_field(st, u, true))
                    button #(id("save")) type="submit" { "Save" }
                }
            }))
            @if c.configured {
                div.actions {
                    (api_form("POST", &format!("{url}/test"), "Test message sent: look at your chat", html! {
                        button.secondary #(id("test")) type="submit" { "Send a test message" }
                    }))
                    (api_form("DELETE", &url, &format!("{} removed", c.channel.title()), html! {
                        button.secondary #(id("remove")) type="submit" { "Remove" }
                    }))
                }
            }
        }
    }
}
