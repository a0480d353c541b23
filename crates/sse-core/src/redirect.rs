//! Following redirects, done here rather than by reqwest so that the headers sent to the next hop
//! are ours to choose. reqwest drops only Authorization, Cookie, Cookie2, Proxy-Authorization and
//! WWW-Authenticate when the origin changes, and cannot be told to drop more: `x-api-key` (Anthropic)
//! and `api-key` (Azure OpenAI) went to whatever origin a redirect named. It also added a `Referer`
//! with the previous URL, query included. The rules below are the fetch standard's ("HTTP-redirect
//! fetch") and undici's, plus a wider list of credential headers.

use http::header::{HeaderMap, HeaderName, LOCATION};
use http::{Method, StatusCode};
use url::Url;

use crate::error::{Error, ErrorCode};
use crate::redact::redact_url;

/// How many redirects one attempt follows (the fetch standard's limit is 20; curl's default 50;
/// 10 is reqwest's and this project's).
pub const MAX_REDIRECTS: usize = 10;

/// Headers dropped when a redirect leaves the origin: undici's list (authorization, cookie,
/// proxy-authorization), reqwest's additions, and the API-key headers of the common AI providers.
/// Names that merely look like credentials are caught by [`CREDENTIAL_WORDS`].
pub const CREDENTIAL_HEADERS: [&str; 9] = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "cookie2",
  "www-authenticate",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
  "ocp-apim-subscription-key",
];

/// A header whose name contains one of these is treated as a credential too (`x-auth-token`,
/// `x-amz-security-token`, `x-session-id`, `x-client-secret`, ...). Dropping a harmless header on
/// a cross-origin hop costs little; sending a key to another origin cannot be undone.
pub const CREDENTIAL_WORDS: [&str; 9] = [
  "auth",
  "cookie",
  "key",
  "token",
  "secret",
  "session",
  "password",
  "credential",
  "signature",
];

/// Whether `name` (lowercase, as `HeaderName` holds it) is dropped on a cross-origin redirect.
pub fn is_credential_header(name: &HeaderName) -> bool {
  let name = name.as_str();
  CREDENTIAL_HEADERS.contains(&name) || CREDENTIAL_WORDS.iter().any(|w| name.contains(w))
}

/// The request to make after a redirect response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextHop {
  pub url: Url,
  pub method: Method,
  /// False when the redirect turned the request into a GET: the body and its content-* headers go.
  pub keep_body: bool,
}

/// What a response with `status` and `headers` to a request for `current` leads to: `Ok(None)` when
/// it is not a redirect (no Location, or not 301/302/303/307/308), the next hop, or the reason the
/// redirect is refused. `followed` is how many redirects this attempt has followed already;
/// `was_https` whether any URL of the chain so far was https.
pub fn next_hop(
  status: StatusCode,
  headers: &HeaderMap,
  current: &Url,
  method: &Method,
  followed: usize,
  was_https: bool,
) -> Result<Option<NextHop>, Error> {
  if !matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
    return Ok(None);
  }
  let Some(location) = headers.get(LOCATION) else {
    return Ok(None);
  };
  // Final: the same response would refuse the same redirect on every attempt.
  let refused = |why: String| {
    Error::new(
      ErrorCode::Redirect,
      format!("redirect refused: HTTP {} {why}", status.as_u16()),
    )
  };
  if followed >= MAX_REDIRECTS {
    return Err(refused(format!(
      "after {MAX_REDIRECTS} redirects (more than {MAX_REDIRECTS} redirects)"
    )));
  }
  let location = String::from_utf8_lossy(location.as_bytes());
  let url = current.join(&location).map_err(|e| {
    refused(format!(
      "to {:?}, which is not a valid URL: {e}",
      redact_url(&location)
    ))
  })?;
  match url.scheme() {
    "https" => {}
    "http" if was_https || current.scheme() == "https" => {
      // The body (often a prompt with private data) would travel in clear text.
      return Err(refused(format!(
        "to {:?}: a redirect from https to http was refused",
        redact_url(url.as_str())
      )));
    }
    "http" => {}
    other => {
      return Err(refused(format!(
        "to {:?}: scheme {other:?} is not http or https",
        redact_url(url.as_str())
      )))
    }
  }
  // Fetch: 301/302 turn a POST into a GET, 303 turns anything but GET/HEAD into a GET; 307/308
  // keep the method and the body.
  let to_get = match status.as_u16() {
    301 | 302 => *method == Method::POST,
    303 => *method != Method::GET && *method != Method::HEAD,
    _ => false,
  };
  Ok(Some(NextHop {
    url,
    method: if to_get { Method::GET } else { method.clone() },
    keep_body: !to_get,
  }))
}

/// The headers for the next hop: credentials dropped when the origin changes (scheme, host or
/// port), content-* dropped with the body.
pub fn next_headers(headers: &HeaderMap, from: &Url, hop: &NextHop) -> HeaderMap {
  let cross_origin = from.origin() != hop.url.origin();
  let mut out = headers.clone();
  let names: Vec<HeaderName> = out.keys().cloned().collect();
  for name in names {
    let drop = (cross_origin && is_credential_header(&name))
      || (!hop.keep_body && name.as_str().starts_with("content-"));
    if drop {
      out.remove(&name);
    }
  }
  out
}

