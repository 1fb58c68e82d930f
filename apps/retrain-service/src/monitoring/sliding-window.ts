/**
 * The most recent items, bounded both ways: at most `maxItems` (the oldest leaves when a new one
 * comes), and none older than `maxAgeMs` once {@link SlidingWindow.expire} is called. A ring
 * buffer: memory is fixed at `maxItems` whatever the traffic.
 */
export class SlidingWindow<T> {
  private readonly items: (T | undefined)[];
  private readonly times: Float64Array;
  private start = 0;
  private count = 0;

  constructor(
    readonly maxItems: number,
    readonly maxAgeMs = Infinity,
    /** Called with each item that leaves the window. */
    private readonly onEvict?: (item: T) => void,
  ) {
    if (!Number.isInteger(maxItems) || maxItems < 1)
      throw new RangeError(`maxItems must be a positive integer, got ${maxItems}`);
    this.items = new Array<T | undefined>(maxItems);
    this.times = new Float64Array(maxItems);
  }

  get size(): number {
    return this.count;
  }

  /** Adds an item seen at `atMs` (non-decreasing from call to call). */
  add(item: T, atMs: number): void {
    if (this.count === this.maxItems) this.evictOldest();
    const at = (this.start + this.count) % this.maxItems;
    this.items[at] = item;
    this.times[at] = atMs;
    this.count++;
  }

  /** Lets go of the items older than `maxAgeMs` at `nowMs`. */
  expire(nowMs: number): void {
    while (this.count > 0 && this.times[this.start]! < nowMs - this.maxAgeMs) this.evictOldest();
  }

  /** The items, oldest first. */
  values(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.start + i) % this.maxItems]!);
    return out;
  }

  private evictOldest(): void {
    const item = this.items[this.start]!;
    this.items[this.start] = undefined;
    this.start = (this.start + 1) % this.maxItems;
    this.count--;
    this.onEvict?.(item);
  }
}

/**
 * Counts per bucket of the values in a sliding window (see {@link SlidingWindow}): what the
 * population stability index of the window is computed from, kept up to date item by item.
 */
export class BucketWindow {
  readonly counts: Float64Array;
  private readonly window: SlidingWindow<number>;

  constructor(buckets: number, maxItems: number, maxAgeMs = Infinity) {
    this.counts = new Float64Array(buckets);
    this.window = new SlidingWindow<number>(maxItems, maxAgeMs, (bucket) => this.counts[bucket]!--);
  }

  get size(): number {
    return this.window.size;
  }

  add(bucket: number, atMs: number): void {
    if (!(bucket >= 0 && bucket < this.counts.length))
      throw new RangeError(`bucket ${bucket} is not one of the ${this.counts.length} buckets`);
    this.window.add(bucket, atMs);
    this.counts[bucket]!++;
  }

  expire(nowMs: number): void {
    this.window.expire(nowMs);
  }
}
