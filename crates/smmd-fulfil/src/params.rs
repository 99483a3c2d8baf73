//! The API v2 `add` parameters of an order for its provider offer (spec §4.2): the type decides
//! which parameters travel; lists go as newline-separated text.

use smmd_domain::service::ServiceType;
use smmd_store::Order;

/// `service`, then the type's parameters, from the stored order.
pub fn add_params(
    o: &Order,
    provider_service_id: &str,
    ty: ServiceType,
) -> Vec<(&'static str, String)> {
    let mut p: Vec<(&'static str, String)> = vec![("service", provider_service_id.to_string())];
    if let Some(link) = &o.link {
        p.push(("link", link.clone()));
    }
    if ty.takes_quantity() {
        p.push(("quantity", o.quantity.to_string()));
    }
    if let (Some(runs), Some(interval)) = (o.runs, o.interval) {
        p.push(("runs", runs.to_string()));
        p.push(("interval", interval.to_string()));
    }
    let e = &o.extras;
    let lines = |v: &Vec<String>| v.join("\n");
    if !e.comments.is_empty() {
        p.push(("comments", lines(&e.comments)));
    }
    if !e.usernames.is_empty() {
        p.push(("usernames", lines(&e.usernames)));
    }
    if !e.hashtags.is_empty() {
        p.push(("hashtags", lines(&e.hashtags)));
    }
    if !e.groups.is_empty() {
        p.push(("groups", lines(&e.groups)));
    }
    for (name, v) in [
        ("hashtag", &e.hashtag),
        ("username", &e.username),
        ("media", &e.media),
    ] {
        if let Some(v) = v {
            p.push((name, v.clone()));
        }
    }
    if let Some(a) = e.answer_number {
        p.push(("answer_number", a.to_string()));
    }
    if let Some(s) = &e.subscription {
        p.push(("min", s.min.to_string()));
        p.push(("max", s.max.to_string()));
        if let Some(posts) = s.posts {
            p.push(("posts", posts.to_string()));
        }
        if let Some(old) = s.old_posts {
            p.push(("old_posts", old.to_string()));
        }
        p.push(("delay", s.delay.to_string()));
        if let Some((d, m, y)) = s.expiry {
            p.push(("expiry", format!("{d:02}/{m:02}/{y}")));
        }
    }
    if let Some(w) = &e.web_traffic {
        if let Some(c) = &w.country {
            p.push(("country", c.clone()));
        }
        if let Some(d) = w.device {
            p.push(("device", d.to_string()));
        }
        if let Some(t) = w.type_of_traffic {
            p.push(("type_of_traffic", t.to_string()));
        }
        if let Some(k) = &w.google_keyword {
            p.push(("google_keyword", k.clone()));
        }
        if let Some(r) = &w.referring_url {
            p.push(("referring_url", r.clone()));
        }
    }
    p
}
