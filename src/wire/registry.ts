/**
 * The protocol registry: one table for every fact about the wire that more than one module
 * needs — datagram kinds (byte 0), envelope bodies (which module owns each, whether it may
 * travel through a relay circuit, how a first-contact request carrying it is padded), the
 * error codes peers send each other, and the size limits that tie the layers together.
 * Modules read their constants from here; docs/protocol.md and docs/tunnel.md are checked
 * against it by test/wire/registry.test.ts.
 */
import type { EnvelopeBodyKind } from './generated/mcc.types.js';
import { PACKET_IDENTIFY_REQUEST, PACKET_IDENTIFY_RESPONSE, PACKET_LAN_ANNOUNCE, PACKET_RELAYED, PACKET_SESSION, PACKET_TUNNEL } from './constants.js';

/** One datagram kind: its first byte and who handles it. */
export interface DatagramKind {
  /** Byte 0 of the datagram: the protocol version nibble and the kind. */
  readonly byte: number;
  /** The module that parses it. */
  readonly owner: 'session' | 'tunnel' | 'nat' | 'lan';
  /** What it carries, as docs/protocol.md's kinds table says. */
  readonly description: string;
}

/** Every datagram kind of protocol version 1. Any other first byte is dropped as malformed. */
export const DATAGRAM_KINDS = {
  session: { byte: PACKET_SESSION, owner: 'session', description: 'session datagram: a sealed Envelope between two node identities' },
  tunnel: { byte: PACKET_TUNNEL, owner: 'tunnel', description: 'tunnel datagram: a packet of a forward-secret tunnel connection' },
  relayed: {
    byte: PACKET_RELAYED,
    owner: 'nat',
    description: 'relayed datagram (circuit ID + inner datagram), or hole-punch probe; handled below the session',
  },
  identifyRequest: {
    byte: PACKET_IDENTIFY_REQUEST,
    owner: 'session',
    description: 'identify request: cleartext first-contact probe asking a bootstrap address for its node ID',
  },
  identifyResponse: {
    byte: PACKET_IDENTIFY_RESPONSE,
    owner: 'session',
    description: 'identify response: the node ID (proven by the sealed ping that follows)',
  },
  lanAnnounce: {
    byte: PACKET_LAN_ANNOUNCE,
    owner: 'lan',
    description: 'LAN announcement: node ID and port signed by the node key, multicast on the local link (own socket, never the session port)',
  },
} as const satisfies Record<string, DatagramKind>;

/** How a first-contact request is padded (anti-amplification, docs/protocol.md section 6). */
export type PaddingClass = 'first-contact' | 'large-answer';

/** Facts about one envelope body. */
export interface BodyFacts {
  /** The module that handles it. */
  readonly owner: 'rpc' | 'node' | 'kademlia' | 'discovery' | 'nat' | 'tunnel' | 'consortium';
  /** False for bodies a node drops when they arrive through a relay circuit (the DHT never runs over circuits). */
  readonly overCircuit: boolean;
  /** First-contact padding of a request carrying it: a full datagram when its answer may fill one. */
  readonly padding: PaddingClass;
}

const body = (owner: BodyFacts['owner'], overCircuit = true, padding: PaddingClass = 'first-contact'): BodyFacts => ({ owner, overCircuit, padding });

/** Every envelope body (the `body` oneof of proto/mcc.proto). */
export const ENVELOPE_BODIES: Readonly<Record<EnvelopeBodyKind, BodyFacts>> = {
  ping: body('node'),
  pong: body('node'),
  cookie: body('rpc'),
  error: body('rpc'),
  findNode: body('kademlia', false, 'large-answer'),
  findNodeResult: body('kademlia', false),
  findValue: body('kademlia', false, 'large-answer'),
  findValueResult: body('kademlia', false),
  store: body('kademlia', false),
  storeResult: body('kademlia', false),
  kadPing: body('kademlia', false),
  natDialBackRequest: body('nat'),
  natDialBack: body('nat'),
  natAck: body('nat'),
  natEchoRequest: body('nat'),
  natProbe: body('nat'),
  relayReserve: body('nat'),
  relayReservation: body('nat'),
  relayConnect: body('nat'),
  relayCircuit: body('nat'),
  relayIncoming: body('nat'),
  holepunchOffer: body('nat'),
  tunnelInit: body('tunnel'),
  tunnelAccept: body('tunnel'),
  // Consortium: certificate exchange for the DHT and relay policies (a circuit's far end may ask too).
  certificateRequest: body('consortium'),
  certificateResponse: body('consortium'),
  // Live watch: subscriptions at a key's holders are DHT traffic, so they never ride a circuit either.
  watchSubscribe: body('discovery', false),
  watchSubscribed: body('discovery', false),
  watchNotify: body('discovery', false),
  watchAck: body('discovery', false),
};

/** The bodies a node drops when they arrive through a relay circuit. */
export const NEVER_OVER_CIRCUIT: readonly EnvelopeBodyKind[] = (Object.keys(ENVELOPE_BODIES) as EnvelopeBodyKind[]).filter(
  (kind) => !ENVELOPE_BODIES[kind].overCircuit,
);

/** `Error.code` values peers send in an `error` body. Codes never change meaning. */
export enum RemoteErrorCode {
  /** Anything else: an internal failure the answer does not describe. */
  Internal = 1,
  /** The request was malformed or named something invalid. */
  InvalidArgument = 2,
  /** A limit refused it (a budget, a full table, an unvalidated address). */
  Limit = 3,
  /** What it asked for is not here (a service not offered, an unknown target). */
  NotFound = 4,
}
