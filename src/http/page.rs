//! The analysts' search page, served by kemala itself (no front-end server).

use axum::response::Html;

const PAGE: &str = include_str!("page.html");

pub async fn index() -> Html<&'static str> {
    Html(PAGE)
}
