//! The one error type of the store, with the stable codes the napi layer hands to JS.

use std::fmt;

/// What went wrong in a store call. [`StoreError::code`] is the string JS sees as `err.code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
  /// The connection failed, timed out, or the server replied with something of the wrong shape.
  /// The message never holds the password of the URL.
  Store(String),
  /// This producer no longer owns the generation: its lease lapsed (and maybe a reader marked the
  /// log interrupted), or the generation was finished. Nothing was written.
  Fenced,
  /// `begin` found a log for this id that has not expired yet.
  Exists {
    /// true while a producer holds (or held, with its lease not yet noticed as lapsed) the log.
    live: bool,
  },
  /// Entries after the reader's cursor were trimmed away (`max_len`/`max_bytes`) or expired.
  Gap {
    /// The cursor the reader asked to resume after ("" for the start of the log).
    after: String,
    /// The newest id that was removed.
    trimmed: String,
  },
  /// A generation id outside 1..=200 bytes of printable ASCII without `{`, `}` or spaces.
  InvalidId(String),
  /// A bad URL or limit passed to the constructor.
  InvalidOptions(String),
  /// [`crate::Store::close`] was called.
  Closed,
}

/// Shorthand used across the crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
  /// The stable code string, one per variant family.
  pub fn code(&self) -> &'static str {
    match self {
      StoreError::Store(_) => "STORE",
      StoreError::Fenced => "STORE_FENCED",
      StoreError::Exists { .. } => "GENERATION_EXISTS",
      StoreError::Gap { .. } => "RESUME_GAP",
      StoreError::InvalidId(_) | StoreError::InvalidOptions(_) => "INVALID_OPTIONS",
      StoreError::Closed => "STORE_CLOSED",
    }
  }

  /// A malformed reply: the server said something this crate never asks it to say.
  pub(crate) fn protocol(what: &str) -> Self {
    StoreError::Store(format!("unexpected reply from the store: {what}"))
  }
}

impl fmt::Display for StoreError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      StoreError::Store(message) => write!(f, "store failure: {message}"),
      StoreError::Fenced => f.write_str(
        "this producer lost its lease on the generation (or it was finished); nothing was written",
      ),
      StoreError::Exists { live: true } => {
        f.write_str("a generation with this id is still being produced")
      }
      StoreError::Exists { live: false } => {
        f.write_str("a generation with this id has finished and has not expired yet")
      }
      StoreError::Gap { after, trimmed } => {
        let after = if after.is_empty() { "the start" } else { after };
        write!(
          f,
          "cannot resume after {after}: entries up to {trimmed} were trimmed from the log"
        )
      }
      StoreError::InvalidId(message) | StoreError::InvalidOptions(message) => f.write_str(message),
      StoreError::Closed => f.write_str("the store was closed"),
    }
  }
}

impl std::error::Error for StoreError {}

/// Removes the credentials from a redis URL: `redis://user:pass@host:6379/0` becomes
/// `redis://host:6379/0`. Anything that does not look like a URL is returned unchanged.
pub fn redact_url(url: &str) -> String {
  let Some(scheme_end) = url.find("://") else {
    return url.to_string();
  };
  let rest = &url[scheme_end + 3..];
  let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
  match rest[..authority_end].rfind('@') {
    Some(at) => format!("{}{}", &url[..scheme_end + 3], &rest[at + 1..]),
    None => url.to_string(),
  }
}

/// Replaces every occurrence of `secret` (the URL's password) in a message. The redis crate's
/// errors do not quote the URL today, but a future version or a server error echoing an AUTH
/// argument must not leak it either.
pub(crate) fn scrub(message: String, secret: Option<&str>) -> String {
  match secret {
    Some(secret) if !secret.is_empty() && message.contains(secret) => {
      message.replace(secret, "***")
    }
    _ => message,
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn every_variant_has_its_stable_code() {
    let table = [
      (StoreError::Store("x".into()), "STORE"),
      (StoreError::Fenced, "STORE_FENCED"),
      (StoreError::Exists { live: true }, "GENERATION_EXISTS"),
      (
        StoreError::Gap {
          after: "1-0".into(),
          trimmed: "2-0".into(),
        },
        "RESUME_GAP",
      ),
      (StoreError::InvalidId("x".into()), "INVALID_OPTIONS"),
      (StoreError::InvalidOptions("x".into()), "INVALID_OPTIONS"),
      (StoreError::Closed, "STORE_CLOSED"),
    ];
    for (error, code) in table {
      assert_eq!(error.code(), code, "{error:?}");
    }
  }

  #[test]
  fn redact_url_drops_user_and_password() {
    let table = [
      ("redis://user:pa55@host:6379/0", "redis://host:6379/0"),
      ("rediss://:pa55@host", "rediss://host"),
      ("redis://host:6379", "redis://host:6379"),
      ("redis://u:p@ss@host/1?x=@", "redis://host/1?x=@"),
      ("not a url", "not a url"),
    ];
    for (url, expected) in table {
      assert_eq!(redact_url(url), expected, "{url}");
    }
  }

  #[test]
  fn scrub_hides_the_password_anywhere_in_a_message() {
    assert_eq!(scrub("bad pa55 here".into(), Some("pa55")), "bad *** here");
    assert_eq!(scrub("bad".into(), Some("")), "bad");
    assert_eq!(scrub("bad".into(), None), "bad");
  }
}
