//! Change requests: list, read, approve, reject, cancel, execute. The rules (four eyes, one
//! decision per person, step-up, expiry, race safety) live in the service; handlers only parse.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latchkey_core::domain::authz::{Action, Scope};
use latchkey_core::domain::credential::Credential;
use latchkey_core::domain::request::{ChangeRequest, RequestStatus};
use latchkey_core::domain::text::Comment;
use latchkey_core::ids::ChangeRequestId;
use latchkey_core::services::requests::Executed;
use latchkey_core::storage::requests::RequestFilter;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ErrorBody, Page, limit};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::Auth;
use crate::http::json::ApiJson;
use crate::state::AppState;

/// 202: the change needs approval; this is the request that now waits for it.
#[derive(Serialize, ToSchema)]
pub struct Requested {
    pub request: ChangeRequest,
}

impl Requested {
    pub fn accepted(request: ChangeRequest) -> Response {
        (StatusCode::ACCEPTED, Json(Requested { request })).into_response()
    }
}

fn parse_id(s: &str) -> ApiResult<ChangeRequestId> {
    ChangeRequestId::parse(s).ok_or_else(|| ApiError::validation("not a change request id"))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// `pending`, `approved`, `rejected`, `cancelled`, `executed` or `expired`.
    pub status: Option<String>,
    /// `me`: only the caller's own requests.
    pub requester: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// Change requests in the caller's environments, newest first.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(ListQuery),
    responses((status = 200, body = Page<ChangeRequest>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@any"))))]
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<ChangeRequest>>> {
    auth.principal.require(Action::ViewMetadata, Scope::AnyEnvironment)?;
    let mut f = RequestFilter {
        limit: limit(q.limit),
        environments_in: auth.principal.visible_environments(),
        ..Default::default()
    };
    if let Some(s) = &q.status {
        f.status = Some(RequestStatus::parse(s)?);
    }
    match q.requester.as_deref() {
        None => {}
        Some("me") => f.requester = Some(auth.ctx.actor.label()),
        Some(_) => return Err(ApiError::validation("requester can only be \"me\"")),
    }
    if let Some(c) = &q.cursor {
        let (ts, id) = c.split_once('.').ok_or_else(|| ApiError::validation("malformed cursor"))?;
        let ts = ts.parse().map_err(|_| ApiError::validation("malformed cursor"))?;
        f.after = Some((ts, id.to_owned()));
    }
    let items = state.services.list_requests(&f).await?;
    let next_cursor = (items.len() as i64 == f.limit)
        .then(|| items.last().map(|r| format!("{}.{}", r.created_at.as_millis(), r.id)))
        .flatten();
    Ok(Json(Page { items, next_cursor }))
}

/// One change request with its decisions.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests", params(("id" = String, Path)),
    responses((status = 200, body = ChangeRequest), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@env"))))]
pub async fn get(State(state): State<AppState>, auth: Auth, Path(id): Path<String>) -> ApiResult<Json<ChangeRequest>> {
    Ok(Json(state.services.request_for(&auth.principal, &parse_id(&id)?).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    #[serde(default)]
    pub comment: String,
}

fn comment(body: &DecisionBody) -> ApiResult<Comment> {
    Ok(Comment::parse(&body.comment)?)
}

/// Approve someone else's request: an administrator of its environment, with step-up. One
/// approval per person; the requester never approves. The approval that completes a policy
/// loosening or admin grant applies it.
#[utoipa::path(post, path = "/api/v1/requests/{id}/approve", tag = "requests", params(("id" = String, Path)),
    request_body(content = DecisionBody, example = json!({"comment": "checked with the payments team"})),
    responses((status = 200, body = ChangeRequest), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("approve@env"))))]
pub async fn approve(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ChangeRequest>> {
    let c = comment(&body)?;
    Ok(Json(state.services.approve_request(&auth.ctx, &auth.principal, &parse_id(&id)?, &c).await?))
}

/// Reject someone else's open request (final). Same rules as approving.
#[utoipa::path(post, path = "/api/v1/requests/{id}/reject", tag = "requests", params(("id" = String, Path)),
    request_body(content = DecisionBody, example = json!({"comment": "use the staging key for this test"})),
    responses((status = 200, body = ChangeRequest), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("approve@env"))))]
pub async fn reject(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ChangeRequest>> {
    let c = comment(&body)?;
    Ok(Json(state.services.reject_request(&auth.ctx, &auth.principal, &parse_id(&id)?, &c).await?))
}

/// Withdraw one's own open request.
#[utoipa::path(post, path = "/api/v1/requests/{id}/cancel", tag = "requests", params(("id" = String, Path)),
    request_body(content = DecisionBody, example = json!({"comment": "no longer needed"})),
    responses((status = 200, body = ChangeRequest), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("view_metadata@env+requester"))))]
pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ChangeRequest>> {
    let c = comment(&body)?;
    Ok(Json(state.services.cancel_request(&auth.ctx, &auth.principal, &parse_id(&id)?, &c).await?))
}

/// The credential an executed request created, with its secret: in this response only.
#[derive(Serialize, ToSchema)]
pub struct ExecutedBody {
    pub credential: Credential,
    pub secret: String,
    /// For a rotation: the predecessor, now in grace.
    pub previous: Option<Credential>,
}

/// Execute an approved issue or rotation: its requester, once. 201 with the secret, which is
/// generated now and never stored.
#[utoipa::path(post, path = "/api/v1/requests/{id}/execute", tag = "requests", params(("id" = String, Path)),
    responses((status = 201, body = ExecutedBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    extensions(("x-latchkey-access" = json!("request_credential@env+requester"))))]
pub async fn execute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<ExecutedBody>)> {
    let body = match state.services.execute_request(&auth.ctx, &auth.principal, &parse_id(&id)?).await? {
        Executed::Issued(i) => {
            ExecutedBody { secret: i.secret.expose().to_owned(), credential: i.credential, previous: None }
        }
        Executed::Rotated(r) => {
            ExecutedBody { secret: r.secret.expose().to_owned(), credential: r.credential, previous: Some(r.previous) }
        }
    };
    Ok((StatusCode::CREATED, Json(body)))
}
