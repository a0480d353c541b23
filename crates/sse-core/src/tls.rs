//! The TLS configuration when the client is given `ca` or `cert`/`key`. Without them reqwest's own
//! (the platform verifier) is used unchanged.
//!
//! Why our own: the most common setup for a local or internal server is one self-signed
//! certificate made with `openssl req -x509`, which is CA:TRUE, passed as `ca`. webpki refuses a CA
//! certificate used as the server's own (`CaUsedAsEndEntity`), while Node's fetch and curl accept
//! it. [`PinnedVerifier`] keeps the normal verification (system roots plus `ca`) and, only when that
//! fails with `CaUsedAsEndEntity`, accepts a server certificate that is byte for byte one of the
//! certificates given in `ca`, still checking that it names the host. The handshake signatures are
//! verified as usual, so the server must hold that certificate's key. Validity dates are checked
//! by webpki before it reaches the CA test, so an expired certificate still fails. Its extended key
//! usage is checked as webpki checks a server certificate: when the extension is there, it must
//! list serverAuth (a certificate made for client authentication only is refused).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::error::Error;
use crate::options::ClientOptions;

/// The ALPN protocols offered, most preferred first, as reqwest offers them.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The certificates of a PEM bundle (`ca`, `cert`), or an INVALID_OPTIONS naming the option.
pub fn pem_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
  let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
    .collect::<Result<_, _>>()
    .map_err(|e| {
      Error::invalid_options(format!(
        "{what} is not a valid PEM certificate bundle: {e:?}"
      ))
    })?;
  if certs.is_empty() {
    return Err(Error::invalid_options(format!(
      "{what} holds no PEM certificate"
    )));
  }
  Ok(certs)
}

/// The rustls configuration for `opts`, or None when reqwest's default applies (no `ca`, `cert`,
/// `key`). `alpn` is what the HTTP layer negotiates (see [`ALPN`]).
pub fn client_config(opts: &ClientOptions, alpn: &[&[u8]]) -> Result<Option<ClientConfig>, Error> {
  if opts.ca.is_none() && opts.cert.is_none() && opts.key.is_none() {
    return Ok(None);
  }
  config(opts, alpn).map(Some)
}

/// The rustls configuration for `opts` even without `ca`, `cert` or `key`: then the same
/// verification as reqwest's default (the platform verifier, no pinned certificate).
pub fn config(opts: &ClientOptions, alpn: &[&[u8]]) -> Result<ClientConfig, Error> {
  let provider = CryptoProvider::get_default()
    .cloned()
    .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
  let pinned = match &opts.ca {
    Some(ca) => pem_certs(ca, "ca")?,
    None => Vec::new(),
  };
  let inner =
    rustls_platform_verifier::Verifier::new_with_extra_roots(pinned.clone(), provider.clone())
      .map_err(|e| Error::invalid_options(format!("ca cannot be used as a trust anchor: {e}")))?;
  let verifier = PinnedVerifier {
    inner: Arc::new(inner),
    pinned,
  };
  let builder = ClientConfig::builder_with_provider(provider)
    .with_safe_default_protocol_versions()
    .map_err(|e| Error::invalid_options(format!("cannot build the TLS configuration: {e}")))?
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(verifier));
  let mut config = match (&opts.cert, &opts.key) {
    (Some(cert), Some(key)) => {
      let chain = pem_certs(cert, "cert")?;
      let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| {
        Error::invalid_options(format!("key is not a valid PEM private key: {e:?}"))
      })?;
      builder.with_client_auth_cert(chain, key).map_err(|e| {
        Error::invalid_options(format!(
          "cert/key are not a valid PEM certificate and key: {e}"
        ))
      })?
    }
    (None, None) => builder.with_no_client_auth(),
    _ => {
      return Err(Error::invalid_options(
        "cert and key must be given together",
      ))
    }
  };
  config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
  Ok(config)
}

/// The normal verification, plus the exact certificates given in `ca` as server certificates even
/// when they are CA certificates (see the module documentation).
#[derive(Debug)]
struct PinnedVerifier {
  inner: Arc<rustls_platform_verifier::Verifier>,
  pinned: Vec<CertificateDer<'static>>,
}

fn is_ca_used_as_end_entity(err: &rustls::Error) -> bool {
  match err {
    rustls::Error::InvalidCertificate(CertificateError::Other(other)) => other
      .0
      .downcast_ref::<webpki::Error>()
      .is_some_and(|e| matches!(e, webpki::Error::CaUsedAsEndEntity)),
    _ => false,
  }
}

