/** Helpers shared by the consortium tests that run real nodes. */
import type { Duplex } from 'node:stream';
import { generateIdentity } from '../../src/crypto/identity.js';
import type { Organisation } from '../../src/consortium/organisation.js';
import { issueCertificate } from '../../src/consortium/certificate.js';
import { credentialFor } from '../../src/consortium/credential.js';

/** Node options of a member of `org` (a fresh identity unless given) trusting the organisations in `trust`, certified for an hour. */
export function member(org: Organisation, trust: string[], identity = generateIdentity()) {
  const certificate = issueCertificate(org, identity.publicKey, { notBefore: Date.now() - 60_000, expiresAt: Date.now() + 3600_000 });
  return { identity, consortium: { credential: credentialFor(org, certificate), trust } };
}

/** Writes one line and waits for the echo service to answer it: proof that a stream reached the service. */
export async function roundTrip(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    stream.on('data', (chunk: Buffer) => {
      got += chunk.toString();
      if (got.includes('\n')) {
        stream.destroy();
        resolve(got.trim());
      }
    });
    stream.on('error', reject);
    stream.on('close', () => reject(new Error(`stream closed after ${JSON.stringify(got)}`)));
    stream.write('ping\n');
  });
}
