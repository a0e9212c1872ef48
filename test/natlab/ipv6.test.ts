/**
 * A mixed network in network namespaces of its own (test/natlab/ipv6-lab.ts): IPv4-only hosts
 * (IPv6 switched off in the namespace, the node on its default binding), IPv6-only
 * hosts (global IPv6 addresses in distinct /48s, no IPv4) and dual-stack hosts, one node
 * process each. Every node discovers every service, and connects to every provider it shares
 * a family with. Needs root; skipped otherwise, and fails under CI=true when it cannot run.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { v6LabSkip, withV6Lab, type V6LabHost } from './ipv6-lab.js';

interface Result {
  address: { host: string; port: number };
  found: Record<string, string[]>;
  connected: Record<string, string>;
  peers: string[];
  rpcTimeouts: number;
  nat: { mapping: string; publicAddress?: { host: string; port: number } };
}

const HOSTS: V6LabHost[] = [
  { name: 'seed', v4: '10.97.0.1', v6: '2001:db8:1::1' },
  { name: 'dual', v4: '10.97.0.2', v6: '2001:db8:2::1' },
  { name: 'v4a', v4: '10.97.0.3' },
  { name: 'v4b', v4: '10.97.0.4' },
  { name: 'v6a', v6: '2001:db8:3::1' },
  { name: 'v6b', v6: '2001:db8:4::1' },
];
const PORT = 4100;
const SERVICES = HOSTS.map((host) => `svc-${host.name}`);

describe('IPv6 lab: a mixed IPv4 / IPv6 / dual-stack network in namespaces', { skip: v6LabSkip() }, () => {
  it('discovers every service and connects within each shared family', { timeout: 180_000 }, async () => {
    await withV6Lab(HOSTS, async (lab) => {
      const seed = lab.node('seed', 'test/natlab/ipv6-node.ts', ['seed', String(PORT)]);
      await seed.message('ready', 60_000);
      const v4Seed = `--bootstrap=10.97.0.1:${PORT}`;
      const v6Seed = `--bootstrap=[2001:db8:1::1]:${PORT}`;
      // Single-stack nodes use their default binding ('::' where the host has IPv6, else the IPv4 fallback).
      // Each pair connects one way only: a stream opened back over a tunnel the other side set up
      // does not get through today, on IPv4 alike (noted in the issue 20 report), which is not what this test is about.
      const plan: Array<[string, string[], string[]]> = [
        ['dual', [v4Seed, v6Seed], ['svc-seed', 'svc-v4a', 'svc-v6a']],
        ['v4a', [v4Seed], ['svc-seed', 'svc-v4b']],
        ['v4b', [v4Seed], ['svc-dual']],
        ['v6a', [v6Seed], ['svc-seed', 'svc-v6b']],
        ['v6b', [v6Seed], ['svc-dual']],
      ];
      const procs = plan.map(([name, bootstrap, connect]) =>
        lab.node(name, 'test/natlab/ipv6-node.ts', [name, String(PORT), ...bootstrap, `--expect=${SERVICES.join(',')}`, `--connect=${connect.join(',')}`]),
      );
      const results = new Map<string, Result>();
      for (const [index, proc] of procs.entries()) results.set(plan[index][0], (await proc.message<{ result: Result }>('result', 120_000)).result);

      // On a failure, every process's own lines explain it.
      const transcript = (): string => procs.map((proc, index) => `${plan[index][0]}: ${proc.lines.join(' | ')} ${proc.stderr}`).join('\n');
      for (const [name, result] of results) {
        // Every service was found by every node, whatever its family.
        for (const service of SERVICES) assert.ok((result.found[service] ?? []).length > 0, `${name} did not find ${service}: ${JSON.stringify(result.found)}`);
        for (const [service, outcome] of Object.entries(result.connected)) assert.equal(outcome, 'ok', `${name} -> ${service}\n${transcript()}`);
      }
      // Single-stack nodes talked only to their own family, and their binding says which.
      for (const name of ['v4a', 'v4b']) {
        const result = results.get(name)!;
        // IPv6 is off in the namespace, yet the default '::' binding may still succeed: the
        // node must then judge its reach by its interfaces, and its record lists IPv4 only.
        assert.ok(
          results.get('dual')!.found[`svc-${name}`].every((host) => isIP(host) === 4),
          `svc-${name} lists ${results.get('dual')!.found[`svc-${name}`].join(' ')}`,
        );
        assert.ok(
          result.peers.every((peer) => isIP(peer) === 4),
          `${name} peers ${result.peers.join(' ')}`,
        );
      }
      for (const name of ['v6a', 'v6b']) {
        const result = results.get(name)!;
        assert.ok(
          result.peers.every((peer) => isIP(peer) === 6),
          `${name} peers ${result.peers.join(' ')}`,
        );
        // An IPv6 host without NAT sees itself as observers see it: public.
        assert.ok(result.nat.mapping === 'public' || result.nat.mapping === 'unknown', `${name} NAT verdict ${result.nat.mapping}`);
      }
      // The records of IPv6-only providers carry their global IPv6 address.
      assert.ok(results.get('v4a')!.found['svc-v6a'].includes('2001:db8:3::1'), JSON.stringify(results.get('v4a')!.found));
      // The dual-stack node reached providers of both families.
      const dual = results.get('dual')!;
      assert.ok(dual.peers.some((peer) => isIP(peer) === 4) && dual.peers.some((peer) => isIP(peer) === 6), `dual peers ${dual.peers.join(' ')}`);
    });
  });
});
