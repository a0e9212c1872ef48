/**
 * A whole Kademlia network in one process on a virtual clock, for tests, benchmarks and
 * the modules built on the DHT (discovery). Nodes are real {@link Dht}s; only the wire is
 * replaced by an {@link InMemoryKadHub}. Everything is seeded, so a run repeats exactly.
 */
import { nodeCryptoSuite } from '../crypto/node-suite.js';
import type { CryptoSuite } from '../crypto/types.js';
import { VirtualClock } from '../util/virtual-clock.js';
import { commonPrefixLength } from './keyspace.js';
import { InMemoryKadHub, seededRandom, type InMemoryEndpoint } from './in-memory-network.js';
import type { Contact } from './types.js';
import { Dht, type DhtValueOptions } from './dht.js';

/** Parameters of a {@link KadSimulation}. */
export interface KadSimulationOptions {
  /** One-way latency, ms. Default 25. */
  latencyMs?: number;
  /** Extra uniform one-way delay, ms. Default 0. */
  jitterMs?: number;
  /** Per-message loss probability. Default 0. */
  loss?: number;
  /** Seed of every random choice. Default 1. */
  seed?: number;
  suite?: CryptoSuite;
  /** Options passed to every node's Dht (ids, clocks and network are filled in). */
  dht?: Partial<DhtValueOptions>;
  /** Virtual wall-clock origin, ms since the epoch. Default 1.7e12. */
  epochMs?: number;
  /** Per-answer byte limit of FIND_VALUE (paged answers, as datagrams cut them). Default unlimited. */
  answerBytes?: number;
}

/** One simulated node. */
export interface SimNode {
  dht: Dht;
  contact: Contact;
  endpoint: InMemoryEndpoint;
  index: number;
}

const setImmediateP = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A simulated network of DHT nodes. */
export class KadSimulation {
  readonly clock = new VirtualClock();
  readonly hub: InMemoryKadHub;
  readonly nodes: SimNode[] = [];
  readonly random: () => number;
  readonly suite: CryptoSuite;
  private created = 0;
  private readonly epoch: number;

  constructor(readonly options: KadSimulationOptions = {}) {
    this.random = seededRandom(options.seed ?? 1);
    this.suite = options.suite ?? nodeCryptoSuite;
    this.epoch = options.epochMs ?? 1.7e12;
    this.hub = new InMemoryKadHub({
      clock: this.clock,
      latencyMs: options.latencyMs ?? 25,
      jitterMs: options.jitterMs ?? 0,
      loss: options.loss ?? 0,
      random: seededRandom((options.seed ?? 1) * 7919 + 1),
      ...(options.answerBytes !== undefined ? { answerBytes: options.answerBytes } : {}),
    });
  }

  /** Virtual wall clock (epoch + virtual time). */
  readonly wallClock = (): number => this.epoch + this.clock.now();

