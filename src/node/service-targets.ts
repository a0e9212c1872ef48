/**
 * What a registered service is, locally: a TCP service to bridge streams to
 * (`{ port, host }`) or an in-process stream handler. Discovery publishes the name;
 * the tunnel layer asks this table where an incoming stream for that name goes.
 */
import type { Duplex } from 'node:stream';
import { invalidArgument } from '../errors.js';
import type { ServiceMetadata } from '../discovery/provider-record.js';
import type { Visibility } from '../consortium/policy.js';

/** Handles one incoming stream of a service registered with `handler`. */
export type StreamHandler = (stream: Duplex, info: { service: string; peer: string }) => void;

/** Options of `MccNode.register`. */
export interface RegisterServiceOptions {
  /** TCP port of an existing service to expose (each incoming stream becomes one TCP connection). */
  port?: number;
  /** Host of that TCP service. Default `127.0.0.1`. */
  host?: string;
  /** Or handle streams in-process. Exactly one of `port` and `handler`. */
  handler?: StreamHandler;
  /** Small JSON metadata published with the record (at most 512 bytes encoded). */
  metadata?: ServiceMetadata;
  /** Record lifetime in ms, 10 s to 24 h. Default 2 minutes: a crashed provider vanishes from lookups within it. */
  ttl?: number;
  /** Cancels the first publish; aborting later unregisters. */
  signal?: AbortSignal;
  /**
   * Who may see and connect (consortium mode only): `'public'` (default), `'org'` (this
   * node's organisation) or `{ orgs, nodes }` besides it. A restricted service's record is
   * stored under keys outsiders cannot derive, sealed for the allowed organisations and
   * nodes, and its handshake refuses everyone else before any service byte.
   */
  visibility?: Visibility;
}

/** Where incoming streams of a service go. */
export type ServiceTarget = { kind: 'tcp'; host: string; port: number } | { kind: 'handler'; handler: StreamHandler };

/** Validates the target part of register options. */
export function serviceTarget(options: RegisterServiceOptions): ServiceTarget {
  if (options === null || typeof options !== 'object') throw invalidArgument('options', 'expected { port } or { handler }');
  const hasPort = options.port !== undefined;
  const hasHandler = options.handler !== undefined;
  if (hasPort === hasHandler) throw invalidArgument('options', 'give exactly one of "port" (a TCP service) and "handler" (in-process streams)');
  if (hasHandler) {
    if (typeof options.handler !== 'function') throw invalidArgument('handler', 'expected a function (stream) => void');
    return { kind: 'handler', handler: options.handler };
  }
  if (!Number.isInteger(options.port) || options.port! < 1 || options.port! > 65535) throw invalidArgument('port', 'expected an integer 1..65535');
  if (options.host !== undefined && (typeof options.host !== 'string' || options.host.length === 0))
    throw invalidArgument('host', 'expected a host name or IP');
  return { kind: 'tcp', host: options.host ?? '127.0.0.1', port: options.port! };
}