/// id-ce-extKeyUsage (2.5.29.37) and id-kp-serverAuth (1.3.6.1.5.5.7.3.1), DER-encoded.
const OID_EXT_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];
const OID_SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];

/// One DER element: its tag, its contents and what follows it; None if malformed.
fn der(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
  let (&tag, rest) = input.split_first()?;
  let (&first, rest) = rest.split_first()?;
  let (len, rest) = if first < 0x80 {
    (first as usize, rest)
  } else {
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 || rest.len() < n {
      return None;
    }
    let len = rest[..n]
      .iter()
      .fold(0usize, |acc, &b| (acc << 8) | b as usize);
    (len, &rest[n..])
  };
  (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Whether a certificate may serve TLS as webpki decides it for a server certificate: no
/// extendedKeyUsage extension, or one that lists serverAuth. A malformed certificate may not (webpki
/// parsed it already, so that does not happen).
fn allows_server_auth(cert: &[u8]) -> bool {
  ext_key_usage(cert).is_none_or(|usages| usages.is_some_and(|u| u.contains(&OID_SERVER_AUTH)))
}

/// The key purposes of the extendedKeyUsage extension: None when there is no such extension,
/// Some(None) when it cannot be read.
fn ext_key_usage(cert: &[u8]) -> Option<Option<Vec<&[u8]>>> {
  let extensions = (|| {
    let (_, cert, _) = der(cert)?;
    let (_, mut tbs, _) = der(cert)?;
    // tbsCertificate: [0] version, serial, signature, issuer, validity, subject, spki, [1], [2],
    // [3] extensions.
    while !tbs.is_empty() {
      let (tag, value, rest) = der(tbs)?;
      if tag == 0xa3 {
        return Some(der(value)?.1);
      }
      tbs = rest;
    }
    Some(&[][..])
  })();
  let Some(mut extensions) = extensions else {
    return Some(None);
  };
  while !extensions.is_empty() {
    let Some((_, extension, rest)) = der(extensions) else {
      return Some(None);
    };
    extensions = rest;
    let Some((_, oid, fields)) = der(extension) else {
      return Some(None);
    };
    if oid != OID_EXT_KEY_USAGE {
      continue;
    }
    let purposes = (|| {
      // critical BOOLEAN DEFAULT FALSE, then extnValue OCTET STRING holding SEQUENCE OF OID.
      let (mut tag, mut value, rest) = der(fields)?;
      if tag == 0x01 {
        (tag, value, _) = der(rest)?;
      }
      if tag != 0x04 {
        return None;
      }
      let (_, mut list, _) = der(value)?;
      let mut purposes = Vec::new();
      while !list.is_empty() {
        let (_, oid, rest) = der(list)?;
        purposes.push(oid);
        list = rest;
      }
      Some(purposes)
    })();
    return Some(purposes);
  }
  None
}

impl ServerCertVerifier for PinnedVerifier {
  fn verify_server_cert(
    &self,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    ocsp_response: &[u8],
    now: UnixTime,
  ) -> Result<ServerCertVerified, rustls::Error> {
    let err = match self.inner.verify_server_cert(
      end_entity,
      intermediates,
      server_name,
      ocsp_response,
      now,
    ) {
      Ok(verified) => return Ok(verified),
      Err(err) => err,
    };
    if !is_ca_used_as_end_entity(&err)
      || !self
        .pinned
        .iter()
        .any(|c| c.as_ref() == end_entity.as_ref())
    {
      return Err(err);
    }
    let cert = webpki::EndEntityCert::try_from(end_entity)
      .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    cert
      .verify_is_valid_for_subject_name(server_name)
      .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::NotValidForName))?;
    if !allows_server_auth(end_entity.as_ref()) {
      return Err(rustls::Error::InvalidCertificate(
        CertificateError::InvalidPurpose,
      ));
    }
    Ok(ServerCertVerified::assertion())
  }

  fn verify_tls12_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> Result<HandshakeSignatureValid, rustls::Error> {
    self.inner.verify_tls12_signature(message, cert, dss)
  }

  fn verify_tls13_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> Result<HandshakeSignatureValid, rustls::Error> {
    self.inner.verify_tls13_signature(message, cert, dss)
  }

  fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
    self.inner.supported_verify_schemes()
  }
}
