// Throwaway self-signed certificates for 127.0.0.1, made with openssl (null if openssl is missing).
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A self-signed certificate and its key: { key, cert } as PEM Buffers, or null without openssl. */
export function selfSignedCert(subject = '/CN=127.0.0.1') {
  const dir = mkdtempSync(join(tmpdir(), 'native-sse-tls-'))
  try {
    execFileSync(
      'openssl',
      // CA:FALSE: webpki refuses a CA certificate used as the server's own.
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2']
        .concat(['-subj', subject, '-addext', 'subjectAltName=IP:127.0.0.1'])
        .concat(['-addext', 'basicConstraints=critical,CA:FALSE'])
        .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
      { stdio: 'ignore' },
    )
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }
  } catch {
    return null
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
