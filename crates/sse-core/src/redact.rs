//! Secrets out of messages. URLs carry credentials in two places: the userinfo
//! (`https://user:password@host/`) and the query (`?key=sk-...`, `?access_token=...`), sometimes the
//! fragment. Every message that can hold a URL (INVALID_URL for `url` and `baseUrl`, errors from
//! reqwest and hyper, redirect refusals) goes through these two functions, so an error logged by a
//! server never leaks a key. Names stay readable (`?key=***`) so the message still says what was
//! wrong; the path is kept.
//!
//! They work on text, not on a parsed `Url`: the URLs that need it most are the ones that do not
//! parse.

/// What replaces a secret.
pub const MASK: &str = "***";

/// `raw` with its userinfo and every query and fragment value replaced by `***`.
pub fn redact_url(raw: &str) -> String {
  let bytes = raw.as_bytes();
  // The authority starts after `scheme:` and any slashes (the URL parser accepts `http:host`,
  // `http:/host` and backslashes for http(s), so they are all treated alike).
  let after_scheme = scheme_end(raw).map_or(0, |colon| colon + 1);
  let mut auth_start = after_scheme;
  while auth_start < bytes.len() && matches!(bytes[auth_start], b'/' | b'\\') {
    auth_start += 1;
  }
  let has_authority = auth_start > after_scheme || after_scheme > 0;
  let auth_end = raw[auth_start..]
    .find(['/', '\\', '?', '#'])
    .map_or(raw.len(), |i| auth_start + i);
  let mut out = String::with_capacity(raw.len());
  out.push_str(&raw[..auth_start]);
  let authority = &raw[auth_start..auth_end];
  match authority.rfind('@') {
    Some(at) if has_authority => {
      out.push_str(MASK);
      out.push_str(&authority[at..]);
    }
    _ => out.push_str(authority),
  }
  let rest = &raw[auth_end..];
  let (before_query, query_and_fragment) = match rest.find(['?', '#']) {
    Some(i) => rest.split_at(i),
    None => (rest, ""),
  };
  out.push_str(before_query);
  let (query, fragment) = match query_and_fragment.find('#') {
    Some(i) => query_and_fragment.split_at(i),
    None => (query_and_fragment, ""),
  };
  if let Some(q) = query.strip_prefix('?') {
    out.push('?');
    redact_pairs(q, &mut out);
  }
  if let Some(f) = fragment.strip_prefix('#') {
    out.push('#');
    redact_pairs(f, &mut out);
  }
  out
}

/// Every `http://` and `https://` URL inside `text` redacted with [`redact_url`]. A URL ends at
/// whitespace, a quote, `<`, `>` or a `)` (reqwest writes "for url (…)").
pub fn redact_urls_in(text: &str) -> String {
  let lower = text.to_ascii_lowercase();
  let mut out = String::with_capacity(text.len());
  let mut pos = 0;
  while let Some(found) = find_url_start(&lower[pos..]) {
    let start = pos + found;
    let len = text[start..]
      .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | ')' | '`'))
      .unwrap_or(text.len() - start);
    out.push_str(&text[pos..start]);
    out.push_str(&redact_url(&text[start..start + len]));
    pos = start + len;
  }
  out.push_str(&text[pos..]);
  out
}

/// A query string (without its `?`) with every value replaced by `***`, as [`redact_url`] does.
pub fn redact_query(query: &str) -> String {
  let mut out = String::with_capacity(query.len());
  redact_pairs(query, &mut out);
  out
}

fn find_url_start(lower: &str) -> Option<usize> {
  let http = lower.find("http://");
  let https = lower.find("https://");
  match (http, https) {
    (Some(a), Some(b)) => Some(a.min(b)),
    (a, b) => a.or(b),
  }
}

/// The index of the `:` ending a URL scheme (ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), if `raw`
/// starts with one.
fn scheme_end(raw: &str) -> Option<usize> {
  let colon = raw.find(':')?;
  let scheme = &raw[..colon];
  let mut chars = scheme.chars();
  let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
  let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
  (first_ok && rest_ok).then_some(colon)
}

/// `a=1&b&c=` → `a=***&***&c=`: names kept, values (and bare parts, which may be a token) masked.
fn redact_pairs(pairs: &str, out: &mut String) {
  for (i, part) in pairs.split('&').enumerate() {
    if i > 0 {
      out.push('&');
    }
    match part.split_once('=') {
      Some((name, value)) => {
        out.push_str(name);
        out.push('=');
        if !value.is_empty() {
          out.push_str(MASK);
        }
      }
      None if part.is_empty() => {}
      None => out.push_str(MASK),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_query_alone_is_masked_as_in_a_url() {
    assert_eq!(
      redact_query("key=sk-1&model=m&flag"),
      "key=***&model=***&***"
    );
    assert_eq!(
      redact_url("http://h/p?key=sk-1&model=m&flag"),
      format!("http://h/p?{}", redact_query("key=sk-1&model=m&flag"))
    );
  }

  #[test]
  fn userinfo_and_query_values_are_masked() {
    let table = [
      (
        "https://api.example.com/v1/chat",
        "https://api.example.com/v1/chat",
      ),
      (
        "https://user:pw@api.example.com/x",
        "https://***@api.example.com/x",
      ),
      (
        "https://sk-live-123@api.example.com",
        "https://***@api.example.com",
      ),
      ("http://u:p@[::1", "http://***@[::1"),
      ("http://a@b@host/p", "http://***@host/p"),
      (
        "https://h/p?key=sk-abc&stream=true",
        "https://h/p?key=***&stream=***",
      ),
      ("https://h/p?sk-abc", "https://h/p?***"),
      ("https://h/p?a=&b", "https://h/p?a=&***"),
      (
        "https://h/p#access_token=t&x=1",
        "https://h/p#access_token=***&x=***",
      ),
      ("https://u:p@h/p?k=v#f", "https://***@h/p?k=***#***"),
      ("//u:p@evil.example/x?k=v", "//***@evil.example/x?k=***"),
      ("http:\\\\u:p@h\\x", "http:\\\\***@h\\x"),
      ("http:u:p@h/x", "http:***@h/x"),
      ("chat/completions?key=v", "chat/completions?key=***"),
      ("/v1/me@home?k=v", "/v1/me@home?k=***"),
      ("nope", "nope"),
      ("", ""),
    ];
    for (raw, want) in table {
      assert_eq!(redact_url(raw), want, "{raw:?}");
    }
  }

  #[test]
  fn urls_inside_messages_are_masked() {
    let table = [
      (
        "error sending request for url (https://u:p@h/x?key=sk-1): connection refused",
        "error sending request for url (https://***@h/x?key=***): connection refused",
      ),
      (
        "redirect to HTTP://h/?t=secret refused",
        "redirect to HTTP://h/?t=*** refused",
      ),
      (
        "a \"https://h/?a=1\" and http://x@y/ z",
        "a \"https://h/?a=***\" and http://***@y/ z",
      ),
      ("no url here", "no url here"),
    ];
    for (text, want) in table {
      assert_eq!(redact_urls_in(text), want, "{text:?}");
    }
  }
}
