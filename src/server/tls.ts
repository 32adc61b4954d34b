/** A self-signed certificate for the demo and the tests (production configures a real key and certificate). */
import { X509Certificate } from 'node:crypto';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
  /** SHA-256 fingerprint, colon-separated, as browsers and curl print it. */
  readonly fingerprint256: string;
}

export async function selfSignedCertificate(days = 30): Promise<TlsMaterial> {
  // Loaded here, not with the module: the proxy imports this module for its TLS policy, and selfsigned brings an
  // X.509 library of some 60 modules that a proxy serving its configured certificate never uses.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + days * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { key: pems.private, cert: pems.cert, fingerprint256: new X509Certificate(pems.cert).fingerprint256 };
}

/**
 * The proxy's TLS policy: TLS 1.3 (all its suites are AEAD with forward secrecy) and TLS 1.2 only with ECDHE
 * key exchange and an AEAD cipher (AES-GCM, ChaCha20-Poly1305). Static-RSA key exchange (no forward secrecy),
 * CBC modes and SHA-1 MACs, which Node's default list still allows for TLS 1.2, are left out; so is TLS < 1.2.
 */
export const TLS_CIPHERS = [
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'TLS_AES_128_GCM_SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
].join(':');

export const TLS_SERVER_OPTIONS = { minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS, honorCipherOrder: true } as const;
