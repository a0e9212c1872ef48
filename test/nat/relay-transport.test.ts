/**
 * RelayTransport over a real UDP socket on loopback: what a circuit end puts on the wire and
 * what it accepts, with a plain UDP socket standing in for the relay.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RelayTransport } from '../../src/nat/relay-transport.js';
import { UdpTransport } from '../../src/transport/udp.js';
import type { Address } from '../../src/util/address.js';
import { PACKET_RELAYED, PACKET_TUNNEL } from '../../src/wire/constants.js';

interface Received {
  data: Uint8Array;
  from: Address;
}

/** Collects datagrams; `next(n)` resolves once n arrived in all (bounded by 2 s). */
function collector(): { seen: Received[]; handler: (data: Uint8Array, from: Address) => void; next: (count: number) => Promise<void> } {
  const seen: Received[] = [];
  let waiter: (() => void) | undefined;
  let wanted = 0;
  return {
    seen,
    handler: (data, from) => {
      seen.push({ data: new Uint8Array(data), from: { ...from } });
      if (seen.length >= wanted) waiter?.();
    },
    next: (count) =>
      new Promise<void>((resolve, reject) => {
        if (seen.length >= count) return resolve();
        wanted = count;
        const timer = setTimeout(() => reject(new Error(`only ${seen.length} of ${count} datagrams arrived`)), 2000);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
  };
}

function datagram(kind: number, length: number, fill: number): Uint8Array {
  const data = new Uint8Array(length).fill(fill);
  data[0] = kind;
  return data;
}

function relayed(idHex: string, inner: Uint8Array): Uint8Array {
  return new Uint8Array([PACKET_RELAYED, ...Buffer.from(idHex, 'hex'), ...inner]);
}

describe('RelayTransport on UDP', () => {
  test('circuit ends wrap (header and datagram joined by the socket) and unwrap by circuit ID; only the relay may speak for a circuit', async () => {
    const relaySocket = new UdpTransport({ host: '127.0.0.1' });
    const other = new UdpTransport({ host: '127.0.0.1' });
    const end = new RelayTransport(new UdpTransport({ host: '127.0.0.1' }));
    try {
      const relay = await relaySocket.bind();
      await other.bind();
      const endAddress = await end.bind();
      const atRelay = collector();
      relaySocket.onDatagram(atRelay.handler);
      const upwards = collector();
      end.onDatagram(upwards.handler);
      // Two circuits whose IDs share the low 32-bit word, and a third one.
      const a = end.addCircuit('00000001aaaaaaaa', relay);
      const b = end.addCircuit('00000002aaaaaaaa', relay);
      const c = end.addCircuit('0123456789abcdef', relay);

      // Sends: the wire carries 0x13 | ID | datagram, byte for byte.
      const sent = [datagram(PACKET_TUNNEL, 1191, 1), datagram(PACKET_TUNNEL, 40, 2), datagram(PACKET_TUNNEL, 300, 3), datagram(PACKET_TUNNEL, 40, 4)];
      end.send(a, sent[0]);
      end.send(b, sent[1]);
      end.send({ ...c }, sent[2]); // an equal address object, not the one addCircuit returned
      end.send(a, sent[3]);
      await atRelay.next(4);
      const ids = ['00000001aaaaaaaa', '00000002aaaaaaaa', '0123456789abcdef', '00000001aaaaaaaa'];
      atRelay.seen.forEach((seen, i) => {
        assert.deepEqual(seen.data, relayed(ids[i], sent[i]));
        assert.deepEqual(seen.from, endAddress);
      });
      assert.equal(end.counters.relayedOut, 4);
      // Too large for a circuit: dropped and counted, nothing sent.
      end.send(a, datagram(PACKET_TUNNEL, 1192, 5));
      assert.equal(end.counters.droppedOversized, 1);

      // Receives: unwrapped and delivered from the circuit's virtual address.
      relaySocket.send(endAddress, relayed('00000002aaaaaaaa', datagram(PACKET_TUNNEL, 100, 6)));
      relaySocket.send(endAddress, relayed('00000001aaaaaaaa', datagram(PACKET_TUNNEL, 1191, 7)));
      relaySocket.send(endAddress, relayed('0123456789abcdef', datagram(PACKET_TUNNEL, 20, 8)));
      await upwards.next(3);
      assert.deepEqual(
        upwards.seen.map((r) => r.from.host),
        [b.host, a.host, c.host],
      );
      assert.deepEqual(upwards.seen[0].data, datagram(PACKET_TUNNEL, 100, 6));
      assert.deepEqual(upwards.seen[1].data, datagram(PACKET_TUNNEL, 1191, 7));
      assert.equal(end.counters.relayedIn, 3);

      // Dropped and counted: from another source, nested, empty, unknown ID, too short.
      other.send(endAddress, relayed('00000001aaaaaaaa', datagram(PACKET_TUNNEL, 50, 9)));
      relaySocket.send(endAddress, relayed('00000001aaaaaaaa', relayed('00000001aaaaaaaa', datagram(PACKET_TUNNEL, 20, 10))));
      relaySocket.send(endAddress, relayed('00000001aaaaaaaa', new Uint8Array(0)));
      relaySocket.send(endAddress, relayed('00000003aaaaaaaa', datagram(PACKET_TUNNEL, 20, 11)));
      relaySocket.send(endAddress, new Uint8Array([PACKET_RELAYED, 1, 2, 3]));
      // A closed circuit: its datagrams are dropped, sends to it too; the others still work.
      end.removeCircuit('00000001aaaaaaaa');
      relaySocket.send(endAddress, relayed('00000001aaaaaaaa', datagram(PACKET_TUNNEL, 20, 12)));
      end.send(a, datagram(PACKET_TUNNEL, 20, 13));
      relaySocket.send(endAddress, relayed('00000002aaaaaaaa', datagram(PACKET_TUNNEL, 20, 14)));
      await upwards.next(4);
      assert.equal(upwards.seen.length, 4);
      assert.deepEqual(upwards.seen[3].data, datagram(PACKET_TUNNEL, 20, 14), 'only the datagram of the circuit still open came up');
      assert.equal(end.counters.droppedInbound, 6);
      assert.equal(end.counters.droppedNoCircuit, 1);
    } finally {
      await Promise.all([end.close(), relaySocket.close(), other.close()]);
    }
  });
});
