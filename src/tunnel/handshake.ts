/**
 * The tunnel handshake: one round trip, Noise-IK shaped, on X25519 + HKDF-SHA-256 +
 * ChaCha20-Poly1305 from the injected {@link CryptoSuite}.
 *
 *   init   (initiator -> responder): version, cid_i, e, enc(s), enc(payload)   tokens e, es, s, ss
 *   accept (responder -> initiator): version, cid_r, e, enc(payload)           tokens e, ee, se
 *
 * Static keys are the nodes' Ed25519 identities mapped to X25519. The traffic keys are
 * split from a chaining key that has absorbed `ee`, so stealing both static keys later
 * does not decrypt recorded traffic (forward secrecy); `es`/`ss`/`se` authenticate both
 * ends. The init payload is protected by the static keys only (as in Noise IK), so it
 * carries only what a discovery record reveals anyway (e.g. the service name).
 */

import type { CryptoSuite, KeyPair } from '../crypto/types.js';

/** Handshake format version, the first byte of both messages. */
export const HANDSHAKE_VERSION = 1;
/** Length of a connection ID. */
export const CID_LENGTH = 8;
/** Largest payload either handshake message carries. */
export const MAX_HANDSHAKE_PAYLOAD = 512;

const KEY = 32;
const TAG = 16;
const ZERO_NONCE = new Uint8Array(12);
const PROTOCOL = new TextEncoder().encode('mcc-tunnel/1 Noise_IK_25519_ChaChaPoly_SHA256');
const MIX_INFO = new TextEncoder().encode('mcc tunnel mix');
const SPLIT_INFO = new TextEncoder().encode('mcc tunnel split');

/** A node identity prepared for handshakes (the X25519 forms are derived once). */
export interface HandshakeIdentity {
  /** Ed25519 public key (the node ID). */
  readonly publicKey: Uint8Array;
  /** X25519 secret derived from the Ed25519 seed. */
  readonly xSecret: Uint8Array;
  /** X25519 public key matching `xSecret`. */
  readonly xPublic: Uint8Array;
}

/** Derives the X25519 static key pair of an Ed25519 identity. */
export function handshakeIdentity(suite: CryptoSuite, identity: KeyPair): HandshakeIdentity {
  const xSecret = suite.edSecretToX25519(identity.secretKey);
  return { publicKey: identity.publicKey, xSecret, xPublic: suite.x25519PublicKey(xSecret) };
}

/** What a completed handshake yields for one side. */
export interface TunnelKeys {
  /** True on the side that sent the init message. */
  readonly initiator: boolean;
  /** The peer's Ed25519 public key (node ID), authenticated by the handshake. */
  readonly peer: Uint8Array;
  /** Key sealing packets we send (generation 0). */
  readonly sendKey: Uint8Array;
  /** Key opening packets we receive (generation 0). */
  readonly receiveKey: Uint8Array;
  /** Connection ID the peer puts on packets to us. */
  readonly localCid: Uint8Array;
  /** Connection ID we put on packets to the peer. */
  readonly remoteCid: Uint8Array;
  /** Transcript hash; equal on both sides, unique per handshake (channel binding). */
  readonly handshakeHash: Uint8Array;
}

/** Noise symmetric state: transcript hash `h` and chaining key `ck`. */
class SymmetricState {
  h: Uint8Array;
  ck: Uint8Array;
  private k: Uint8Array | null = null;

  constructor(private readonly suite: CryptoSuite) {
    this.h = suite.sha256(PROTOCOL);
    this.ck = this.h;
  }

  mixHash(data: Uint8Array): void {
    const joined = new Uint8Array(this.h.length + data.length);
    joined.set(this.h);
    joined.set(data, this.h.length);
    this.h = this.suite.sha256(joined);
  }

  /** Folds a DH result into the chaining key; each derived `k` seals exactly one message part. */
  mixKey(dh: Uint8Array): void {
    const out = this.suite.hkdf(dh, this.ck, MIX_INFO, 2 * KEY);
    this.ck = out.subarray(0, KEY);
    this.k = out.subarray(KEY);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const sealed = this.suite.seal(this.k!, ZERO_NONCE, plaintext, this.h);
    this.mixHash(sealed);
    return sealed;
  }

  decryptAndHash(sealed: Uint8Array): Uint8Array | null {
    const plain = this.suite.open(this.k!, ZERO_NONCE, sealed, this.h);
    if (plain !== null) this.mixHash(sealed);
    return plain;
  }

  split(): [Uint8Array, Uint8Array] {
    const out = this.suite.hkdf(new Uint8Array(0), this.ck, SPLIT_INFO, 2 * KEY);
    return [out.slice(0, KEY), out.slice(KEY)];
  }
}

/** X25519 that reports a low-order peer point as null instead of throwing. */
function dh(suite: CryptoSuite, secret: Uint8Array, publicKey: Uint8Array): Uint8Array | null {
  try {
    return suite.x25519(secret, publicKey);
  } catch {
    return null;
  }
}

function prefix(cid: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + CID_LENGTH);
  out[0] = HANDSHAKE_VERSION;
  out.set(cid, 1);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The initiator's side: builds the init message, then turns the accept message into keys. */
export class HandshakeInitiator {
  /** The init message to carry to the responder (resend the same bytes on retry). */
  readonly message: Uint8Array;
  private readonly state: SymmetricState;
  private readonly eSecret: Uint8Array;
  private readonly ePublic: Uint8Array;
  private done = false;