  /** Random bytes from the seeded generator (IDs, targets). */
  randomBytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = Math.floor(this.random() * 256);
    return out;
  }

  /**
   * Creates a node (not started). Node IDs are seeded random 32-byte strings: the DHT
   * treats IDs as opaque, and the session layer is what binds them to keys.
   */
  addNode(overrides: Partial<DhtValueOptions> = {}): SimNode {
    const index = this.created++;
    const id = this.randomBytes(32);
    // One /24 per node so the subnet rule is exercised but never binds honest nodes.
    const contact: Contact = { id, address: { host: `11.${(index >> 8) & 255}.${index & 255}.1`, port: 4000 } };
    const clientMode = overrides.clientMode ?? this.options.dht?.clientMode ?? false;
    const endpoint = this.hub.join(contact, { clientMode });
    const dht = new Dht({
      ...this.options.dht,
      ...overrides,
      id,
      suite: this.suite,
      clock: this.clock,
      network: endpoint,
      wallClock: this.wallClock,
    });
    endpoint.attach(dht);
    const node: SimNode = { dht, contact, endpoint, index };
    this.nodes.push(node);
    return node;
  }

  /** Starts `node` and joins through a random started node (or `seeds`); drives the clock until done. */
  async join(node: SimNode, seeds?: Contact[]): Promise<void> {
    const started = this.nodes.filter((n) => n.dht.started && n !== node);
    const seedList = seeds ?? (started.length > 0 ? [started[Math.floor(this.random() * started.length)].contact] : []);
    await this.until(node.dht.start(seedList));
  }

  /**
   * Creates and joins `count` nodes, `parallel` joins at a time (each through a random
   * earlier node), as a network grows.
   */
  async grow(count: number, parallel = 16): Promise<SimNode[]> {
    const added: SimNode[] = [];
    if (this.nodes.every((n) => !n.dht.started) && count > 0) {
      const first = this.addNode();
      await this.until(first.dht.start([]));
      added.push(first);
      count--;
    }
    while (count > 0) {
      const batch: SimNode[] = [];
      const started = this.nodes.filter((n) => n.dht.started);
      for (let i = 0; i < Math.min(parallel, count); i++) batch.push(this.addNode());
      count -= batch.length;
      await this.until(Promise.all(batch.map((n) => n.dht.start([started[Math.floor(this.random() * started.length)].contact]))));
      added.push(...batch);
    }
    return added;
  }

  /**
   * Fills every node's routing table as a long-running network would have it: for each
   * bucket, up to k nodes drawn at random from that bucket's range of the key space.
   * Uses global knowledge, so large benchmarks can skip the (slow to simulate) join phase;
   * the lookups measured afterwards are the real ones. Marks the nodes started.
   */
  async populateTables(nodes: SimNode[] = this.nodes): Promise<void> {
    const sorted = nodes.map((n) => ({ node: n, position: n.dht.position })).sort((a, b) => Buffer.compare(a.position, b.position));
    const firstAtLeast = (bound: Uint8Array): number => {
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Buffer.compare(sorted[mid].position, bound) < 0) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    for (let at = 0; at < sorted.length; at++) {
      const { node, position } = sorted[at];
      // Neighbours in sorted order share the longest prefixes: no bucket lies deeper than that.
      const deepest = Math.max(
        at > 0 ? commonPrefixLength(position, sorted[at - 1].position) : 0,
        at + 1 < sorted.length ? commonPrefixLength(position, sorted[at + 1].position) : 0,
      );
      for (let bit = 0; bit <= Math.min(deepest, 255); bit++) {
        // Bucket `bit`: positions sharing `bit` leading bits with ours and differing at the next.
        const byte = bit >> 3;
        const mask = 0x80 >> (bit & 7);
        const low = Uint8Array.from(position);
        low[byte] = (low[byte] ^ mask) & ~(mask - 1) & 0xff;
        low.fill(0, byte + 1);
        const high = Uint8Array.from(low);
        high[byte] = high[byte] | (mask - 1);
        high.fill(0xff, byte + 1);
        const from = firstAtLeast(low);
        let to = firstAtLeast(high);
        if (to < sorted.length && Buffer.compare(sorted[to].position, high) === 0) to++;
        const size = to - from;
        const picks = new Set<number>();
        const room = node.dht.table.capacity(bit);
        if (size <= room) for (let i = from; i < to; i++) picks.add(i);
        else if (room * 2 < size) while (picks.size < room) picks.add(from + Math.floor(this.random() * size));
        else {
          // Most of the range: a partial shuffle beats drawing until distinct.
          const order = Array.from({ length: size }, (_, i) => from + i);
          for (let i = 0; i < room; i++) {
            const j = i + Math.floor(this.random() * (size - i));
            [order[i], order[j]] = [order[j], order[i]];
            picks.add(order[i]);
          }
        }
        for (const i of picks) node.dht.observe(sorted[i].node.contact);
      }
      if (!node.dht.started) await node.dht.start([]);
    }
  }

  /** Stops a node and takes it off the network (a crash: no goodbye). */
  crash(node: SimNode): void {
    node.dht.stop();
    this.hub.setOnline(node.contact.id, false);
  }

  /** Started nodes still online. */
  live(): SimNode[] {
    return this.nodes.filter((n) => n.dht.started);
  }

  /**
   * Runs the virtual clock until `promise` settles, firing timers in small time quanta and
   * letting promise continuations run between them. Rejects if nothing is left to run or
   * `maxMs` of virtual time pass first.
   */
  async until<T>(promise: Promise<T>, maxMs = 3_600_000, quantumMs = 0.5): Promise<T> {
    let done = false;
    promise.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    const end = this.clock.now() + maxMs;
    await setImmediateP();
    while (!done) {
      const next = this.clock.nextDue;
      if (next === undefined || next > end) throw new Error('simulation stalled before the operation settled');
      this.clock.advance(Math.min(end, next + quantumMs) - this.clock.now());
      await setImmediateP();
    }
    return promise;
  }

  /** Lets `ms` of virtual time pass (timers fire, maintenance runs). */
  async advance(ms: number, quantumMs = 0.5): Promise<void> {
    const end = this.clock.now() + ms;
    await setImmediateP();
    for (;;) {
      const next = this.clock.nextDue;
      if (next === undefined || next > end) break;
      this.clock.advance(Math.min(end, next + quantumMs) - this.clock.now());
      await setImmediateP();
    }
    this.clock.advance(Math.max(0, end - this.clock.now()));
    await setImmediateP();
  }

  /** Stops every node. */
  stop(): void {
    for (const node of this.nodes) node.dht.stop();
  }
}
