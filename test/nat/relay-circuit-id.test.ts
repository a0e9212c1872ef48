import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hexToBytes } from '../../src/util/bytes.js';
import { SimWorld } from './sim-world.js';

describe('initiator-chosen circuit IDs', () => {
  test('an ID already in use is refused by the target: a third node that saw it cannot move the circuit to another relay', async () => {
    const world = new SimWorld(31);
    try {
      const relay1 = await world.addNode({ kind: 'none' });
      const relay2 = await world.addNode({ kind: 'none' });
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const honest = await world.addNode({ kind: 'none' });
      const attacker = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay1.peer));
      await world.settle(client.nat.relayClient.reserve(relay2.peer));
      const circuit = await world.settle(honest.nat.relayClient.connect(relay1.peer, client.id));
      const ok = await world.settle(honest.rpc.request({ id: client.id, address: circuit.address }, { ping: {} }));
      assert.equal(ok.fromHex, client.idHex);

      // The ID travels in clear in every 0x13 header; the attacker reuses it at relay2.
      const circuitId = hexToBytes(circuit.circuitId);
      await assert.rejects(world.settle(attacker.rpc.request(relay2.peer, { relayConnect: { target: client.id, circuitId } })));

      // The honest circuit still works.
      const again = await world.settle(honest.rpc.request({ id: client.id, address: circuit.address }, { ping: {} }));
      assert.equal(again.fromHex, client.idHex);
    } finally {
      await world.close();
    }
  });

  test('the same initiator may repeat its ID through its next relay (its first answer was lost): the circuit moves', async () => {
    const world = new SimWorld(32);
    try {
      const relay1 = await world.addNode({ kind: 'none' });
      const relay2 = await world.addNode({ kind: 'none' });
      const client = await world.addNode({ kind: 'port-restricted', nat: { keepalive: { learn: false } } });
      const initiator = await world.addNode({ kind: 'none' });
      await world.settle(client.nat.relayClient.reserve(relay1.peer));
      await world.settle(client.nat.relayClient.reserve(relay2.peer));
      const circuit = await world.settle(initiator.nat.relayClient.connect(relay1.peer, client.id));
      const circuitId = hexToBytes(circuit.circuitId);
      const answer = await world.settle(initiator.rpc.request(relay2.peer, { relayConnect: { target: client.id, circuitId } }));
      assert.deepEqual(answer.envelope.relayCircuit?.circuitId, circuitId);
    } finally {
      await world.close();
    }
  });
});
