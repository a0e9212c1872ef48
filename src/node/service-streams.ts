/**
 * How a service stream travels: a one-byte-length service-name header in front of the
 * user's bytes, and the bridge that joins a stream to a TCP socket (for `register({ port })`
 * and `forward()`).
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { MccError } from '../errors.js';
import { encodeServiceName } from '../discovery/service-name.js';

/**
 * Joins a tunnel stream and a TCP socket both ways, with backpressure, half-close and error propagation.
 *
 * The socket is set to no-delay (also asked for where it is created, so it holds from the
 * first byte): the tunnel already coalesces writes into full packets, and Nagle's algorithm
 * on a bridged leg holds the tail of an answer until the previous segment is acknowledged,
 * which a delayed-ACK peer does only after ~40 ms, on every request/response exchange.
 */
export function bridge(stream: Duplex, socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('error', (error) => stream.destroy(error));
  stream.on('error', () => socket.destroy());
  socket.once('close', () => {
    if (!stream.destroyed && !stream.writableEnded) stream.destroy();
  });
  stream.once('close', () => {
    if (!socket.destroyed) socket.end();
  });
  // Each tunnel packet arrives as its own chunk: written one by one to a no-delay socket, a
  // 16 KiB answer would cost 15 write calls and 15 TCP segments. Corked until the check phase
  // of this loop turn, the chunks of every datagram read in this poll phase leave in one
  // writev. (Registered before pipe()'s listener, so the cork comes before the write.)
  let corked = false;
  const uncork = (): void => {
    corked = false;
    if (!socket.destroyed) socket.uncork();
  };
  stream.on('data', () => {
    if (corked) return;
    corked = true;
    socket.cork();
    setImmediate(uncork);
  });
  stream.pipe(socket);
  socket.pipe(stream);
  socket.resume();
}

/** One length byte (names are 1..255 bytes) + the UTF-8 name. */
export function streamHeader(service: string): Uint8Array {
  const name = encodeServiceName(service);
  const out = new Uint8Array(name.length + 1);
  out[0] = name.length;
  out.set(name, 1);
  return out;
}

/** Reads a stream header; the bytes after it are pushed back for the service. */
export function readStreamHeader(stream: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (error: MccError | undefined, name?: string): void => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onEnd);
      if (error) reject(error);
      else resolve(name!);
    };
    const onEnd = (): void => finish(new MccError('ERR_STREAM', 'stream ended before its header'));
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = stream.read() as Buffer | null) !== null) {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const length = buffered[0];
        if (length === 0) return finish(new MccError('ERR_STREAM', 'malformed stream header'));
        if (buffered.length < 1 + length) continue;
        const name = buffered.subarray(1, 1 + length).toString('utf8');
        const rest = buffered.subarray(1 + length);
        finish(undefined, name);
        if (rest.length > 0) stream.unshift(rest);
        return;
      }
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onEnd);
  });
}
