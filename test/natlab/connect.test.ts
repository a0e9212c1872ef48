/**
 * connect() across real kernel NAT (../shared/natlab.sh): mesh node processes in network
 * namespaces — bootstrap/relay nodes on the public segment (pub, pub2, plus a public
 * DHT-client node on pub that serves as dial-back third party), a provider exposing a
 * real node:http server behind one router, a client behind the other doing forward() and
 * HTTP GETs through it. Each lab runs both directions (provider behind A, then behind B).
 *
 * Proves: open/cone and cone/cone connect directly (the second GET moves no datagram
 * through a relay circuit); sym/cone is punched both ways (birthday strategy); sym/sym
 * connects through the relay; block-udp/cone connects
 * both ways through the relay on 10.99.0.1, the only UDP that router lets through (and the
 * relay on 10.99.0.4 carries nothing); HTTP works in each.
 * Skipped, saying why, where the lab cannot run (root, ip netns, iptables); under CI as
 * root a lab that cannot run fails instead.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LAB, labSkip, withLab, type Lab, type LabHost, type LabMode, type LabProcess } from './lab.js';

// Each lab test carries its own skip, so the summary counts every one of them.
const skip = labSkip();
const options = { skip, timeout: 240_000 };
const SCRIPT = 'test/natlab/mesh-node.ts';
const BIG = 256 * 1024;

interface ClientReport {
  client: {
    status: { mapping: string; reachable: boolean | undefined };
    first: { status: number; body: string; ms: number };
    second: { status: number; bytes: number };
    relayedPath: boolean;
    relayedDuringSecond: number;
    connects: { direct: number; relayed: number; punched: number; punchFailed: number };
    /** Phases of the client run: NAT verdict, lookup until the provider's record showed, wait for a path upgrade. */
    ms: { verdict: number; lookup: number; upgradeWait: number; phases: Phases };
  };
}
interface ProviderReport {
  provider: {
    status: { mapping: string; reachable: boolean | undefined; relays: Array<{ id: string; address: { host: string; port: number } }> };
    /** Start to NAT verdict, and to the service registered. */
    ms: { verdict: number; registered: number; phases: Phases };
  };
}
/** Milliseconds after start: reachability decided, first and second relay reservation held (absent: not within the wait). */
interface Phases {
  reachability?: number;
  relay1?: number;
  relay2?: number;
}
const phasesText = (p: Phases): string => `reachability ${p.reachability ?? '-'}, relays ${p.relay1 ?? '-'} / ${p.relay2 ?? '-'} ms`;
interface SeedStats {
  stats: { relayServer: { forwardedBytes: number } };
}
type Path = 'direct' | 'punched' | 'relayed';
/** What one lab run found: the path per pair (provider behind A, then behind B), and the providers' reports. */
interface LabResult {
  paths: [Path, Path];
  providers: [ProviderReport['provider'], ProviderReport['provider']];
  /** Bytes each public relay forwarded over the whole run. */
  forwarded: { pub: number; pub2: number };
}

/** The seeds' relay counters (newest stats line; 0 before the first). */
interface SeedCounters {
  /** Bytes the relay on 10.99.0.1:4100 (the one block-udp lets through) forwarded. */
  pub: () => number;
  /** Bytes the relay on 10.99.0.4:4100 forwarded. */
  pub2: () => number;
}

/** Seeds on the public segment, shared by the pairs run in one lab. */
async function startSeeds(lab: Lab): Promise<SeedCounters> {
  const seed = lab.node('pub', SCRIPT, ['seed', '4100']);
  await seed.message('ready');
  const pub2 = lab.node('pub2', SCRIPT, ['seed', '4100', `${LAB.pub}:4100`]);
  const prober = lab.node('pub', SCRIPT, ['seed', '4101', `${LAB.pub}:4100`, '--client-mode']);
  await Promise.all([pub2.message('ready'), prober.message('ready')]);
  const forwarded = (proc: LabProcess) => () => proc.latest<SeedStats>('stats')?.stats.relayServer.forwardedBytes ?? 0;
  return { pub: forwarded(seed), pub2: forwarded(pub2) };
}

/** Checks one client's report; returns its path. */
function checkReport(report: ClientReport['client']): Path {
  const c = report.connects;
  const path: Path = c.punched > 0 ? 'punched' : c.direct > 0 ? 'direct' : 'relayed';
  assert.equal(report.first.status, 200, 'the first HTTP request through forward() succeeded');
  assert.match(report.first.body, /hello from the provider/);
  assert.equal(report.second.status, 200);
  assert.equal(report.second.bytes, BIG, 'the second, larger response arrived whole');
  assert.equal(report.relayedPath, path === 'relayed', 'the connection runs where the path says');
  if (path !== 'relayed') assert.equal(report.relayedDuringSecond, 0, 'no datagram of the second request passed a relay');
  else assert.ok(report.relayedDuringSecond > BIG / 1200, 'the relayed request passed the relay');
  return path;
}

/**
 * One lab, both directions at once: provider behind A with its client behind B (service
 * web-a, port 4200), and provider behind B with its client behind A (web-b, port 4300).
 */
