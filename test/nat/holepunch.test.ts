import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConnectPath, ConnectResult } from '../../src/nat/connector.js';
import type { PunchResult } from '../../src/nat/holepunch.js';
import { encodeRelayed } from '../../src/nat/relay-packet.js';
import type { Address } from '../../src/util/address.js';
import { bytesToHex } from '../../src/util/bytes.js';
import { NAT_KINDS, SimWorld, type NatKind, type SimNode } from './sim-world.js';

/** Which path each (initiator, target) pair must take. Rows: initiator; columns: target. */
const EXPECTED: Record<NatKind, Record<NatKind, ConnectPath>> = {
  none: { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'punched', 'udp-blocked': 'relayed' },
  'full-cone': { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'punched', 'udp-blocked': 'relayed' },
  'port-restricted': { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'punched', 'udp-blocked': 'relayed' },
  symmetric: { none: 'direct', 'full-cone': 'direct', 'port-restricted': 'punched', symmetric: 'relayed', 'udp-blocked': 'relayed' },
  'udp-blocked': { none: 'relayed', 'full-cone': 'relayed', 'port-restricted': 'relayed', symmetric: 'relayed', 'udp-blocked': 'relayed' },
};

/** Sends a marker from `from` (over `socket` or its main socket) to `to`; true when `receiver` got it on the expected socket. */
async function delivers(world: SimWorld, from: SimNode, socket: PunchResult['transport'], to: Address, receiver: SimNode, receiverSocket: PunchResult['transport']): Promise<boolean> {
  const id = world.random().toString(16).slice(2, 10).padEnd(8, '0');
  const idBytes = new TextEncoder().encode(id);
  const idHex = bytesToHex(idBytes);
  let got = false;
  const release = receiverSocket ? undefined : receiver.transport.claim(idHex, () => (got = true));
  if (receiverSocket) receiverSocket.onDatagram(() => (got = true));
  const marker = encodeRelayed(idBytes, new Uint8Array([1, 2, 3]));
  if (socket) socket.send(to, marker);
  else from.transport.sendDirect(to, marker);
  await world.clock.run(500);
  release?.();
  return got;
}

/** Builds the pair, lets both classify and reserve, connects; returns the outcome and whether data flows both ways off-relay. */
async function connectPair(initiatorKind: NatKind, targetKind: NatKind, seed: number) {
  const world = new SimWorld(seed);
  try {
    await world.addInfrastructure(4);
    const initiator = await world.addNode({ kind: initiatorKind });
    const target = await world.addNode({ kind: targetKind });
    for (const node of [initiator, target]) node.nat.start();
    await world.settle(Promise.all([initiator.nat.monitor.check(), target.nat.monitor.check()]));
    await world.clock.run(3000); // reservations
    await world.settle(Promise.all([initiator.nat.relayClient.settled(), target.nat.relayClient.settled()]));
    let targetSide: PunchResult | undefined;
    target.nat.puncher.on('punched', (result) => (targetSide = result));
    const contact = {
      id: target.id,
      addresses: target.nat.localInfo().addresses,
      relays: target.nat.relayClient.relays,
      reachable: target.nat.state.reachable,
    };
    const result: ConnectResult = await world.settle(initiator.nat.connector.connect(contact), 30_000);
    await world.clock.run(200);
    const relayed = () => world.infrastructure.reduce((sum, n) => sum + n.nat.relayServer.stats.forwardedPackets, 0);
    let bothWays = true;
    if (result.path !== 'relayed') {
      const before = relayed();
      const back = result.path === 'punched' ? targetSide : undefined;
      if (result.path === 'punched') assert.ok(back, 'the target saw the punch succeed too');
      bothWays = await delivers(world, initiator, result.transport, result.address, target, back?.transport);
      if (back) bothWays &&= await delivers(world, target, back.transport, back.address, initiator, result.transport);
      assert.equal(relayed(), before, 'direct data does not pass the relay');
    } else {
      const answer = await world.settle(initiator.rpc.request({ id: target.id, address: result.address }, { ping: {} }));
      assert.equal(answer.fromHex, target.idHex, 'the relayed path carries sealed traffic');
    }
    return { result, bothWays };
  } finally {
    await world.close();
  }
}

describe('connect across the NAT matrix', () => {
  const table: string[] = [];
  for (const initiatorKind of NAT_KINDS) {
    for (const targetKind of NAT_KINDS) {
      const want = EXPECTED[initiatorKind][targetKind];
      test(`${initiatorKind} -> ${targetKind}: ${want}`, async () => {
        const { result, bothWays } = await connectPair(initiatorKind, targetKind, 100 + NAT_KINDS.indexOf(initiatorKind) * 10 + NAT_KINDS.indexOf(targetKind));
        table.push(`${initiatorKind.padEnd(16)} -> ${targetKind.padEnd(16)} ${result.path}${result.transport ? ' (birthday socket)' : ''}`);
        assert.equal(result.path, want);
        assert.ok(bothWays, 'datagrams flow both ways on the chosen path');
      });
    }
  }
  test('table', () => {
    // Printed for the report; the assertions above are what matters.
    if (process.env.MCC_NAT_TABLE) console.log(table.join('\n'));
  });
});
