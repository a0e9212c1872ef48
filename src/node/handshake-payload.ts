/**
 * The tunnel handshake's payloads. The init payload is the service name's UTF-8 bytes, or
 * in consortium mode 0xFF | name length (1) | name | certificate: UTF-8 never contains
 * 0xFF, so a node without consortium mode reads the name from either form, and a node
 * with it can tell whether a certificate came along. The accept payload is a status byte,
 * followed in consortium mode by the provider's certificate.
 */
import { encodeServiceName } from '../discovery/service-name.js';

const EXTENDED = 0xff;
/** Accept status: the service is offered and the initiator admitted. */
export const ACCEPT_OK = 0;

/** The init payload naming `service`, with `certificate` when consortium mode has one. */
export function encodeInitPayload(service: string, certificate?: Uint8Array): Uint8Array {
  const name = encodeServiceName(service);
  if (certificate === undefined) return name;
  const out = new Uint8Array(2 + name.length + certificate.length);
  out[0] = EXTENDED;
  out[1] = name.length;
  out.set(name, 2);
  out.set(certificate, 2 + name.length);
  return out;
}

/** The service name and the certificate (empty when none) of an init payload; null when malformed. Never throws. */
export function decodeInitPayload(payload: Uint8Array): { service: string; certificate: Uint8Array } | null {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    if (payload[0] !== EXTENDED) return { service: decoder.decode(payload), certificate: new Uint8Array(0) };
    const length = payload[1] ?? 0;
    if (length === 0 || payload.length < 2 + length) return null;
    return { service: decoder.decode(payload.subarray(2, 2 + length)), certificate: payload.subarray(2 + length) };
  } catch {
    return null;
  }
}

/** The accept payload: the OK status and, in consortium mode, the provider's certificate. */
export function encodeAcceptPayload(certificate?: Uint8Array): Uint8Array {
  if (certificate === undefined) return Uint8Array.of(ACCEPT_OK);
  const out = new Uint8Array(1 + certificate.length);
  out[0] = ACCEPT_OK;
  out.set(certificate, 1);
  return out;
}