  /**
   * @param responder - the responder's Ed25519 public key (node ID).
   * @param localCid - the 8-byte connection ID we want to receive packets on.
   * @param payload - up to {@link MAX_HANDSHAKE_PAYLOAD} bytes, sealed under the static keys.
   * @throws MccError ERR_CRYPTO when `responder` is not a valid Ed25519 point.
   */
  constructor(
    private readonly suite: CryptoSuite,
    private readonly identity: HandshakeIdentity,
    private readonly responder: Uint8Array,
    private readonly localCid: Uint8Array,
    payload: Uint8Array = new Uint8Array(0),
  ) {
    const rs = suite.edPublicToX25519(responder);
    this.state = new SymmetricState(suite);
    const s = this.state;
    s.mixHash(rs); // pre-message: the initiator already knows the responder's static key
    this.eSecret = suite.randomBytes(KEY);
    this.ePublic = suite.x25519PublicKey(this.eSecret);
    const head = prefix(localCid);
    s.mixHash(head);
    s.mixHash(this.ePublic);
    s.mixKey(suite.x25519(this.eSecret, rs)); // es
    const sealedStatic = s.encryptAndHash(identity.publicKey);
    s.mixKey(suite.x25519(identity.xSecret, rs)); // ss
    const sealedPayload = s.encryptAndHash(payload);
    this.message = concat([head, this.ePublic, sealedStatic, sealedPayload]);
  }

  /** Completes the handshake from the accept message; null when it does not authenticate. */
  finish(response: Uint8Array): { keys: TunnelKeys; payload: Uint8Array } | null {
    if (this.done || response.length < 1 + CID_LENGTH + KEY + TAG || response[0] !== HANDSHAKE_VERSION) return null;
    const s = new SymmetricState(this.suite);
    s.h = this.state.h;
    s.ck = this.state.ck;
    const remoteCid = response.slice(1, 1 + CID_LENGTH);
    const re = response.subarray(1 + CID_LENGTH, 1 + CID_LENGTH + KEY);
    s.mixHash(response.subarray(0, 1 + CID_LENGTH));
    s.mixHash(re);
    const ee = dh(this.suite, this.eSecret, re);
    const se = dh(this.suite, this.identity.xSecret, re);
    if (ee === null || se === null) return null;
    s.mixKey(ee);
    s.mixKey(se);
    const payload = s.decryptAndHash(response.subarray(1 + CID_LENGTH + KEY));
    if (payload === null) return null;
    this.done = true;
    this.eSecret.fill(0); // forward secrecy: the ephemeral secret must not outlive the handshake
    const [i2r, r2i] = s.split();
    const keys: TunnelKeys = {
      initiator: true,
      peer: this.responder,
      sendKey: i2r,
      receiveKey: r2i,
      localCid: this.localCid,
      remoteCid,
      handshakeHash: s.h,
    };
    return { keys, payload };
  }
}

/** A verified init message, waiting for the responder's decision. */
export interface HandshakeInit {
  /** The initiator's Ed25519 public key (node ID), authenticated by `ss`. */
  readonly peer: Uint8Array;
  /** The initiator's payload. */
  readonly payload: Uint8Array;
  /** The initiator's ephemeral public key: identifies retransmissions of the same init. */
  readonly ephemeral: Uint8Array;
  /** Builds the accept message and the keys; call at most once. */
  accept(localCid: Uint8Array, payload?: Uint8Array): { response: Uint8Array; keys: TunnelKeys };
}

/** Verifies an init message; null (never throws) when it is malformed or does not authenticate. */
export function readHandshakeInit(suite: CryptoSuite, identity: HandshakeIdentity, message: Uint8Array): HandshakeInit | null {
  const fixed = 1 + CID_LENGTH + KEY + (KEY + TAG) + TAG;
  if (!(message instanceof Uint8Array) || message.length < fixed || message.length > fixed + MAX_HANDSHAKE_PAYLOAD) return null;
  if (message[0] !== HANDSHAKE_VERSION) return null;
  const s = new SymmetricState(suite);
  s.mixHash(identity.xPublic);
  const remoteCid = message.slice(1, 1 + CID_LENGTH);
  const ie = message.slice(1 + CID_LENGTH, 1 + CID_LENGTH + KEY);
  s.mixHash(message.subarray(0, 1 + CID_LENGTH));
  s.mixHash(ie);
  const es = dh(suite, identity.xSecret, ie);
  if (es === null) return null;
  s.mixKey(es);
  let at = 1 + CID_LENGTH + KEY;
  const peer = s.decryptAndHash(message.subarray(at, at + KEY + TAG));
  if (peer === null) return null;
  at += KEY + TAG;
  let is: Uint8Array;
  try {
    is = suite.edPublicToX25519(peer);
  } catch {
    return null;
  }
  const ss = dh(suite, identity.xSecret, is);
  if (ss === null) return null;
  s.mixKey(ss);
  const payload = s.decryptAndHash(message.subarray(at));
  if (payload === null) return null;
  let used = false;
  return {
    peer,
    payload,
    ephemeral: ie,
    accept(localCid: Uint8Array, responsePayload: Uint8Array = new Uint8Array(0)) {
      if (used) throw new Error('HandshakeInit.accept called twice');
      used = true;
      const eSecret = suite.randomBytes(KEY);
      const ePublic = suite.x25519PublicKey(eSecret);
      const head = prefix(localCid);
      s.mixHash(head);
      s.mixHash(ePublic);
      s.mixKey(suite.x25519(eSecret, ie)); // ee
      s.mixKey(suite.x25519(eSecret, is)); // se
      const sealed = s.encryptAndHash(responsePayload);
      eSecret.fill(0);
      const [i2r, r2i] = s.split();
      const keys: TunnelKeys = { initiator: false, peer, sendKey: r2i, receiveKey: i2r, localCid, remoteCid, handshakeHash: s.h };
      return { response: concat([head, ePublic, sealed]), keys };
    },
  };
}
