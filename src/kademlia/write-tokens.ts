/**
 * STORE write tokens, as BitTorrent's DHT does: a FIND answer carries a token bound to
 * the requester's ID and source address, and a STORE must echo it. A spoofed source
 * never sees the token, so it cannot store. Secrets rotate; the previous one still
 * verifies so a token stays valid for one to two rotation periods.
 */
import type { CryptoSuite } from '../crypto/types.js';
import type { Clock } from '../util/clock.js';
import type { Contact } from './types.js';

const TOKEN_LENGTH = 16;
/** Most tokens remembered between rotations. */
const ISSUED_CACHE_LIMIT = 4096;
const encoder = new TextEncoder();

/** Issues and checks write tokens. */
export class WriteTokens {
  private current: Uint8Array;
  private previous: Uint8Array;
  private rotatedAt: number;

  constructor(
    private readonly suite: CryptoSuite,
    private readonly clock: Clock,
    private readonly rotateMs = 5 * 60_000,
  ) {
    this.current = suite.randomBytes(32);
    this.previous = suite.randomBytes(32);
    this.rotatedAt = clock.now();
  }

  /**
   * Tokens issued under the current secret, by requester and address: every FIND answer
   * carries one, and the same peers ask again and again, so each costs one HMAC per
   * rotation. Cleared on rotation, and when full (a bound, not an LRU: a hit is one lookup).
   */
  private readonly issued = new Map<string, Uint8Array>();

  /** Token for `requester` at its current source address. */
  issue(requester: Contact): Uint8Array {
    this.maybeRotate();
    const key = `${Buffer.from(requester.id.buffer, requester.id.byteOffset, requester.id.byteLength).toString('latin1')}${requester.address.host}:${requester.address.port}`;
    let token = this.issued.get(key);
    if (token === undefined) {
      token = this.compute(this.current, requester);
      if (this.issued.size >= ISSUED_CACHE_LIMIT) this.issued.clear();
      this.issued.set(key, token);
    }
    return token;
  }

  /** True when `token` was issued to this requester and address within the last one or two periods. */
  verify(requester: Contact, token: unknown): boolean {
    if (!(token instanceof Uint8Array) || token.length !== TOKEN_LENGTH) return false;
    this.maybeRotate();
    return equal(token, this.compute(this.current, requester)) || equal(token, this.compute(this.previous, requester));
  }

  private maybeRotate(): void {
    const now = this.clock.now();
    if (now - this.rotatedAt < this.rotateMs) return;
    // After a long idle gap both secrets are stale: rotate twice.
    this.issued.clear();
    this.previous = now - this.rotatedAt >= 2 * this.rotateMs ? this.suite.randomBytes(32) : this.current;
    this.current = this.suite.randomBytes(32);
    this.rotatedAt = now;
  }

  private compute(secret: Uint8Array, requester: Contact): Uint8Array {
    // id || port (2 bytes) || host (UTF-8): unambiguous, since the id is fixed-length and the host last.
    const host = requester.address.host;
    const input = new Uint8Array(requester.id.length + 2 + host.length * 3);
    input.set(requester.id, 0);
    let offset = requester.id.length;
    input[offset++] = requester.address.port >>> 8;
    input[offset++] = requester.address.port & 0xff;
    offset += encoder.encodeInto(host, input.subarray(offset)).written;
    return this.suite.hmacSha256(secret, input.subarray(0, offset)).subarray(0, TOKEN_LENGTH);
  }
}

/** Constant-time-enough comparison (tokens are not long-lived secrets, but avoid early exit anyway). */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
