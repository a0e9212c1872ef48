/**
 * A model of FIND_VALUE paging for the in-memory network, which has no datagram size
 * limit. It wraps a node's KadNetwork: an answer whose records would not fit one 1200-byte
 * datagram is cut into pages (records sorted by author, greedy fill of an estimated
 * per-datagram budget); the first page comes with the first answer, and every further page
 * costs one more real round trip through the simulated network (requested `window` at a
 * time, as an offset-paged FIND_VALUE allows). Bytes are estimated from the protobuf sizes
 * of the records and contacts actually carried.
 */
import type { Contact, FindValueResult, KadNetwork, SignedRecord } from '../../src/kademlia/types.js';

/** Datagram size limit. */
export const DATAGRAM_BYTES = 1200;
/** Session header, nonce, AEAD tag, envelope fields and write token: bytes of a datagram not available to records. */
export const ANSWER_OVERHEAD_BYTES = 110;
/** Size of a FIND_VALUE request datagram (key, cursor, envelope, session overhead). */
export const REQUEST_BYTES = 120;

/** Estimated protobuf size of one record in an answer (the key is implied by the request). */
export function recordWireBytes(record: SignedRecord): number {
  const field = (length: number) => 1 + (length < 128 ? 1 : 2) + length;
  return field(record.author.length) + 1 + 7 + 1 + 7 + field(record.signature.length) + field(record.value.length) + (record.withdrawn ? 2 : 0) + 2;
}

/** Estimated protobuf size of one contact (ID, IPv4 address, port). */
export const CONTACT_WIRE_BYTES = 34 + 2 + 6 + 3 + 2;

/** Traffic counters shared by every paged endpoint of a run. */
export interface PagingStats {
  findValueAnswers: number;
  extraPages: number;
  bytes: number;
}

/** Cuts records into pages that each fit one datagram after the overhead. */
export function paginate(records: readonly SignedRecord[]): SignedRecord[][] {
  const sorted = [...records].sort((a, b) => Buffer.compare(a.author, b.author));
  const pages: SignedRecord[][] = [];
  let page: SignedRecord[] = [];
  let used = 0;
  const budget = DATAGRAM_BYTES - ANSWER_OVERHEAD_BYTES;
  for (const record of sorted) {
    const size = recordWireBytes(record);
    if (page.length > 0 && used + size > budget) {
      pages.push(page);
      page = [];
      used = 0;
    }
    page.push(record);
    used += size;
  }
  if (page.length > 0) pages.push(page);
  return pages;
}

/** Wraps a KadNetwork so FIND_VALUE answers arrive in datagram-sized pages. */
export class PagedKadNetwork implements KadNetwork {
  constructor(
    private readonly inner: KadNetwork,
    readonly stats: PagingStats,
    private readonly window = 16,
  ) {}

  ping(to: Contact, signal?: AbortSignal): Promise<void> {
    return this.inner.ping(to, signal);
  }

  findNode(to: Contact, target: Uint8Array, signal?: AbortSignal) {
    return this.inner.findNode(to, target, signal);
  }

  store(to: Contact, key: Uint8Array, record: SignedRecord, token: Uint8Array, signal?: AbortSignal): Promise<void> {
    return this.inner.store(to, key, record, token, signal);
  }

  rtt(to: Contact): number | undefined {
    return this.inner.rtt?.(to);
  }

  async findValue(to: Contact, key: Uint8Array, signal?: AbortSignal): Promise<FindValueResult> {
    const first = await this.inner.findValue(to, key, signal);
    this.stats.findValueAnswers++;
    const pages = paginate(first.records ?? []);
    const budget = DATAGRAM_BYTES - ANSWER_OVERHEAD_BYTES;
    const firstRecordBytes = (pages[0] ?? []).reduce((sum, r) => sum + recordWireBytes(r), 0);
    // Contacts share the first datagram with the first page of records.
    const contactRoom = Math.max(0, Math.floor((budget - firstRecordBytes) / CONTACT_WIRE_BYTES));
    const contacts = first.contacts.slice(0, contactRoom);
    this.stats.bytes += REQUEST_BYTES + ANSWER_OVERHEAD_BYTES + firstRecordBytes + contacts.length * CONTACT_WIRE_BYTES;
    if (pages.length <= 1) return { ...first, contacts };
    const records = [...pages[0]!];
    for (let start = 1; start < pages.length; start += this.window) {
      const batch: Promise<SignedRecord[]>[] = [];
      for (let index = start; index < Math.min(pages.length, start + this.window); index++) {
        batch.push(
          this.inner.findValue(to, key, signal).then((answer) => {
            this.stats.extraPages++;
            const page = paginate(answer.records ?? [])[index] ?? [];
            this.stats.bytes += REQUEST_BYTES + ANSWER_OVERHEAD_BYTES + page.reduce((sum, r) => sum + recordWireBytes(r), 0);
            return page;
          }),
        );
      }
      for (const page of await Promise.all(batch)) records.push(...page);
    }
    return { ...first, contacts, records };
  }
}
