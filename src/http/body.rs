//! The JSON body extractor: enforces the size limit, reports malformed JSON as a 400 and
//! every type or field error as a 422 naming the field path (`lines[0].unit`), and keeps
//! the parsed document for idempotency comparisons.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;

use crate::error::Code;
use crate::error::{ApiError, FieldError};

/// Largest request body accepted, in bytes (256 KiB).
pub const MAX_BODY: usize = 256 * 1024;

/// Largest batch request body accepted, in bytes (8 MiB: 1,000 purchases of a few lines).
pub const MAX_BATCH_BODY: usize = 8 * 1024 * 1024;

/// A typed JSON body plus the document it was read from; at most `MAX` bytes.
#[derive(Debug)]
pub struct JsonBody<T, const MAX: usize = MAX_BODY> {
    pub value: T,
    pub raw: serde_json::Value,
}

impl<T: DeserializeOwned + 'static, const MAX: usize> FromRequest for JsonBody<T, MAX> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_body(req, payload, false, MAX);
        Box::pin(async move { parse(&read.await?) })
    }
}

/// A JSON body as bytes (Content-Type and size checked), for a handler that reads it
/// with [`parse_slice`] straight into its own types.
#[derive(Debug)]
pub struct JsonBytes<const MAX: usize>(pub Vec<u8>);

impl<const MAX: usize> FromRequest for JsonBytes<MAX> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_body(req, payload, false, MAX);
        Box::pin(async move { read.await.map(Self) })
    }
}

/// A JSON body that may be left out: an empty body is `None`, anything else must be a
/// valid `T` (actix's `Option<JsonBody<T>>` would turn every error into `None`).
#[derive(Debug)]
pub struct OptionalJsonBody<T>(pub Option<JsonBody<T>>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_body(req, payload, true, MAX_BODY);
        Box::pin(async move {
            let buf = read.await?;
            // `null` is the document's other form of "no body" (its schema is `T` or null).
            if is_blank(&buf) || buf.trim_ascii() == b"null" { Ok(Self(None)) } else { parse(&buf).map(|b| Self(Some(b))) }
        })
    }
}

fn is_blank(buf: &[u8]) -> bool {
    buf.iter().all(u8::is_ascii_whitespace)
}

/// Checks the Content-Type (of a non-blank body only, when `optional`) and the size limit,
/// and reads the whole body.
/// The request's media type without parameters, lowercased (`text/csv; charset=utf-8` →
/// `text/csv`); `None` without a readable Content-Type.
pub fn media_type(req: &HttpRequest) -> Option<String> {
    let ct = req.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    Some(ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
    optional: bool,
    max: usize,
) -> impl Future<Output = Result<Vec<u8>, ApiError>> + 'static {
    let essence = media_type(req);
    let read = read_limited(req, payload, max);
    let json_type = move || match essence.as_deref() {
        Some(e) if e != "application/json" && !e.ends_with("+json") => {
            Err(ApiError::field("Content-Type", Code::UnsupportedMediaType, "send application/json"))
        }
        _ => Ok(()),
    };
    async move {
        if !optional {
            json_type()?;
        }
        let buf = read.await?;
        if optional && !is_blank(&buf) {
            json_type()?;
        }
        Ok(buf)
    }
}

/// Reads a whole body of any type, at most `max` bytes: a 413 as soon as the declared
/// length or the bytes received exceed it (nothing more is buffered).
pub fn read_limited(req: &HttpRequest, payload: &mut Payload, max: usize) -> impl Future<Output = Result<Vec<u8>, ApiError>> + 'static {
    let declared_len = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    let mut payload = payload.take();
    async move {
        if declared_len.is_some_and(|n| n > max) {
            return Err(ApiError::PayloadTooLarge(max));
        }
        let mut buf = Vec::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk
                .map_err(|e| ApiError::Malformed(FieldError::new("body", Code::Unreadable, format!("could not read the body: {e}"))))?;
            if buf.len() + chunk.len() > max {
                return Err(ApiError::PayloadTooLarge(max));
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf)
    }
}

