//! The simulator's HTTP face: API v2 at `/api/v2` and `/api/v2/` (the same request reading as
//! smmd's own server), with latency, faults and dialect quirks drawn per request from the seed,
//! plus `GET /_sim/stats` (what callers sent) and `GET /_sim/link?link=…` (a link's count now).
//! A link containing [`LOST_ANSWER_MARK`] makes that `add` lose its answer on purpose.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use smmd_protocol::{id_list, Action, Params, MAX_IDS};

use crate::sim::{mix, roll, Sim};

#[derive(Clone)]
struct Ctx {
    sim: Arc<Sim>,
    requests: Arc<AtomicU64>,
}

/// The router serving `sim`.
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/api/v2", any(api))
        .route("/api/v2/", any(api))
        .route("/_sim/stats", get(stats))
        .route("/_sim/link", get(link))
        .with_state(Ctx {
            sim,
            requests: Arc::new(AtomicU64::new(0)),
        })
}

async fn stats(State(c): State<Ctx>) -> Json<crate::sim::Stats> {
    Json(c.sim.stats())
}

#[derive(Deserialize)]
struct LinkQuery {
    link: String,
}

async fn link(State(c): State<Ctx>, Query(q): Query<LinkQuery>) -> Json<Value> {
    Json(json!({"link": q.link, "count": c.sim.link_count(&q.link)}))
}

/// What this request's dice said.
struct Dice {
    h: u64,
    quirky: bool,
}

impl Dice {
    fn next(&mut self) -> u64 {
        self.h = mix(self.h, 0x5151);
        self.h
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Timeout,
    Http5xx,
    Malformed,
    Html,
    Http429,
}

async fn api(State(c): State<Ctx>, req: Request) -> Response {
    let n = c.requests.fetch_add(1, Ordering::Relaxed);
    let cfg = &c.sim.config;
    let mut dice = Dice {
        h: mix(cfg.seed, n),
        quirky: false,
    };
    let span = cfg.latency_max_ms - cfg.latency_min_ms;
    let latency = cfg.latency_min_ms
        + if span > 0 {
            dice.next() % (span + 1)
        } else {
            0
        };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let faults = c.sim.faults();
    let f = &faults;
    let r = dice.next() % 100;
    let mut edge = 0u64;
    let mut hit = |pct: u32| {
        edge += u64::from(pct);
        r < edge
    };
    let fault = if hit(f.http_429_pct) {
        Fault::Http429
    } else if hit(f.html_pct) {
        Fault::Html
    } else if hit(f.timeout_pct) {
        Fault::Timeout
    } else if hit(f.http_5xx_pct) {
        Fault::Http5xx
    } else if hit(f.malformed_pct) {
        Fault::Malformed
    } else {
        Fault::None
    };
    dice.quirky = roll(dice.next(), f.quirks_pct);
    let params = smmd_protocol::http::read_params(req).await;
    let fault = match &params {
        Some(p) if fault == Fault::None && lost_answer_link(p) => Fault::Http5xx,
        _ => fault,
    };
    // *Before* faults: nothing is executed.
    match fault {
        Fault::Http429 => {
            c.sim.count_fault("http_429");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({ "error": smmd_protocol::ERR_TOO_MANY_REQUESTS })),
            )
                .into_response();
        }
        Fault::Html => {
            c.sim.count_fault("html");
            return html(StatusCode::SERVICE_UNAVAILABLE, CHALLENGE_PAGE);
        }
        _ => {}
    }
    let body = match params {
        Some(p) => execute(&c.sim, &p, &mut dice),
        None => error(&c.sim, "Incorrect request", &mut dice),
    };
    // *After* faults: executed, answer lost.
    match fault {
        Fault::Timeout => {
            c.sim.count_fault("timeout");
            tokio::time::sleep(Duration::from_millis(f.timeout_ms.max(1))).await;
            Json(body).into_response()
        }
        Fault::Http5xx => {
            c.sim.count_fault("http_5xx");
            html(
                StatusCode::BAD_GATEWAY,
                "<html><body><h1>502 Bad Gateway</h1></body></html>",
            )
        }
        Fault::Malformed => {
            c.sim.count_fault("malformed");
            let text = body.to_string();
            let cut: String = text.chars().take(text.chars().count() / 2).collect();
            ([(header::CONTENT_TYPE, "application/json")], cut).into_response()
        }
        _ => Json(body).into_response(),
    }
}

/// A test link an owner can use to see smmd's review queue on purpose: an `add` whose link
/// contains [`LOST_ANSWER_MARK`] is executed and its answer lost (HTTP 502), the ambiguous case
/// smmd must send to `needs_review` rather than send again.
pub const LOST_ANSWER_MARK: &str = "sim-lost-answer";

fn lost_answer_link(p: &Params) -> bool {
    p.get("action").and_then(Action::parse) == Some(Action::Add)
        && p.get("link").is_some_and(|l| l.contains(LOST_ANSWER_MARK))
}

const CHALLENGE_PAGE: &str = "<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title></head><body><h1>Checking your browser before accessing the panel.</h1></body></html>";

fn html(status: StatusCode, page: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        page,
    )
        .into_response()
}

fn error(sim: &Sim, message: &str, dice: &mut Dice) -> Value {
    if roll(dice.next(), sim.config.faults.envelope_pct) {
        json!({"status": "error", "message": message})
    } else {
        json!({"error": message})
    }
}

