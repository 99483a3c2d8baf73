//! Local servers that speak the owner alert channels' APIs, for tests: the Telegram Bot API's
//! `POST /bot<token>/sendMessage` and Discord's Execute Webhook `POST /api/webhooks/<id>/<token>`,
//! on one loopback listener. Each records the secret of the path and the JSON body, and answers
//! from a queue (status, JSON, delay), then with the service's success answer. Shared with the
//! server's tests through `#[path]`.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// One canned answer: status, JSON body, and how long to wait first.
pub type Answer = (u16, Value, Duration);

/// A fake service: records each request's path secret and JSON body, answers from its queue
/// (then the default success).
#[derive(Clone)]
pub struct Fake {
    seen: Arc<Mutex<Vec<(String, Value)>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
    success: Answer,
}

impl Fake {
    pub fn new(success: Answer) -> Fake {
        Fake {
            seen: Arc::default(),
            answers: Arc::default(),
            success,
        }
    }

    pub fn then(&self, status: u16, body: Value) -> &Fake {
        self.answers
            .lock()
            .expect("lock")
            .push_back((status, body, Duration::ZERO));
        self
    }

    pub fn then_slow(&self, wait: Duration) -> &Fake {
        let mut a = self.success.clone();
        a.2 = wait;
        self.answers.lock().expect("lock").push_back(a);
        self
    }

    async fn answer(&self, secret: String, body: Value) -> (StatusCode, Json<Value>) {
        self.seen.lock().expect("lock").push((secret, body));
        let (status, body, wait) = self
            .answers
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or_else(|| self.success.clone());
        tokio::time::sleep(wait).await;
        (
            StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
            Json(body),
        )
    }

    pub fn seen(&self) -> Vec<(String, Value)> {
        self.seen.lock().expect("lock").clone()
    }
}

/// A Telegram Bot API and a Discord webhook endpoint on one loopback server; returns the fakes,
/// the Bot API base address and the Discord webhook address.
pub async fn services() -> (Fake, Fake, String, String) {
    let telegram = Fake::new((
        200,
        json!({ "ok": true, "result": { "message_id": 1 } }),
        Duration::ZERO,
    ));
    let discord = Fake::new((204, Value::Null, Duration::ZERO));
    let (t, d) = (telegram.clone(), discord.clone());
    let app = Router::new()
        .route(
            "/{bot}/sendMessage",
            post(move |Path(bot): Path<String>, Json(body): Json<Value>| {
                let t = t.clone();
                async move { t.answer(bot, body).await }
            }),
        )
        .route(
            "/api/webhooks/{id}/{token}",
            post(
                move |Path((id, token)): Path<(String, String)>, Json(body): Json<Value>| {
                    let d = d.clone();
                    async move { d.answer(format!("{id}/{token}"), body).await }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let hook = format!("{base}/api/webhooks/42/hook-token");
    (telegram, discord, base, hook)
}
