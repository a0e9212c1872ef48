/**
 * JSON Schemas of the bodies in types.ts, for the OpenAPI document (`components.schemas`).
 * Routes refer to them with {@link ref}; a test checks real answers against them.
 */
import type { Schema } from './route.js';

/** A reference to a component schema. */
export function ref(name: keyof typeof SCHEMAS): Schema {
  return { $ref: `#/components/schemas/${name}` };
}

const string: Schema = { type: 'string' };
const integer: Schema = { type: 'integer' };
const number: Schema = { type: 'number' };
const hexId: Schema = { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Node ID: Ed25519 public key, hex' };
const address: Schema = { type: 'string', description: '`host:port`, IPv6 in brackets', examples: ['127.0.0.1:4100'] };
const metadata: Schema = { description: 'Small JSON metadata published with the record (at most 512 bytes encoded)' };
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const object = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const relay = object({ id: hexId, address });
const visibility: Schema = {
  description: "who may see and connect: 'public', 'org' (the provider's organisation) or organisation IDs and node IDs (consortium mode)",
  anyOf: [
    { enum: ['public', 'org'] },
    object(
      {
        orgs: { type: 'array', items: { type: 'string', pattern: '^[0-9a-f]{128}$' }, description: 'organisation IDs' },
        nodes: { type: 'array', items: hexId },
      },
      [],
    ),
  ],
};

export const SCHEMAS = {
  NodeInfo: object({
    id: hexId,
    running: { type: 'boolean' },
    address: nullable(address),
    crypto: { ...string, description: 'crypto suite in use' },
    nat: object({
      mapping: { enum: ['unknown', 'public', 'consistent', 'random'] },
      reachable: nullable({ type: 'boolean' }),
      publicAddress: nullable(address),
      dht: { enum: ['server', 'client'] },
      relays: { type: 'array', items: relay },
    }),
    peers: integer,
    stats: { type: 'object', description: 'Counters of node.stats() (the same as /metrics)' },
  }),
  Peer: object({ id: hexId, address, lastSeen: number, rttMs: nullable(number) }),
  Service: object({
    name: string,
    state: { enum: ['publishing', 'published', 'retrying', 'withdrawn'] },
    target: nullable({ ...address, description: 'the TCP service, or null for an in-process handler' }),
    metadata,
    ttlMs: integer,
    stored: integer,
    visibility,
  }),
  RegisterBody: object(
    {
      name: { ...string, minLength: 1, description: 'service name (at most 128 bytes of UTF-8)' },
      host: { ...string, description: 'host of the TCP service; default 127.0.0.1' },
      port: { type: 'integer', minimum: 1, maximum: 65535 },
      metadata,
      ttl: { type: 'integer', minimum: 10_000, maximum: 86_400_000, description: 'record lifetime, ms' },
      visibility,
    },
    ['name', 'port'],
  ),
  Provider: object({
    id: hexId,
    addresses: { type: 'array', items: address },
    relays: { type: 'array', items: relay },
    metadata,
    seq: integer,
    expiresAt: { ...integer, description: 'wall-clock ms' },
    rttMs: nullable(number),
  }),
  ProvidersPage: object({ name: string, providers: { type: 'array', items: { $ref: '#/components/schemas/Provider' } }, nextCursor: nullable(string) }),
  WatchEvent: object({ type: { enum: ['added', 'updated', 'removed'] }, provider: { $ref: '#/components/schemas/Provider' } }),
  Forward: object({ name: string, host: string, port: integer, connections: integer, failed: integer }),
  ForwardBody: object(
    {
      name: { ...string, minLength: 1 },
      port: { type: 'integer', minimum: 0, maximum: 65535, description: 'local TCP port; 0 picks a free one' },
      host: { ...string, description: 'local host to listen on; default 127.0.0.1' },
    },
    ['name', 'port'],
  ),
  DhtPutBody: object(
    {
      value: { ...string, contentEncoding: 'base64', description: 'at most 1000 bytes decoded' },
      mutable: { type: 'boolean', description: "signed by this node's key under (key, salt); default false" },
      salt: { ...string, contentEncoding: 'base64', description: 'at most 64 bytes decoded' },
      seq: { type: 'integer', minimum: 0 },
    },
    ['value'],
  ),
  DhtPutResult: object({ key: { type: 'string', pattern: '^[0-9a-f]{64}$' }, seq: nullable(integer), stored: integer }),
  DhtValue: object({
    key: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    value: { ...string, contentEncoding: 'base64' },
    seq: nullable(integer),
    publicKey: nullable(hexId),
  }),
  PingBody: object({ address, timeoutMs: { type: 'integer', minimum: 1, maximum: 60_000 } }, ['address']),
  PingResult: object({ id: hexId, rttMs: number, observed: nullable(address) }),
  State: object({
    node: { $ref: '#/components/schemas/NodeInfo' },
    peers: { type: 'array', items: { $ref: '#/components/schemas/Peer' } },
    services: { type: 'array', items: { $ref: '#/components/schemas/Service' } },
    forwards: { type: 'array', items: { $ref: '#/components/schemas/Forward' } },
    tunnels: {
      type: 'array',
      items: object({ peer: hexId, address, relayed: { type: 'boolean' }, rttMs: number, bytesSent: integer, bytesReceived: integer }),
    },
    lookups: {
      type: 'array',
      items: object({
        name: string,
        at: integer,
        providers: {
          type: 'array',
          items: object({ id: hexId, addresses: { type: 'array', items: address }, relays: integer, metadata, rttMs: nullable(number) }),
        },
      }),
    },
  }),
  Problem: {
    type: 'object',
    description: 'RFC 9457 problem details',
    properties: {
      type: { ...string, format: 'uri', description: 'stable kind, e.g. urn:mcc-mesh:problem:invalid-argument' },
      title: string,
      status: integer,
      detail: string,
      code: { ...string, description: 'the MccError code' },
      field: { ...string, description: 'the request field at fault' },
    },
    required: ['type', 'title', 'status', 'detail', 'code'],
  },
} satisfies Record<string, Schema>;
