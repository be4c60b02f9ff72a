//! The one error type of the service and its RFC 9457 `application/problem+json` form.
//! Every client-caused error is a 4xx with a stable `type` URI; `Internal` is the only
//! variant whose text is not sent (it is logged with its cause chain).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::DomainError;
pub use crate::domain::code::{Code, ProblemType};

/// Prefix of every problem `type` URI; the suffix is the variant's stable slug.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:canteen-ledger:problem:";

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// Stable URI naming the problem type: `urn:canteen-ledger:problem:` and one of the slugs
    /// `already-decided`, `already-resolved`, `already-voided`, `amounts-differ`, `bad-request`, `conflict`,
    /// `forbidden`, `has-payments`, `idempotency-key-reused`, `internal`, `method-not-allowed`,
    /// `not-an-entry`, `not-empty`, `not-found`, `not-voidable`, `payload-too-large`, `tag-state`,
    /// `too-many-requests`, `unauthorized`, `unavailable`, `username-taken`, `validation`, `voided` (see the
    /// README's error-code catalogue).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short, human-readable summary of the problem type.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// Explanation specific to this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Offending fields, for validation and conflict problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One offending field of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field, e.g. `lines[0].unit_price` or the header `Idempotency-Key`.
    pub field: String,
    /// Stable snake_case code clients can switch on (the catalogue is in the README).
    pub code: Code,
    /// Human-readable explanation.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: Code, message: impl Into<String>) -> Self {
        Self { field: field.into(), code, message: message.into() }
    }

    /// A domain rule broken by `field`.
    pub fn domain(field: impl Into<String>, err: &DomainError) -> Self {
        Self::new(field, err.code(), err.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    /// A 400 naming the part of the request that could not be read (`body`).
    #[error("{}", .0.message)]
    Malformed(FieldError),
    #[error("the request is invalid")]
    Validation(Vec<FieldError>),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{detail}")]
    Conflict { slug: ProblemType, detail: String, errors: Vec<FieldError> },
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the database is busy; retry shortly")]
    Unavailable,
    /// Too many failed logins: wait this many seconds.
    #[error("too many failed logins; retry in {0} s")]
    TooManyRequests(i64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 with one offending field.
    pub fn field(field: impl Into<String>, code: Code, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// A 422 for a broken domain rule on `field`.
    pub fn domain(field: impl Into<String>, err: &DomainError) -> Self {
        Self::Validation(vec![FieldError::domain(field, err)])
    }

    pub fn conflict(slug: ProblemType, detail: impl Into<String>) -> Self {
        Self::Conflict { slug, detail: detail.into(), errors: Vec::new() }
    }

    /// Stable kebab-case name of the problem type.
    pub fn slug(&self) -> ProblemType {
        match self {
            Self::BadRequest(_) | Self::Malformed(_) => ProblemType::BadRequest,
            Self::Validation(_) => ProblemType::Validation,
            Self::Unauthorized => ProblemType::Unauthorized,
            Self::Forbidden(_) => ProblemType::Forbidden,
            Self::NotFound(_) => ProblemType::NotFound,
            Self::Conflict { slug, .. } => *slug,
            Self::PayloadTooLarge(_) => ProblemType::PayloadTooLarge,
            Self::Unavailable => ProblemType::Unavailable,
            Self::TooManyRequests(_) => ProblemType::TooManyRequests,
            Self::Internal(_) => ProblemType::Internal,
        }
    }
}

impl ApiError {
    /// For the command line: the error with its detail and every offending field
    /// (`role: bad_role: use admin, …`), or an internal error with its cause chain.
    pub fn into_cli(self) -> anyhow::Error {
        let fields = match &self {
            Self::Validation(f) => f.clone(),
            Self::Malformed(f) => vec![f.clone()],
            Self::Conflict { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        if let Self::Internal(err) = self {
            return err;
        }
        let mut text = self.to_string();
        for f in fields {
            text += &format!("\n  {}: {} ({})", f.field, f.message, f.code);
        }
        anyhow::anyhow!(text)
    }

    /// The problem's detail (none for an internal error, which is logged instead) and
    /// offending fields.
    fn detail_and_errors(&self) -> (Option<String>, Vec<FieldError>) {
        let detail = match self {
            Self::Internal(err) => {
                log::error!("internal error: {err:?}");
                None
            }
            other => Some(other.to_string()),
        };
        let errors = match self {
            Self::Validation(f) => f.clone(),
            Self::Malformed(f) => vec![f.clone()],
            Self::Conflict { errors, .. } => errors.clone(),
            Self::PayloadTooLarge(max) => vec![FieldError::new("body", Code::TooLarge, format!("at most {max} bytes"))],
            _ => Vec::new(),
        };
        (detail, errors)
    }

    /// The problem document this error answers with (for embedding, e.g. per batch item).
    pub fn problem(&self) -> Problem {
        let (detail, errors) = self.detail_and_errors();
        Problem::new(self.status_code(), self.slug(), detail, errors)
    }
}

impl Problem {
    pub fn new(status: StatusCode, slug: ProblemType, detail: Option<String>, errors: Vec<FieldError>) -> Self {
        Self {
            kind: format!("{PROBLEM_TYPE_PREFIX}{slug}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail,
            errors,
        }
    }
}

/// Builds a problem response; shared by `ApiError` and the fallback handlers.
pub fn problem_response(status: StatusCode, slug: ProblemType, detail: Option<String>, errors: Vec<FieldError>) -> HttpResponse {
    let problem = Problem::new(status, slug, detail, errors);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "application/problem+json"))
        .body(serde_json::to_string(&problem).unwrap_or_default())
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) | Self::Malformed(_) => StatusCode::BAD_REQUEST,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let (detail, errors) = self.detail_and_errors();
        let mut res = problem_response(self.status_code(), self.slug(), detail, errors);
        if let Self::Unavailable = self {
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        if let Self::TooManyRequests(secs) = self {
            res.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs.max(&1).to_owned()));
        }
        if let Self::Unauthorized = self {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        res
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => Self::NotFound("resource"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::conflict(ProblemType::Conflict, "a resource with the same identity already exists")
            }
            // SQLite reports a busy database as a plain error after busy_timeout.
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => Self::Unavailable,
            Error::DatabaseError(_, ref info) if info.message().contains("database is locked") => Self::Unavailable,
            other => Self::Internal(other.into()),
        }
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(_: r2d2::Error) -> Self {
        Self::Unavailable
    }
}