async function labRun(t: { diagnostic: (message: string) => void }, a: LabMode, b: LabMode): Promise<LabResult> {
  return withLab({ a, b }, async (lab) => {
    const counters = await startSeeds(lab);
    const seeds = [`${LAB.pub}:4100`, `${LAB.pub2}:4100`];
    // Behind block-udp only the relay on 10.99.0.1 answers: one reservation is all there can be.
    const extra = (host: LabHost): string[] => ((host === 'hostA' ? a : b) === 'block-udp' ? ['--min-relays=1'] : []);
    const run = (providerHost: LabHost, clientHost: LabHost, port: number, service: string) => {
      const provider = lab.node(providerHost, SCRIPT, ['provider', String(port), ...seeds, `--service=${service}`, ...extra(providerHost)]);
      const client = lab.node(clientHost, SCRIPT, ['client', String(port), ...seeds, `--service=${service}`, ...extra(clientHost)]);
      return Promise.all([provider.message<ProviderReport>('provider', 40_000), client.message<ClientReport>('client', 90_000)]);
    };
    const [[providerA, clientB], [providerB, clientA]] = await Promise.all([run('hostA', 'hostB', 4200, 'web-a'), run('hostB', 'hostA', 4300, 'web-b')]);
    const results: Array<[LabMode, ProviderReport, LabMode, ClientReport]> = [
      [a, providerA, b, clientB],
      [b, providerB, a, clientA],
    ];
    const paths = results.map(([providerMode, provider, clientMode, client]) => {
      const path = checkReport(client.client);
      const status = provider.provider.status;
      const relays = status.relays.map((relay) => `${relay.address.host}:${relay.address.port}`).join(' ');
      t.diagnostic(
        `provider ${providerMode} (${status.mapping}, reachable ${status.reachable}, relays ${relays || 'none'}, verdict ${provider.provider.ms.verdict} ms: ${phasesText(provider.provider.ms.phases)}) <- client ${clientMode}: ${path}, first byte ${client.client.first.ms} ms (verdict ${client.client.ms.verdict} ms: ${phasesText(client.client.ms.phases)}; lookup ${client.client.ms.lookup} ms, upgrade wait ${client.client.ms.upgradeWait} ms)`,
      );
      return path;
    });
    await new Promise((resolve) => setTimeout(resolve, 600)); // the seeds' next stats line covers the whole transfer
    const forwarded = { pub: counters.pub(), pub2: counters.pub2() };
    t.diagnostic(`relays forwarded: ${LAB.pub} ${forwarded.pub} B, ${LAB.pub2} ${forwarded.pub2} B`);
    return { paths: [paths[0], paths[1]], providers: [providerA.provider, providerB.provider], forwarded };
  });
}

test('NAT lab: open/cone: direct both ways (dialled at once to the open side, hole-punched to the cone side)', options, async (t) => {
  const [toOpen, toCone] = (await labRun(t, 'open', 'cone')).paths;
  assert.equal(toOpen, 'direct');
  // Normally punched; plain direct is as good when the cone side's NAT already let the client in.
  assert.notEqual(toCone, 'relayed');
});

test('NAT lab: cone/cone: relayed at first, then moved to a hole-punched direct path', options, async (t) => {
  const [ab, ba] = (await labRun(t, 'cone', 'cone')).paths;
  assert.notEqual(ab, 'relayed');
  assert.notEqual(ba, 'relayed');
});

test('NAT lab: sym/cone: punched both ways (the birthday strategy), as docs/nat.md says', options, async (t) => {
  const [toSym, toCone] = (await labRun(t, 'sym', 'cone')).paths;
  assert.equal(toSym, 'punched');
  assert.equal(toCone, 'punched');
});

test('NAT lab: sym/sym: connects through the relay', options, async (t) => {
  const [ab, ba] = (await labRun(t, 'sym', 'sym')).paths;
  assert.equal(ab, 'relayed');
  assert.equal(ba, 'relayed');
});

test('NAT lab: block-udp/cone: relayed both ways, through the relay on 10.99.0.1 (the only UDP the firewall lets out)', options, async (t) => {
  const { paths, providers, forwarded } = await labRun(t, 'block-udp', 'cone');
  assert.deepEqual(paths, ['relayed', 'relayed'], 'no direct or punched path gets through block-udp');
  const blocked = providers[0].status;
  assert.notEqual(blocked.reachable, true, 'the provider behind block-udp is not reachable');
  assert.ok(blocked.relays.length >= 1, 'it holds a relay reservation');
  for (const relay of blocked.relays) assert.equal(relay.address.host, LAB.pub, 'its relays are the one on 10.99.0.1');
  // Both circuits (blocked provider <- cone client, cone provider <- blocked client) run through 10.99.0.1.
  assert.ok(forwarded.pub >= 2 * BIG, `the relay on ${LAB.pub} carried both transfers (${forwarded.pub} B)`);
  assert.equal(forwarded.pub2, 0, `the relay on ${LAB.pub2}, blocked for the block-udp side, carried nothing`);
});