/// A count or money value: a string canonically, a JSON number in the quirky dialect.
fn num(text: String, quirky: bool) -> Value {
    if quirky {
        serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))
    } else {
        Value::String(text)
    }
}

fn status_word(status: &'static str, quirky: bool) -> &'static str {
    match (status, quirky) {
        ("In progress", true) => "In Progress",
        ("Canceled", true) => "Cancelled",
        (s, _) => s,
    }
}

fn execute(sim: &Sim, p: &Params, dice: &mut Dice) -> Value {
    let Some(action) = p.get("action").and_then(Action::parse) else {
        sim.count_call("invalid");
        return error(sim, "Incorrect request", dice);
    };
    let name = match action {
        Action::Services => "services",
        Action::Add => "add",
        Action::Status => "status",
        Action::Refill => "refill",
        Action::RefillStatus => "refill_status",
        Action::Cancel => "cancel",
        Action::Balance => "balance",
    };
    if p.get("key") != Some(sim.config.api_key.as_str()) {
        sim.count_call("invalid");
        return error(sim, "Invalid API key", dice);
    }
    sim.count_call(name);
    let q = dice.quirky;
    match action {
        Action::Services => Value::Array(
            sim.catalog()
                .iter()
                .map(|s| {
                    json!({
                        "service": if q { json!(s.id.to_string()) } else { json!(s.id) },
                        "name": s.name, "type": s.service_type, "category": s.category,
                        "rate": num(s.rate.clone(), q),
                        "min": num(s.min.to_string(), q), "max": num(s.max.to_string(), q),
                        "refill": if q { json!(u8::from(s.refill)) } else { json!(s.refill) },
                        "cancel": s.cancel, "dripfeed": s.dripfeed,
                    })
                })
                .collect(),
        ),
        Action::Add => match sim.add(p.get("service"), &p.order_input()) {
            Ok(id) if q => json!({"status": "success", "order": id.to_string()}),
            Ok(id) => json!({ "order": id }),
            Err(e) => error(sim, &e.0, dice),
        },
        Action::Status => {
            let one = |id: i64, dice: &mut Dice| match sim.status(id) {
                Some(v) => json!({
                    "charge": num(v.charge.to_decimal_string(), q),
                    "start_count": num(v.start_count.to_string(), q),
                    "status": status_word(v.status, q),
                    "remains": num(v.remains.to_string(), q),
                    "currency": sim.config.currency,
                }),
                None if roll(dice.next(), sim.config.faults.bare_error_pct) => {
                    json!("Incorrect order ID")
                }
                None => json!({"error": "Incorrect order ID"}),
            };
            if let Some(list) = p.get("orders") {
                let ids = match id_list(list) {
                    Ok(ids) if ids.len() <= MAX_IDS => ids,
                    _ => return error(sim, "Incorrect request", dice),
                };
                sim.count_status_ids(ids.len());
                let mut out = Map::new();
                for t in ids {
                    let v =
                        t.id.map_or(json!({"error": "Incorrect order ID"}), |id| one(id, dice));
                    out.insert(t.text, v);
                }
                Value::Object(out)
            } else {
                sim.count_status_ids(1);
                match p
                    .get("order")
                    .and_then(|s| s.trim().parse().ok())
                    .and_then(|id| sim.status(id))
                {
                    Some(_) => one(
                        p.get("order")
                            .and_then(|s| s.trim().parse().ok())
                            .unwrap_or(0),
                        dice,
                    ),
                    None => error(sim, "Incorrect order ID", dice),
                }
            }
        }
        Action::Refill => {
            let id = p.get("order").and_then(|s| s.trim().parse::<i64>().ok());
            match id.map(|id| sim.refill(id)) {
                Some(Ok(rid)) => json!({"refill": rid.to_string()}),
                Some(Err(e)) => error(sim, &e.0, dice),
                None => error(sim, "Incorrect order ID", dice),
            }
        }
        Action::RefillStatus => {
            if let Some(list) = p.get("refills") {
                let Ok(ids) = id_list(list) else {
                    return error(sim, "Incorrect request", dice);
                };
                Value::Array(
                    ids.into_iter()
                        .map(|t| {
                            let st = t.id.and_then(|id| sim.refill_status(id));
                            json!({"refill": t.json(), "status": st.map_or(json!({"error": "Refill not found"}), |s| json!(s))})
                        })
                        .collect(),
                )
            } else {
                match p
                    .get("refill")
                    .and_then(|s| s.trim().parse().ok())
                    .and_then(|id| sim.refill_status(id))
                {
                    Some(s) => json!({ "status": s }),
                    None => error(sim, "Refill not found", dice),
                }
            }
        }
        Action::Cancel => {
            let list = p.get("orders").or_else(|| p.get("order")).unwrap_or("");
            let Ok(ids) = id_list(list) else {
                return error(sim, "Incorrect request", dice);
            };
            Value::Array(
                ids.into_iter()
                    .map(|t| {
                        let r = t.id.map_or(Err("Incorrect order ID".to_string()), |id| {
                            sim.cancel(id).map_err(|e| e.0)
                        });
                        json!({"order": t.json(), "cancel": match r { Ok(()) => json!(1), Err(m) => json!({"error": m}) }})
                    })
                    .collect(),
            )
        }
        Action::Balance => json!({
            "balance": num(sim.balance().to_decimal_string(), q),
            "currency": sim.config.currency,
        }),
    }
}
