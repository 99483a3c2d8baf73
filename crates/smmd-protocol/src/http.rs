//! Reading API v2 requests from axum (feature `axum`): shared by our reseller server and the
//! simulator, so both accept exactly the same inputs (spec §7.2).

use axum::body::to_bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;

use crate::Params;

/// Largest accepted request body (long comment lists, spec §7.2 asks for ≥ 1 MB).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// Query string plus body, merged; `None` when the body cannot be read at all.
pub async fn read_params(req: Request) -> Option<Params> {
    let query = match req.uri().query() {
        Some(q) => Params::form_pairs(q.as_bytes()).ok()?,
        None => Vec::new(),
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = if content_type.starts_with("multipart/form-data") {
        let mut form = Multipart::from_request(req, &()).await.ok()?;
        let mut pairs = Vec::new();
        while let Some(field) = form.next_field().await.ok()? {
            let name = field.name().unwrap_or("").to_string();
            let value = field.text().await.ok()?;
            pairs.push((name, value));
        }
        pairs
    } else {
        let bytes = to_bytes(req.into_body(), MAX_BODY).await.ok()?;
        let trimmed = bytes.trim_ascii_start();
        if trimmed.is_empty() {
            Vec::new()
        } else if content_type.starts_with("application/json") || trimmed.starts_with(b"{") {
            Params::json_pairs(&bytes).ok()?
        } else {
            Params::form_pairs(&bytes).ok()?
        }
    };
    Some(Params::merge([query, body]))
}
