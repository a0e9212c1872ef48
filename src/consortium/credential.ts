/**
 * What a member node holds: its certificate, its organisation's ID and the organisation's
 * read secret; and the files `mcc org create` / `mcc org issue` write (JSON, mode 0600,
 * written to a temporary name and renamed so a crash never leaves half a file).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { CryptoSuite } from '../crypto/types.js';
import { nodeCryptoSuite } from '../crypto/node-suite.js';
import { MccError, invalidArgument } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import { decodeCertificate, type Certificate } from './certificate.js';
import { createOrganisation, parseOrganisationId, type Organisation } from './organisation.js';

/** The `type` field of a credential file. */
export const CREDENTIAL_FILE_TYPE = 'mcc-mesh-credential';
/** The `type` field of an organisation file. */
export const ORGANISATION_FILE_TYPE = 'mcc-mesh-organisation';

/** A member's credential: handed out by its organisation together with the certificate. */
export interface Credential {
  /** The organisation ID (128 hex characters). */
  organisation: string;
  /** The node's certificate, encoded. */
  certificate: Uint8Array;
  /** The organisation's X25519 read secret (opens restricted records addressed to it). */
  readSecret: Uint8Array;
}

/** The credential for a certificate issued by `organisation`. */
export function credentialFor(organisation: Organisation, certificate: Certificate): Credential {
  return { organisation: organisation.id, certificate: certificate.bytes, readSecret: organisation.readSecret };
}

function hex(value: unknown, bytes: number | undefined, what: string, path: string): Uint8Array {
  if (typeof value !== 'string' || !/^([0-9a-f]{2})+$/i.test(value) || (bytes !== undefined && value.length !== 2 * bytes)) {
    throw new MccError('ERR_IDENTITY', `${path}: ${what} is not ${bytes ?? 'some'} bytes of hex`, { details: { path } });
  }
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

async function writePrivate(path: string, body: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, JSON.stringify(body, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new MccError('ERR_IDENTITY', `cannot write ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
  }
}

async function readJson(path: string, type: string): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new MccError('ERR_IDENTITY', `cannot read ${path}: ${(error as Error).message}`, { cause: error, details: { path } });
  }
  if (body === null || typeof body !== 'object' || (body as Record<string, unknown>).type !== type) {
    throw new MccError('ERR_IDENTITY', `${path} is not a ${type} file`, { details: { path } });
  }
  return body as Record<string, unknown>;
}

/**
 * Writes an organisation (its secret seed) to `path`, mode 0600, with the node IDs it has
 * revoked so far (`mcc org revoke` publishes the whole list each time).
 */
export async function saveOrganisation(path: string, organisation: Organisation, revoked: string[] = []): Promise<void> {
  await writePrivate(path, { type: ORGANISATION_FILE_TYPE, version: 1, id: organisation.id, secretKey: bytesToHex(organisation.keyPair.secretKey), revoked });
}

/** The node IDs (hex) an organisation file lists as revoked. */
export async function loadRevokedList(path: string): Promise<string[]> {
  const body = await readJson(path, ORGANISATION_FILE_TYPE);
  const revoked = body.revoked ?? [];
  if (!Array.isArray(revoked) || revoked.some((id) => typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id))) {
    throw new MccError('ERR_IDENTITY', `${path}: revoked is not a list of node IDs`, { details: { path } });
  }
  return revoked as string[];
}

/** Reads an organisation file. @throws MccError `ERR_IDENTITY` when it is missing, malformed or inconsistent. */
export async function loadOrganisation(path: string, suite: CryptoSuite = nodeCryptoSuite): Promise<Organisation> {
  const body = await readJson(path, ORGANISATION_FILE_TYPE);
  const organisation = createOrganisation({ secretKey: hex(body.secretKey, 32, 'secretKey', path), suite });
  if (body.id !== organisation.id) throw new MccError('ERR_IDENTITY', `${path}: id does not match secretKey`, { details: { path } });
  return organisation;
}

/** Writes a credential to `path`, mode 0600. */
export async function saveCredential(path: string, credential: Credential): Promise<void> {
  await writePrivate(path, {
    type: CREDENTIAL_FILE_TYPE,
    version: 1,
    organisation: credential.organisation,
    certificate: bytesToHex(credential.certificate),
    readSecret: bytesToHex(credential.readSecret),
  });
}

/** Reads a credential file. @throws MccError `ERR_IDENTITY` when it is missing or malformed. */
export async function loadCredential(path: string): Promise<Credential> {
  const body = await readJson(path, CREDENTIAL_FILE_TYPE);
  const certificate = hex(body.certificate, undefined, 'certificate', path);
  if (decodeCertificate(certificate) === null) throw new MccError('ERR_IDENTITY', `${path}: certificate is malformed`, { details: { path } });
  try {
    parseOrganisationId(body.organisation as string);
  } catch {
    throw new MccError('ERR_IDENTITY', `${path}: organisation is not an organisation ID`, { details: { path } });
  }
  return { organisation: body.organisation as string, certificate, readSecret: hex(body.readSecret, 32, 'readSecret', path) };
}

/** Checks a credential given as an option. @throws MccError `ERR_INVALID_ARGUMENT` naming `argument`. */
export function checkCredential(credential: unknown, argument = 'consortium.credential'): Credential {
  const c = credential as Credential;
  if (c === null || typeof c !== 'object') throw invalidArgument(argument, 'expected { organisation, certificate, readSecret } or a file path');
  parseOrganisationId(c.organisation, `${argument}.organisation`);
  if (!(c.certificate instanceof Uint8Array) || decodeCertificate(c.certificate) === null)
    throw invalidArgument(`${argument}.certificate`, 'expected an encoded certificate');
  if (!(c.readSecret instanceof Uint8Array) || c.readSecret.length !== 32) throw invalidArgument(`${argument}.readSecret`, 'expected 32 bytes');
  return c;
}
