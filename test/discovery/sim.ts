/**
 * Test and benchmark harness: a KadSimulation whose routing tables are filled directly
 * (every node observes every other, as a long-converged network would have them), so a
 * 200- or 1,000-node network is ready in a second instead of minutes of joins; the RPCs,
 * stores and lookups after that are the real ones. One Discovery per node, signing with
 * its own Ed25519 identity.
 */
import { generateIdentity } from '../../src/crypto/identity.js';
import type { KeyPair } from '../../src/crypto/types.js';
import { Discovery, type DiscoveryOptions } from '../../src/discovery/index.js';
import { seededRandom } from '../../src/kademlia/in-memory-network.js';
import { KadSimulation, type KadSimulationOptions, type SimNode } from '../../src/kademlia/simulation.js';

/** One simulated node with discovery on top. */
export interface DiscoveryNode {
  sim: SimNode;
  keyPair: KeyPair;
  discovery: Discovery;
}

/** Options of {@link DiscoverySim}. */
export interface DiscoverySimOptions extends KadSimulationOptions {
  discovery?: Partial<DiscoveryOptions>;
}

/** A simulated network with a Discovery on every node. */
export class DiscoverySim {
  readonly kad: KadSimulation;
  readonly nodes: DiscoveryNode[] = [];

  constructor(readonly options: DiscoverySimOptions = {}) {
    this.kad = new KadSimulation(options);
  }

  /** Adds `count` nodes with converged routing tables (and starts them). */
  build(count: number): DiscoveryNode[] {
    const fresh: DiscoveryNode[] = [];
    for (let i = 0; i < count; i++) fresh.push(this.wrap(this.kad.addNode()));
    const everyone = this.nodes.map((n) => n.sim);
    for (const node of fresh) {
      for (const other of everyone) {
        if (other === node.sim) continue;
        node.sim.dht.table.observe(other.contact, node.sim.dht.positions.of(other.contact.id));
        other.dht.table.observe(node.sim.contact, other.dht.positions.of(node.sim.contact.id));
      }
      void node.sim.dht.start([]);
    }
    return fresh;
  }

  /** Adds one node that joins the real way (bootstrap lookup through a random live node). */
  async join(): Promise<DiscoveryNode> {
    const node = this.wrap(this.kad.addNode());
    await this.kad.join(node.sim);
    return node;
  }

  /** Crashes a node: no withdrawal, no answers, its discovery timers stop. */
  async crash(node: DiscoveryNode): Promise<void> {
    await node.discovery.stop({ withdraw: false });
    this.kad.crash(node.sim);
  }

  /** Started, online nodes. */
  live(): DiscoveryNode[] {
    return this.nodes.filter((n) => n.sim.dht.started);
  }

  /** Runs the virtual clock until `promise` settles. */
  until<T>(promise: Promise<T>): Promise<T> {
    return this.kad.until(promise);
  }

  /** Lets virtual time pass. */
  advance(ms: number): Promise<void> {
    return this.kad.advance(ms);
  }

  /** Stops everything (no withdrawals). */
  async stop(): Promise<void> {
    for (const node of this.nodes) await node.discovery.stop({ withdraw: false });
    this.kad.stop();
  }

  private wrap(sim: SimNode): DiscoveryNode {
    const keyPair = generateIdentity(this.kad.suite);
    const discovery = new Discovery({
      dht: sim.dht,
      suite: this.kad.suite,
      keyPair,
      clock: this.kad.clock,
      wallClock: this.kad.wallClock,
      selfInfo: () => ({ addresses: [sim.contact.address, { host: '192.168.1.10', port: 4000 }], relays: [] }),
      random: seededRandom(1000 + sim.index),
      // As the node does with its bootstrap list: rejoin through a few live nodes.
      rejoin: () =>
        sim.dht.bootstrap(
          this.live()
            .filter((n) => n.sim !== sim)
            .slice(0, 3)
            .map((n) => n.sim.contact),
        ),
      ...this.options.discovery,
    });
    const node = { sim, keyPair, discovery };
    this.nodes.push(node);
    return node;
  }
}