/// Parses the document (400 when it is not JSON), requires an object (serde would take an
/// array for a struct, by position), then the typed value (422 naming the field).
fn parse<T: DeserializeOwned, const MAX: usize>(buf: &[u8]) -> Result<JsonBody<T, MAX>, ApiError> {
    let raw: serde_json::Value = serde_json::from_slice(buf).map_err(|e| malformed(&e))?;
    Ok(JsonBody { value: from_value(&raw)?, raw })
}

fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::Malformed(FieldError::new("body", Code::MalformedJson, format!("the body is not valid JSON: {e}")))
}

/// Parses a typed document straight from bytes, without building the document first
/// (a batch of a thousand purchases would cost several times its size), with the same
/// answers as [`JsonBody`]: 400 when it is not JSON, 422 naming the field, an object
/// required. Control characters: when the bytes hold one (raw, or as a JSON escape), the
/// document path is taken instead, which names the field ([`check_controls`]). Raw bytes
/// U+0000–U+001F inside a string are not JSON at all (a 400).
pub fn parse_slice<T: DeserializeOwned>(buf: &[u8]) -> Result<T, ApiError> {
    if buf.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') || may_hold_control(buf) {
        // Not an object: the document path gives the 400 or the 422.
        return parse::<T, 0>(buf).map(|b| b.value);
    }
    let mut de = serde_json::Deserializer::from_slice(buf);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => de.end().map(|()| value).map_err(|e| malformed(&e)),
        Err(e) if e.inner().is_data() => Err(ApiError::Validation(vec![field_error(&e, "body")])),
        Err(e) => Err(malformed(e.inner())),
    }
}

/// Reads a typed value from a JSON document (a whole body, or one item of a batch) with
/// the same 422s as a body: an object is required, and a bad field is named.
/// Every string of the document, key or value, is checked for control characters
/// first (`domain::text`), so none reaches the database whatever the field.
pub fn from_value<T: DeserializeOwned>(raw: &serde_json::Value) -> Result<T, ApiError> {
    if !raw.is_object() {
        return Err(ApiError::field("body", Code::InvalidType, "the body must be a JSON object"));
    }
    check_controls(raw)?;
    let integral;
    let raw = if has_integral_float(raw) {
        integral = integral_floats_as_integers(raw.clone());
        &integral
    } else {
        raw
    };
    serde_path_to_error::deserialize(raw).map_err(|e| ApiError::Validation(vec![field_error(&e, "body")]))
}

/// Whether the document holds a number like `389.0`: an integer by JSON Schema (and so by
/// the OpenAPI document's `type: integer`), a float to serde.
fn has_integral_float(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|f| !n.is_i64() && !n.is_u64() && f.fract() == 0.0),
        serde_json::Value::Array(items) => items.iter().any(has_integral_float),
        serde_json::Value::Object(map) => map.values().any(has_integral_float),
        _ => false,
    }
}

/// The document with every integral float (within `i64`) written as an integer, so an
/// integer field takes `389.0` as `389`; other numbers are left as they are.
fn integral_floats_as_integers(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => match n.as_f64() {
            #[expect(clippy::cast_possible_truncation, reason = "integral and within i64: exact")]
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 9.0e18 => Value::from(f as i64),
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(integral_floats_as_integers).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, integral_floats_as_integers(v))).collect()),
        other => other,
    }
}

/// Most control-character errors listed for one document.
const MAX_CONTROL_ERRORS: usize = 100;

/// A 422 naming every string (by its path, as serde names fields: `lines[0].description`)
/// or key that holds a control character.
pub fn check_controls(raw: &serde_json::Value) -> Result<(), ApiError> {
    let mut found = Vec::new();
    walk(raw, &mut String::new(), &mut found);
    if found.is_empty() {
        return Ok(());
    }
    let err = crate::domain::DomainError::ControlCharacter;
    Err(ApiError::Validation(
        found.into_iter().map(|path| FieldError::domain(if path.is_empty() { "body".into() } else { path }, &err)).collect(),
    ))
}

