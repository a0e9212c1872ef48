/**
 * A transport view that counts what is sent through it into a node's stats. The session
 * layer counts its own sends; tunnel packets go to the socket past it, and without this
 * `datagramsOut` missed them while `datagramsIn` (counted where the socket delivers) had them.
 */
import type { Stats } from '../util/stats.js';
import type { Transport } from './types.js';

/** `transport`, with every `send` and `sendParts` added to `stats.datagramsOut` and `stats.bytesOut`. */
export function countedSends(transport: Transport, stats: Stats): Transport {
  return {
    bind: () => transport.bind(),
    send(to, data) {
      stats.datagramsOut++;
      stats.bytesOut += data.length;
      transport.send(to, data);
    },
    ...(transport.sendParts
      ? {
          sendParts(to, header, body) {
            stats.datagramsOut++;
            stats.bytesOut += header.length + body.length;
            transport.sendParts!(to, header, body);
          },
        }
      : {}),
    onDatagram: (handler) => transport.onDatagram(handler),
    localAddress: () => transport.localAddress(),
    close: () => transport.close(),
  };
}
