/**
 * Consortium policies on the node's RPC: peers present their certificates to peers that
 * ask (CertificateRequest, Envelope body 900), and a node whose policy says so answers DHT
 * requests and relays only for members of organisations it trusts. A request from a peer
 * without a known valid certificate waits for one certificate exchange (1 s at most, shared
 * by concurrent requests from that peer); a peer that presented none is refused for a minute
 * before it is asked again. With limits per organisation (consortium-limits.ts) every guarded
 * request is classified: an unknown peer is asked for its certificate in the background (its
 * request is not held up: it counts as an outsider until the answer arrives) and a group's
 * `requestsPerSecond` budget is charged.
 */
import type { Consortium } from '../consortium/consortium.js';
import type { ConsortiumLimits, OrganisationQuotas } from './consortium-limits.js';
import type { RequestHandler, RpcLayer } from '../session/rpc.js';
import type { InboundMessage, SessionPeer } from '../session/session.js';
import type { Clock } from '../util/clock.js';
import { RemoteErrorCode } from '../wire/registry.js';
import type { EnvelopeBodyKind } from '../wire/generated/mcc.types.js';

/** What a consortium node serves to nodes that are not members of an organisation it trusts. */
export interface ConsortiumPolicy {
  /** `'members'`: answer FIND_NODE, FIND_VALUE, STORE, KAD pings and live-watch subscriptions only for members. Default `'any'`. */
  dht?: 'any' | 'members';
  /** `'members'`: take relay reservations and circuits only from members. Default `'any'`. */
  relay?: 'any' | 'members';
  /** Limits per organisation on records stored, relay circuits and request rate (docs/consortium.md). Default: none. */
  limits?: ConsortiumLimits;
}

/** Request bodies each policy guards. */
const DHT_KINDS: readonly EnvelopeBodyKind[] = ['findNode', 'findValue', 'store', 'kadPing', 'watchSubscribe'];
const RELAY_KINDS: readonly EnvelopeBodyKind[] = ['relayReserve', 'relayConnect'];
/** How long a peer that presented no valid certificate is refused without asking again, ms. */
const REFUSED_MS = 60_000;
/** Budget of one certificate exchange, ms. */
const EXCHANGE_TIMEOUT_MS = 1_000;
/** Peers remembered as refused (oldest forgotten first). */
const MAX_REFUSED = 4096;
/** Certificate exchanges under way at once; beyond it a new peer is treated as presenting none (a flood of fresh identities). */
const MAX_ASKING = 256;

/** Certificate exchange and the policy gate of one node. */
export class PolicyGate {
  /** Requests refused by the policy. */
  refused = 0;
  private readonly refusedAt = new Map<string, number>();
  private readonly asking = new Map<string, Promise<boolean>>();
  private quotas: OrganisationQuotas | undefined;

  constructor(
    private readonly state: Consortium,
    private readonly rpc: RpcLayer,
    private readonly clock: Clock,
  ) {
    rpc.handle('certificateRequest', (request) => {
      const presented = request.envelope.certificateRequest?.certificate;
      if (presented && presented.length > 0) this.state.learn(request.from.id, presented);
      return { certificateResponse: { certificate: this.state.certificate.bytes } };
    });
  }

  /** Wraps the handlers the policy guards (call once every module has registered its handlers). */
  install(policy: ConsortiumPolicy, quotas: OrganisationQuotas | undefined): void {
    this.quotas = quotas;
    for (const [kinds, membersOnly] of [
      [DHT_KINDS, policy.dht === 'members'],
      [RELAY_KINDS, policy.relay === 'members'],
    ] as const) {
      if (!membersOnly && quotas === undefined) continue;
      for (const kind of kinds) {
        const inner = this.rpc.handlerOf(kind);
        if (inner !== undefined) this.rpc.handle(kind, (request) => this.gate(request, inner, membersOnly));
      }
    }
  }

  private gate(request: InboundMessage, inner: RequestHandler, membersOnly: boolean): ReturnType<RequestHandler> {
    // Members already known cost nothing more than a map lookup and a certificate re-check.
    if (this.state.peerCertificate(request.fromHex) === undefined) {
      if (membersOnly) {
        return this.admitted(request.from, request.fromHex).then((ok) => {
          if (ok) return this.limited(request, inner);
          this.refused++;
          return { error: { code: RemoteErrorCode.Limit, message: 'members of trusted organisations only' } };
        });
      }
      // Classification only: learn the certificate for the next requests without holding this one up.
      void this.admitted(request.from, request.fromHex);
    }
    return this.limited(request, inner);
  }

  /** Charges the request to its organisation's request budget (when limits set one). */
  private limited(request: InboundMessage, inner: RequestHandler): ReturnType<RequestHandler> {
    if (this.quotas?.request(request.fromHex) === false)
      return { error: { code: RemoteErrorCode.Limit, message: "request limit of the sender's organisation" } };
    return inner(request);
  }

  private admitted(peer: SessionPeer, hex: string): Promise<boolean> {
    const at = this.refusedAt.get(hex);
    if (at !== undefined && this.clock.now() - at < REFUSED_MS) return Promise.resolve(false);
    let pending = this.asking.get(hex);
    if (pending === undefined) {
      if (this.asking.size >= MAX_ASKING) return Promise.resolve(false);
      pending = this.exchange(peer, hex).finally(() => this.asking.delete(hex));
      this.asking.set(hex, pending);
    }
    return pending;
  }

  private async exchange(peer: SessionPeer, hex: string): Promise<boolean> {
    try {
      const answer = await this.rpc.request(peer, { certificateRequest: { certificate: this.state.certificate.bytes } }, { timeoutMs: EXCHANGE_TIMEOUT_MS });
      const certificate = answer.envelope.certificateResponse?.certificate;
      if (certificate && certificate.length > 0 && this.state.learn(peer.id, certificate).ok) {
        this.refusedAt.delete(hex);
        return true;
      }
    } catch {
      // Silence (a node without consortium mode) counts as no certificate.
    }
    this.refusedAt.delete(hex);
    this.refusedAt.set(hex, this.clock.now());
    if (this.refusedAt.size > MAX_REFUSED) this.refusedAt.delete(this.refusedAt.keys().next().value as string);
    return false;
  }
}
