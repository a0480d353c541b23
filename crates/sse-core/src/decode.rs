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
//! Each chunk is decoded as it arrives, in steps of at most 32 KiB of output, each parsed and handed
//! over before the next: compression never holds an event back when the server flushes per event,
//! and a compression bomb is bounded like any body.

use brotli_decompressor::{BrotliDecompressStream, BrotliResult, BrotliState, StandardAlloc};
use flate2::{Decompress, FlushDecompress, Status};
use http::header::{HeaderMap, CONTENT_ENCODING};

use crate::error::{Error, ErrorCode};

/// What the client asks for by default. `br` is decoded below when a server sends it (or a request
/// names it in its own accept-encoding) but not asked for: a brotli decoder keeps a ring buffer
/// that grows with the output up to the stream's window (4 MiB with Node's default encoder, 16 MiB
/// at most) for the stream's whole life. 50 long streams (6,000 events of 1 KB) grew RSS by
/// 244.5 MiB with br, 17.0 MiB with gzip, whose window is 32 KiB (`bench/decode-memory.mjs`).
pub const ACCEPT_ENCODING: &str = "gzip, deflate";

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

/// The most one `Decoder::pull` hands out. Output is produced in steps of this size, each parsed and
/// handed over before the next is decoded, so a compression bomb (a few KB that inflate to
/// gigabytes; brotli's ratio is unbounded) costs no more memory than a network read, and the parser's
/// `maxEventSize` and the hub's back-pressure apply as they do to a plain body.
const STEP: usize = 32 << 10;

/// What one decoding step did.
struct Step {
  consumed: usize,
  produced: usize,
  /// The output buffer filled up: call again (with no new input) for the rest.
  more: bool,
}

/// A deflate stream (RFC 1951), through flate2's low-level API: bounded output, and a stream cut
/// short is seen at the end.
struct Inflate {
  state: Decompress,
  ended: bool,
}

impl Inflate {
  fn new(zlib_header: bool) -> Inflate {
    Inflate {
      state: Decompress::new(zlib_header),
      ended: false,
    }
  }

  fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, String> {
    let (before_in, before_out) = (self.state.total_in(), self.state.total_out());
    let status = self
      .state
      .decompress(input, out, FlushDecompress::None)
      .map_err(|e| e.to_string())?;
    let consumed = (self.state.total_in() - before_in) as usize;
    let produced = (self.state.total_out() - before_out) as usize;
    self.ended = status == Status::StreamEnd;
    Ok(Step {
      consumed,
      produced,
      more: !self.ended && produced == out.len(),
    })
  }
}

/// Where a gzip member (RFC 1952) is being read.
enum Gzip {
  /// Header bytes so far.
  Header(Vec<u8>),
  Body(Inflate, flate2::Crc),
  /// Trailer bytes so far (CRC-32 and size), and the CRC and size of the data.
  Trailer(Vec<u8>, flate2::Crc),
  End,
}

/// The length of a complete gzip header at the start of `head`, None if more bytes are needed.
fn gzip_header_len(head: &[u8]) -> Result<Option<usize>, String> {
  const FEXTRA: u8 = 4;
  const FNAME: u8 = 8;
  const FCOMMENT: u8 = 16;
  const FHCRC: u8 = 2;
  if head.len() < 10 {
    return Ok(None);
  }
  if head[..3] != [0x1f, 0x8b, 8] {
    return Err("no gzip header".into());
  }
  let flags = head[3];
  let mut at = 10;
  if flags & FEXTRA != 0 {
    let Some(len) = head.get(at..at + 2) else {
      return Ok(None);
    };
    at += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
  }
  for flag in [FNAME, FCOMMENT] {
    if flags & flag != 0 {
      let Some(rest) = head.get(at..) else {
        return Ok(None);
      };
      let Some(nul) = rest.iter().position(|&b| b == 0) else {
        return Ok(None);
      };
      at += nul + 1;
    }
  }
  if flags & FHCRC != 0 {
    at += 2;
  }
  Ok((head.len() >= at).then_some(at))
}

