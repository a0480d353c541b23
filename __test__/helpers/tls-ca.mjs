// Certificates as people make them (issue 10): a lone `openssl req -x509` certificate (CA:TRUE,
// what OpenSSL's default config gives), and a CA with a leaf it signed. Null when openssl is missing.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

function inTempDir(fn) {
  const dir = mkdtempSync(join(tmpdir(), 'native-sse-ca-'))
  const openssl = (...parts) => execFileSync('openssl', parts.flat(), { stdio: 'ignore', cwd: dir })
  const read = (name) => readFileSync(join(dir, name))
  try {
    return fn({ dir, openssl, read })
  } catch {
    return null
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * A self-signed CA:TRUE certificate with the given subjectAltName and extra `-addext` extensions:
 * { key, cert } PEM Buffers.
 */
export function selfSignedCaCert(san = 'IP:127.0.0.1', extensions = []) {
  return inTempDir(({ openssl, read }) => {
    // What people type, plus a SAN for 127.0.0.1 and an explicit CA:TRUE (OpenSSL's default).
    openssl(
      ['req', '-x509', ...KEY, '-days', '2', '-subj', '/CN=local'],
      ['-addext', `subjectAltName=${san}`, '-addext', 'basicConstraints=critical,CA:TRUE'],
      extensions.flatMap((ext) => ['-addext', ext]),
      ['-keyout', 'key.pem', '-out', 'cert.pem'],
    )
    return { key: read('key.pem'), cert: read('cert.pem') }
  })
}

/** A CA and a leaf for 127.0.0.1 it signed: { ca, key, cert } PEM Buffers (key/cert: the leaf). */
export function caSignedLeaf() {
  return inTempDir(({ dir, openssl, read }) => {
    openssl('req', '-x509', ...KEY, '-days', '2', '-subj', '/CN=test CA', '-keyout', 'ca.key', '-out', 'ca.pem')
    openssl('req', '-new', ...KEY, '-subj', '/CN=127.0.0.1', '-keyout', 'leaf.key', '-out', 'leaf.csr')
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n')
    openssl(
      ['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
      ['-days', '2', '-extfile', 'ext.cnf', '-out', 'leaf.pem'],
    )
    return { ca: read('ca.pem'), key: read('leaf.key'), cert: read('leaf.pem') }
  })
}
