/**
 * Address-validation tokens (QUIC Retry / DTLS cookie style): proof that a peer receives
 * datagrams at the address it claims, without per-peer state on the issuer. Used for
 * anti-amplification and as Kademlia write tokens.
 *
 *   token = epochTag (1) || HMAC-SHA256(secret, epoch (4, BE) || ip || port (2, BE) || peerId)[0..15)
 *
 * `secret` is random per boot, so tokens die with the process. `epoch` counts `rotateMs`
 * periods of the injected clock; a token verifies during the epoch it was issued in and
 * the next one, so its lifetime is between `rotateMs` and `2 * rotateMs`.
 */
import { invalidArgument } from '../errors.js';
import type { CryptoSuite } from '../crypto/types.js';
import type { Address } from '../util/address.js';
import type { Clock } from '../util/clock.js';
import { NODE_ID_SIZE, TOKEN_SIZE } from '../wire/constants.js';
import { ipToBytes } from '../wire/address.js';

/** Options of a {@link TokenIssuer}. */
export interface TokenIssuerOptions {
  suite: CryptoSuite;
  /** Time source (monotonic milliseconds). */
  clock: Clock;
  /** Epoch length in milliseconds. Default 60,000. */
  rotateMs?: number;
  /** HMAC secret; random per issuer by default. Fixed only for test vectors. */
  secret?: Uint8Array;
}

/** Host bytes: 4/16 raw bytes for IP literals; for the simulated network's labels, 0xff || UTF-8 so they never collide with an IP. */
function hostBytes(host: string): Uint8Array {
  const ip = ipToBytes(host);
  if (ip) return ip;
  const label = new TextEncoder().encode(host);
  const out = new Uint8Array(label.length + 1);
  out[0] = 0xff;
  out.set(label, 1);
  return out;
}

function isPort(port: unknown): port is number {
  return Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535;
}

/** Issues and verifies stateless address-validation tokens. One per node boot. */
export class TokenIssuer {
  private readonly suite: CryptoSuite;
  private readonly clock: Clock;
  private readonly rotateMs: number;
  private readonly secret: Uint8Array;

  constructor(options: TokenIssuerOptions) {
    const rotateMs = options.rotateMs ?? 60_000;
    if (!Number.isFinite(rotateMs) || rotateMs <= 0) throw invalidArgument('rotateMs', 'expected a positive number of milliseconds');
    if (options.secret !== undefined && options.secret.length < 16) throw invalidArgument('secret', 'expected at least 16 bytes');
    this.suite = options.suite;
    this.clock = options.clock;
    this.rotateMs = rotateMs;
    this.secret = options.secret ? Uint8Array.from(options.secret) : options.suite.randomBytes(32);
  }

  /**
   * A 16-byte token binding `address` and `peerId` to the current epoch.
   * @throws MccError `ERR_INVALID_ARGUMENT` for a port outside 0..65535 or a peer ID that is not 32 bytes.
   */
  issue(address: Address, peerId: Uint8Array): Uint8Array {
    if (!isPort(address?.port)) throw invalidArgument('address', 'expected { host, port: 0..65535 }');
    if (!(peerId instanceof Uint8Array) || peerId.length !== NODE_ID_SIZE) throw invalidArgument('peerId', `expected ${NODE_ID_SIZE} bytes`);
    const epoch = this.currentEpoch();
    const token = new Uint8Array(TOKEN_SIZE);
    token[0] = epoch & 0xff;
    token.set(this.mac(epoch, address, peerId).subarray(0, TOKEN_SIZE - 1), 1);
    return token;
  }

  /**
   * True when `token` was issued by this issuer for exactly this address and peer, in the
   * current or the previous epoch. False (never throws) for anything else, including
   * malformed tokens.
   */
  verify(token: Uint8Array, address: Address, peerId: Uint8Array): boolean {
    return this.verifiedUntil(token, address, peerId) > 0;
  }

  /**
   * Like {@link TokenIssuer.verify}, but returns the clock time until which the token keeps
   * verifying (the end of the epoch after its own), or 0 when it does not verify now. Lets
   * a caller remember a verified token and skip the HMAC while the same token comes back.
   */
  verifiedUntil(token: Uint8Array, address: Address, peerId: Uint8Array): number {
    if (!(token instanceof Uint8Array) || token.length !== TOKEN_SIZE) return 0;
    if (!address || typeof address.host !== 'string' || !isPort(address.port)) return 0;
    if (!(peerId instanceof Uint8Array) || peerId.length !== NODE_ID_SIZE) return 0;
    const current = this.currentEpoch();
    // The 1-byte tag selects which of the two live epochs to recompute (no trial of both).
    let epoch: number;
    if (token[0] === (current & 0xff)) epoch = current;
    else if (token[0] === ((current - 1) & 0xff)) epoch = current - 1;
    else return 0;
    const expected = this.mac(epoch, address, peerId);
    let diff = 0;
    for (let i = 1; i < TOKEN_SIZE; i++) diff |= token[i] ^ expected[i - 1];
    return diff === 0 ? (epoch + 2) * this.rotateMs : 0;
  }

  private currentEpoch(): number {
    return Math.floor(this.clock.now() / this.rotateMs);
  }

  private mac(epoch: number, address: Address, peerId: Uint8Array): Uint8Array {
    const host = hostBytes(address.host);
    const input = new Uint8Array(4 + host.length + 2 + peerId.length);
    const view = new DataView(input.buffer);
    view.setUint32(0, epoch >>> 0);
    input.set(host, 4);
    view.setUint16(4 + host.length, address.port);
    input.set(peerId, 6 + host.length);
    return this.suite.hmacSha256(this.secret, input);
  }
}
