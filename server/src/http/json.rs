//! A JSON body extractor whose every rejection is a 4xx in the documented error shape.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rej) => Err(match rej {
                JsonRejection::MissingJsonContentType(_) => {
                    ApiError::validation("the body must be JSON with Content-Type: application/json")
                }
                JsonRejection::JsonSyntaxError(_) => ApiError::validation("the body is not valid JSON"),
                JsonRejection::JsonDataError(e) => ApiError::validation(describe_data_error(&e.body_text())),
                other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "validation_failed", "the body is too large")
                }
                _ => ApiError::validation("the body could not be read"),
            }),
        }
    }
}

/// serde's messages can quote the offending value ("invalid type: string \"…\""), and a value may
/// be a password or code: keep the field path and the kind of problem, drop quoted values.
fn describe_data_error(text: &str) -> String {
    let text = text.strip_prefix("Failed to deserialize the JSON body into the target type: ").unwrap_or(text);
    let (path, problem) = match text.split_once(": ") {
        Some((p, rest)) if !p.contains(' ') => (Some(p), rest),
        _ => (None, text),
    };
    let problem = if problem.starts_with("invalid type")
        || problem.starts_with("invalid value")
        || problem.starts_with("invalid length")
    {
        "has the wrong type or value".to_owned()
    } else {
        problem.split(" at line ").next().unwrap_or(problem).to_owned()
    };
    match path {
        Some(p) => format!("the body is not as expected: {p} {problem}"),
        None => format!("the body is not as expected: {problem}"),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_data_error;

    #[test]
    fn values_are_not_echoed() {
        let m = describe_data_error(
            "Failed to deserialize the JSON body into the target type: password: invalid type: integer `123456`, expected a string at line 1 column 20",
        );
        assert!(!m.contains("123456"), "{m}");
        assert!(m.contains("password"), "{m}");
        let m = describe_data_error(
            "Failed to deserialize the JSON body into the target type: missing field `environment` at line 1 column 2",
        );
        assert!(m.contains("missing field `environment`"), "{m}");
    }
}
