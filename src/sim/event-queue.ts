/**
 * The simulator's event queue: a binary min-heap ordered by (time, insertion order).
 *
 * Ties break by insertion order so that a run is a pure function of its seed: two events at the same virtual
 * millisecond always fire in the order they were scheduled. The heap keeps times and sequence numbers in parallel
 * arrays and the payload (`kind` + `target`) beside them, so scheduling an event allocates nothing beyond occasional
 * array growth — a million-request run schedules several million events.
 */

/** A min-heap of events keyed by `(at, seq)`. */
export class EventQueue<T> {
  #at: Float64Array = new Float64Array(1024);
  #seq: Float64Array = new Float64Array(1024);
  #kind: Uint8Array = new Uint8Array(1024);
  #target: (T | undefined)[] = new Array(1024);
  #size = 0;
  #nextSeq = 0;

  /** Number of queued events. */
  get size(): number {
    return this.#size;
  }

  /** Time of the earliest event; `Infinity` when empty. */
  peekTime(): number {
    return this.#size === 0 ? Number.POSITIVE_INFINITY : this.#at[0]!;
  }

  /** Adds an event of `kind` (0–255, the caller's tag) carrying `target`, due at `at`. */
  push(at: number, kind: number, target: T): void {
    if (this.#size === this.#at.length) this.#grow();
    let i = this.#size++;
    const seq = this.#nextSeq++;
    const atArr = this.#at;
    const seqArr = this.#seq;
    const kindArr = this.#kind;
    const targets = this.#target;
    // Sift up: move parents down until the slot for the new event is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pAt = atArr[parent]!;
      if (pAt < at || (pAt === at && seqArr[parent]! < seq)) break;
      atArr[i] = pAt;
      seqArr[i] = seqArr[parent]!;
      kindArr[i] = kindArr[parent]!;
      targets[i] = targets[parent];
      i = parent;
    }
    atArr[i] = at;
    seqArr[i] = seq;
    kindArr[i] = kind;
    targets[i] = target;
  }

  /** Kind of the earliest event (call only when not empty). */
  peekKind(): number {
    return this.#kind[0]!;
  }

  /** Removes the earliest event and returns its target; read its time and kind first with the peek methods. */
  pop(): T {
    const atArr = this.#at;
    const seqArr = this.#seq;
    const kindArr = this.#kind;
    const targets = this.#target;
    const top = targets[0] as T;
    const last = --this.#size;
    if (last > 0) {
      const at = atArr[last]!;
      const seq = seqArr[last]!;
      const kind = kindArr[last]!;
      const target = targets[last];
      // Sift down the former last element from the root.
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= last) break;
        const right = child + 1;
        if (
          right < last &&
          (atArr[right]! < atArr[child]! ||
            (atArr[right] === atArr[child] && seqArr[right]! < seqArr[child]!))
        ) {
          child = right;
        }
        const cAt = atArr[child]!;
        if (at < cAt || (at === cAt && seq < seqArr[child]!)) break;
        atArr[i] = cAt;
        seqArr[i] = seqArr[child]!;
        kindArr[i] = kindArr[child]!;
        targets[i] = targets[child];
        i = child;
      }
      atArr[i] = at;
      seqArr[i] = seq;
      kindArr[i] = kind;
      targets[i] = target;
    }
    targets[last] = undefined;
    return top;
  }

  #grow(): void {
    const n = this.#at.length * 2;
    const at = new Float64Array(n);
    at.set(this.#at);
    const seq = new Float64Array(n);
    seq.set(this.#seq);
    const kind = new Uint8Array(n);
    kind.set(this.#kind);
    this.#at = at;
    this.#seq = seq;
    this.#kind = kind;
    this.#target.length = n;
  }
}
