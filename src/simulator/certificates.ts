/**
 * The simulated tenant's certificates, made once per process (RSA key generation takes a moment): the login
 * host's TLS certificate for 127.0.0.1, and the certificate registered on the simulated app registration,
 * whose key signs certificate-credential client assertions.
 */
import { generate } from 'selfsigned';

export interface SimulatorCertificates {
  readonly login: { readonly key: string; readonly cert: string };
  readonly client: { readonly key: string; readonly cert: string };
}

let made: Promise<SimulatorCertificates> | undefined;

async function selfSigned(commonName: string, forLoopback: boolean): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 86_400_000),
    extensions: forLoopback
      ? [{ name: 'basicConstraints', cA: false }, { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }]
      : [{ name: 'basicConstraints', cA: false }],
  });
  return { key: pems.private, cert: pems.cert };
}

export function simulatorCertificates(): Promise<SimulatorCertificates> {
  made ??= Promise.all([
    selfSigned('login.simulated', true),
    selfSigned('graph-privacy-proxy simulated app', false),
  ]).then(([login, client]) => ({ login, client }));
  return made;
}
