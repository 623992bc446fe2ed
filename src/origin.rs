//! Allowed origins of a tenant: parsing what an admin types, and matching a browser's `Origin`.

use std::fmt;

/// An allowed origin: exact scheme + host + port, or a `*.` wildcard on the host.
/// Stored normalised: lowercase, default ports dropped (`https://shop.example`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AllowedOrigin(String);

/// What an admin typed that is not an origin; it reads (`Display`) as the CLI's sentence:
/// `invalid origin "shop.example": expected scheme://host, e.g. https://shop.example`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadOrigin {
    pub input: String,
    pub why: OriginProblem,
}

/// What is wrong with a typed origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginProblem {
    NoScheme,
    /// A scheme other than http or https.
    Scheme,
    /// A path, query, fragment, credentials or a `*` past the start.
    NotBare,
    /// The host or port, as the URL parser found them.
    Url(url::ParseError),
    /// A wildcard over an IP address or nothing.
    WildcardHost,
    /// A wildcard over a single label (`*.com`).
    WildcardTooWide,
}

impl fmt::Display for BadOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid origin {:?}: ", self.input)?;
        match &self.why {
            OriginProblem::NoScheme => {
                f.write_str("expected scheme://host, e.g. https://shop.example")
            }
            OriginProblem::Scheme => f.write_str("the scheme must be http or https"),
            OriginProblem::NotBare => {
                f.write_str("an origin has no path, query, credentials or inner wildcard")
            }
            OriginProblem::Url(e) => write!(f, "{e}"),
            OriginProblem::WildcardHost => f.write_str("a wildcard needs a domain after '*.'"),
            OriginProblem::WildcardTooWide => {
                f.write_str("a wildcard must cover a registrable domain, e.g. *.shop.example")
            }
        }
    }
}

impl AllowedOrigin {
    /// Parses `https://shop.example`, `http://localhost:3000` or `https://*.shop.example`.
    pub fn parse(input: &str) -> Result<AllowedOrigin, BadOrigin> {
        let bad = |why| BadOrigin {
            input: input.to_owned(),
            why,
        };
        let trimmed = input.trim().trim_end_matches('/');
        let (scheme, rest) = trimmed
            .split_once("://")
            .ok_or_else(|| bad(OriginProblem::NoScheme))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad(OriginProblem::Scheme));
        }
        let (wildcard, host_port) = match rest.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if host_port.contains(['/', '?', '#', '@', '*']) {
            return Err(bad(OriginProblem::NotBare));
        }
        let url = url::Url::parse(&format!("{scheme}://{host_port}"))
            .map_err(|e| bad(OriginProblem::Url(e)))?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(ip)) if !wildcard => ip.to_string(),
            Some(url::Host::Ipv6(ip)) if !wildcard => format!("[{ip}]"),
            _ => return Err(bad(OriginProblem::WildcardHost)),
        };
        if wildcard && !host.contains('.') {
            return Err(bad(OriginProblem::WildcardTooWide));
        }
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let star = if wildcard { "*." } else { "" };
        Ok(AllowedOrigin(format!("{scheme}://{star}{host}{port}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a browser's `Origin` header value is allowed by this entry.
    /// A wildcard matches subdomains only (`*.shop.example` does not match `shop.example`).
    pub fn allows(&self, request_origin: &str) -> bool {
        let Ok(request) = AllowedOrigin::parse(request_origin) else {
            return false;
        };
        let request = request.0;
        match self.0.split_once("*.") {
            None => self.0 == request,
            Some((scheme, suffix)) => request
                .strip_prefix(scheme)
                .and_then(|host_port| host_port.strip_suffix(suffix))
                .is_some_and(|label| {
                    label.ends_with('.') && label.len() > 1 && !label.contains('*')
                }),
        }
    }
}

impl TryFrom<String> for AllowedOrigin {
    type Error = BadOrigin;
    fn try_from(s: String) -> Result<Self, BadOrigin> {
        AllowedOrigin::parse(&s)
    }
}

impl From<AllowedOrigin> for String {
    fn from(o: AllowedOrigin) -> String {
        o.0
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_default_ports_and_trailing_slash() {
        let o = AllowedOrigin::parse("HTTPS://Shop.Example:443/").unwrap();
        assert_eq!(o.as_str(), "https://shop.example");
        let o = AllowedOrigin::parse("http://localhost:3000").unwrap();
        assert_eq!(o.as_str(), "http://localhost:3000");
    }

    #[test]
    fn rejects_what_is_not_an_origin() {
        for bad in [
            "shop.example",
            "ftp://shop.example",
            "https://shop.example/path",
            "https://user@shop.example",
            "https://*.com",
            "https://a.*.example",
            "https://",
            "javascript:alert(1)",
        ] {
            assert!(AllowedOrigin::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn exact_origins_match_scheme_host_and_port() {
        let o = AllowedOrigin::parse("https://shop.example").unwrap();
        assert!(o.allows("https://shop.example"));
        assert!(o.allows("https://shop.example:443"));
        assert!(!o.allows("http://shop.example"));
        assert!(!o.allows("https://shop.example:8443"));
        assert!(!o.allows("https://evil-shop.example"));
        assert!(!o.allows("https://shop.example.evil.com"));
        assert!(!o.allows("null"));
    }

    #[test]
    fn wildcards_match_subdomains_only() {
        let o = AllowedOrigin::parse("https://*.shop.example").unwrap();
        assert!(o.allows("https://www.shop.example"));
        assert!(o.allows("https://a.b.shop.example"));
        assert!(!o.allows("https://shop.example"));
        assert!(!o.allows("https://evilshop.example"));
        assert!(!o.allows("http://www.shop.example"));
    }
}
