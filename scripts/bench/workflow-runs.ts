/** The product as a benchmarked tool: replicateDataset runs through startReplication, timed and broken down. */
import type { Client } from '@temporalio/client';
import type { LabHostState } from '../../lab/lab';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReplicationJob, ReplicationResult } from '../../core/replication/shared';
import { startReplication } from '../replication-start';
import { breakdown, type RunBreakdown } from './history';
import { mustOnHost } from './host';
import type { RetryLog } from './retries';

export interface WorkflowRun {
  seconds: number;
  result: ReplicationResult;
  breakdown: RunBreakdown;
}

/** The lab inventory's job from the source host to the target host, for other datasets and without retention. */
export function benchJob(template: ReplicationJob, sourceDataset: string, targetDataset: string): ReplicationJob {
  return {
    ...template,
    source: { ...template.source, dataset: sourceDataset },
    target: { ...template.target, dataset: targetDataset },
    retention: {},
  };
}

export class WorkflowRunner {
  /** When each dataset's last workflow run ended. */
  private readonly lastRunEnded = new Map<string, number>();

  constructor(private readonly client: Client, private readonly source: LabHostState, private readonly retries: RetryLog) {}

  /** Every run in the main rows starts cold: no shared ssh connection left open by the run before. */
  private closeSharedConnections(): Promise<string> {
    return mustOnHost(this.source, 'for s in /root/.ssh/esxi-zfs-*; do [ -S "$s" ] && ssh -o ControlPath="$s" -O exit bench 2>/dev/null; done; true');
  }

  /**
   * One run of `job`, timed from the start call to its result in hand; throws unless its result
   * is `expect`. `warm`: the source's shared ssh connection the run before left open is kept.
   */
  async run(job: ReplicationJob, expect: ReplicationResult['kind'], connection: 'cold' | 'warm' = 'cold'): Promise<WorkflowRun> {
    // A new second, untimed: a run in the same second as the one before waits a second (inside the
    // timed run) for a snapshot name of its own.
    const last = this.lastRunEnded.get(job.source.dataset);
    if (last !== undefined && Math.floor(Date.now() / 1000) <= Math.floor(last / 1000)) await sleep(1050 - (Date.now() % 1000));
    if (connection === 'cold') await this.closeSharedConnections();
    const t0 = Date.now();
    const { handle, started } = await startReplication(this.client, job);
    if (!started) throw new Error(`a run of ${job.source.dataset} was already in flight`);
    const result = (await handle.result()) as ReplicationResult;
    const t1 = Date.now();
    this.lastRunEnded.set(job.source.dataset, t1);
    if (result.kind !== expect) throw new Error(`workflow run of ${job.source.dataset}: expected ${expect}, got ${result.kind}`);
    const history = await handle.fetchHistory();
    const b = breakdown(history.events ?? [], t0, t1);
    this.retries.note(`${expect} ${job.source.dataset}`, b);
    return { seconds: (t1 - t0) / 1000, result, breakdown: b };
  }
}
