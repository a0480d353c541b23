//! Content codings (RFC 9110 §8.4): the response body as the server meant it.
//!
//! reqwest leaves decoding to tower-http, which decodes only a `content-encoding` that is exactly
//! `gzip`, `deflate` or `br` in lowercase, one value: `GZIP`, `x-gzip` or `gzip, br` passed through
//! still compressed, and the parser read them as text (events lost, the request ending cleanly). So
//! reqwest's decoding is off (http_client.rs) and the body is decoded here. Coding names are
//! case-insensitive (§8.4.1); `x-gzip` is gzip (§8.4.1.3); a list names the codings in the order they
//! were applied, so they are undone from the last; `identity` changes nothing. Any other coding, and a
//! body that is not what its coding says (corrupt or cut short), is a `BAD_CONTENT_ENCODING` error:
//! never text handed to the parser.
//!
//! Each chunk is decoded as it arrives (a flush per network read), so compression never holds an
//! event back when the server flushes per event.

use std::io::Write;

use flate2::{Decompress, FlushDecompress, Status};
use http::header::{HeaderMap, CONTENT_ENCODING};

use crate::error::{Error, ErrorCode};

/// What the client accepts: the codings decoded below.
pub const ACCEPT_ENCODING: &str = "gzip, deflate, br";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
  Gzip,
  Deflate,
  Brotli,
}

fn bad(message: String) -> Error {
  Error::new(ErrorCode::BadContentEncoding, message)
}

/// The codings of a response in the order they were applied, `identity` left out.
pub fn codings(headers: &HeaderMap) -> Result<Vec<Coding>, Error> {
  let mut out = Vec::new();
  for value in headers.get_all(CONTENT_ENCODING) {
    let value = String::from_utf8_lossy(value.as_bytes());
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
      let coding = match name.to_ascii_lowercase().as_str() {
        "identity" => continue,
        "gzip" | "x-gzip" => Coding::Gzip,
        "deflate" => Coding::Deflate,
        "br" => Coding::Brotli,
        _ => {
          return Err(bad(format!(
            "the response's content-encoding {name:?} cannot be decoded (gzip, x-gzip, deflate, br \
             and identity can)"
          )))
        }
      };
      out.push(coding);
    }
  }
  Ok(out)
}

/// One coding being undone.
enum Stage {
  Gzip(Box<flate2::write::GzDecoder<Vec<u8>>>),
  /// `deflate` is the zlib format (RFC 1950); some servers send raw deflate (RFC 1951), which
  /// browsers accept too: the first two bytes tell (`None` until they arrived).
  Deflate(Option<Inflate>, Vec<u8>),
  Brotli(Box<brotli_decompressor::DecompressorWriter<Vec<u8>>>),
}

/// A deflate stream, through flate2's low-level API so that a stream cut short is seen at the end.
struct Inflate {
  state: Decompress,
  ended: bool,
}

impl Inflate {
  fn new(head: &[u8]) -> Inflate {
    // A zlib header: method 8 in the low nibble, and the two bytes a multiple of 31 (RFC 1950).
    let zlib = head[0] & 0x0f == 8 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0;
    Inflate {
      state: Decompress::new(zlib),
      ended: false,
    }
  }

  fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    while !input.is_empty() && !self.ended {
      out.reserve(input.len().saturating_mul(4).clamp(4096, 1 << 20));
      let before = self.state.total_in();
      let status = self
        .state
        .decompress_vec(input, out, FlushDecompress::None)
        .map_err(|e| e.to_string())?;
      let used = (self.state.total_in() - before) as usize;
      input = &input[used..];
      match status {
        Status::StreamEnd => self.ended = true,
        // No input taken and room left for output: it needs more input than this.
        _ if used == 0 && out.len() < out.capacity() => break,
        _ => {}
      }
    }
    Ok(())
  }
}

impl Stage {
  fn new(coding: Coding) -> Stage {
    match coding {
      Coding::Gzip => Stage::Gzip(Box::new(flate2::write::GzDecoder::new(Vec::new()))),
      Coding::Deflate => Stage::Deflate(None, Vec::new()),
      Coding::Brotli => Stage::Brotli(Box::new(brotli_decompressor::DecompressorWriter::new(
        Vec::new(),
        8192,
      ))),
    }
  }

  fn name(&self) -> &'static str {
    match self {
      Stage::Gzip(_) => "gzip",
      Stage::Deflate(..) => "deflate",
      Stage::Brotli(_) => "br",
    }
  }

  /// Decodes `input`; returns what came out.
  fn push(&mut self, input: &[u8]) -> Result<Vec<u8>, String> {
    match self {
      Stage::Gzip(d) => {
        d.write_all(input).map_err(|e| e.to_string())?;
        d.flush().map_err(|e| e.to_string())?;
        Ok(std::mem::take(d.get_mut()))
      }
      Stage::Brotli(d) => {
        d.write_all(input).map_err(|e| e.to_string())?;
        d.flush().map_err(|e| e.to_string())?;
        Ok(std::mem::take(d.get_mut()))
      }
      Stage::Deflate(inflate, head) => {
        let mut out = Vec::new();
        let inflate = match inflate {
          Some(inflate) => inflate,
          None => {
            head.extend_from_slice(input);
            if head.len() < 2 {
              return Ok(out);
            }
            let head = std::mem::take(head);
            let mut started = Inflate::new(&head);
            started.push(&head, &mut out)?;
            *inflate = Some(started);
            return Ok(out);
          }
        };
        inflate.push(input, &mut out)?;
        Ok(out)
      }
    }
  }

  /// The body ended: what is left, or the error of a stream cut short.
  fn finish(self) -> Result<Vec<u8>, String> {
    const CUT: &str = "the compressed body ended before its end";
    match self {
      Stage::Gzip(d) => d.finish().map_err(|e| format!("{CUT} ({e})")),
      Stage::Brotli(mut d) => {
        d.close().map_err(|e| format!("{CUT} ({e})"))?;
        d.into_inner().map_err(|_| CUT.to_string())
      }
      Stage::Deflate(Some(inflate), _) if inflate.ended => Ok(Vec::new()),
      Stage::Deflate(..) => Err(CUT.to_string()),
    }
  }
}

