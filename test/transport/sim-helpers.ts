/** Helpers shared by the simulated-network tests. */
import type { Address } from '../../src/util/address.js';
import type { Clock } from '../../src/util/clock.js';
import type { SimTransport } from '../../src/transport/sim/transport.js';

/** A datagram as a test saw it arrive. */
export interface Received {
  time: number;
  bytes: number[];
  from: Address;
}

/** Records everything `transport` receives (copying the bytes, as the Transport contract asks). */
export function collect(transport: SimTransport, clock: Clock): Received[] {
  const log: Received[] = [];
  transport.onDatagram((data, from) => log.push({ time: clock.now(), bytes: [...data], from }));
  return log;
}

/** Binds all transports. */
export async function bindAll(...transports: SimTransport[]): Promise<Address[]> {
  return Promise.all(transports.map((t) => t.bind()));
}
