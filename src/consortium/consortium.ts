/**
 * The consortium state one node holds: its credential, the organisations it trusts, their
 * current revocation lists, the certificates peers presented, and the derivations that
 * turn a service name into restricted record channels. Pure state and crypto, no IO: the
 * node glue (src/node/consortium.ts) fetches revocation lists and runs the handshake.
 */
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import { MccError, invalidArgument } from '../errors.js';
import { encodeServiceName } from '../discovery/service-name.js';
import type { SignedRecord } from '../kademlia/types.js';
import { bytesToHex } from '../util/bytes.js';
import { checkCertificate, decodeCertificate, type Certificate, type CertificateVerdict } from './certificate.js';
import { checkCredential, type Credential } from './credential.js';
import { parseOrganisationId, type OrganisationRef } from './organisation.js';
import { admits, resolveVisibility, type ResolvedVisibility, type Visibility } from './policy.js';
import type { RevocationList } from './revocation.js';
import { openRestrictedValue, restrictedChannel, sealRestrictedValue } from './restricted-record.js';

/** Peers whose certificates are remembered (least recently presented dropped first). */
export const MAX_PEER_CERTIFICATES = 4096;

/** One DHT copy of a restricted registration: its key and how its value is sealed. */
export interface RestrictedCopy {
  /** DHT key of the copy. */
  key: Uint8Array;
  /** Seals the provider value for this copy's readers (the signing author is this node). */
  seal(plain: Uint8Array): Uint8Array;
}

/** One DHT key a member reads restricted records from, and how it opens them. */
export interface RestrictedRead {
  /** DHT key to look up. */
  key: Uint8Array;
  /** The provider value inside a record found there, or null. */
  open(record: SignedRecord): Uint8Array | null;
}

/** Construction options of {@link Consortium}. */
export interface ConsortiumStateOptions {
  suite: CryptoSuite;
  /** This node's identity (its certificate must name it). */
  identity: KeyPair;
  credential: Credential;
  /** Other organisations trusted (IDs); the node's own is always trusted. */
  trust: ReadonlyArray<string>;
  /** Wall clock, ms since the epoch. */
  wallClock: () => number;
}

/** Consortium state of one node. */
export class Consortium {
  /** The node's own organisation. */
  readonly organisation: OrganisationRef;
  /** The node's own certificate. */
  readonly certificate: Certificate;
  /** Trusted organisations by signing-key hex (own included). */
  readonly trusted = new Map<string, OrganisationRef>();
  private readonly revocations = new Map<string, RevocationList>();
  private readonly peers = new Map<string, Certificate>();
  private readonly suite: CryptoSuite;
  private readonly readSecret: Uint8Array;
  private readonly nodeXSecret: Uint8Array;
  private readonly wallClock: () => number;
  private readonly checkFor = (nodeId?: Uint8Array) => ({
    trust: [...this.trusted.values()],
    now: this.wallClock(),
    suite: this.suite,
    isRevoked: (org: string, node: string) => this.revocations.get(org)?.revoked.has(node) === true,
    ...(nodeId ? { nodeId } : {}),
  });

  /** @throws MccError `ERR_INVALID_ARGUMENT` when the credential is malformed, not for this node, or a trust entry is not an organisation ID. */
  constructor(options: ConsortiumStateOptions) {
    const credential = checkCredential(options.credential);
    this.suite = options.suite;
    this.wallClock = options.wallClock;
    this.organisation = parseOrganisationId(credential.organisation, 'consortium.credential.organisation');
    if (!Array.isArray(options.trust)) throw invalidArgument('consortium.trust', 'expected an array of organisation IDs');
    this.trusted.set(bytesToHex(this.organisation.publicKey), this.organisation);
    for (const id of options.trust as ReadonlyArray<string>) {
      const ref = parseOrganisationId(id, 'consortium.trust');
      this.trusted.set(bytesToHex(ref.publicKey), ref);
    }
    if (Buffer.compare(this.suite.x25519PublicKey(credential.readSecret), this.organisation.readPublicKey) !== 0) {
      throw invalidArgument('consortium.credential.readSecret', "is not the organisation's read secret");
    }
    this.readSecret = credential.readSecret;
    this.nodeXSecret = this.suite.edSecretToX25519(options.identity.secretKey);
    // Expiry is not checked here (checked at its own notBefore): a node may start before renewing, and peers refuse it until it does.
    const decoded = decodeCertificate(credential.certificate);
    const verdict = decoded === null ? undefined : checkCertificate(decoded, { ...this.checkFor(options.identity.publicKey), now: decoded.notBefore });
    if (verdict === undefined || !verdict.ok) throw invalidArgument('consortium.credential.certificate', `refused (${verdict?.problem ?? 'malformed'})`);
    const own = verdict.certificate;
    if (Buffer.compare(own.orgKey, this.organisation.publicKey) !== 0) {
      throw invalidArgument('consortium.credential.certificate', "is not issued by the credential's organisation");
    }
    this.certificate = own;
  }

