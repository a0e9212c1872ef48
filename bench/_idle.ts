import { SimNetwork } from '../src/transport/sim/index.js';
import { VirtualClock } from '../src/util/virtual-clock.js';
import { connectPair } from '../test/tunnel/helpers.js';
const clock = new VirtualClock();
const network = new SimNetwork({ clock, defaultLink: { latencyMs: 10 } });
const pair = await connectPair(network.createTransport(), network.createTransport(), clock, { idleTimeoutMs: 3000, keepAliveMs: 1000 });
const stream = pair.clientConnection.openStream();
stream.on('error', (e) => console.log('stream error', e.message));
pair.clientConnection.on('close', (e) => console.log('closed', e));
network.setLink(pair.clientConnection.address.host, pair.serverConnection.address.host, { loss: 1 });
for (let i = 0; i < 10; i++) { await clock.run(500); const c: any = pair.clientConnection.core; console.log(clock.now(), c.state, c.nextTimeout(), c.lastReceived, clock.pending, (pair.clientConnection as any).timerAt); }
