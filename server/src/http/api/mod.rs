//! REST API v1. Every operation is declared with `#[utoipa::path]`, which also generates the
//! OpenAPI document served at `/api/v1/openapi.json`. Each operation states its authorization
//! rule in the `x-latchkey-access` extension — `public`, `signed_in`, or `<action>@<scope>` with
//! scope `any` (a grant anywhere), `env` (the environment the request touches) or `global`, with
//! `+requester` when only the requester of the change request may call it — and
//! its handler enforces that rule in its body. The authorization matrix test reads the rules from
//! the document and fails for an operation without one.

pub mod applications;
pub mod audit;
pub mod credentials;
pub mod environments;
pub mod requests;
pub mod users;
pub mod webhooks;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

/// The error body of every 4xx and 5xx.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `unauthenticated`, `mfa_required`, `step_up_required`, `forbidden`, `csrf_rejected`,
    /// `not_found`, `conflict`, `approval_required`, `recipient_required`, `validation_failed`,
    /// `rate_limited`, `unavailable`, `internal`.
    pub code: String,
    pub message: String,
    pub request_id: String,
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Paging parameters shared by lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct Paging {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1-500, default 100.
    pub limit: Option<i64>,
}

pub fn limit(l: Option<i64>) -> i64 {
    l.unwrap_or(100).clamp(1, 500)
}

pub const ACCESS: &str = "x-latchkey-access";

/// The `/api/v1` operations, and the `/auth` ones, with their OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(super::auth::me))
        .routes(routes!(environments::list))
        .routes(routes!(environments::update_policy))
        .routes(routes!(applications::list, applications::create))
        .routes(routes!(applications::get))
        .routes(routes!(applications::revoke_all))
        .routes(routes!(credentials::list, credentials::issue))
        .routes(routes!(credentials::get))
        .routes(routes!(credentials::rotate))
        .routes(routes!(credentials::revoke))
        .routes(routes!(credentials::end_grace))
        .routes(routes!(requests::list))
        .routes(routes!(requests::get))
        .routes(routes!(requests::approve))
        .routes(routes!(requests::reject))
        .routes(routes!(requests::cancel))
        .routes(routes!(requests::execute))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::delete))
        .routes(routes!(webhooks::test))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(users::list))
        .routes(routes!(users::grant))
        .routes(routes!(users::revoke_grant))
        .routes(routes!(users::disable))
}

/// The `/auth` operations (outside `/api/v1`).
pub fn auth_router() -> OpenApiRouter<AppState> {
    use super::auth;
    OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::enroll_start))
        .routes(routes!(auth::enroll_confirm))
        .routes(routes!(auth::mfa))
        .routes(routes!(auth::step_up))
        .routes(routes!(auth::logout))
        .routes(routes!(super::oidc::start))
        .routes(routes!(super::oidc::callback))
}
