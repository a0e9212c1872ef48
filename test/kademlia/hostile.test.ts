import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/crypto/index.js';
import type { KadHandlers } from '../../src/kademlia/in-memory-network.js';
import { createImmutableRecord, signRecord } from '../../src/kademlia/record.js';
import { KadSimulation, type SimNode } from '../../src/kademlia/simulation.js';
import type { Contact, SignedRecord } from '../../src/kademlia/types.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

type Behaviour = 'endless' | 'garbage' | 'wrong-values' | 'forged' | 'replay';

/** A node that answers every query maliciously (it still sees traffic, so it stays in tables). */
function hostile(sim: KadSimulation, node: SimNode, behaviour: Behaviour, stash: { old: SignedRecord[] }): KadHandlers {
  const fake = (): Contact => ({
    id: sim.randomBytes(32),
    address: { host: `12.${Math.floor(sim.random() * 255)}.${Math.floor(sim.random() * 255)}.1`, port: 1 + Math.floor(sim.random() * 60000) },
  });
  const contacts = (): Contact[] => {
    if (behaviour === 'endless') return Array.from({ length: 200 }, fake); // far more than allowed, all fresh
    if (behaviour === 'garbage')
      return [
        null,
        'x',
        { id: new Uint8Array(3), address: { host: 'h', port: 1 } },
        { id: sim.randomBytes(32), address: { host: '', port: -1 } },
      ] as unknown as Contact[];
    return node.dht.closestContacts(sim.randomBytes(32));
  };
  const records = (key: Uint8Array): SignedRecord[] => {
    const liar = generateIdentity(sim.suite);
    const later = Math.floor(sim.wallClock() + 600_000);
    switch (behaviour) {
      case 'wrong-values':
        // A well-formed immutable record of another value, and another author's record under the key.
        return [
          { ...createImmutableRecord(sim.suite, text('wrong'), later), key },
          signRecord(sim.suite, liar, { key, seq: 99, expiresAt: later, value: text('wrong') }),
        ];
      case 'forged': {
        const victim = stash.old.find((r) => Buffer.compare(r.key, key) === 0);
        return victim ? [{ ...victim, seq: victim.seq + 10, value: text('forged') }] : [];
      }
      case 'replay':
        return stash.old.filter((r) => Buffer.compare(r.key, key) === 0);
      case 'garbage':
        return [null, { key }, 7] as unknown as SignedRecord[];
      default:
        return [];
    }
  };
  return {
    observe: (contact, options) => node.dht.observe(contact, options),
    handleFindNode: () => ({ contacts: contacts(), token: new Uint8Array(16) }),
    handleFindValue: (_from, key) => ({ contacts: contacts(), records: records(key), token: new Uint8Array(16) }),
    handleStore: () => ({ ok: true }), // accepts and drops
  };
}

describe('hostile nodes', () => {
  it('lookups end and gets return the correct values despite endless contacts, garbage, wrong values, forgeries and replays', async () => {
    const sim = new KadSimulation({ seed: 21, jitterMs: 10, dht: { refreshOnJoin: false } });
    await sim.grow(250, 50);
    const behaviours: Behaviour[] = ['endless', 'garbage', 'wrong-values', 'forged', 'replay'];
    const honest = sim.nodes.filter((_, i) => i % 5 !== 0);
    const stash = { old: [] as SignedRecord[] };

    // Values written while everyone is honest, then overwritten (seq 2): seq 1 is what replayers serve.
    const author = generateIdentity(sim.suite);
    const mutableKeys: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      const salt = text(`salt ${i}`);
      const first = await sim.until(honest[i].dht.put(text(`old ${i}`), { keyPair: author, salt, seq: 1 }));
      stash.old.push(first.record);
      mutableKeys.push(first.key);
    }
    // 20% of the nodes turn hostile.
    sim.nodes.forEach((node, i) => {
      if (i % 5 === 0) node.endpoint.attach(hostile(sim, node, behaviours[(i / 5) % behaviours.length], stash));
    });
    for (let i = 0; i < 10; i++) await sim.until(honest[i].dht.put(text(`new ${i}`), { keyPair: author, salt: text(`salt ${i}`), seq: 2 }));
    const immutable = await sim.until(Promise.all(Array.from({ length: 10 }, (_, i) => honest[i + 10].dht.put(text(`immutable ${i}`)))));

    const readers = honest.filter((_, i) => i % 4 === 0);
    const checks = readers.flatMap((reader) => [
      // quorum 20: the reader hears enough holders that replayers serving seq 1 are outvoted by seq 2.
      ...mutableKeys.map(async (key, i) => str((await reader.dht.get(key, { quorum: 20 }))?.value) === `new ${i}`),
      // Default read: wrong values and other authors' records must neither be returned nor end the read early.
      ...immutable.map(async (put, i) => str((await reader.dht.get(put.key))?.value) === `immutable ${i}`),
    ]);
    const results = await sim.until(Promise.all(checks), 600_000);
    assert.equal(results.filter((ok) => !ok).length, 0);

    // Plain lookups end within the caps, whatever the hostile nodes answer.
    const lookups = await sim.until(Promise.all(readers.map((reader) => reader.dht.lookup(sim.randomBytes(32)))), 600_000);
    for (const result of lookups) {
      assert.ok(result.queries <= 200);
      assert.ok(result.durationMs <= 20_000);
      assert.ok(result.closest.length > 0);
    }
    assert.ok(lookups.some((r) => r.malformed > 0)); // garbage and floods were seen and dropped
    sim.stop();
  });
});
