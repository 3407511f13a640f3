/**
 * What the network planners return: an ordered list of actions (write a file, run a command) that
 * the activity performs in order, and what was found. Each action says what it changes, in words.
 */
import type { StepReport } from '../../configure/shared';
import type { FileSpec } from '../../files';
import type { PlannedCommand } from '../profile';

/** A file to make hold `content` (planned only where the facts show other content): `spec` is what the transport's writeFile takes. */
export interface PlannedFile {
  path: string;
  content: string;
  spec: FileSpec & { uid: number };
  change: string;
}

export type PlannedAction = ({ kind: 'file' } & PlannedFile) | ({ kind: 'command' } & PlannedCommand);

/** Part of a plan: its actions, what it found in place, what a person should know. */
export interface PlanPart {
  actions: PlannedAction[];
  found: string[];
  warnings: string[];
}

export const emptyPart = (): PlanPart => ({ actions: [], found: [], warnings: [] });

export function mergeParts(parts: PlanPart[]): PlanPart {
  return {
    actions: parts.flatMap((p) => p.actions),
    found: parts.flatMap((p) => p.found),
    warnings: parts.flatMap((p) => p.warnings),
  };
}

export const command = (argv: string[], change: string): PlannedAction => ({ kind: 'command', argv, change });

export const file = (f: PlannedFile): PlannedAction => ({ kind: 'file', ...f });

/** The step's report: `changed` is what the actions change, in their order. */
export const reportOf = (part: PlanPart): StepReport => ({
  found: part.found,
  changed: part.actions.map((a) => a.change),
  warnings: part.warnings,
});

/**
 * A command started detached that undoes a change after `seconds` unless `cancel` runs first (it
 * removes a flag file). `cancel` exits 0 when it came in time, non-zero when the revert already ran.
 */
export interface TimedRevert {
  start: PlannedCommand;
  cancel: PlannedCommand;
  seconds: number;
}
