import { generateIdentity, nodeCryptoSuite as suite } from '../src/crypto/index.js';
import { Connection } from '../src/tunnel/connection.js';
import { HandshakeInitiator, handshakeIdentity, readHandshakeInit } from '../src/tunnel/handshake.js';
const a = generateIdentity(), b = generateIdentity();
const init = new HandshakeInitiator(suite, handshakeIdentity(suite, a), b.publicKey, new Uint8Array(8).fill(1));
const r = readHandshakeInit(suite, handshakeIdentity(suite, b), init.message)!.accept(new Uint8Array(8).fill(2));
const ik = init.finish(r.response)!.keys;
let now = 0;
const c = new Connection(suite, ik, now), s = new Connection(suite, r.keys, now);
const id = c.streams.open();
const chunk = new Uint8Array(64 * 1024);
const TOTAL = 64 * 1024 * 1024;
let written = 0, received = 0, packets = 0;
const t0 = performance.now(); const cpu0 = process.cpuUsage();
while (received < TOTAL) {
  while (written < TOTAL) { const n = c.streams.write(id, chunk.subarray(0, Math.min(chunk.length, TOTAL - written))); written += n; if (n < chunk.length) break; }
  now += 0.01;
  let d;
  const toS = []; while ((d = c.pollTransmit(now)) !== null) toS.push(d);
  for (const x of toS) { s.handleDatagram(now, x); packets++; }
  let ev; while ((ev = s.pollEvent())) {}
  for (;;) { const ch = s.streams.read(0); if (!ch) break; received += ch.length; }
  const toC = []; while ((d = s.pollTransmit(now)) !== null) toC.push(d);
  for (const x of toC) c.handleDatagram(now, x);
  while ((ev = c.pollEvent())) {}
  if (toS.length === 0 && toC.length === 0) { now += 1; c.handleTimeout(now); s.handleTimeout(now); }
}
const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
console.log('MB/s', (TOTAL / 1048576 / (ms / 1000)).toFixed(1), 'us/packet', (ms * 1000 / packets).toFixed(1), 'packets', packets, 'cpu', (cpu.user + cpu.system) / 1000);
