import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DATAGRAM_KINDS, ENVELOPE_BODIES, NEVER_OVER_CIRCUIT, RemoteErrorCode } from '../../src/wire/registry.js';
import { MAX_DATAGRAM_SIZE, MAX_INNER_DATAGRAM_SIZE } from '../../src/wire/constants.js';
import { EnvelopeBodyKinds } from '../../src/wire/codec.js';
import { MAX_DATAGRAM as TUNNEL_MAX_DATAGRAM, MAX_PAYLOAD, TUNNEL_PACKET_TYPE, RELAYED_PACKET_TYPE } from '../../src/tunnel/packet.js';
import { MAX_RELAYED_INNER_SIZE, RELAY_HEADER_SIZE } from '../../src/nat/relay-packet.js';
import { IDENTIFY_REQUEST, IDENTIFY_RESPONSE } from '../../src/session/identify.js';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

test('the registry: datagram kinds are unique and the modules use them', () => {
  const bytes = Object.values(DATAGRAM_KINDS).map((kind) => kind.byte);
  assert.equal(new Set(bytes).size, bytes.length);
  assert.equal(TUNNEL_PACKET_TYPE, DATAGRAM_KINDS.tunnel.byte);
  assert.equal(RELAYED_PACKET_TYPE, DATAGRAM_KINDS.relayed.byte);
  assert.equal(IDENTIFY_REQUEST, DATAGRAM_KINDS.identifyRequest.byte);
  assert.equal(IDENTIFY_RESPONSE, DATAGRAM_KINDS.identifyResponse.byte);
});

test('the registry: every envelope body has its facts; the DHT never runs over circuits', () => {
  assert.deepEqual(Object.keys(ENVELOPE_BODIES).sort(), [...EnvelopeBodyKinds].sort());
  for (const kind of ['findNode', 'findValue', 'store', 'kadPing'] as const) assert.ok(NEVER_OVER_CIRCUIT.includes(kind), kind);
  for (const kind of ['tunnelInit', 'relayConnect', 'holepunchOffer', 'ping'] as const) assert.ok(!NEVER_OVER_CIRCUIT.includes(kind), kind);
});

test('size limits tie the layers: a tunnel datagram fits a relay circuit exactly', () => {
  assert.equal(TUNNEL_MAX_DATAGRAM, MAX_INNER_DATAGRAM_SIZE);
  assert.equal(MAX_RELAYED_INNER_SIZE, MAX_INNER_DATAGRAM_SIZE);
  assert.equal(MAX_INNER_DATAGRAM_SIZE + RELAY_HEADER_SIZE, MAX_DATAGRAM_SIZE);
});

test('docs/protocol.md lists exactly the registry datagram kinds and error codes; docs/tunnel.md the tunnel limits', () => {
  const protocol = doc('protocol.md');
  const rows = [...protocol.matchAll(/^\| `0x([0-9a-f]{2})` \| (.+?) \| (.+?) \|$/gm)].map((match) => ({
    byte: parseInt(match[1], 16),
    description: match[2],
  }));
  assert.deepEqual(
    rows.map((row) => row.byte).sort(),
    Object.values(DATAGRAM_KINDS)
      .map((kind) => kind.byte)
      .sort(),
  );
  for (const kind of Object.values(DATAGRAM_KINDS)) assert.equal(rows.find((row) => row.byte === kind.byte)!.description, kind.description);
  const codes = [...protocol.matchAll(/^\| (\d) \| ([a-z ]+):/gm)].map((match) => Number(match[1]));
  assert.deepEqual(
    codes,
    Object.values(RemoteErrorCode).filter((value) => typeof value === 'number'),
  );
  const tunnel = doc('tunnel.md');
  assert.match(tunnel, new RegExp(`Largest datagram ${TUNNEL_MAX_DATAGRAM} bytes`));
  assert.match(tunnel, new RegExp(`at most ${MAX_PAYLOAD} bytes of frames`));
});
