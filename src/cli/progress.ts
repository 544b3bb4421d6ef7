/** Progress bars on stderr (cli-progress), only on a terminal; and the closing summary line. */
import cliProgress from 'cli-progress';
import type { Progress } from '../shuffle/index.js';
import { peakRss } from '../shuffle/runtime/peak-rss.js';

const MB = 1e6;

/** Draws the phases (a sort's sample, scatter, gather); a no-op when `enabled` is false. */
export class Bars {
  readonly #multi?: cliProgress.MultiBar;
  #scatter?: cliProgress.SingleBar;
  #gather?: cliProgress.SingleBar;
  #sample?: cliProgress.SingleBar;
  readonly #t0 = performance.now();

  constructor(enabled: boolean) {
    if (!enabled) return;
    this.#multi = new cliProgress.MultiBar(
      {
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
        format: '{phase} |{bar}| {percentage}% {detail} | ETA {eta_formatted}',
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  /** A progress callback for `shuffle`/`groupBy`. */
  readonly update = (p: Progress): void => {
    if (!this.#multi) return;
    if (p.phase === 'scatter') {
      const total = p.bytesTotal > 0 ? p.bytesTotal : (p.splits ?? p.splitsDone + 1);
      const value = p.bytesTotal > 0 ? p.bytesRead : p.splitsDone;
      const secs = (performance.now() - this.#t0) / 1000;
      const detail = `${grouped(p.records)} records, ${(p.bytesRead / MB).toFixed(0)}/${(p.bytesTotal / MB).toFixed(0)} MB, ${grouped(Math.round(p.records / secs))} records/s`;
      this.#scatter ??= this.#multi.create(total, 0, { phase: 'scatter', detail });
      this.#scatter.setTotal(total);
      this.#scatter.update(value, { detail });
    } else if (p.phase === 'sample') {
      const detail = `${p.splitsDone}/${p.splits} splits`;
      this.#sample ??= this.#multi.create(p.splits, 0, { phase: 'sample ', detail });
      this.#sample.update(p.splitsDone, { detail });
    } else {
      const detail = `${p.partitionsDone}/${p.partitions} partitions`;
      this.#gather ??= this.#multi.create(p.partitions, 0, { phase: 'gather ', detail });
      this.#gather.update(p.partitionsDone, { detail });
    }
  };

  /** Removes the bars' cursor handling. */
  stop(): void {
    this.#multi?.stop();
  }
}

/** `5,000,000`: an integer with its thousands marked, as `toLocaleString('en-US')` does without loading Intl (tens of ms a run). */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `5 records`, `1 record`: a count and its noun, singular for one. */
function count(n: number, noun: string): string {
  return `${grouped(n)} ${n === 1 ? noun : `${noun}s`}`;
}

/**
 * `partd: 5,000,000 records → 100,000 groups in 4.2 s (1,190,000 records/s, 71 MB/s), peak memory 310 MiB`.
 * The rate counts the records this run read: `records` includes the `resumed` ones, which an
 * earlier run on --store had committed. MB/s is left out then, as the stats do not say how
 * many of `bytes` that earlier run read.
 */
export function summary(what: {
  records: number;
  bytes: number;
  outputs: number;
  output: string;
  seconds: number;
  bad: number;
  resumed: number;
}): string {
  const read = what.records - what.resumed;
  const rate = what.seconds > 0 ? grouped(Math.round(read / what.seconds)) : '–';
  const mbps = what.bytes > 0 && what.resumed === 0 && what.seconds > 0 ? `, ${(what.bytes / MB / what.seconds).toFixed(0)} MB/s` : '';
  const peak = Math.round(peakRss() / 2 ** 20);
  const bad = what.bad > 0 ? `, ${count(what.bad, 'bad record')} skipped` : '';
  const resumed = what.resumed > 0 ? `, ${grouped(what.resumed)} of the records read by an earlier run on --store` : '';
  return `partd: ${count(what.records, 'record')} → ${count(what.outputs, what.output)} in ${what.seconds.toFixed(1)} s (${rate} records/s${mbps}), peak memory ${peak} MiB${bad}${resumed}`;
}
