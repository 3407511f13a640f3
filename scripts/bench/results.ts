/** What the benchmark measured, as the report reads it. */
import type { RunBreakdown } from './history';
import type { MachineFacts } from './lab-setup';
import type { Tool } from './tools';
import type { WorkflowRun } from './workflow-runs';

/** Phase 1: each tool's full and incremental, the no-change runs, the warm-connection runs. */
export interface RoundResults {
  runsDone: number;
  full: Record<Tool, number[]>;
  incremental: Record<Tool, number[]>;
  workflowRuns: { full: WorkflowRun[]; incremental: WorkflowRun[]; noChange: WorkflowRun[] };
  /** Runs that found the source's shared ssh connection to the target open (the earlier run's). */
  warmRuns: { incremental: WorkflowRun[]; noChange: WorkflowRun[] };
  rawSnapshotSeconds: number[];
  rawNoChange: number[];
  syncoidStockIncremental: { ok: boolean; seconds?: number; error?: string }[];
}

/** Phase 2: many small datasets at once. */
export interface SweepResults {
  datasets: number;
  seconds: number;
  rawSeconds: number[];
  failures: string[];
  workerPeakRss: number;
  runSeconds: number[];
  maxEvents: number;
  breakdowns: RunBreakdown[];
}

export interface Results extends RoundResults {
  facts: MachineFacts & { loadavgAtEnd: (number | null)[] };
  referencedBytes: number;
  syncoidMessages: Set<string>;
  sweep?: SweepResults;
  workerPeakRss: number;
  workerHwm: number;
  retryInitialMs: number;
  /** The product's ssh ciphers, given to raw and syncoid too. */
  ciphers: string;
  workerStartRss: number;
  workerRssBeforeSweep: number;
  notes: string[];
}

