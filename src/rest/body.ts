/**
 * Request bodies: read with a size limit, parsed as JSON without prototype tricks, and
 * validated field by field so that a bad input gets a 400 naming the field.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Visibility } from '../consortium/policy.js';
import { HttpProblem } from './problem.js';

/** Largest request body, bytes. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Reads and parses a JSON object body; an empty body is `{}`. */
export async function readJsonBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const type = request.headers['content-type'];
  const length = request.headers['content-length'];
  if (length !== undefined && Number(length) > MAX_BODY_BYTES) {
    request.resume();
    throw new HttpProblem('ERR_PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      // Stop reading; `connection: close` makes the server drop the unread rest with the connection.
      throw new HttpProblem('ERR_PAYLOAD_TOO_LARGE', `the body is larger than ${MAX_BODY_BYTES} bytes`, undefined, { connection: 'close' });
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (type !== undefined && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpProblem('ERR_UNSUPPORTED_MEDIA_TYPE', `expected content-type application/json, got "${type.slice(0, 100)}"`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks, size).toString('utf8'), (key, value: unknown) => (key === '__proto__' ? undefined : value));
  } catch (error) {
    throw new HttpProblem('ERR_INVALID_ARGUMENT', `invalid "body": not valid JSON (${(error as Error).message})`, 'body');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new HttpProblem('ERR_INVALID_ARGUMENT', 'invalid "body": expected a JSON object', 'body');
  return parsed as Record<string, unknown>;
}

function bad(field: string, problem: string): HttpProblem {
  return new HttpProblem('ERR_INVALID_ARGUMENT', `invalid "${field}": ${problem}`, field);
}

/** Refuses fields the route does not know (a typo must not be silently ignored). */
export function onlyFields(body: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw bad(key, `unknown field (expected ${allowed.join(', ')})`);
}

export function requiredString(body: Record<string, unknown>, field: string, maxLength = 1024): string {
  const value = body[field];
  if (typeof value !== 'string' || value.length === 0) throw bad(field, 'expected a non-empty string');
  if (value.length > maxLength) throw bad(field, `at most ${maxLength} characters`);
  return value;
}

export function integer(value: unknown, field: string, min: number, max: number): number {
  const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < min || number > max) throw bad(field, `expected an integer ${min}..${max}`);
  return number;
}

export function optionalInteger(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  return body[field] === undefined ? undefined : integer(body[field], field, min, max);
}

/**
 * `visibility`: `'public'`, `'org'` or `{ orgs?: string[], nodes?: string[] }` (the node checks
 * the IDs: an organisation it does not trust, or no consortium mode, is its 400 naming `visibility`).
 */
export function optionalVisibility(body: Record<string, unknown>, field: string): Visibility | undefined {
  const value = body[field];
  if (value === undefined || value === 'public' || value === 'org') return value;
  const expected = "expected 'public', 'org' or { orgs: [organisation IDs], nodes: [node IDs] }";
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw bad(field, expected);
  const entry = value as Record<string, unknown>;
  const out: { orgs?: string[]; nodes?: string[] } = {};
  for (const key of Object.keys(entry)) {
    const list = entry[key];
    if ((key !== 'orgs' && key !== 'nodes') || !Array.isArray(list) || !list.every((item) => typeof item === 'string')) throw bad(`${field}.${key}`, expected);
    out[key] = list;
  }
  return out;
}

export function optionalBoolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw bad(field, 'expected true or false');
  return value;
}

/** Standard or URL-safe base64, checked (Buffer.from silently skips bad characters). */
export function base64(value: unknown, field: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw bad(field, 'expected base64');
  const bytes = Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
  if (bytes.length > maxBytes) throw bad(field, `at most ${maxBytes} bytes decoded (got ${bytes.length})`);
  return new Uint8Array(bytes);
}

/** A hex string of exactly `bytes` bytes. */
export function hex(value: string, field: string, bytes: number): Uint8Array {
  if (value.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(value)) throw bad(field, `expected ${bytes * 2} hex characters`);
  return new Uint8Array(Buffer.from(value, 'hex'));
}

/** A host to listen on or connect to: an IP literal or `localhost`. */
export function host(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) throw bad(field, 'expected an IP address or "localhost"');
  const unbracketed = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (unbracketed === 'localhost') return '127.0.0.1';
  if (!/^[0-9a-fA-F:.]+$/.test(unbracketed) || !isIpLiteral(unbracketed)) throw bad(field, `"${value.slice(0, 100)}" is not an IP address or "localhost"`);
  return unbracketed;
}

function isIpLiteral(text: string): boolean {
  return isIP(text) !== 0;
}
