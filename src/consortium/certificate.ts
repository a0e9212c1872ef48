/**
 * Node certificates: an organisation vouches for a node key until an expiry. A fixed
 * binary layout (146 bytes plus roles) so that a certificate rides next to a tunnel
 * handshake in one datagram:
 *
 *   version (1) | node key (32) | organisation key (32) | notBefore ms (u64 BE) |
 *   expiresAt ms (u64 BE) | roles length (1) | roles (UTF-8, comma-separated) | signature (64)
 *
 * The signature covers "mcc/cert/v1\0" followed by every byte before it.
 */
import type { CryptoSuite } from '../crypto/types.js';
import { nodeCryptoSuite } from '../crypto/node-suite.js';
import { MccError, invalidArgument } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import type { Organisation, OrganisationRef } from './organisation.js';
import { parseOrganisationId } from './organisation.js';

const VERSION = 1;
const CONTEXT = new TextEncoder().encode('mcc/cert/v1\0');
const FIXED = 1 + 32 + 32 + 8 + 8 + 1;
const SIGNATURE = 64;
/** Longest roles field, bytes of UTF-8. */
export const MAX_ROLES_BYTES = 64;
/** Largest encoded certificate, bytes. */
export const MAX_CERTIFICATE_BYTES = FIXED + MAX_ROLES_BYTES + SIGNATURE;

/** A decoded node certificate. */
export interface Certificate {
  /** The certified node's ID (Ed25519 public key). */
  readonly nodeId: Uint8Array;
  /** The issuing organisation's signing key. */
  readonly orgKey: Uint8Array;
  /** Wall-clock ms since the epoch from which it is valid. */
  readonly notBefore: number;
  /** Wall-clock ms since the epoch at which it stops being valid. */
  readonly expiresAt: number;
  /** Free-form roles the organisation granted (not interpreted by mcc-mesh). */
  readonly roles: string[];
  /** The encoded certificate, as it travels. */
  readonly bytes: Uint8Array;
}

/** Why a certificate was refused. */
export type CertificateProblem = 'malformed' | 'signature' | 'untrusted' | 'not-yet-valid' | 'expired' | 'revoked' | 'wrong-node';

/** Options of {@link issueCertificate}. */
export interface IssueOptions {
  /** Valid from, ms since the epoch. Default: now. */
  notBefore?: number;
  /** Valid until, ms since the epoch. Default: 30 days after `notBefore`. */
  expiresAt?: number;
  /** Roles, at most 64 bytes once joined with commas. */
  roles?: string[];
  /** Crypto suite. Default: node:crypto. */
  suite?: CryptoSuite;
}

function writeU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, Math.floor(value / 0x1_0000_0000));
  view.setUint32(at + 4, value >>> 0);
}

function readU64(view: DataView, at: number): number {
  return view.getUint32(at) * 0x1_0000_0000 + view.getUint32(at + 4);
}

function signingBytes(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(CONTEXT.length + body.length);
  out.set(CONTEXT);
  out.set(body, CONTEXT.length);
  return out;
}

/**
 * Issues a certificate for `nodeId` (32-byte key or 64 hex characters), signed by `organisation`.
 * @throws MccError `ERR_INVALID_ARGUMENT` on a bad node ID, times or roles.
 */
export function issueCertificate(organisation: Organisation, nodeId: Uint8Array | string, options: IssueOptions = {}): Certificate {
  const suite = options.suite ?? nodeCryptoSuite;
  const node = typeof nodeId === 'string' && /^[0-9a-f]{64}$/i.test(nodeId) ? Uint8Array.from(Buffer.from(nodeId, 'hex')) : nodeId;
  if (!(node instanceof Uint8Array) || node.length !== 32) throw invalidArgument('nodeId', 'expected a 32-byte node ID or 64 hex characters');
  const notBefore = options.notBefore ?? Date.now();
  const expiresAt = options.expiresAt ?? notBefore + 30 * 24 * 3600_000;
  if (!Number.isSafeInteger(notBefore) || notBefore < 0) throw invalidArgument('notBefore', 'expected ms since the epoch');
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= notBefore) throw invalidArgument('expiresAt', 'expected ms since the epoch, after notBefore');
  const roles = options.roles ?? [];
  if (!Array.isArray(roles) || roles.some((r) => typeof r !== 'string' || r.length === 0 || r.includes(','))) {
    throw invalidArgument('roles', 'expected non-empty strings without commas');
  }
  const roleBytes = new TextEncoder().encode(roles.join(','));
  if (roleBytes.length > MAX_ROLES_BYTES) throw invalidArgument('roles', `must join to at most ${MAX_ROLES_BYTES} bytes`);
  const body = new Uint8Array(FIXED + roleBytes.length);
  const view = new DataView(body.buffer);
  body[0] = VERSION;
  body.set(node, 1);
  body.set(organisation.publicKey, 33);
  writeU64(view, 65, notBefore);
  writeU64(view, 73, expiresAt);
  body[81] = roleBytes.length;
  body.set(roleBytes, FIXED);
  const signature = suite.sign(signingBytes(body), organisation.keyPair.secretKey);
  const bytes = new Uint8Array(body.length + SIGNATURE);
  bytes.set(body);
  bytes.set(signature, body.length);
  return { nodeId: Uint8Array.from(node), orgKey: organisation.publicKey, notBefore, expiresAt, roles: [...roles], bytes };
}

