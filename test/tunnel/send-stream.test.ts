/** The send half of a stream: it is done only once the FIN and every byte before it are acknowledged. */
import assert from 'node:assert/strict';
import test from 'node:test';
import { SendStream } from '../../src/tunnel/send-stream.js';

test('an acknowledged FIN does not end the stream while earlier bytes still need retransmitting', () => {
  const send = new SendStream(1 << 20, 1 << 20);
  assert.equal(send.write(new Uint8Array(2000).fill(7)), 2000);
  send.finish();
  const first = send.nextFrame(1000, 1 << 20)!;
  const last = send.nextFrame(1000, 1 << 20)!;
  assert.deepEqual([first.offset, first.length, first.fin], [0, 1000, false]);
  assert.deepEqual([last.offset, last.length, last.fin], [1000, 1000, true]);
  // The first frame is lost, the one carrying the FIN arrives.
  send.onLost(first.offset, first.length, first.fin);
  send.onAck(last.offset, last.length, last.fin);
  assert.equal(send.finAcked, true);
  assert.equal(send.done, false, 'bytes 0..1000 are still unacknowledged');
  assert.equal(send.wantsToSend(1 << 20), true);
  const again = send.nextFrame(1000, 1 << 20)!;
  assert.deepEqual([again.offset, again.length, again.fin], [0, 1000, false]);
  // A reset is still possible until then.
  send.onAck(again.offset, again.length, again.fin);
  assert.equal(send.done, true);
  assert.equal(send.reset(1), false, 'nothing left to reset');
});
