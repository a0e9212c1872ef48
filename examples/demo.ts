/**
 * The mcc-mesh demo: three nodes on loopback. Node A starts alone; B and C join
 * through A; then every node pings every other and prints what it learned.
 *
 *   npm run demo
 */
import { MccNode, formatAddress } from '../src/index.js';

const short = (id: string): string => id.slice(0, 12);

const a = await MccNode.create({ host: '127.0.0.1' });
await a.start();
const seed = formatAddress(a.address);
const b = await MccNode.create({ host: '127.0.0.1', bootstrap: [seed] });
const c = await MccNode.create({ host: '127.0.0.1', bootstrap: [seed] });
await Promise.all([b.start(), c.start()]);
const nodes = { A: a, B: b, C: c };

console.log('mcc-mesh demo: three nodes on loopback\n');
for (const [name, node] of Object.entries(nodes)) {
  console.log(`  node ${name}  id ${short(node.idHex)}…  udp ${formatAddress(node.address)}`);
}
console.log('\nEvery node pings every other (sealed, authenticated datagrams):\n');
for (const [name, node] of Object.entries(nodes)) {
  for (const [otherName, other] of Object.entries(nodes)) {
    if (node === other) continue;
    const pong = await node.ping(other.address);
    const observed = pong.observed ? formatAddress(pong.observed) : 'unknown';
    console.log(`  ${name} -> ${otherName}: id ${short(pong.id)}…  rtt ${pong.rttMs.toFixed(2)} ms  sees ${name} at ${observed}`);
  }
}
console.log('\nService discovery: B and C both provide "greeter"; A looks it up:\n');
await b.register('greeter', { handler: (stream) => stream.end('hello from B\n'), metadata: { lang: 'en' } });
await c.register('greeter', { handler: (stream) => stream.end('bonjour de C\n'), metadata: { lang: 'fr' } });
for (const provider of await a.lookup('greeter')) {
  const name = provider.id === b.idHex ? 'B' : provider.id === c.idHex ? 'C' : '?';
  console.log(`  provider ${name}: ${formatAddress(provider.addresses[0]!)}  metadata ${JSON.stringify(provider.metadata)}`);
}
const value = await a.dht.put(new TextEncoder().encode('a small value'));
const read = await c.dht.get(value.key);
console.log(`\nDHT: A stored a value on ${value.stored} node(s); C read back "${new TextDecoder().decode(read!.value)}"`);

console.log('\nWhat each node learned:\n');
for (const [name, node] of Object.entries(nodes)) {
  const stats = node.stats();
  console.log(
    `  ${name}: ${stats.peers} peers, ${stats.datagramsIn} datagrams in / ${stats.datagramsOut} out, ${stats.droppedTotal} dropped`,
  );
}
await Promise.all(Object.values(nodes).map((node) => node.stop()));
console.log('\nAll nodes stopped.');