/// The policy reqwest gets: none, since `next_hop` decides.
pub fn reqwest_policy() -> reqwest::redirect::Policy {
  reqwest::redirect::Policy::none()
}

#[cfg(test)]
mod tests {
  use super::*;
  use http::HeaderValue;

  fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
  }

  fn location(to: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(LOCATION, HeaderValue::from_str(to).unwrap());
    h
  }

  #[test]
  fn credential_headers_table() {
    let dropped = [
      "authorization",
      "proxy-authorization",
      "cookie",
      "cookie2",
      "x-api-key",
      "api-key",
      "x-goog-api-key",
      "ocp-apim-subscription-key",
      "x-auth-token",
      "x-amz-security-token",
      "x-client-secret",
      "x-session-id",
      "www-authenticate",
    ];
    let kept = [
      "accept",
      "content-type",
      "x-custom",
      "user-agent",
      "last-event-id",
      "openai-beta",
    ];
    for name in dropped {
      assert!(
        is_credential_header(&HeaderName::from_static(name)),
        "{name}"
      );
    }
    for name in kept {
      assert!(
        !is_credential_header(&HeaderName::from_static(name)),
        "{name}"
      );
    }
  }

  #[test]
  fn method_and_body_table() {
    // (status, method, next method, body kept)
    let table = [
      (301, Method::POST, Method::GET, false),
      (302, Method::POST, Method::GET, false),
      (303, Method::POST, Method::GET, false),
      (303, Method::PUT, Method::GET, false),
      (303, Method::GET, Method::GET, true),
      (301, Method::PUT, Method::PUT, true),
      (307, Method::POST, Method::POST, true),
      (308, Method::PATCH, Method::PATCH, true),
    ];
    let from = url("http://a.example/x");
    for (status, method, want, keep) in table {
      let hop = next_hop(
        StatusCode::from_u16(status).unwrap(),
        &location("/y"),
        &from,
        &method,
        0,
        false,
      )
      .unwrap()
      .unwrap();
      assert_eq!(
        (hop.method, hop.keep_body),
        (want, keep),
        "{status} {method}"
      );
      assert_eq!(hop.url.as_str(), "http://a.example/y");
    }
  }

  #[test]
  fn refusals_and_non_redirects() {
    let from = url("https://a.example/x");
    let ok = StatusCode::TEMPORARY_REDIRECT;
    assert_eq!(
      next_hop(
        StatusCode::OK,
        &location("/y"),
        &from,
        &Method::POST,
        0,
        true
      ),
      Ok(None)
    );
    assert_eq!(
      next_hop(ok, &HeaderMap::new(), &from, &Method::POST, 0, true),
      Ok(None)
    );
    assert_eq!(
      next_hop(
        StatusCode::from_u16(300).unwrap(),
        &location("/y"),
        &from,
        &Method::POST,
        0,
        true
      ),
      Ok(None)
    );
    let table = [
      (
        "http://b.example/?key=sk-1",
        0,
        "from https to http was refused",
      ),
      ("ftp://b.example/", 0, "scheme \"ftp\""),
      ("/y", MAX_REDIRECTS, "more than 10 redirects"),
    ];
    for (to, followed, needle) in table {
      let err = next_hop(ok, &location(to), &from, &Method::POST, followed, true).unwrap_err();
      assert_eq!(err.code, ErrorCode::Redirect);
      assert!(err.message.contains(needle), "{}", err.message);
      assert!(!err.message.contains("sk-1"), "{}", err.message);
    }
    // An http hop after an earlier https one is still a downgrade.
    let plain = url("http://a.example/x");
    assert!(next_hop(
      ok,
      &location("http://c.example/"),
      &plain,
      &Method::GET,
      1,
      true
    )
    .is_err());
  }

  #[test]
  fn credentials_go_only_to_the_same_origin() {
    let mut headers = HeaderMap::new();
    for (k, v) in [
      ("authorization", "Bearer s"),
      ("x-api-key", "k"),
      ("x-custom", "c"),
      ("content-type", "application/json"),
    ] {
      headers.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    let from = url("https://a.example/x");
    let hop = |to: &str, keep_body| NextHop {
      url: url(to),
      method: Method::POST,
      keep_body,
    };
    let same = next_headers(&headers, &from, &hop("https://a.example/y", true));
    assert_eq!(same.len(), 4);
    for other in [
      "https://b.example/y",
      "http://a.example/y",
      "https://a.example:8443/y",
    ] {
      let moved = next_headers(&headers, &from, &hop(other, true));
      let mut names: Vec<&str> = moved.keys().map(|k| k.as_str()).collect();
      names.sort_unstable();
      assert_eq!(names, ["content-type", "x-custom"], "{other}");
    }
    let to_get = next_headers(&headers, &from, &hop("https://a.example/y", false));
    assert!(to_get.get("content-type").is_none() && to_get.get("authorization").is_some());
  }
}
