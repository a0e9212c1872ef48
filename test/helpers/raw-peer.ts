/**
 * A hand-driven peer for wire-level tests: a real UDP socket plus an identity that
 * seals datagrams exactly as the protocol says, so tests can send what a normal
 * node never would (unpadded first contact, replays, reordering, garbage).
 */
import { createSocket, type Socket } from 'node:dgram';
import { nodeCryptoSuite } from '../../src/crypto/index.js';
import { generateIdentity } from '../../src/crypto/identity.js';
import type { KeyPair } from '../../src/crypto/types.js';
import { PeerKeyCache } from '../../src/session/keys.js';
import { newBootId } from '../../src/session/boot-id.js';
import { openSessionDatagram, parseSessionHeader, sealSessionDatagram } from '../../src/session/packet.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../src/wire/codec.js';
import type { Address } from '../../src/util/address.js';

export interface Received {
  data: Uint8Array;
  envelope: Envelope | undefined;
}

export class RawPeer {
  readonly identity: KeyPair = generateIdentity();
  readonly bootId = newBootId(nodeCryptoSuite);
  readonly received: Received[] = [];
  private readonly keys = new PeerKeyCache(nodeCryptoSuite, this.identity);
  private counter = 0;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('message', (data) => {
      const bytes = new Uint8Array(data);
      let envelope: Envelope | undefined;
      const header = parseSessionHeader(bytes);
      if (header) {
        const key = this.keys.receiveKey(header.senderId, header.bootId);
        const plain = openSessionDatagram(nodeCryptoSuite, key, bytes);
        if (plain) envelope = decodeEnvelope(plain);
      }
      this.received.push({ data: bytes, envelope });
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(): Promise<RawPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new RawPeer(socket);
  }

  get address(): Address {
    return { host: '127.0.0.1', port: this.socket.address().port };
  }

  /** Seals `envelope` for `peerId` with the next counter (or the given one). */
  seal(peerId: Uint8Array, envelope: Envelope, counter = this.counter++): Uint8Array {
    return this.sealBytes(peerId, encodeEnvelope({ version: 1, ...envelope }), counter);
  }

  /** Seals arbitrary plaintext bytes (authentic datagram, possibly undecodable content). */
  sealBytes(peerId: Uint8Array, envelopeBytes: Uint8Array, counter = this.counter++): Uint8Array {
    return sealSessionDatagram({
      suite: nodeCryptoSuite,
      senderId: this.identity.publicKey,
      bootId: this.bootId,
      counter,
      key: this.keys.sendKey(peerId, this.bootId),
      envelopeBytes,
    });
  }

  send(to: Address, data: Uint8Array): void {
    this.socket.send(data, to.port, to.host);
  }

  /** Waits until `count` datagrams arrived in total, or `ms` passed. */
  async waitFor(count: number, ms = 2000): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.received.length < count && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Lets in-flight datagrams land (for asserting that nothing came). */
  settle(ms = 150): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  close(): void {
    this.socket.close();
  }
}
