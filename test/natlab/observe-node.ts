/**
 * A node process for the NAT lab. Roles:
 *   serve  PORT                  answer pings on 0.0.0.0:PORT; prints {"ready":true,"id":...}
 *   observe PORT OBS1 OBS2 ...   ping each observer ("host:port"), classify, print {"observations":[...],"state":{...}}
 * Runs until killed (serve) or after printing (observe).
 */
import { MccNode } from '../../src/node/node.js';
import { NatClassifier } from '../../src/nat/classifier.js';
import { systemClock } from '../../src/util/clock.js';
import { parseAddress } from '../../src/util/address.js';

const [role, portText, ...rest] = process.argv.slice(2);
const port = Number(portText ?? 0);

if (role === 'serve') {
  const node = await MccNode.create({ host: '0.0.0.0', port });
  await node.start();
  console.log(JSON.stringify({ ready: true, id: node.idHex, address: node.address }));
  const stop = async (): Promise<void> => {
    await node.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
} else if (role === 'observe') {
  const node = await MccNode.create({ host: '0.0.0.0', port });
  await node.start();
  const classifier = new NatClassifier({ clock: systemClock, localAddresses: [node.address] });
  const observations: Array<{ observer: string; observed: unknown }> = [];
  for (const text of rest) {
    const observer = parseAddress(text);
    try {
      const result = await node.ping(observer, { timeoutMs: 3000 });
      if (result.observed) classifier.observe(result.id, observer, result.observed);
      observations.push({ observer: text, observed: result.observed });
    } catch (error) {
      observations.push({ observer: text, observed: null });
      console.error(`ping ${text} failed: ${(error as Error).message}`);
    }
  }
  console.log(JSON.stringify({ observations, state: classifier.state }));
  await node.stop();
  process.exit(0);
} else {
  console.error('usage: observe-node.ts serve PORT | observe PORT HOST:PORT...');
  process.exit(2);
}
