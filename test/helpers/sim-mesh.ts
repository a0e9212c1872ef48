/**
 * Builds meshes of real MccNodes on the simulated network under a virtual clock: the
 * whole stack (session, RPC, DHT, ...) runs unchanged, only the transport and the clock
 * are the simulation's.
 */
import { MccNode, type MccNodeOptions } from '../../src/index.js';
import { SimNetwork } from '../../src/transport/sim/index.js';
import type { LinkProfile } from '../../src/transport/sim/index.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';

export interface SimMesh {
  network: SimNetwork;
  clock: VirtualClock;
  nodes: MccNode[];
  /** Wall-clock for record expiry, following the virtual clock. */
  wall: () => number;
  /** Runs the virtual clock until `promise` settles (or `maxMs` of virtual time pass). */
  drive<T>(promise: Promise<T>, maxMs?: number): Promise<T>;
  /** Creates and starts one more node joining through `bootstrap` (default: the first node). */
  addNode(options?: Partial<MccNodeOptions>): Promise<MccNode>;
  stop(): Promise<void>;
}

export async function createSimMesh(options: { seed?: number; link?: Partial<LinkProfile> } = {}): Promise<SimMesh> {
  const clock = new VirtualClock(0);
  const network = new SimNetwork({ clock, seed: options.seed ?? 1, defaultLink: options.link ?? { latencyMs: 10, jitterMs: 2 } });
  const epoch = Date.UTC(2026, 0, 1);
  const wall = (): number => epoch + clock.now();
  const nodes: MccNode[] = [];

  const drive = async <T>(promise: Promise<T>, maxMs = 600_000): Promise<T> => {
    let settled = false;
    promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    const deadline = clock.now() + maxMs;
    while (!settled && clock.now() < deadline) await clock.run(10);
    return promise;
  };

  const addNode = async (extra: Partial<MccNodeOptions> = {}): Promise<MccNode> => {
    const node = await MccNode.create({
      transport: network.createTransport({}),
      clock,
      wallClock: wall,
      bootstrap: nodes.length > 0 ? [nodes[0].address] : [],
      ...extra,
    });
    nodes.push(node);
    await drive(node.start());
    return node;
  };

  return {
    network,
    clock,
    nodes,
    wall,
    drive,
    addNode,
    stop: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
    },
  };
}
