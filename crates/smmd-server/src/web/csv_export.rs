//! CSV exports of the pages (`/admin/orders.csv`, `/transactions.csv`): every page of a
//! newest-first listing read in batches, at most [`CSV_MAX_ROWS`] rows, each cell made
//! spreadsheet-safe (`crate::http::spreadsheet_safe`), sent as an RFC 4180 attachment.

use std::future::Future;

use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::page_error;

/// Most rows one export writes.
pub const CSV_MAX_ROWS: usize = 100_000;

/// Writes `header`, then the rows of every batch `fetch(before)` returns (newest first; the
/// next batch is asked for before the last row's `id`, until a batch is shorter than `batch`),
/// each as `row` says; answers the file `name.csv`, or the error page when a read fails.
pub async fn paged_csv<T, F, Fut, E>(
    name: &str,
    header_row: &[&str],
    batch: i64,
    mut fetch: F,
    id: impl Fn(&T) -> i64,
    row: impl Fn(&T) -> Vec<String>,
) -> Response
where
    F: FnMut(Option<i64>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
    E: std::fmt::Display,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut result = w.write_record(header_row);
    let mut rows = 0usize;
    let mut before = None;
    'pages: while result.is_ok() {
        let page = match fetch(before).await {
            Ok(p) => p,
            Err(e) => return page_error(e),
        };
        for item in &page {
            let cells: Vec<String> = row(item)
                .into_iter()
                .map(crate::http::spreadsheet_safe)
                .collect();
            result = w.write_record(&cells);
            rows += 1;
            if result.is_err() || rows >= CSV_MAX_ROWS {
                break 'pages;
            }
        }
        match page.last() {
            Some(last) if page.len() as i64 == batch => before = Some(id(last)),
            _ => break,
        }
    }
    let body = match result
        .map_err(|e| e.to_string())
        .and_then(|_| w.into_inner().map_err(|e| e.to_string()))
    {
        Ok(b) => b,
        Err(e) => return page_error(e),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A time as UTC RFC 3339 (seconds), as the exports write times.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}
