/**
 * `GET /metrics` in the Prometheus text exposition format: every numeric counter of
 * `node.stats()`, flattened into `mcc_`-prefixed names, with HELP and TYPE lines.
 */
import type { MccNode } from '../node/node.js';

/** Counters that go down as well as up are gauges; everything else only grows. */
const GAUGES = new Set(['peers', 'running', 'relay_server_reservations', 'relay_server_circuits', 'circuits_open']);

function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^a-zA-Z0-9_]/g, '_')
    .toLowerCase();
}

function flatten(prefix: string, value: unknown, into: Array<[string, number]>): void {
  if (typeof value === 'number' && Number.isFinite(value)) into.push([prefix, value]);
  else if (typeof value === 'boolean') into.push([prefix, value ? 1 : 0]);
  else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(prefix ? `${prefix}_${snake(key)}` : snake(key), inner, into);
  }
}

/** The metrics text of `node`. */
export function metricsText(node: MccNode): string {
  const stats = node.stats();
  const { nat, dropped, ...rest } = stats;
  const samples: Array<[string, number]> = [];
  flatten('', rest, samples);
  flatten('nat', { observers: nat.observers, relays: nat.relays.length, reachable: nat.reachable ?? false }, samples);
  flatten('relay_server', nat.relayServer, samples);
  flatten('circuits', nat.circuits, samples);
  flatten('connects', nat.connects, samples);
  samples.push(['running', node.running ? 1 : 0]);
  const lines: string[] = [];
  for (const [name, value] of samples) {
    // What exists now (contacts, records, open tunnels and their bytes, services) is a gauge; what only grows is a counter.
    const gauge =
      GAUGES.has(name) ||
      name.startsWith('nat_') ||
      name.startsWith('dht_') ||
      name.startsWith('tunnels_') ||
      name.startsWith('services_') ||
      name.endsWith('_open');
    // Prometheus convention: counters end in _total.
    const metric = gauge || name.endsWith('_total') ? `mcc_${name}` : `mcc_${name}_total`;
    lines.push(`# HELP ${metric} mcc-mesh ${name.replace(/_/g, ' ')} (node.stats()).`);
    lines.push(`# TYPE ${metric} ${gauge ? 'gauge' : 'counter'}`);
    lines.push(`${metric} ${value}`);
  }
  lines.push('# HELP mcc_dropped_datagrams_total Inbound datagrams dropped, by reason.');
  lines.push('# TYPE mcc_dropped_datagrams_total counter');
  for (const [reason, count] of Object.entries(dropped)) lines.push(`mcc_dropped_datagrams_total{reason="${reason}"} ${count}`);
  lines.push('# HELP mcc_nat_mapping The NAT mapping verdict (1 for the current one).');
  lines.push('# TYPE mcc_nat_mapping gauge');
  for (const mapping of ['unknown', 'public', 'consistent', 'random']) lines.push(`mcc_nat_mapping{mapping="${mapping}"} ${nat.mapping === mapping ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}