/** Decodes a certificate without checking its signature; null when malformed (never throws). */
export function decodeCertificate(bytes: Uint8Array): Certificate | null {
  if (!(bytes instanceof Uint8Array) || bytes.length < FIXED + SIGNATURE || bytes.length > MAX_CERTIFICATE_BYTES) return null;
  if (bytes[0] !== VERSION) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rolesLength = bytes[81];
  if (bytes.length !== FIXED + rolesLength + SIGNATURE) return null;
  let roles: string[];
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(FIXED, FIXED + rolesLength));
    roles = text.length === 0 ? [] : text.split(',');
  } catch {
    return null;
  }
  return {
    nodeId: bytes.slice(1, 33),
    orgKey: bytes.slice(33, 65),
    notBefore: readU64(view, 65),
    expiresAt: readU64(view, 73),
    roles,
    bytes: Uint8Array.from(bytes),
  };
}

/** What {@link checkCertificate} needs besides the certificate. */
export interface CertificateCheck {
  /** Organisations whose certificates are accepted (IDs or parsed references). */
  trust: ReadonlyArray<string | OrganisationRef>;
  /** Wall-clock ms to check validity at. Default: now. */
  now?: number;
  /** The node that presented it (handshake-authenticated): the certificate must name it. */
  nodeId?: Uint8Array;
  /** True when the node is on its organisation's current revocation list. */
  isRevoked?: (orgKeyHex: string, nodeIdHex: string) => boolean;
  /** Crypto suite. Default: node:crypto. */
  suite?: CryptoSuite;
}

/** The outcome of {@link checkCertificate}: the certificate and its organisation, or why not. */
export type CertificateVerdict =
  | {
      /** Accepted. */
      ok: true;
      /** The decoded certificate. */
      certificate: Certificate;
      /** The trusted organisation that issued it. */
      organisation: OrganisationRef;
    }
  | {
      /** Refused. */
      ok: false;
      /** Why. */
      problem: CertificateProblem;
    };

/** Checks a certificate against trusted organisations, time, the presenter and revocations. Never throws. */
export function checkCertificate(bytes: Uint8Array | Certificate, check: CertificateCheck): CertificateVerdict {
  const certificate = bytes instanceof Uint8Array ? decodeCertificate(bytes) : decodeCertificate(bytes?.bytes);
  if (certificate === null) return { ok: false, problem: 'malformed' };
  const suite = check.suite ?? nodeCryptoSuite;
  const orgHex = bytesToHex(certificate.orgKey);
  let organisation: OrganisationRef | undefined;
  for (const entry of check.trust) {
    const ref = typeof entry === 'string' ? parseOrganisationId(entry, 'trust') : entry;
    if (ref.id.startsWith(orgHex)) organisation = ref;
  }
  if (organisation === undefined) return { ok: false, problem: 'untrusted' };
  const body = certificate.bytes.subarray(0, certificate.bytes.length - SIGNATURE);
  if (!suite.verify(certificate.bytes.subarray(body.length), signingBytes(body), certificate.orgKey)) return { ok: false, problem: 'signature' };
  const now = check.now ?? Date.now();
  if (now < certificate.notBefore) return { ok: false, problem: 'not-yet-valid' };
  if (now >= certificate.expiresAt) return { ok: false, problem: 'expired' };
  if (check.nodeId !== undefined && Buffer.compare(check.nodeId, certificate.nodeId) !== 0) return { ok: false, problem: 'wrong-node' };
  if (check.isRevoked?.(orgHex, bytesToHex(certificate.nodeId))) return { ok: false, problem: 'revoked' };
  return { ok: true, certificate, organisation };
}

/**
 * Verifies a certificate and returns it decoded.
 * @throws MccError `ERR_CRYPTO` with `details.problem` ({@link CertificateProblem}) when it is refused.
 */
export function verifyCertificate(bytes: Uint8Array | Certificate, check: CertificateCheck): Certificate {
  const verdict = checkCertificate(bytes, check);
  if (!verdict.ok) throw new MccError('ERR_CRYPTO', `certificate refused (${verdict.problem})`, { details: { problem: verdict.problem } });
  return verdict.certificate;
}