impl Gzip {
  fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, String> {
    let none = |consumed| Step {
      consumed,
      produced: 0,
      more: false,
    };
    match self {
      Gzip::Header(head) => {
        let before = head.len();
        head.extend_from_slice(input);
        match gzip_header_len(head)? {
          None if head.len() > 1 << 16 => Err("a gzip header of more than 64 KiB".into()),
          None => Ok(none(input.len())),
          Some(len) => {
            *self = Gzip::Body(Inflate::new(false), flate2::Crc::new());
            Ok(none(len - before))
          }
        }
      }
      Gzip::Body(inflate, crc) => {
        let step = inflate.step(input, out)?;
        crc.update(&out[..step.produced]);
        if inflate.ended {
          *self = Gzip::Trailer(Vec::new(), std::mem::replace(crc, flate2::Crc::new()));
        }
        Ok(step)
      }
      Gzip::Trailer(trailer, crc) => {
        let take = input.len().min(8 - trailer.len());
        trailer.extend_from_slice(&input[..take]);
        if trailer.len() == 8 {
          let sum = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
          let size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
          if sum != crc.sum() || size != crc.amount() {
            return Err("the gzip checksum does not match the data".into());
          }
          *self = Gzip::End;
        }
        Ok(none(take))
      }
      // Another member follows (concatenated gzip files are one stream); anything else is dropped.
      Gzip::End if input.first() == Some(&0x1f) => {
        *self = Gzip::Header(Vec::new());
        Ok(none(0))
      }
      Gzip::End => Ok(none(input.len())),
    }
  }
}

/// One coding being undone.
enum Stage {
  Gzip(Gzip),
  /// `deflate` is the zlib format (RFC 1950); some servers send raw deflate (RFC 1951), which
  /// browsers accept too: the first two bytes tell (`None` until they arrived).
  Deflate(Option<Inflate>, Vec<u8>),
  Brotli(
    Box<BrotliState<StandardAlloc, StandardAlloc, StandardAlloc>>,
    bool,
  ),
}

impl Stage {
  fn new(coding: Coding) -> Stage {
    match coding {
      Coding::Gzip => Stage::Gzip(Gzip::Header(Vec::new())),
      Coding::Deflate => Stage::Deflate(None, Vec::new()),
      Coding::Brotli => Stage::Brotli(
        Box::new(BrotliState::new(
          StandardAlloc::default(),
          StandardAlloc::default(),
          StandardAlloc::default(),
        )),
        false,
      ),
    }
  }

  fn name(&self) -> &'static str {
    match self {
      Stage::Gzip(_) => "gzip",
      Stage::Deflate(..) => "deflate",
      Stage::Brotli(..) => "br",
    }
  }

  fn ended(&self) -> bool {
    match self {
      Stage::Gzip(gzip) => matches!(gzip, Gzip::End),
      Stage::Deflate(inflate, _) => inflate.as_ref().is_some_and(|i| i.ended),
      Stage::Brotli(_, ended) => *ended,
    }
  }

  /// Decodes what it can of `input` into `out`.
  fn step(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, String> {
    match self {
      Stage::Gzip(gzip) => gzip.step(input, out),
      Stage::Deflate(Some(inflate), _) if inflate.ended => Ok(Step {
        consumed: input.len(),
        produced: 0,
        more: false,
      }),
      Stage::Deflate(Some(inflate), _) => inflate.step(input, out),
      Stage::Deflate(inflate, head) => {
        let take = input.len().min(2 - head.len());
        head.extend_from_slice(&input[..take]);
        if head.len() == 2 {
          // A zlib header: method 8 in the low nibble, the two bytes a multiple of 31.
          let zlib =
            head[0] & 0x0f == 8 && (u16::from(head[0]) << 8 | u16::from(head[1])) % 31 == 0;
          let mut started = Inflate::new(zlib);
          let step = started.step(head, out)?;
          if step.consumed < 2 {
            return Err("the deflate stream does not start".into());
          }
          *inflate = Some(started);
          return Ok(Step {
            consumed: take,
            ..step
          });
        }
        Ok(Step {
          consumed: take,
          produced: 0,
          more: false,
        })
      }
      Stage::Brotli(_, true) => Ok(Step {
        consumed: input.len(),
        produced: 0,
        more: false,
      }),
      Stage::Brotli(state, ended) => {
        let (mut available_in, mut input_offset) = (input.len(), 0);
        let (mut available_out, mut output_offset, mut total_out) = (out.len(), 0, 0);
        let result = BrotliDecompressStream(
          &mut available_in,
          &mut input_offset,
          input,
          &mut available_out,
          &mut output_offset,
          out,
          &mut total_out,
          state,
        );
        match result {
          BrotliResult::ResultFailure => Err("invalid brotli data".into()),
          result => {
            *ended = matches!(result, BrotliResult::ResultSuccess);
            Ok(Step {
              consumed: input_offset,
              produced: output_offset,
              more: matches!(result, BrotliResult::NeedsMoreOutput),
            })
          }
        }
      }
    }
  }
}