/// Undoes a response's content codings, chunk by chunk.
pub struct Decoder {
  /// In the order they are undone: the last coding applied first.
  stages: Vec<Stage>,
}

impl Decoder {
  /// The decoder for a response with these headers; None when the body is not encoded (then the
  /// chunks go to the parser without a copy).
  pub fn for_headers(headers: &HeaderMap) -> Result<Option<Decoder>, Error> {
    let codings = codings(headers)?;
    if codings.is_empty() {
      return Ok(None);
    }
    Ok(Some(Decoder {
      stages: codings.into_iter().rev().map(Stage::new).collect(),
    }))
  }

  fn failed(stage: &Stage, why: String) -> Error {
    bad(format!(
      "the response body is not valid {} (content-encoding): {why}",
      stage.name()
    ))
  }

  /// Decodes one chunk of the body.
  pub fn decode(&mut self, chunk: &[u8]) -> Result<Vec<u8>, Error> {
    let mut data = chunk.to_vec();
    for stage in &mut self.stages {
      if data.is_empty() {
        break;
      }
      data = stage
        .push(&data)
        .map_err(|why| Decoder::failed(stage, why))?;
    }
    Ok(data)
  }

  /// The body ended: what the decoders still held, or the error of a body cut short.
  pub fn finish(self) -> Result<Vec<u8>, Error> {
    let mut data = Vec::new();
    for mut stage in self.stages {
      if !data.is_empty() {
        data = stage
          .push(&data)
          .map_err(|why| Decoder::failed(&stage, why))?;
      }
      let name = stage.name();
      let rest = stage.finish().map_err(|why| {
        bad(format!(
          "the response body is not valid {name} (content-encoding): {why}"
        ))
      })?;
      data.extend_from_slice(&rest);
    }
    Ok(data)
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use http::HeaderValue;

  fn headers(values: &[&str]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for v in values {
      h.append(CONTENT_ENCODING, HeaderValue::from_str(v).unwrap());
    }
    h
  }

  #[test]
  fn coding_names_table() {
    use Coding::*;
    let table: Vec<(&[&str], Vec<Coding>)> = vec![
      (&[], vec![]),
      (&["gzip"], vec![Gzip]),
      (&["GZIP"], vec![Gzip]),
      (&["x-gzip"], vec![Gzip]),
      (&["X-GZip"], vec![Gzip]),
      (&["identity"], vec![]),
      (&["deflate"], vec![Deflate]),
      (&["Br"], vec![Brotli]),
      (&["gzip, br"], vec![Gzip, Brotli]),
      (&["gzip", "br"], vec![Gzip, Brotli]),
      (&[" gzip ,, identity ,DEFLATE "], vec![Gzip, Deflate]),
    ];
    for (values, expected) in table {
      assert_eq!(codings(&headers(values)).unwrap(), expected, "{values:?}");
    }
    for unknown in ["zstd", "compress", "gzip, snappy"] {
      let err = codings(&headers(&[unknown])).unwrap_err();
      assert_eq!(err.code, ErrorCode::BadContentEncoding);
      assert!(err.message.contains("cannot be decoded"), "{}", err.message);
    }
  }

  fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
  }

  fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
  }

  fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
  }

  /// Decodes `body` fed one byte at a time (the worst split).
  fn decode_bytewise(coding: &str, body: &[u8]) -> Result<Vec<u8>, Error> {
    let mut decoder = Decoder::for_headers(&headers(&[coding]))?.expect("encoded");
    let mut out = Vec::new();
    for b in body {
      out.extend(decoder.decode(std::slice::from_ref(b))?);
    }
    out.extend(decoder.finish()?);
    Ok(out)
  }

  #[test]
  fn every_coding_decodes_split_at_every_byte() {
    let text = b"data: one\n\nid: 2\ndata: two\n\n".repeat(20);
    for (coding, body) in [
      ("gzip", gzip(&text)),
      ("deflate", zlib(&text)),
      ("deflate", raw_deflate(&text)),
      ("gzip, deflate", zlib(&gzip(&text))),
    ] {
      assert_eq!(decode_bytewise(coding, &body).unwrap(), text, "{coding}");
    }
  }

  #[test]
  fn a_body_cut_short_or_corrupt_is_an_error() {
    let text = b"data: one\n\n".repeat(50);
    for (coding, body) in [
      ("gzip", gzip(&text)[..20].to_vec()),
      ("deflate", zlib(&text)[..10].to_vec()),
      ("gzip", b"data: plain\n\n".to_vec()),
    ] {
      let err = decode_bytewise(coding, &body).unwrap_err();
      assert_eq!(err.code, ErrorCode::BadContentEncoding, "{coding}");
    }
  }
}
