/**
 * Circuits to a target that holds no reservation (relay-server.ts): the relay announces the
 * circuit (`RelayIncoming`) to an address the initiator names, which could be anybody's. So
 * what the relay sends there is paid for, byte for byte, by what the initiator sent it:
 *
 * - the initiator's address must be validated (it receives at the address it sends from), else
 *   the relay answers with a cookie ({@link tokenRequest}) and the initiator retries with the token;
 * - each announcement is one datagram, sent in answer to one `RelayConnect` datagram at least
 *   as large ({@link announcementSize}; the initiator pads, {@link unreservedConnectPadding}):
 *   the first `RelayConnect`, then each retransmission while the set-up waits, at most
 *   {@link MAX_UNRESERVED_ANNOUNCEMENTS} in all, and never retransmitted by the RPC layer.
 *
 * A target therefore receives at most as many bytes as the initiator sent the relay. The one
 * exception is a target that answers with a cookie (the RPC layer resends once at once): that
 * answer is sealed with the target's key, so it is a mesh node that asked for it.
 */
import { RemoteErrorCode } from '../wire/registry.js';
import type { Clock } from '../util/clock.js';
import type { InboundMessage } from '../session/session.js';
import { FIRST_CONTACT_SIZE } from '../session/padding.js';
import { encodeEnvelope, type Envelope, type RelayConnect, type RelayIncoming } from '../wire/codec.js';
import { MAX_ENVELOPE_SIZE, NODE_ID_SIZE, PROTOCOL_VERSION, SESSION_OVERHEAD, TOKEN_SIZE } from '../wire/constants.js';
import type { NatPeer, NatRpc } from './types.js';

/** Announcements per set-up to an unreserved target: one per RelayConnect the initiator sends (it retransmits once). */
export const MAX_UNRESERVED_ANNOUNCEMENTS = 2;
/** Largest request ID (its varint is longest). */
const MAX_RID = 0xffffffff;
/** The largest address the relay may report as the initiator's (IPv6, highest port). */
const LARGEST_ADDRESS = { ip: new Uint8Array(16).fill(0xff), port: 0xffff };
/** Most rttFactor allowed (RequestOptions): the one attempt then lasts the whole budget. */
const WHOLE_BUDGET_RTT_FACTOR = 16;
/** Room an error answer needs besides its padding (version, rid, token, error body). */
const ERROR_ANSWER_ROOM = 100;

/**
 * Most bytes one `RelayIncoming` datagram with this body can take on the wire: the session
 * layer pads requests to {@link FIRST_CONTACT_SIZE} (no token held) and adds a token otherwise.
 */
export function announcementSize(relayIncoming: RelayIncoming): number {
  const envelope: Envelope = { version: PROTOCOL_VERSION, rid: MAX_RID, response: false, token: new Uint8Array(TOKEN_SIZE), relayIncoming };
  return Math.max(FIRST_CONTACT_SIZE, SESSION_OVERHEAD + encodeEnvelope(envelope, Number.MAX_SAFE_INTEGER).length);
}

/**
 * The `Envelope.padding` that makes a `RelayConnect` to an unreserved target at least as large
 * as the announcement it asks for (whatever address the relay sees us at); undefined when it is already.
 */
export function unreservedConnectPadding(relayConnect: RelayConnect): Uint8Array | undefined {
  const needed = announcementSize({
    circuitId: relayConnect.circuitId,
    initiator: new Uint8Array(NODE_ID_SIZE),
    initiatorAddress: LARGEST_ADDRESS,
    early: relayConnect.early,
  });
  // Our smallest encoding: a one-byte request ID, no token.
  const bare = SESSION_OVERHEAD + encodeEnvelope({ version: PROTOCOL_VERSION, rid: 1, response: false, relayConnect }).length;
  const missing = needed - bare;
  if (missing <= 0) return undefined;
  // The field costs a tag byte and a length varint (1 byte below 128, else 2) besides its bytes.
  let length = Math.max(0, missing - 3);
  while (length + (length < 128 ? 2 : 3) < missing) length++;
  return new Uint8Array(length);
}

/**
 * The answer to an unvalidated `RelayConnect` to an unreserved target: an error padded past the
 * request's size, which the session layer replaces by a cookie (answers to unvalidated sources
 * never outgrow the request); the initiator's RPC layer retries at once with the token, now
 * validated. A request too large to outgrow gets the error itself (`ERR_LIMIT`).
 */
export function tokenRequest(request: InboundMessage): Envelope {
  const length = Math.max(0, Math.min(request.size - SESSION_OVERHEAD, MAX_ENVELOPE_SIZE - ERROR_ANSWER_ROOM));
  return { error: { code: RemoteErrorCode.Limit, message: 'validate your address first' }, padding: new Uint8Array(length) };
}

/** An announcement in progress (see {@link announceUnreserved}). */
export interface UnreservedAnnouncement {
  /** True once the target accepted; false when every announcement failed or timed out. */
  readonly accepted: Promise<boolean>;
  /** Sends one more announcement (a retransmitted RelayConnect paid for it), within the limits. */
  again: () => void;
}

/** Announces a circuit to an unreserved target: one datagram now, one more per {@link UnreservedAnnouncement.again}, all within `timeoutMs`. */
export function announceUnreserved(rpc: NatRpc, clock: Clock, to: NatPeer, body: Envelope, timeoutMs: number): UnreservedAnnouncement {
  const deadline = clock.now() + timeoutMs;
  let sent = 0;
  let outstanding = 0;
  let settled = false;
  let settle!: (accepted: boolean) => void;
  const accepted = new Promise<boolean>((resolve) => (settle = resolve));
  const again = (): void => {
    const left = deadline - clock.now();
    if (settled || sent >= MAX_UNRESERVED_ANNOUNCEMENTS || left <= 0) return;
    sent++;
    outstanding++;
    rpc.request(to, body, { timeoutMs: left, retries: 0, rttFactor: WHOLE_BUDGET_RTT_FACTOR }).then(
      () => {
        settled = true;
        settle(true);
      },
      () => {
        if (--outstanding === 0 && !settled) {
          settled = true;
          settle(false);
        }
      },
    );
  };
  again();
  return { accepted, again };
}