/// Input waiting for a stage.
#[derive(Default)]
struct Pending {
  data: Vec<u8>,
  at: usize,
}

/// Undoes a response's content codings, in bounded steps: `push` a chunk of the body, then `pull`
/// until it returns None.
pub struct Decoder {
  /// In the order they are undone: the last coding applied first.
  stages: Vec<Stage>,
  /// What each stage has yet to decode.
  pending: Vec<Pending>,
  /// Whether each stage filled its output buffer last time (it holds more output).
  more: Vec<bool>,
  out: Box<[u8]>,
}

impl Decoder {
  /// The decoder for a response with these headers; None when the body is not encoded (then the
  /// chunks go to the parser without a copy).
  pub fn for_headers(headers: &HeaderMap) -> Result<Option<Decoder>, Error> {
    let codings = codings(headers)?;
    if codings.is_empty() {
      return Ok(None);
    }
    let n = codings.len();
    Ok(Some(Decoder {
      stages: codings.into_iter().rev().map(Stage::new).collect(),
      pending: (0..n).map(|_| Pending::default()).collect(),
      more: vec![false; n],
      out: vec![0; STEP].into_boxed_slice(),
    }))
  }

  /// The next chunk of the body (after `pull` returned None).
  pub fn push(&mut self, chunk: &[u8]) {
    let first = &mut self.pending[0];
    first.data.drain(..first.at);
    first.at = 0;
    first.data.extend_from_slice(chunk);
  }

  /// The next decoded bytes, at most 32 KiB; None when the body pushed so far is decoded. With
  /// `ended` (the body is over), None also means every coding reached its end, else it is an error
  /// (a body cut short).
  pub fn pull(&mut self, ended: bool) -> Result<Option<Vec<u8>>, Error> {
    let last = self.stages.len() - 1;
    match self.produce(last)? {
      Some(out) => Ok(Some(out)),
      None if !ended => Ok(None),
      None => match self.stages.iter().find(|s| !s.ended()) {
        Some(stage) => Err(bad(format!(
          "the response body is not valid {} (content-encoding): it ended before the compressed \
           stream did",
          stage.name()
        ))),
        None => Ok(None),
      },
    }
  }

  /// The next output of stage `k`, pulling input from the stages before it.
  fn produce(&mut self, k: usize) -> Result<Option<Vec<u8>>, Error> {
    loop {
      let pending = &mut self.pending[k];
      let input = &pending.data[pending.at..];
      if !input.is_empty() || self.more[k] {
        let stage = &mut self.stages[k];
        let step = stage.step(input, &mut self.out).map_err(|why| {
          bad(format!(
            "the response body is not valid {} (content-encoding): {why}",
            stage.name()
          ))
        })?;
        pending.at += step.consumed;
        self.more[k] = step.more;
        if step.produced > 0 {
          return Ok(Some(self.out[..step.produced].to_vec()));
        }
        if step.consumed > 0 || step.more {
          continue;
        }
        if !input.is_empty() {
          // Nothing taken, nothing made: the stage needs more than this input to move on.
          if k == 0 {
            return Ok(None);
          }
        }
      }
      if k == 0 {
        return Ok(None);
      }
      let Some(input) = self.produce(k - 1)? else {
        return Ok(None);
      };
      let pending = &mut self.pending[k];
      pending.data.drain(..pending.at);
      pending.at = 0;
      pending.data.extend_from_slice(&input);
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use http::HeaderValue;
  use std::io::Write;

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

  fn decode_in(coding: &str, body: &[u8], size: usize) -> Result<Vec<u8>, Error> {
    let mut decoder = Decoder::for_headers(&headers(&[coding]))?.expect("encoded");
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
      decoder.push(chunk);
      while let Some(piece) = decoder.pull(false)? {
        assert!(piece.len() <= STEP);
        out.extend(piece);
      }
    }
    while let Some(piece) = decoder.pull(true)? {
      out.extend(piece);
    }
    Ok(out)
  }

  /// Decodes `body` fed one byte at a time (the worst split).
  fn decode_bytewise(coding: &str, body: &[u8]) -> Result<Vec<u8>, Error> {
    decode_in(coding, body, 1)
  }

  #[test]
  fn output_comes_in_bounded_steps_whatever_the_ratio() {
    // 8 MiB of zeros are 8 KiB of gzip: fed whole, handed out 32 KiB at a time.
    let zeros = vec![0u8; 8 << 20];
    let body = gzip(&zeros);
    assert!(body.len() < 16 << 10);
    assert_eq!(decode_in("gzip", &body, body.len()).unwrap(), zeros);
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
