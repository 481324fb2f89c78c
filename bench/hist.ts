/**
 * A small log-bucketed latency histogram: constant memory, 1 % relative precision, and
 * mergeable across processes (the load generators send theirs to `bench/main.ts` as JSON).
 *
 * @module
 */

/** Ratio between successive bucket bounds: percentiles are exact to within 1 %. */
const RATIO = 1.01;
const LN_RATIO = Math.log(RATIO);
/** Buckets up to 1.01^2200 µs (about 3 × 10^9 s): anything larger lands in the last one. */
const BUCKETS = 2200;

/** The JSON form of a {@link Histogram}: sparse `[bucket, count]` pairs plus totals. */
export interface HistogramData {
  /** Non-empty buckets as `[index, count]`. */
  counts: [number, number][];
  /** Number of values recorded. */
  total: number;
  /** Sum of the values recorded, in µs. */
  sum: number;
  /** Largest value recorded, in µs. */
  max: number;
}

/** Percentiles of a histogram in milliseconds, as the bench reports them. */
export interface LatencySummary {
  /** Number of samples. */
  count: number;
  /** Median, ms. */
  p50: number;
  /** 99th percentile, ms. */
  p99: number;
  /** 99.9th percentile, ms. */
  p999: number;
  /** Largest sample, ms. */
  max: number;
  /** Mean, ms. */
  mean: number;
}

/** Latency histogram over microsecond values. */
export class Histogram {
  #counts = new Uint32Array(BUCKETS);
  #total = 0;
  #sum = 0;
  #max = 0;

  /** Records one value in microseconds (negative values count as 0). */
  record(us: number): void {
    let b = 0;
    if (us > 1) {
      b = Math.ceil(Math.log(us) / LN_RATIO);
      if (b >= BUCKETS) b = BUCKETS - 1;
    } else if (us < 0) {
      us = 0;
    }
    this.#counts[b]!++;
    this.#total++;
    this.#sum += us;
    if (us > this.#max) this.#max = us;
  }

  /** Number of values recorded. */
  get total(): number {
    return this.#total;
  }

  /** Forgets every value. */
  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#sum = 0;
    this.#max = 0;
  }

  /** Adds another histogram's values to this one. */
  merge(data: HistogramData): void {
    for (const [b, c] of data.counts) this.#counts[b]! += c;
    this.#total += data.total;
    this.#sum += data.sum;
    if (data.max > this.#max) this.#max = data.max;
  }

  /** The value (µs) at quantile `q` in [0, 1]: the upper bound of its bucket, at most the max. */
  quantile(q: number): number {
    if (this.#total === 0) return 0;
    const want = Math.max(1, Math.ceil(q * this.#total));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#counts[b]!;
      if (seen >= want) return Math.min(b === 0 ? 1 : RATIO ** b, this.#max);
    }
    return this.#max;
  }

  /** The JSON form, for sending to another process. */
  toJSON(): HistogramData {
    const counts: [number, number][] = [];
    for (let b = 0; b < BUCKETS; b++) {
      const c = this.#counts[b]!;
      if (c !== 0) counts.push([b, c]);
    }
    return { counts, total: this.#total, sum: this.#sum, max: this.#max };
  }

  /** p50, p99, p99.9, max and mean in milliseconds. */
  summary(): LatencySummary {
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count: this.#total,
      p50: ms(this.quantile(0.5)),
      p99: ms(this.quantile(0.99)),
      p999: ms(this.quantile(0.999)),
      max: ms(this.#max),
      mean: ms(this.#total === 0 ? 0 : this.#sum / this.#total),
    };
  }
}
