/**
 * The NAT matrix with whole MccNodes on the simulated network: a provider behind every
 * NAT kind registers a service, a client behind every NAT kind reaches it with
 * `connect()` (the one connect pipeline, as the product runs it). Every pair must connect
 * and move data both ways; the path (direct at once, relayed then upgraded by a hole
 * punch, or relayed) must be the one the NATs allow, in a birthday pair the random-mapping
 * side must open its extra sockets, and data on a direct or punched path must not pass
 * any relay.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MccNode } from '../../src/index.js';
import type { NatStatus } from '../../src/node/nat.js';
import { isVirtualAddress } from '../../src/nat/relay-packet.js';
import { NAT_KINDS, NodeWorld, type NatKind, type NodePath } from './node-world.js';

/** Rows: the client's NAT; columns: the provider's. */
const EXPECTED: Record<NatKind, Record<NatKind, NodePath>> = {
  none: { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'punched', 'udp-blocked': 'relayed' },
  'full-cone': { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'punched', 'udp-blocked': 'relayed' },
  'port-restricted': { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'punched', 'udp-blocked': 'relayed' },
  symmetric: { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'relayed', 'udp-blocked': 'relayed' },
  'udp-blocked': { none: 'relayed', 'full-cone': 'relayed', 'port-restricted': 'relayed', symmetric: 'relayed', 'udp-blocked': 'relayed' },
};

/** Punched pairs that need the birthday strategy (consistent/random): the random side's punch opens extra sockets. */
const BIRTHDAY = new Set(['port-restricted|symmetric', 'symmetric|port-restricted']);

