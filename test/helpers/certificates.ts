/**
 * TLS test certificates: a self-signed certificate for `orders.internal`, made with the openssl CLI. Absent openssl,
 * `undefined` (tests skip locally) — unless CI is set, where the error is thrown (tests must not skip in CI).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A self-signed certificate for `orders.internal`, made with the openssl CLI (absent: skip locally, fail in CI). */
export function makeCertificate(): { key: string; cert: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=orders.internal',
        '-addext',
        'subjectAltName=DNS:orders.internal',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } catch (error) {
    if (process.env.CI) throw error;
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
