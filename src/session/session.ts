/**
 * The session layer: every datagram between two nodes is sealed with a key only
 * that pair can derive, replays are rejected, and answers to source addresses that
 * have not proven they receive at that address never exceed what they sent.
 *
 * Inbound:  transport -> size/kind checks -> header -> replay pre-check -> key
 *           (rate-limited per source for unknown peers) -> open -> replay accept
 *           -> decode -> address validation -> handler.
 * Outbound: encode -> pad first contact -> seal -> size guard -> transport.
 */
import { budgetSource, type Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import type { CryptoSuite, KeyPair } from '../crypto/types.js';
import type { Transport } from '../transport/types.js';
import type { Stats } from '../util/stats.js';
import { InternalErrors, isDecodeError } from '../util/internal-errors.js';
import { defaultLogger, type Logger } from '../util/logger.js';
import { LruMap } from '../util/lru.js';
import { IdleLruMap } from '../util/idle-lru.js';
import { RateLimiter } from '../util/rate-limiter.js';
import { MccError } from '../errors.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../wire/codec.js';
import {
  BOOT_ID_SIZE,
  MAX_DATAGRAM_SIZE,
  NODE_ID_SIZE,
  PACKET_SESSION,
  PROTOCOL_VERSION,
  SESSION_BOOT_OFFSET,
  SESSION_OVERHEAD,
  SESSION_SENDER_OFFSET,
} from '../wire/constants.js';
import { padRequest } from './padding.js';
import { openSessionDatagram, sealSessionDatagram, sessionCounter } from './packet.js';
import { PeerKeyCache } from './keys.js';
import { PeerReplayState } from './replay-window.js';
import { AddressProofs, pairKey } from './address-proofs.js';
import { TokenIssuer } from './tokens.js';
import { newBootId } from './boot-id.js';
import { IDENTIFY_REQUEST, IDENTIFY_RESPONSE } from './identify.js';
import { IdentifyProbes } from './identify-probes.js';
import { bytesToHex } from '../util/bytes.js';

/** A remote node: its ID (Ed25519 public key) and the address it speaks from. */
export interface SessionPeer {
  id: Uint8Array;
  address: Address;
}

/** An authenticated, decoded inbound message. */
export interface InboundMessage {
  envelope: Envelope;
  from: SessionPeer;
  /** Hex of `from.id`, computed once for the maps that key on it. */
  fromHex: string;
  /** Size of the datagram on the wire. */
  size: number;
  /** True when the source address has proven it receives at that address. */
  validated: boolean;
  /** True when the request carried a token we issued that still verifies. */
  tokenValid: boolean;
}

/** Handler of datagrams of another kind (tunnel, relay) that the session layer does not open. */
export type RawDatagramHandler = (data: Uint8Array, from: Address) => void;

/** Options of a {@link SessionLayer}. */
export interface SessionLayerOptions {
  identity: KeyPair;
  suite: CryptoSuite;
  transport: Transport;
  clock: Clock;
  stats: Stats;
  /** Peers whose keys and replay state are kept (LRU beyond). Default 10,000. */
  maxPeers?: number;
  /**
   * A peer's keys, tokens and replay window are dropped after it was idle this long (up to
   * twice it), and derived again on its next datagram; its boot ID and highest counter are
   * kept apart, so its old datagrams stay refused. Default 10 minutes.
   */
  peerIdleMs?: number;
  /** First-contact key agreements allowed per source IP (per port on loopback) per second. Default 50 (burst 100). */
  newPeersPerSecond?: number;
  /** Where exceptions caught on the receive path are reported (once per kind). Default: silent unless `MCC_LOG`. */
  logger?: Logger;
  /**
   * True for a source whose datagrams are dropped before the key lookup and AEAD open (it has
   * spent its request budget: `RequestBudget.shouldShed`). Default: none.
   */
  shed?: (from: Address) => boolean;
}

/** The layer that seals, opens and validates datagrams. One per node. */
export class SessionLayer {
  /** This boot's ID; folded into key derivation so nonces never repeat across restarts. */
  readonly bootId: Uint8Array;
  readonly idHex: string;
  private counter = 0;
  private readonly keys: PeerKeyCache;
  private readonly replay: IdleLruMap<string, PeerReplayState>;
  /** Sealed replay states of peers whose full state was dropped (idle or for room). */
  private readonly replayFloors: LruMap<string, PeerReplayState>;
  private readonly tokens: TokenIssuer;
  private readonly proofs: AddressProofs;
  private readonly newPeerLimiter: RateLimiter;
  /** Key agreements for unknown senders, all sources together. */
  private readonly globalKeyLimiter: RateLimiter;
  private readonly probes: IdentifyProbes;
  private readonly rawHandlers = new Map<number, RawDatagramHandler>();
  private handler: (message: InboundMessage) => void = () => {};
  private restartHandler: ((peerHex: string, from: Address) => void) | undefined;
  private readonly internalErrors: InternalErrors;

  constructor(private readonly options: SessionLayerOptions) {
    const maxPeers = options.maxPeers ?? 10_000;
    const logger = options.logger ?? defaultLogger('mcc session');
    this.internalErrors = new InternalErrors(options.stats, logger, 'the session receive path');
    this.bootId = newBootId(options.suite);
    this.idHex = bytesToHex(options.identity.publicKey);
    const idle = { idleMs: options.peerIdleMs ?? DEFAULT_PEER_IDLE_MS, now: () => options.clock.now() };
    this.keys = new PeerKeyCache(options.suite, options.identity, { capacity: maxPeers, ...idle });
    this.replayFloors = new LruMap(maxPeers);
    this.replay = new IdleLruMap(maxPeers, { ...idle, onDrop: (peerHex, state) => this.replayFloors.set(peerHex, state.seal()) });
    this.tokens = new TokenIssuer({ suite: options.suite, clock: options.clock });
    this.proofs = new AddressProofs(options.clock, this.tokens, maxPeers, idle);
    const rate = options.newPeersPerSecond ?? 50;
    this.newPeerLimiter = new RateLimiter(options.clock, { ratePerSecond: rate, burst: rate * 2 });
    this.probes = new IdentifyProbes({
      suite: options.suite,
      clock: options.clock,
      stats: options.stats,
      nodeId: options.identity.publicKey,
      transmit: (to, data) => this.transmit(to, data),
    });
    this.globalKeyLimiter = new RateLimiter(options.clock, { ratePerSecond: rate * 20, burst: rate * 40, maxKeys: 1 });
    options.transport.onDatagram((data, from) => this.receive(data, from));
    // Datagrams a relay transport hands to hole punches or the relay server never reach
    // receive(): their handlers' exceptions are counted and logged here all the same.
    const transportErrors = new InternalErrors(options.stats, logger, 'the relay transport receive path (hole punch, relay server)');
    options.transport.onInternalError?.((error) => transportErrors.record(error));
  }

  /**
   * Installs the handler told when a known peer starts a new boot (its first authenticated
   * datagram with a newer boot ID): it restarted, so state kept for its old boot elsewhere
   * (tunnel connections) is dead.
   */
  onPeerRestart(handler: (peerHex: string, from: Address) => void): void {
    this.restartHandler = handler;
  }

  /** Installs the handler of authenticated messages. */
  onMessage(handler: (message: InboundMessage) => void): void {
    this.handler = handler;
  }

  /** Routes datagrams whose first byte is `kind` (tunnel 0x12, relay 0x13) to `handler` unopened. */
  onRawDatagram(kind: number, handler: RawDatagramHandler): void {
    this.rawHandlers.set(kind, handler);
  }

  /** Sends a datagram of another kind as is (tunnel and relay packets are sealed by their own layer). */
  sendRaw(to: Address, data: Uint8Array): void {
    if (data.length > MAX_DATAGRAM_SIZE) {
      throw new MccError('ERR_DATAGRAM_TOO_LARGE', `datagram of ${data.length} bytes exceeds ${MAX_DATAGRAM_SIZE}`);
    }
    this.transmit(to, data);
  }

  /**
   * Seals and sends `envelope` to `to`. Requests to a peer we hold no token for are
   * padded to `FIRST_CONTACT_SIZE` (padding.ts) so that its cookie answer never amplifies, and
   * FIND requests to `FIRST_CONTACT_LARGE_ANSWER_SIZE` so that their full answer fits.
   * Returns the number of bytes sent.
   */
  send(to: SessionPeer, envelope: Envelope): number {
    const outgoing = withHeader(envelope);
    outgoing.version = PROTOCOL_VERSION;
    return this.sendOwned(to, outgoing);
  }

  /**
   * {@link SessionLayer.send} for an envelope the caller hands over: `version` and `token`
   * are written into it rather than into a copy (the RPC layer builds one per attempt).
   * @param toHex hex of `to.id`, when the caller has it already.
   */
  sendOwned(to: SessionPeer, outgoing: Envelope, toHex: string = bytesToHex(to.id)): number {
    const held = this.proofs.heldToken(pairKey(toHex, to.address));
    // Set only when missing: the RPC layer builds its envelopes with it (one object shape throughout).
    if (outgoing.version !== PROTOCOL_VERSION) outgoing.version = PROTOCOL_VERSION;
    if (!outgoing.response && held) outgoing.token = held;
    let bytes = encodeEnvelope(outgoing);
    // A held token may have expired by the time it arrives: pad so that the cookie answer
    // to a stale token still fits (a full first-contact size when we hold none).
    if (!outgoing.response) bytes = padRequest(bytes, outgoing, held !== undefined);
    const datagram = this.seal(to.id, bytes, toHex);
    this.transmit(to.address, datagram);
    return datagram.length;
  }

  /**
   * Answers `request`. When its source is not validated and the answer is larger
   * than the request, a small cookie goes out instead (anti-amplification); the
   * requester retries with the token and gets the full answer.
   */
  reply(request: InboundMessage, envelope: Envelope): void {
    const answer = withHeader(envelope);
    answer.version = PROTOCOL_VERSION;
    answer.rid = request.envelope.rid;
    answer.response = true;
    // A fresh token whenever the requester's own is missing or no longer verifies, so a peer
    // validated long ago never ends up holding only a dead token.
    if (!request.tokenValid) answer.newToken = this.tokens.issue(request.from.address, request.from.id);
    let datagram = this.seal(request.from.id, encodeEnvelope(answer), request.fromHex);
    if (!request.validated && datagram.length > request.size) {
      this.options.stats.amplificationLimited++;
      const cookie: Envelope = {
        version: PROTOCOL_VERSION,
        rid: request.envelope.rid,
        response: true,
        cookie: { token: answer.newToken ?? this.tokens.issue(request.from.address, request.from.id) },
      };
      datagram = this.seal(request.from.id, encodeEnvelope(cookie), request.fromHex);
      if (datagram.length > request.size) return;
    }
    this.transmit(request.from.address, datagram);
  }

  /** Records that `peer` answered a request we sent to its address: the address is proven. */
  markValidated(peer: SessionPeer, peerHex: string = bytesToHex(peer.id)): void {
    this.proofs.markValidated(pairKey(peerHex, peer.address));
  }

  /** Forgets the token held for `peer` (after a timeout: it may have expired), so the next request pads as a first contact. */
  forgetToken(peer: SessionPeer): void {
    this.proofs.forgetToken(pairKey(bytesToHex(peer.id), peer.address));
  }

  /** Stores a token a peer issued us (from a cookie or `new_token`). */
  holdToken(peer: SessionPeer, token: Uint8Array): void {
    this.proofs.holdToken(pairKey(bytesToHex(peer.id), peer.address), token);
  }

  /** Issues a token bound to `peer`'s address (Kademlia write tokens reuse this). */
  issueToken(peer: SessionPeer): Uint8Array {
    return this.tokens.issue(peer.address, peer.id);
  }

  /** Verifies a token this node issued to `peer`'s address. */
  verifyToken(peer: SessionPeer, token: Uint8Array): boolean {
    return this.tokens.verify(token, peer.address, peer.id);
  }

  /**
   * Asks `address` for its node ID (cleartext probe, see identify.ts). Resolves with
   * the claimed ID; callers must follow up with a sealed request before trusting it.
   */
  identify(address: Address, timeoutMs: number, signal?: AbortSignal): Promise<Uint8Array> {
    return this.probes.identify(address, timeoutMs, signal);
  }

  /** Rejects pending identify probes with ERR_STOPPED (on stop). */
  close(): void {
    this.probes.close();
  }

  private seal(peerId: Uint8Array, envelopeBytes: Uint8Array, peerHex: string): Uint8Array {
    const key = this.keys.sendKey(peerId, this.bootId, peerHex);
    const datagram = sealSessionDatagram({
      suite: this.options.suite,
      senderId: this.options.identity.publicKey,
      bootId: this.bootId,
      counter: this.counter++,
      key,
      envelopeBytes,
    });
    return datagram;
  }

  private transmit(to: Address, data: Uint8Array): void {
    const stats = this.options.stats;
    stats.datagramsOut++;
    stats.bytesOut += data.length;
    this.options.transport.send(to, data);
  }

  private receive(data: Uint8Array, from: Address): void {
    const stats = this.options.stats;
    stats.datagramsIn++;
    stats.bytesIn += data.length;
    if (data.length > MAX_DATAGRAM_SIZE) return stats.drop('oversized');
    if (data.length === 0) return stats.drop('malformed');
    const kind = data[0];
    try {
      if (kind === PACKET_SESSION) this.receiveSealed(data, from);
      else if (kind === IDENTIFY_REQUEST) this.probes.receiveRequest(data, from);
      else if (kind === IDENTIFY_RESPONSE) this.probes.receiveResponse(data);
      else {
        const raw = this.rawHandlers.get(kind);
        if (raw) raw(data, from);
        else stats.drop('malformed');
      }
    } catch (error) {
      // The receive path never throws: hostile input or a bug costs one datagram. Decoders
      // report bad input by returning null or throwing ERR_DECODE (malformed); anything
      // else thrown from here down is a bug of ours, counted and logged apart.
      if (isDecodeError(error)) stats.drop('malformed');
      else this.internalErrors.record(error);
    }
  }

  private receiveSealed(data: Uint8Array, from: Address): void {
    const stats = this.options.stats;
    if (data.length < SESSION_OVERHEAD) return stats.drop('malformed');
    // Plain views and a number counter, no header object (parseSessionHeader): this runs per datagram.
    const senderId = new Uint8Array(data.buffer, data.byteOffset + SESSION_SENDER_OFFSET, NODE_ID_SIZE);
    const bootId = new Uint8Array(data.buffer, data.byteOffset + SESSION_BOOT_OFFSET, BOOT_ID_SIZE);
    const counter = sessionCounter(data);
    const cached = this.keys.cachedReceive(senderId, bootId);
    const senderHex = cached?.peerHex ?? bytesToHex(senderId);
    if (senderHex === this.idHex) return stats.drop('self');
    if (this.options.shed?.(from)) {
      stats.rateLimited.requestAddress++;
      return stats.drop('rate-limited');
    }
    let replay = this.replay.get(senderHex);
    const sealed = replay === undefined ? this.replayFloors.peek(senderHex) : undefined;
    if (sealed !== undefined) replay = sealed;
    if (replay && !replay.check(bootId, counter)) return stats.drop('replayed');
    // Deriving a key for an unknown sender costs an X25519: budget it per source IP and in
    // total (spoofed sources defeat a per-IP budget alone); per port on loopback (budgetSource).
    let key = cached?.key;
    const known = key !== undefined;
    if (key === undefined) {
      if (!this.newPeerLimiter.take(budgetSource(from)) || !this.globalKeyLimiter.take(ANY_SOURCE)) {
        stats.rateLimited.keyAgreement++;
        return stats.drop('rate-limited');
      }
      try {
        key = this.keys.receiveKey(senderId, bootId);
      } catch (error) {
        // An invalid public key (not canonical, neutral, low order) is ERR_CRYPTO; anything else is a bug.
        if (error instanceof MccError && error.code === 'ERR_CRYPTO') return stats.drop('unauthenticated');
        throw error;
      }
    }
    const plaintext = openSessionDatagram(this.options.suite, key, data);
    if (!plaintext) return stats.drop('unauthenticated');
    if (!known) this.keys.rememberReceiveKey(senderId, bootId, key, senderHex);
    if (!replay || sealed !== undefined) {
      replay ??= new PeerReplayState();
      if (sealed !== undefined) this.replayFloors.delete(senderHex);
      this.replay.set(senderHex, replay);
    }
    const previousBoot = replay.bootId;
    if (!replay.accept(bootId, counter)) return stats.drop('replayed');
    // accept() replaces the boot ID object only for a newer boot: a cheap test on the hot path.
    if (previousBoot !== null && replay.bootId !== previousBoot) this.restartHandler?.(senderHex, from);
    let envelope: Envelope;
    try {
      envelope = decodeEnvelope(plaintext);
    } catch (error) {
      if (isDecodeError(error)) return stats.drop('undecodable'); // decodeEnvelope throws ERR_DECODE only
      throw error;
    }
    if (envelope.version !== PROTOCOL_VERSION) return stats.drop('undecodable');
    const peer: SessionPeer = { id: senderId, address: from };
    const pair = pairKey(senderHex, from);
    let validated = this.proofs.isValidated(pair);
    const tokenValid = this.proofs.checkToken(envelope.token, from, senderId, pair);
    if (tokenValid && !validated) {
      validated = true;
      this.proofs.markValidated(pair);
    }
    if (envelope.newToken && envelope.newToken.length > 0) this.proofs.holdToken(pair, envelope.newToken);
    if (envelope.cookie?.token && envelope.cookie.token.length > 0) this.proofs.holdToken(pair, envelope.cookie.token);
    this.handler({ envelope, from: peer, fromHex: senderHex, size: data.length, validated, tokenValid });
  }
}

/**
 * A copy of `body` on an object whose header fields come first, for the caller to overwrite.
 * Not `{ ...body, rid, ... }`: on Node 20 an object spread followed by more properties measured
 * ~4 µs per envelope (a fresh hidden class each time) and made the protobuf encode of the result
 * ~10x slower; assigning onto a literal of fixed shape costs ~30 ns.
 */
export function withHeader(body: Envelope): Envelope {
  return Object.assign({ version: PROTOCOL_VERSION, rid: 0, response: false, token: undefined as Uint8Array | undefined }, body);
}

/** Rate-limiter key of the all-sources budget. */
const ANY_SOURCE = '*';

/** Default of {@link SessionLayerOptions.peerIdleMs}. */
const DEFAULT_PEER_IDLE_MS = 10 * 60_000;