describe('MccNode connect() across the NAT matrix (simulated network)', () => {
  const world = new NodeWorld(7);
  const providers = new Map<NatKind, MccNode>();
  const clients = new Map<NatKind, MccNode>();
  const table: string[] = [];
  const events = new Map<NatKind, NatStatus[]>();
  let noRelay: MccNode;

  before(async () => {
    await world.addInfrastructure();
    noRelay = await world.addNode('none', { relay: false });
    for (const kind of NAT_KINDS) {
      const seen: NatStatus[] = [];
      events.set(kind, seen);
      const provider = await world.addNode(kind, {}, (node) => node.on('nat', (status) => seen.push(status)));
      await world.drive(provider.register(`echo-${kind}`, { handler: (stream) => stream.pipe(stream) }));
      providers.set(kind, provider);
    }
    for (const kind of NAT_KINDS) clients.set(kind, await world.addNode(kind));
  });
  after(async () => {
    if (process.env.MCC_NAT_TABLE) console.log(table.join('\n'));
    await world.close();
  });

  test('verdicts: mapping, reachability, DHT mode and relays follow the NAT', () => {
    for (const [kind, node] of providers) {
      const nat = node.stats().nat;
      const reachable = kind === 'none' || kind === 'full-cone';
      assert.equal(nat.reachable, reachable, `${kind}: reachable`);
      assert.equal(nat.dht, reachable ? 'server' : 'client', `${kind}: DHT mode`);
      assert.equal(nat.relayServer.enabled, reachable, `${kind}: offers relaying only when reachable`);
      if (!reachable) assert.ok(nat.relays.length >= (kind === 'udp-blocked' ? 1 : 2), `${kind}: holds relay reservations`);
      const mapping = { none: 'public', 'full-cone': 'consistent', 'port-restricted': 'consistent', symmetric: 'random', 'udp-blocked': 'unknown' }[kind];
      assert.equal(nat.mapping, mapping, `${kind}: mapping`);
      const last = events.get(kind)!.at(-1);
      assert.equal(last?.reachable, reachable, `${kind}: the nat event announced the verdict`);
    }
    const off = noRelay.stats().nat;
    assert.equal(off.reachable, true);
    assert.equal(off.relayServer.enabled, false, 'relay: false turns relaying off');
  });

  test('provider records list the relays of unreachable providers', async () => {
    const client = clients.get('none')!;
    const [record] = await world.drive(client.lookup('echo-port-restricted'));
    assert.ok(record, 'found the provider');
    assert.ok(record.relays.length >= 2, 'two relays listed');
    const [publicRecord] = await world.drive(client.lookup('echo-none'));
    assert.equal(publicRecord.relays.length, 0, 'a reachable provider lists none');
  });

  for (const clientKind of NAT_KINDS) {
    for (const providerKind of NAT_KINDS) {
      const want = EXPECTED[clientKind][providerKind];
      const birthday = BIRTHDAY.has(`${clientKind}|${providerKind}`);
      test(`${clientKind} -> ${providerKind}: ${want}${birthday ? ' (birthday)' : ''}`, async () => {
        const client = clients.get(clientKind)!;
        const provider = providers.get(providerKind)!;
        // The hole punch runs in the background; connect() gives it its time budget.
        const { stream, path, clientPunch, providerPunch } = await world.connect(client, provider, `echo-${providerKind}`);
        try {
          assert.equal(await world.roundTrip(stream, `first ${clientKind}->${providerKind}`), `first ${clientKind}->${providerKind}`);
          const extraSocket = clientPunch?.transport !== undefined || providerPunch?.transport !== undefined;
          table.push(`${clientKind.padEnd(16)} -> ${providerKind.padEnd(16)} ${path}${extraSocket ? ' (birthday socket)' : ''}`);
          const connection = client.tunnels.connectionTo(provider.id)!;
          assert.equal(isVirtualAddress(connection.address), path === 'relayed', 'the connection runs where the path says');
          if (path === 'punched') assert.ok(providerPunch, 'the provider saw the punch succeed too');
          const relayed = world.relayedBytes();
          const payload = 'x'.repeat(20_000);
          assert.equal(await world.roundTrip(stream, payload), payload, 'data flows both ways after the path was chosen');
          if (path !== 'relayed') assert.equal(world.relayedBytes(), relayed, 'direct data does not pass a relay, either way');
          else assert.ok(world.relayedBytes() > relayed + payload.length, 'relayed data passes the relay');
          assert.equal(path, want);
          if (birthday) {
            // The random side opened its extra sockets; the path usually runs over one of them (a
            // spray may also hit the main socket's mapping towards the other side, 1 in ~257).
            const randomSide = clientKind === 'symmetric' ? clientPunch : providerPunch;
            assert.ok(
              randomSide && randomSide.probesSent >= 200,
              `the random side's birthday sockets each sent their probe (${randomSide?.probesSent} probes)`,
            );
          } else assert.equal(extraSocket, false, 'the main sockets carry the path');
        } finally {
          stream.destroy();
          // Connections of earlier pairs would keep sending keep-alives (every 10 s) through
          // their relays, into a later pair's "no relayed bytes" window.
          client.tunnels.connectionTo(provider.id)?.close();
          await world.clock.run(100);
        }
      });
    }
  }
});

test('behind NAT, when no dial-back can be run, a node acts as unreachable: relays, DHT client mode, still reachable through connect()', async () => {
  const world = new NodeWorld(21);
  try {
    await world.addInfrastructure(4, 0); // no third party its own lookups have not touched
    const provider = await world.addNode('port-restricted');
    const nat = provider.stats().nat;
    assert.equal(nat.mapping, 'consistent');
    assert.equal(nat.reachable, undefined, 'no conclusive dial-back');
    assert.equal(nat.dht, 'client');
    assert.equal(nat.relayServer.enabled, false);
    assert.ok(nat.relays.length >= 2, 'holds relay reservations');
    await world.drive(provider.register('assumed', { handler: (stream) => stream.pipe(stream) }));
    const client = world.infrastructure[1];
    const stream = await world.drive(client.connect('assumed'));
    assert.equal(await world.roundTrip(stream, 'hello'), 'hello');
    stream.destroy();
  } finally {
    await world.close();
  }
});
