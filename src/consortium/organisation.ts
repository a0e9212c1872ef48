/**
 * Organisations: an Ed25519 key pair that signs node certificates and revocation lists,
 * plus an X25519 "read key" derived from the same seed. The read key's secret half is the
 * group secret members hold (it opens restricted records addressed to the organisation);
 * its public half travels in the organisation ID, so anyone who trusts an organisation can
 * address restricted records to it without asking it for anything.
 */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { nodeCryptoSuite } from '../crypto/node-suite.js';
import { protectKeyPair } from '../crypto/identity.js';
import { invalidArgument } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';

const KEY_LENGTH = 32;
/** Hex characters of an organisation ID: the signing key then the read key. */
const ID_HEX_LENGTH = 128;
const READ_SALT = new TextEncoder().encode('mcc/org/read/v1');
const READ_INFO = new TextEncoder().encode('x25519');

/** What anyone who trusts an organisation knows of it: parsed from its ID. */
export interface OrganisationRef {
  /** The organisation ID: 128 hex characters, the signing key then the read key. */
  readonly id: string;
  /** Ed25519 public key: certificates and revocation lists are signed with it. */
  readonly publicKey: Uint8Array;
  /** X25519 public read key: restricted records for the organisation are keyed and sealed towards it. */
  readonly readPublicKey: Uint8Array;
}

/** An organisation with its secrets (keep the file `mcc org create` writes, mode 0600, offline). */
export interface Organisation extends OrganisationRef {
  /** The signing key pair (`secretKey` hidden from logs and JSON). */
  readonly keyPair: KeyPair;
  /** The X25519 read secret handed to every member with its certificate. */
  readonly readSecret: Uint8Array;
}

/** The X25519 read secret of an organisation seed (HKDF, so it reveals nothing of the signing key). */
export function deriveReadSecret(suite: CryptoSuite, seed: Uint8Array): Uint8Array {
  return suite.hkdf(seed, READ_SALT, READ_INFO, KEY_LENGTH);
}

/**
 * Creates an organisation: a fresh Ed25519 seed, or the one given (to rebuild it from a file).
 * @throws MccError `ERR_INVALID_ARGUMENT` when `secretKey` is not 32 bytes.
 */
export function createOrganisation(options: { secretKey?: Uint8Array; suite?: CryptoSuite } = {}): Organisation {
  const suite = options.suite ?? nodeCryptoSuite;
  const seed = options.secretKey ?? suite.randomBytes(KEY_LENGTH);
  if (!(seed instanceof Uint8Array) || seed.length !== KEY_LENGTH) throw invalidArgument('secretKey', 'must be a Uint8Array of 32 bytes');
  const keyPair = protectKeyPair(suite.ed25519PublicKey(seed), Uint8Array.from(seed));
  const readSecret = deriveReadSecret(suite, seed);
  const readPublicKey = suite.x25519PublicKey(readSecret);
  const id = bytesToHex(keyPair.publicKey) + bytesToHex(readPublicKey);
  const organisation = { id, publicKey: keyPair.publicKey, readPublicKey, keyPair } as Organisation;
  // The read secret stays out of enumeration, JSON and inspect, as key pairs' secrets do.
  Object.defineProperties(organisation, {
    readSecret: { value: readSecret, enumerable: false },
    toJSON: { value: () => ({ id }), enumerable: false },
    [Symbol.for('nodejs.util.inspect.custom')]: { value: () => `Organisation { id: '${id}' }`, enumerable: false },
  });
  return organisation;
}

/**
 * Parses an organisation ID (or passes an {@link OrganisationRef} through).
 * @throws MccError `ERR_INVALID_ARGUMENT` naming `argument` when it is not 128 hex characters.
 */
export function parseOrganisationId(id: string | OrganisationRef, argument = 'organisation'): OrganisationRef {
  if (typeof id === 'object' && id !== null && typeof id.id === 'string') return parseOrganisationId(id.id, argument);
  if (typeof id !== 'string' || id.length !== ID_HEX_LENGTH || !/^[0-9a-f]+$/i.test(id)) {
    throw invalidArgument(argument, `expected an organisation ID (${ID_HEX_LENGTH} hex characters)`);
  }
  const lower = id.toLowerCase();
  return { id: lower, publicKey: Uint8Array.from(Buffer.from(lower.slice(0, 64), 'hex')), readPublicKey: Uint8Array.from(Buffer.from(lower.slice(64), 'hex')) };
}