  /** Checks a certificate `peer` presented (empty bytes: none) and remembers it when valid. */
  learn(peer: Uint8Array, bytes: Uint8Array): CertificateVerdict {
    if (bytes.length === 0) return { ok: false, problem: 'malformed' };
    const verdict = checkCertificate(bytes, this.checkFor(peer));
    if (verdict.ok) {
      const hex = bytesToHex(peer);
      this.peers.delete(hex);
      this.peers.set(hex, verdict.certificate);
      if (this.peers.size > MAX_PEER_CERTIFICATES) this.peers.delete(this.peers.keys().next().value as string);
    }
    return verdict;
  }

  /** The valid certificate `peerHex` presented, re-checked now (expiry, revocation); undefined when none. */
  peerCertificate(peerHex: string): Certificate | undefined {
    const certificate = this.peers.get(peerHex);
    if (certificate === undefined) return undefined;
    const verdict = checkCertificate(certificate, this.checkFor(certificate.nodeId));
    if (verdict.ok) return certificate;
    this.peers.delete(peerHex);
    return undefined;
  }

  /** True when `peerHex` may use a service of `visibility`. */
  admits(peerHex: string, visibility: ResolvedVisibility): boolean {
    return visibility.public || admits(visibility, this.peerCertificate(peerHex));
  }

  /** Resolves a service's visibility against this node's organisation and trust list. */
  resolve(visibility: Visibility | undefined): ResolvedVisibility {
    return resolveVisibility(visibility, this.organisation, this.trusted);
  }

  /** Installs a verified revocation list when it is newer than the one held; true when it changed. */
  applyRevocations(list: RevocationList): boolean {
    const hex = bytesToHex(list.orgKey);
    if (!this.trusted.has(hex)) return false;
    const held = this.revocations.get(hex);
    if (held !== undefined && held.seq >= list.seq) return false;
    this.revocations.set(hex, list);
    return true;
  }

  /** The revocation list held for an organisation (signing-key hex). */
  revocationsOf(orgHex: string): RevocationList | undefined {
    return this.revocations.get(orgHex);
  }

  /** Node IDs (hex) of remembered peers whose certificates no longer pass (revoked or expired). */
  refusedPeers(): string[] {
    return [...this.peers.keys()].filter((hex) => this.peerCertificate(hex) === undefined);
  }

  /** The DHT copies a restricted registration of `name` publishes: one per allowed organisation and node. */
  restrictedCopies(name: string, visibility: ResolvedVisibility): RestrictedCopy[] {
    if (visibility.public) throw new MccError('ERR_INVALID_ARGUMENT', 'a public service has no restricted copies');
    const nameBytes = encodeServiceName(name);
    const author = this.certificate.nodeId;
    const peers: Uint8Array[] = [...visibility.orgs.values()].map((org) => org.readPublicKey);
    for (const node of visibility.nodes) peers.push(this.suite.edPublicToX25519(Uint8Array.from(Buffer.from(node, 'hex'))));
    return peers.map((publicKey) => {
      const channel = restrictedChannel(this.suite, this.suite.x25519(this.readSecret, publicKey), nameBytes);
      return { key: channel.key, seal: (plain: Uint8Array) => sealRestrictedValue(this.suite, channel, author, plain) };
    });
  }

  /**
   * The keys this node reads restricted records of `name` from: for every trusted
   * organisation, the channel its providers share with this node's organisation, and the
   * one they share with this node alone.
   */
  restrictedReads(name: string): RestrictedRead[] {
    const nameBytes = encodeServiceName(name);
    const reads: RestrictedRead[] = [];
    for (const org of this.trusted.values()) {
      for (const secret of [this.readSecret, this.nodeXSecret]) {
        let shared: Uint8Array;
        try {
          shared = this.suite.x25519(secret, org.readPublicKey);
        } catch {
          continue;
        }
        const channel = restrictedChannel(this.suite, shared, nameBytes);
        reads.push({ key: channel.key, open: (record) => openRestrictedValue(this.suite, channel, record) });
      }
    }
    return reads;
  }
}
