/** Every activity retry seen in the benchmark's workflow histories, and their reasons counted. */
import type { RunBreakdown } from './history';

export class RetryLog {
  /** `where: activity attempt N after: failure`, in the order seen. */
  readonly entries: string[] = [];

  /** Records the retried activities of one run. */
  note(where: string, b: RunBreakdown): void {
    for (const a of b.activities) {
      if (a.attempt > 1) this.entries.push(`${where}: ${a.name} attempt ${a.attempt} after: ${(a.lastFailure ?? '?').split('\n')[0]}`);
    }
  }

  /** Retries grouped by their failure, host and command details removed; the most frequent first. */
  reasons(): [string, number][] {
    const counts = new Map<string, number>();
    for (const r of this.entries) {
      // `where: activity attempt N after: ssh HOST (ADDRESS): what happened[ while running]: command`
      const m = /^[^:]*: (\S+) attempt \d+ after: (?:ssh [^:]*:\d+\): )?([^:]*)/.exec(r);
      const reason = m ? `${m[1]}: ${m[2]!.replace(/ while running$/, '')}` : r;
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    return [...counts.entries()].sort((a, b) => b[1] - a[1]);
  }
}
