/** Durations in the inventory (`90s`, `30m`, `2h`, `1d`), each field with the bounds that make sense for it. */
import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DURATION = /^(\d{1,9})(ms|s|m|h|d)$/;

export function durationMs(text: string): number {
  const match = DURATION.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** A duration between `min` and `max` (both written as durations, and named in the message). */
export function duration(min: string, max: string) {
  const [low, high] = [durationMs(min), durationMs(max)];
  return z.string().superRefine((value, ctx) => {
    if (!DURATION.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration like 90s, 30m, 2h or 1d' });
      return;
    }
    const ms = durationMs(value);
    if (ms < low || ms > high) ctx.addIssue({ code: 'custom', message: `must be from ${min} to ${max}` });
  });
}
