//! Timestamps on the wire: RFC 3339 in UTC with a `Z` and microseconds
//! (`2026-12-01T08:40:17.794154Z`), in JSON, CSV and XLSX alike. The database keeps naive
//! UTC; every DTO field that carries one says `#[serde(with = "utc")]` (or `utc_opt`), so
//! the OpenAPI schema stays `string, format: date-time`.

use chrono::{DateTime, NaiveDateTime, SecondsFormat};

/// The wire form of a stored (naive UTC) timestamp.
pub fn format(t: &NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Reads the wire form (any RFC 3339 offset, normalized to UTC); also the offset-less form
/// answers had before they carried `Z` (kept in old stored answers), read as UTC.
pub fn parse(s: &str) -> Result<NaiveDateTime, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.naive_utc())
        .or_else(|e| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map_err(|_| e))
}

/// `#[serde(with = "utc")]` for a `NaiveDateTime` holding UTC.
pub mod utc {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &NaiveDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
        let s = String::deserialize(d)?;
        super::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "utc_opt")]` for an `Option<NaiveDateTime>` holding UTC.
pub mod utc_opt {
    use chrono::NaiveDateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        Option::<String>::deserialize(d)?.map(|s| super::parse(&s).map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_timestamp_goes_out_in_utc_with_z_and_microseconds() {
        let t = NaiveDateTime::parse_from_str("2026-12-01T08:40:17.794154", "%Y-%m-%dT%H:%M:%S%.f").unwrap_or_default();
        assert_eq!(format(&t), "2026-12-01T08:40:17.794154Z");
        let whole = NaiveDateTime::parse_from_str("2026-12-01T08:40:17", "%Y-%m-%dT%H:%M:%S").unwrap_or_default();
        assert_eq!(format(&whole), "2026-12-01T08:40:17.000000Z");
    }

    #[test]
    fn the_wire_form_reads_back_and_other_offsets_are_normalized_to_utc() {
        let t = NaiveDateTime::parse_from_str("2026-12-01T08:40:17.794154", "%Y-%m-%dT%H:%M:%S%.f").unwrap_or_default();
        assert_eq!(parse("2026-12-01T08:40:17.794154Z").ok(), Some(t));
        assert_eq!(parse("2026-12-01T16:40:17.794154+08:00").ok(), Some(t));
        assert_eq!(parse("2026-12-01T08:40:17.794154").ok(), Some(t));
        assert!(parse("2026-12-01").is_err());
    }
}
