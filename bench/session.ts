/**
 * Sealed sessions on loopback against raw UDP on the same loopback, in one run:
 * - ping-pong round trips per second (one outstanding, and 32 outstanding);
 * - one-way datagram throughput of 1200-byte datagrams (seal, send, receive, open, decode).
 * Run: node --import tsx bench/session.ts
 */
import { createSocket, type Socket } from 'node:dgram';
import { MccNode } from '../src/index.js';
import { median, printTable } from './util.js';

const ROUNDS = 5;
const ROUND_MS = 1000;

async function bindRaw(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(4 * 1024 * 1024);
  return socket;
}

/** Raw UDP echo round trips/s with `window` outstanding. */
async function rawPingPong(window: number): Promise<number> {
  const server = await bindRaw();
  const client = await bindRaw();
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
  const payload = Buffer.alloc(80);
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let done = 0;
    const end = performance.now() + ROUND_MS;
    await new Promise<void>((resolve) => {
      let inflight = 0;
      const fire = (): void => {
        while (inflight < window && performance.now() < end) {
          inflight++;
          client.send(payload, server.address().port, '127.0.0.1');
        }
        if (inflight === 0) resolve();
      };
      client.on('message', () => {
        inflight--;
        done++;
        fire();
      });
      fire();
    });
    client.removeAllListeners('message');
    rates.push(done / (ROUND_MS / 1000));
  }
  server.close();
  client.close();
  return median(rates);
}

/** Sealed ping-pong round trips/s through the RPC layer with `window` outstanding. */
async function sealedPingPong(a: MccNode, b: MccNode, window: number): Promise<number> {
  const peer = { id: b.id, address: b.address };
  await a.rpc.request(peer, { ping: {} }); // warm keys and tokens
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let done = 0;
    const end = performance.now() + ROUND_MS;
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        await a.rpc.request(peer, { ping: {} });
        done++;
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    rates.push(done / (ROUND_MS / 1000));
  }
  return median(rates);
}

/** Raw one-way throughput of 1200-byte datagrams, datagrams/s received. */
async function rawThroughput(): Promise<number> {
  const receiver = await bindRaw();
  const sender = await bindRaw();
  let received = 0;
  receiver.on('message', () => received++);
  const payload = Buffer.alloc(1200);
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = received;
    const end = performance.now() + ROUND_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) sender.send(payload, receiver.address().port, '127.0.0.1');
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    rates.push((received - start) / (ROUND_MS / 1000));
  }
  receiver.close();
  sender.close();
  return median(rates);
}

/** Sealed one-way throughput: 1200-byte datagrams opened and decoded by the receiver per second. */
async function sealedThroughput(a: MccNode, b: MccNode): Promise<number> {
  const peer = { id: b.id, address: b.address };
  // A one-way response nobody waits for: the receiver opens, authenticates and decodes it, then drops it as unexpected.
  const body = { rid: 0, response: true, pong: {}, padding: new Uint8Array(1200 - 65 - 12) };
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = b.stats().dropped.unexpected;
    const end = performance.now() + ROUND_MS;
    while (performance.now() < end) {
      for (let i = 0; i < 64; i++) a.session.send(peer, body);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    rates.push((b.stats().dropped.unexpected - start) / (ROUND_MS / 1000));
  }
  return median(rates);
}

const a = await MccNode.create({ host: '127.0.0.1' });
const b = await MccNode.create({ host: '127.0.0.1' });
await Promise.all([a.start(), b.start()]);

const rows: Array<[string, number, number]> = [];
rows.push(['ping-pong round trips/s, 1 outstanding', await sealedPingPong(a, b, 1), await rawPingPong(1)]);
rows.push(['ping-pong round trips/s, 32 outstanding', await sealedPingPong(a, b, 32), await rawPingPong(32)]);
rows.push(['1200-byte datagrams/s one way', await sealedThroughput(a, b), await rawThroughput()]);
await Promise.all([a.stop(), b.stop()]);

printTable(
  ['measure (median of 5 x 1 s)', 'sealed session', 'raw UDP', 'sealed/raw'],
  rows.map(([name, sealed, raw]) => [name, sealed.toFixed(0), raw.toFixed(0), (sealed / raw).toFixed(2)]),
);
const throughput = rows[2];
console.log(`sealed payload throughput: ${((throughput[1] * 1200 * 8) / 1e6).toFixed(0)} Mbit/s (raw ${((throughput[2] * 1200 * 8) / 1e6).toFixed(0)} Mbit/s)`);
