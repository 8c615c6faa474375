//! The path and query of a request, built once as the text that is both sent and signed.
//!
//! Every path segment and query value is percent-encoded here, with `%20` for a space (a form
//! encoder's `+` would be signed as a `+` and refused). Values with `/`, such as a CIDR block,
//! become `%2F` in a path segment (field case F09).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What stays as it is in a path segment: letters, digits and `-._~`.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What stays as it is in a query key or value: as in a path segment, and `,`, which
/// ThreatConnect's documentation writes unencoded between filters.
const QUERY_VALUE: &AsciiSet = &PATH_SEGMENT.remove(b',');

/// The path and query of one request, such as
/// `/api/v2/indicators/cidrBlocks/198.51.100.0%2F24?owner=Example%20Org`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiPath {
    text: String,
    path_len: usize,
}

impl ApiPath {
    /// A path under `base_path` (such as `/api`), made of `segments`, each encoded.
    pub(crate) fn new<'a>(base_path: &str, segments: impl IntoIterator<Item = &'a str>) -> ApiPath {
        let mut text = base_path.trim_end_matches('/').to_owned();
        for segment in segments {
            text.push('/');
            text.extend(utf8_percent_encode(segment, PATH_SEGMENT));
        }
        let path_len = text.len();
        ApiPath { text, path_len }
    }

    /// A path under `base_path` given as literal text, such as `/v3/attributeTypes`; it is
    /// sent as it is, so it must be encoded already.
    pub(crate) fn literal(base_path: &str, path: &str) -> ApiPath {
        let text = format!(
            "{}/{}",
            base_path.trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        let path_len = text.len();
        ApiPath { text, path_len }
    }

    /// This path with the query pair `key=value` added, both encoded.
    pub(crate) fn query(mut self, key: &str, value: &str) -> ApiPath {
        let separator = if self.text.len() == self.path_len {
            '?'
        } else {
            '&'
        };
        self.text.push(separator);
        self.text.extend(utf8_percent_encode(key, QUERY_VALUE));
        self.text.push('=');
        self.text.extend(utf8_percent_encode(value, QUERY_VALUE));
        self
    }

    /// The text sent and signed.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// The path without its query, for errors and logs.
    pub(crate) fn path(&self) -> &str {
        &self.text[..self.path_len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_in_a_query_value_is_percent_20_never_plus() {
        let path = ApiPath::new("/api", ["v2", "indicators", "hosts", "example.com"])
            .query("owner", "Common Community");

        assert_eq!(
            path.as_str(),
            "/api/v2/indicators/hosts/example.com?owner=Common%20Community"
        );
        assert_eq!(path.path(), "/api/v2/indicators/hosts/example.com");
    }

    #[test]
    fn a_cidr_value_in_a_path_is_one_segment_with_percent_2f() {
        // F09: `198.51.100.0/24` looked up by value.
        let path = ApiPath::new(
            "/api",
            ["v2", "indicators", "cidrBlocks", "198.51.100.0/24"],
        )
        .query("owner", "Example Org");

        assert_eq!(
            path.as_str(),
            "/api/v2/indicators/cidrBlocks/198.51.100.0%2F24?owner=Example%20Org"
        );
    }

    #[test]
    fn filters_keep_commas_and_encode_equals_signs() {
        let path = ApiPath::new("/api", ["v2", "indicators", "addresses"])
            .query("filters", "active=true,active=false")
            .query("orParams", "true");

        assert_eq!(
            path.as_str(),
            "/api/v2/indicators/addresses?filters=active%3Dtrue,active%3Dfalse&orParams=true"
        );
    }

    #[test]
    fn literal_paths_join_the_base_with_one_slash() {
        assert_eq!(
            ApiPath::literal("/api/", "/v3/attributeTypes").as_str(),
            "/api/v3/attributeTypes"
        );
    }
}
