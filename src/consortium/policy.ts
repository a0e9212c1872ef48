/**
 * Who may use a service: its visibility, normalised against the provider's own
 * organisation and the organisations it trusts, and the admission check the tunnel
 * handshake and every stream on an existing connection run.
 */
import { invalidArgument } from '../errors.js';
import { bytesToHex } from '../util/bytes.js';
import type { Certificate } from './certificate.js';
import type { OrganisationRef } from './organisation.js';
import { parseOrganisationId } from './organisation.js';

/**
 * Who may see and connect to a service: `'public'` (anyone, the default), `'org'` (members
 * of the provider's organisation) or a list of organisations (IDs) and nodes (node IDs,
 * hex) besides the provider's own organisation. Listed nodes must hold a valid certificate
 * from an organisation the provider trusts.
 */
export type Visibility =
  | 'public'
  | 'org'
  | {
      /** IDs of organisations whose members may use it (each must be trusted). */
      orgs?: string[];
      /** Node IDs (hex) that may use it. */
      nodes?: string[];
    };

/** A visibility resolved to keys. */
export interface ResolvedVisibility {
  /** True for a public service: no check, an ordinary record. */
  readonly public: boolean;
  /** Allowed organisations (the provider's own first), by signing key hex. */
  readonly orgs: ReadonlyMap<string, OrganisationRef>;
  /** Allowed node IDs, hex. */
  readonly nodes: ReadonlySet<string>;
}

/**
 * Resolves a visibility. Every listed organisation must be trusted (a provider cannot
 * admit certificates it cannot verify).
 * @throws MccError `ERR_INVALID_ARGUMENT` naming `visibility` on a malformed or untrusted entry.
 */
export function resolveVisibility(visibility: Visibility | undefined, own: OrganisationRef, trusted: ReadonlyMap<string, OrganisationRef>): ResolvedVisibility {
  if (visibility === undefined || visibility === 'public') return { public: true, orgs: new Map(), nodes: new Set() };
  const orgs = new Map<string, OrganisationRef>([[bytesToHex(own.publicKey), own]]);
  const nodes = new Set<string>();
  if (visibility === 'org') return { public: false, orgs, nodes };
  if (visibility === null || typeof visibility !== 'object') throw invalidArgument('visibility', "expected 'public', 'org' or { orgs, nodes }");
  for (const id of visibility.orgs ?? []) {
    const ref = parseOrganisationId(id, 'visibility.orgs');
    const key = bytesToHex(ref.publicKey);
    if (!trusted.has(key)) throw invalidArgument('visibility.orgs', `organisation ${key.slice(0, 16)}… is not in consortium.trust`);
    orgs.set(key, ref);
  }
  for (const id of visibility.nodes ?? []) {
    if (typeof id !== 'string' || !/^[0-9a-f]{64}$/i.test(id)) throw invalidArgument('visibility.nodes', 'expected node IDs (64 hex characters)');
    nodes.add(id.toLowerCase());
  }
  return { public: false, orgs, nodes };
}

/** True when a node holding the (already verified) `certificate` may use a service of this visibility. */
export function admits(visibility: ResolvedVisibility, certificate: Certificate | undefined): boolean {
  if (visibility.public) return true;
  if (certificate === undefined) return false;
  return visibility.orgs.has(bytesToHex(certificate.orgKey)) || visibility.nodes.has(bytesToHex(certificate.nodeId));
}
