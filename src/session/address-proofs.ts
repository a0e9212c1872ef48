/**
 * What a session layer knows per (peer, address) pair: whether the address proved that it
 * receives there (it answered a request of ours, or echoed a token we issued to it), which
 * tokens of ours verified, and which token the peer issued to us (echoed in our requests).
 * All three maps are bounded and forget a pair after 10-20 minutes without use.
 */
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { equalBytes } from '../util/bytes.js';
import { IdleLruMap, type IdleLruOptions } from '../util/idle-lru.js';
import type { TokenIssuer } from './tokens.js';

/** How long a proven address stays proven without a fresh token. */
const VALIDATION_LIFETIME_MS = 10 * 60_000;

/**
 * Key of per-(peer, address) state. Built per datagram, so without formatAddress (IPv6
 * brackets): the port never holds a ':', so the text after the last one always is the port.
 */
export function pairKey(peerHex: string, address: Address): string {
  return `${peerHex}@${address.host}:${address.port}`;
}

/** Per-(peer, address) proofs and tokens of one session layer. */
export class AddressProofs {
  /** Pairs that proved reachability, until when. */
  private readonly validated: IdleLruMap<string, number>;
  /** Tokens that verified, by pair, with the time they stop verifying (see {@link checkToken}). */
  private readonly verifiedTokens: IdleLruMap<string, { token: Uint8Array; until: number }>;
  /** Tokens peers issued to us, by pair. */
  private readonly heldTokens: IdleLruMap<string, Uint8Array>;

  constructor(
    private readonly clock: Clock,
    private readonly tokens: TokenIssuer,
    capacity: number,
    idle: Pick<IdleLruOptions<string, unknown>, 'idleMs' | 'now'>,
  ) {
    this.validated = new IdleLruMap(capacity, idle);
    this.verifiedTokens = new IdleLruMap(capacity, idle);
    this.heldTokens = new IdleLruMap(capacity, idle);
  }

  /** True while the pair `key` ({@link pairKey}) counts as proven. */
  isValidated(key: string): boolean {
    return (this.validated.peek(key) ?? 0) > this.clock.now();
  }

  /** Marks the pair `key` proven for the validation lifetime. */
  markValidated(key: string): void {
    this.validated.set(key, this.clock.now() + VALIDATION_LIFETIME_MS);
  }

  /** The token the peer of pair `key` issued to us, if any. */
  heldToken(key: string): Uint8Array | undefined {
    return this.heldTokens.get(key);
  }

  /** Keeps a copy of `token`: a decoded bytes field is a view into the whole plaintext, which it would keep alive. */
  holdToken(key: string, token: Uint8Array): void {
    this.heldTokens.set(key, token.slice());
  }

  forgetToken(key: string): void {
    this.heldTokens.delete(key);
  }

  /**
   * Verifies the token a request echoes. A peer echoes the same token on every request until
   * it gets a new one, so a token that verified is remembered per pair until it expires: the
   * HMAC runs once per token, not once per request.
   */
  checkToken(token: Uint8Array | null | undefined, from: Address, senderId: Uint8Array, key: string): boolean {
    if (!token || token.length === 0) return false;
    const now = this.clock.now();
    const known = this.verifiedTokens.peek(key);
    if (known !== undefined && now < known.until && equalBytes(known.token, token)) return true;
    const until = this.tokens.verifiedUntil(token, from, senderId);
    if (until <= now) return false;
    this.verifiedTokens.set(key, { token: token.slice(), until });
    return true;
  }
}
