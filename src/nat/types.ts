/**
 * The small seams of the NAT module. Everything in `src/nat` talks to the rest of
 * the node through these: a clock, an RPC layer (requests and handlers), one-way
 * sealed messages, and raw datagram sending. `RpcLayer` and `SessionLayer` satisfy
 * them structurally, so production wires the real layers and tests can too.
 */
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import type { CryptoSuite } from '../crypto/types.js';
import type { Transport } from '../transport/types.js';
import type { Envelope, EnvelopeBodyKind } from '../wire/codec.js';
import type { InboundMessage } from '../session/session.js';
import type { RequestHandler, RequestOptions } from '../session/rpc.js';

/** A remote node: its 32-byte ID and an address (real, or a relay circuit's virtual address). */
export interface NatPeer {
  id: Uint8Array;
  address: Address;
}

/**
 * How this node's NAT maps one local socket to public ports, as seen from several observers:
 * - `public`: no NAT, observers see our bound address;
 * - `consistent`: one public ip:port for every destination (endpoint-independent mapping);
 * - `random`: a different public port (or ip) per destination (symmetric NAT);
 * - `unknown`: fewer than two observers answered.
 */
export type NatMapping = 'unknown' | 'public' | 'consistent' | 'random';

/** Wire code of each {@link NatMapping} (field `HolepunchOffer.mapping`). */
export const NAT_MAPPING_CODES: Record<NatMapping, number> = { unknown: 0, public: 1, consistent: 2, random: 3 };

/** {@link NatMapping} of a wire code; unknown codes read as `unknown`. */
export function natMappingFromCode(code: number | undefined): NatMapping {
  return code === 1 ? 'public' : code === 2 ? 'consistent' : code === 3 ? 'random' : 'unknown';
}

/** Request/response over sealed sessions: the subset of `RpcLayer` the NAT module uses. */
export interface NatRpc {
  /** Sends a request and resolves with the authenticated answer. */
  request(to: NatPeer, body: Envelope, options?: RequestOptions): Promise<InboundMessage>;
  /** Registers the handler of inbound requests (and one-way messages) whose body is `kind`. */
  handle(kind: EnvelopeBodyKind, handler: RequestHandler): void;
}

/** Sends a sealed one-way message (rid 0, no answer expected): `SessionLayer.send`. */
export type NatSendOneWay = (to: NatPeer, body: Envelope) => void;

/** Sends a datagram as is (relay packets, hole-punch probes). */
export type NatSendRaw = (to: Address, data: Uint8Array) => void;

/** Opens an extra bound UDP socket on this host (hole punching from a random-mapping NAT). */
export type SocketFactory = () => Promise<Transport>;

/** Crypto the NAT module needs: random bytes and HMAC for probe authentication. */
export type NatCrypto = Pick<CryptoSuite, 'randomBytes' | 'hmacSha256'>;

/** A uniform random number in [0, 1); injectable so simulations are reproducible. */
export type RandomFn = () => number;

/** What every NAT component receives. */
export interface NatContext {
  clock: Clock;
  rpc: NatRpc;
  crypto: NatCrypto;
}
