/**
 * Copies datagram payloads into views of large shared slabs. The simulated network
 * must copy every datagram (a sender may reuse its buffer once `send` returns, as
 * with a real socket), and allocating an ArrayBuffer per datagram dominated the
 * cost of a simulated send; a view into a slab is only a small heap object.
 */

const SLAB_BYTES = 256 * 1024;
/** Payloads above this get their own buffer, so one big datagram does not waste a slab. */
const MAX_POOLED = 16 * 1024;

/** A bump allocator of payload copies; a slab is freed by the GC once no copy in it is referenced. */
export class CopyPool {
  private slab = new Uint8Array(SLAB_BYTES);
  private offset = 0;

  /** A private copy of `data`. */
  copy(data: Uint8Array): Uint8Array {
    const size = data.byteLength;
    if (size > MAX_POOLED) return data.slice();
    if (this.offset + size > SLAB_BYTES) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.offset = 0;
    }
    const start = this.offset;
    const view = this.slab.subarray(start, start + size);
    view.set(data);
    this.offset = (start + size + 7) & ~7; // keep copies 8-byte aligned for DataView users
    return view;
  }
}