fn walk(v: &serde_json::Value, path: &mut String, found: &mut Vec<String>) {
    use crate::domain::text::has_control;
    use serde_json::Value;
    if found.len() >= MAX_CONTROL_ERRORS {
        return;
    }
    match v {
        Value::String(s) if crate::domain::text::is_multi_line_field(path) && !crate::domain::text::has_control_but_line_breaks(s) => {}
        Value::String(s) if has_control(s) => found.push(path.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk(item, path, found);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                if has_control(key) {
                    // The key itself is the offence: named with its control characters escaped.
                    path.push_str(&key.escape_default().to_string());
                    found.push(path.clone());
                } else {
                    path.push_str(key);
                    walk(item, path, found);
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// Names the offending field and classifies serde's message into a stable code; an error
/// about the whole document names `root` (`body`, `query`).
pub fn field_error<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>, root: &str) -> FieldError {
    let msg = e.inner().to_string();
    let path = e.path().to_string();
    let join = |name: &str| if path == "." || path.is_empty() { name.to_owned() } else { format!("{path}.{name}") };
    let quoted = |prefix: &str| msg.strip_prefix(prefix).and_then(|r| r.split('`').next()).map(str::to_owned);
    if let Some(name) = quoted("missing field `") {
        return FieldError::new(join(&name), Code::Required, format!("{name} is required"));
    }
    if let Some(name) = quoted("unknown field `") {
        // The path already ends in the unknown key (it was read before it was refused).
        let field = if path == name || path.ends_with(&format!(".{name}")) { path.clone() } else { join(&name) };
        return FieldError::new(field, Code::UnknownField, msg);
    }
    let code = if msg.starts_with("invalid type") {
        Code::InvalidType
    } else if msg.starts_with("unknown variant") {
        Code::UnknownValue
    } else {
        Code::InvalidValue
    };
    let field = if path == "." || path.is_empty() { root.to_owned() } else { path };
    FieldError::new(field, code, msg)
}

/// Whether JSON text may hold a control character in a string: an escape of one
/// (`\n`, `\t`, `\b`, `\f`, `\r`, `\u0000`–`\u001F`, `\u007F`–`\u009F`), or U+007F–U+009F
/// written raw. Outside strings JSON has neither escapes nor such bytes, so no tokenizing
/// is needed; `\\` is skipped as a pair.
fn may_hold_control(buf: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = buf.get(i) {
        match b {
            b'\\' => match buf.get(i + 1) {
                Some(b'b' | b'f' | b'n' | b'r' | b't') => return true,
                Some(b'u') => {
                    let hex = buf.get(i + 2..i + 6).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u32::from_str_radix(h, 16).ok());
                    if hex.is_some_and(|c| c < 0x20 || (0x7f..=0x9f).contains(&c)) {
                        return true;
                    }
                    i += 6;
                }
                _ => i += 2,
            },
            0x7f => return true,
            0xc2 if buf.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) => return true,
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_spotted_in_json_text() {
        for held in [
            r#"{"a":"x\u0000"}"#,
            r#"{"a":"\n"}"#,
            r#"{"a":"\u001F"}"#,
            r#"{"a":"\u007f"}"#,
            r#"{"a":"\u0085"}"#,
            "{\"a\":\"\u{7f}\"}",
            "{\"a\":\"\u{85}\"}",
            r#"{"a":"\\\t"}"#,
        ] {
            assert!(may_hold_control(held.as_bytes()), "{held}");
        }
        for clean in [r#"{"a":"\\n"}"#, r#"{"a":"\u00A0\u4e2d"}"#, r#"{"a":"\"\/"}"#, "{\"a\":\"中文\"}", r#"{"a":"\\u0000"}"#] {
            assert!(!may_hold_control(clean.as_bytes()), "{clean}");
        }
    }

    #[test]
    fn the_walk_names_every_string_with_a_control_character() {
        let doc = serde_json::json!({"name": "ok", "lines": [{"description": "a\u{0}"}, {"x": ["\t"]}], "k\u{1}": 1});
        let Err(ApiError::Validation(errors)) = check_controls(&doc) else { panic!("refused") };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(
            fields,
            [("k\\u{1}", "control_character"), ("lines[0].description", "control_character"), ("lines[1].x[0]", "control_character")]
        );
    }
}
