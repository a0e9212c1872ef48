/**
 * Frames carried inside a sealed tunnel packet. The layout follows QUIC (RFC 9000 §19)
 * with fewer types and QUIC varints throughout; docs/tunnel.md documents every byte.
 * Encoders write into a caller-owned buffer (no allocation on the data path);
 * the decoder calls a {@link FrameSink} per frame and reports malformed input as false.
 */

import { ByteReader, varintLength, writeVarint } from './varint.js';

/** Frame type bytes. */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  STREAM: 0x08,
  STREAM_FIN: 0x09,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CLOSE: 0x1c,
} as const;

/** Most ACK ranges one frame carries; older ranges are simply not reported again. */
export const MAX_ACK_RANGES = 32;

/** Receives decoded frames, in packet order. `data` is a view into the decrypted packet. */
export interface FrameSink {
  onPing(): void;
  /** `ranges` holds [high, low] pairs (inclusive), highest first. */
  onAck(ranges: number[], ackDelayMicros: number): boolean;
  onStream(id: number, offset: number, data: Uint8Array, fin: boolean): boolean;
  onResetStream(id: number, code: number, finalSize: number): boolean;
  onStopSending(id: number, code: number): boolean;
  onMaxData(max: number): void;
  onMaxStreamData(id: number, max: number): boolean;
  /** `data` is 8 bytes (a view into the packet). */
  onPathChallenge(data: Uint8Array): void;
  /** `data` is 8 bytes (a view into the packet). */
  onPathResponse(data: Uint8Array): void;
  onClose(code: number, reason: string): void;
}

/** Writes a STREAM frame header (the caller copies `length` data bytes right after). */
export function writeStreamHeader(buf: Uint8Array, at: number, id: number, offset: number, length: number, fin: boolean): number {
  buf[at++] = fin ? FrameType.STREAM_FIN : FrameType.STREAM;
  at = writeVarint(buf, at, id);
  at = writeVarint(buf, at, offset);
  return writeVarint(buf, at, length);
}

/** Encoded size of an ACK frame for `ranges` ([high, low] pairs, highest first). */
export function ackFrameLength(ranges: readonly number[], delayMicros: number): number {
  let n = 1 + varintLength(ranges[0]) + varintLength(delayMicros) + varintLength(ranges.length / 2 - 1);
  n += varintLength(ranges[0] - ranges[1]);
  for (let i = 2; i < ranges.length; i += 2) {
    n += varintLength(ranges[i - 1] - ranges[i] - 2) + varintLength(ranges[i] - ranges[i + 1]);
  }
  return n;
}

/** Writes an ACK frame (QUIC layout: largest, delay, range count, first range, then gap/length pairs). */
export function writeAck(buf: Uint8Array, at: number, ranges: readonly number[], delayMicros: number): number {
  buf[at++] = FrameType.ACK;
  at = writeVarint(buf, at, ranges[0]);
  at = writeVarint(buf, at, delayMicros);
  at = writeVarint(buf, at, ranges.length / 2 - 1);
  at = writeVarint(buf, at, ranges[0] - ranges[1]);
  for (let i = 2; i < ranges.length; i += 2) {
    at = writeVarint(buf, at, ranges[i - 1] - ranges[i] - 2);
    at = writeVarint(buf, at, ranges[i] - ranges[i + 1]);
  }
  return at;
}

/** Encoded size of a frame made of a type byte and varints. */
export function varintFrameLength(...values: number[]): number {
  let n = 1;
  for (const v of values) n += varintLength(v);
  return n;
}

/** Writes a frame made of a type byte and varints (RESET_STREAM, STOP_SENDING, MAX_DATA, MAX_STREAM_DATA, PING). */
export function writeVarintFrame(buf: Uint8Array, at: number, type: number, ...values: number[]): number {
  buf[at++] = type;
  for (const v of values) at = writeVarint(buf, at, v);
  return at;
}

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder('utf-8', { fatal: false });

/** Encodes a CLOSE frame; the reason is truncated to 200 bytes so it always fits a packet. */
export function encodeClose(code: number, reason: string): Uint8Array {
  const text = textEncoder.encode(reason).subarray(0, 200);
  const out = new Uint8Array(varintFrameLength(code, text.length) + text.length);
  const at = writeVarintFrame(out, 0, FrameType.CLOSE, code, text.length);
  out.set(text, at);
  return out;
}

/** Decodes every frame of a decrypted payload into `sink`; false when any frame is malformed. */
export function decodeFrames(payload: Uint8Array, sink: FrameSink): boolean {
  const r = new ByteReader(payload);
  while (r.remaining > 0) {
    const type = r.byte();
    switch (type) {
      case FrameType.PADDING:
        break;
      case FrameType.PING:
        sink.onPing();
        break;
      case FrameType.ACK: {
        const largest = r.varint();
        const delay = r.varint();
        const count = r.varint();
        const first = r.varint();
        if (largest < 0 || delay < 0 || count < 0 || first < 0 || first > largest || count > 256) return false;
        const ranges = [largest, largest - first];
        let low = largest - first;
        for (let i = 0; i < count; i++) {
          const gap = r.varint();
          const length = r.varint();
          if (gap < 0 || length < 0) return false;
          const high = low - gap - 2;
          if (high < 0 || length > high) return false;
          low = high - length;
          ranges.push(high, low);
        }
        if (!sink.onAck(ranges, delay)) return false;
        break;
      }
      case FrameType.STREAM:
      case FrameType.STREAM_FIN: {
        const id = r.varint();
        const offset = r.varint();
        const length = r.varint();
        if (id < 0 || offset < 0 || length < 0) return false;
        const data = r.bytes(length);
        if (data === null) return false;
        if (!sink.onStream(id, offset, data, type === FrameType.STREAM_FIN)) return false;
        break;
      }
      case FrameType.RESET_STREAM: {
        const id = r.varint();
        const code = r.varint();
        const finalSize = r.varint();
        if (id < 0 || code < 0 || finalSize < 0 || !sink.onResetStream(id, code, finalSize)) return false;
        break;
      }
      case FrameType.STOP_SENDING: {
        const id = r.varint();
        const code = r.varint();
        if (id < 0 || code < 0 || !sink.onStopSending(id, code)) return false;
        break;
      }
      case FrameType.MAX_DATA: {
        const max = r.varint();
        if (max < 0) return false;
        sink.onMaxData(max);
        break;
      }
      case FrameType.MAX_STREAM_DATA: {
        const id = r.varint();
        const max = r.varint();
        if (id < 0 || max < 0 || !sink.onMaxStreamData(id, max)) return false;
        break;
      }
      case FrameType.PATH_CHALLENGE:
      case FrameType.PATH_RESPONSE: {
        const data = r.bytes(8);
        if (data === null) return false;
        if (type === FrameType.PATH_CHALLENGE) sink.onPathChallenge(data);
        else sink.onPathResponse(data);
        break;
      }
      case FrameType.CLOSE: {
        const code = r.varint();
        const length = r.varint();
        if (code < 0 || length < 0) return false;
        const text = r.bytes(length);
        if (text === null) return false;
        sink.onClose(code, textDecoder.decode(text));
        break;
      }
      default:
        return false;
    }
  }
  return true;
}
