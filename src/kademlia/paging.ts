/**
 * Fetching the rest of a holder's record set after a lookup. A FIND_VALUE answer during
 * the lookup carries only page 0 (contacts, first records, the holder's `total`), so a key
 * with 1,000 records (some 150-250 datagrams) never holds up the lookup's per-query
 * deadline. Afterwards the reader asks the best holders for the remaining offsets, a
 * sliding window of requests in flight per holder, each page with its own deadline and
 * the whole phase under one more. A page that comes back shorter than asked leaves a gap,
 * which is asked for next; a lost page is retried a bounded number of times.
 */
import type { Clock } from '../util/clock.js';
import { deadline } from './deadline.js';
import type { Contact, KadNetwork, SignedRecord } from './types.js';
import { recordWireBytes } from './wire-size.js';

/** Tuning of the paging phase. */
export interface PagingParams {
  /** Page requests in flight per holder. Default 16. */
  window?: number;
  /** Deadline of one page request, ms. Default 2,000. */
  pageTimeoutMs?: number;
  /** Deadline of the whole paging phase, ms. Default 15,000. */
  timeoutMs?: number;
  /** Retries of a lost page. Default 2. */
  retries?: number;
}

/** A holder seen during the lookup whose set is larger than its first answer carried. */
export interface PagedHolder {
  contact: Contact;
  /** Records it says it holds. */
  total: number;
  /** Records its first answer carried (the next offset to ask for). */
  have: number;
  /** Those records, to estimate how many fit one page. */
  sample: SignedRecord[];
}

/** What {@link fetchRemainingPages} needs. */
export interface PagingContext {
  network: KadNetwork;
  clock: Clock;
  key: Uint8Array;
  /** Most records read from one holder (the storing side's per-key bound). */
  maxRecords: number;
  /** Receives each page's records as it arrives. */
  onRecords: (records: SignedRecord[]) => void;
  /** Aborts the phase (the caller's signal, or its phase deadline). */
  signal: AbortSignal;
  /** Shared by every read of one node: bounds its page requests in flight. */
  slots?: Slots;
  params?: PagingParams;
}

/**
 * A counting semaphore over page requests. Many concurrent reads of large sets would
 * otherwise burst thousands of ~1 KB answers at once, overflowing socket buffers (the
 * losses then cost retries and timeouts); one node keeps at most `size` pages in flight.
 */
export class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Runs `fn` when a slot is free (FIFO) and frees it when `fn` settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.free++;
    }
  }
}

interface Request {
  offset: number;
  limit: number;
  attempts: number;
}

/** Typical record size when a holder's first answer carried none to measure. */
const DEFAULT_RECORD_BYTES = 240;

/** Fetches records `have`..`total` of one holder. Resolves with the pages requested; never rejects. */
export function fetchRemainingPages(holder: PagedHolder, context: PagingContext): Promise<number> {
  const network = context.network;
  const findValuePage = network.findValuePage?.bind(network);
  const total = Math.min(holder.total, context.maxRecords);
  if (findValuePage === undefined || holder.have >= total) return Promise.resolve(0);
  const params = context.params ?? {};
  const window = Math.max(1, params.window ?? 16);
  const retries = params.retries ?? 2;
  const perPage = Math.max(1, Math.floor((network.pageBytes ?? 1000) / averageBytes(holder.sample)));
  // Every request that is answered yields at least one record (else that range stops), so
  // this bounds gap fills and retries: a holder answering one record a page cannot make us loop.
  const maxRequests = total - holder.have + 3 * window;
  const queue: Request[] = [];
  for (let offset = holder.have; offset < total; offset += perPage) queue.push({ offset, limit: Math.min(perPage, total - offset), attempts: 0 });
  let sent = 0;
  let inflight = 0;
  return new Promise<number>((resolve) => {
    const pump = () => {
      while (inflight < window && queue.length > 0 && sent < maxRequests && !context.signal.aborted) {
        const request = queue.shift()!;
        sent++;
        inflight++;
        let limit: ReturnType<typeof deadline> | undefined;
        const send = () => {
          // The page deadline starts when the request leaves, not while it waits for a slot.
          limit = deadline(context.clock, params.pageTimeoutMs ?? 2_000, context.signal);
          return findValuePage(holder.contact, context.key, request.offset, request.limit, limit.signal);
        };
        (context.slots ? context.slots.run(send) : send())
          .then(
            (page) => {
              const records = Array.isArray(page?.records) ? page.records.slice(0, request.limit) : [];
              if (records.length > 0) context.onRecords(records);
              const end = request.offset + records.length;
              // Shorter than asked (the page filled up): ask for the gap. Empty: the set shrank, stop here.
              if (records.length > 0 && records.length < request.limit && end < total)
                queue.push({ offset: end, limit: request.limit - records.length, attempts: 0 });
            },
            () => {
              if (++request.attempts <= retries && !context.signal.aborted) queue.push(request);
            },
          )
          .finally(() => {
            limit?.dispose();
            inflight--;
            pump();
          });
      }
      if (inflight === 0) resolve(sent);
    };
    pump();
  });
}

function averageBytes(sample: SignedRecord[]): number {
  let bytes = 0;
  let count = 0;
  for (const record of sample) {
    try {
      bytes += recordWireBytes(record);
      count++;
    } catch {
      // an untrusted record of the wrong shape: not a useful sample
    }
  }
  return count === 0 ? DEFAULT_RECORD_BYTES : Math.max(60, bytes / count);
}
