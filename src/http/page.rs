//! The analysts' search page, served by kemala itself (no front-end
//! server), and `/api/meta`: the configured topics, regions and agencies
//! that fill the page's filters.

use axum::extract::State;
use axum::response::Html;
use axum::Json;
use serde::Serialize;

use super::AppState;
use crate::model::RegionCode;

const PAGE: &str = include_str!("page.html");

pub(super) async fn index() -> Html<&'static str> {
    Html(PAGE)
}

#[derive(Serialize)]
pub(super) struct MetaResponse {
    topics: Vec<MetaTopic>,
    regions: Vec<MetaRegion>,
    agencies: Vec<MetaAgency>,
}

#[derive(Serialize)]
pub(super) struct MetaTopic {
    id: String,
    name: String,
    name_en: String,
}

#[derive(Serialize)]
pub(super) struct MetaRegion {
    code: String,
    name: String,
    slug: String,
}

#[derive(Serialize)]
pub(super) struct MetaAgency {
    id: String,
    name: String,
}

/// The configured vocabularies, for the search page's filters.
pub(super) async fn meta(State(s): State<AppState>) -> Json<MetaResponse> {
    let c = &s.config;
    Json(MetaResponse {
        topics: c
            .topics
            .iter()
            .map(|t| MetaTopic {
                id: t.id.clone(),
                name: t.name.clone(),
                name_en: t.name_en.clone(),
            })
            .collect(),
        regions: c
            .region_labels()
            .map(|(code, name, slug)| MetaRegion {
                code: if code == RegionCode::OUTSIDE.0 {
                    slug.to_string()
                } else {
                    code.to_string()
                },
                name: name.to_string(),
                slug: slug.to_string(),
            })
            .collect(),
        agencies: c
            .agencies
            .iter()
            .map(|a| MetaAgency {
                id: a.id.clone(),
                name: a.name.clone(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use crate::http::testing::TestApp;

    #[tokio::test]
    async fn the_page_is_served_and_meta_lists_the_configuration() {
        let app = TestApp::new();
        let body = app.ok_text("/", "text/html").await;
        assert!(body.contains("/api/search"));
        let meta = app.ok_json("/api/meta").await;
        let c = &app.state.config;
        assert_eq!(meta["topics"].as_array().unwrap().len(), c.topics.len());
        // The 35 regions, then `outside`.
        let regions = meta["regions"].as_array().unwrap();
        assert_eq!(regions.len(), c.regions.len() + 1);
        assert_eq!(regions.last().unwrap()["code"], "outside");
        assert_eq!(regions.last().unwrap()["name"], "Luar Jawa Tengah");
        assert_eq!(meta["agencies"].as_array().unwrap().len(), c.agencies.len());
        let demak = meta["regions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["code"] == "3321")
            .unwrap();
        assert_eq!(demak["slug"], "kab-demak");
    }
}
