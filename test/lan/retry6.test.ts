/**
 * An IPv6 interface that cannot be opened at start (its address still settling after the link
 * came up) is tried again after 0.5, 1, 2, 4 and 8 s, then left alone; stop() cancels the
 * retries. Here the interface's address does not exist at all, so every attempt fails before
 * a socket could send anything (nothing leaves the machine: the sender cannot even bind).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LanDiscovery } from '../../src/lan/lan-discovery.js';
import { generateIdentity, nodeCryptoSuite } from '../../src/crypto/index.js';
import { VirtualClock } from '../../src/util/virtual-clock.js';
import type { Logger } from '../../src/util/logger.js';

function discovery(clock: VirtualClock, failures: number[]): LanDiscovery {
  const logger: Logger = {
    debug: (message) => {
      if (message.startsWith('lan: no IPv6 announcements on lo')) failures.push(clock.now());
    },
    info: () => {},
    warn: () => {},
    error: () => {},
  };
  return new LanDiscovery({
    suite: nodeCryptoSuite,
    identity: generateIdentity(nodeCryptoSuite),
    clock,
    wallClock: () => Date.now(),
    logger,
    nodePort: 1,
    port: 0,
    interfaces: [{ name: 'lo', family: 6, address: 'fe80::dead:beef%lo', netmask: 'ffff:ffff:ffff:ffff::', subnets: [], loopback: true }],
    onPeer: () => assert.fail('nothing can be heard'),
  });
}

async function advance(clock: VirtualClock, ms: number): Promise<void> {
  for (let at = 0; at < ms; at += 250) {
    clock.advance(250);
    await sleep(15); // the attempt's real socket calls
  }
}

test('an IPv6 interface that fails at start is tried again 5 times with doubling pauses, then left alone', async () => {
  const clock = new VirtualClock();
  const failures: number[] = [];
  const lan = discovery(clock, failures);
  await lan.start();
  assert.deepEqual(failures, [0]);
  assert.equal(lan.active, false);
  await advance(clock, 30_000);
  const pauses = failures.slice(1).map((at, i) => at - failures[i]);
  assert.deepEqual(pauses, [500, 1000, 2000, 4000, 8000]);
  assert.equal(lan.active, false);
  assert.equal(lan.stats().sent, 0);
  await lan.stop();
});

test('stop() cancels the pending retry', async () => {
  const clock = new VirtualClock();
  const failures: number[] = [];
  const lan = discovery(clock, failures);
  await lan.start();
  await lan.stop();
  await advance(clock, 20_000);
  assert.deepEqual(failures, [0]);
});
