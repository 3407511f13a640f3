/** The benchmark's clock and its progress lines on stderr. */

/** When this process started benchmarking (module load). */
export const benchStarted = Date.now();

/** A progress line on stderr, with the seconds since the benchmark started. */
export const log = (message: string) => process.stderr.write(`[bench +${((Date.now() - benchStarted) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
