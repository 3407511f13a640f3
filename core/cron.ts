/**
 * The cron the inventory may write: a five-field crontab expression in the syntax both crontab
 * and Temporal schedules read (Temporal's server parses cron itself, `parseCronString` and
 * `makeRange` in its scheduler). Each field is a comma list of `*`, a value, `a-b`, with an
 * optional `/step`; values in range; a range's end not before its start; month and day names of
 * three letters. Refused with a reason: crontab's `L`, `W`, `?` and `#` (Temporal reads `#` as the
 * start of a comment and would silently drop the rest), Jenkins' `H`, `@daily` shorthands,
 * `TZ=` prefixes (the time zone is its own field), seconds and year fields.
 */
import { shown } from './show';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface CronField { name: string; min: number; max: number; names?: string[]; firstNameValue?: number }

export const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, firstNameValue: 1 },
  { name: 'day-of-week', min: 0, max: 7, names: DAYS, firstNameValue: 0 },
];

function valueOf(text: string, field: CronField): number | string {
  if (/^[0-9]{1,2}$/.test(text)) {
    const n = Number(text);
    return n >= field.min && n <= field.max ? n : `${field.name} value ${text} is outside ${field.min}-${field.max}`;
  }
  const index = field.names?.indexOf(text.toLowerCase()) ?? -1;
  if (index >= 0) return index + field.firstNameValue!;
  return field.names
    ? `${field.name} value ${shown(text)} is not a number ${field.min}-${field.max} or a three-letter name (${field.names[0]}, ${field.names[1]}, ...)`
    : `${field.name} value ${shown(text)} is not a number ${field.min}-${field.max}`;
}

function itemProblem(item: string, field: CronField): string | undefined {
  const [range, step, extraSlash] = item.split('/');
  if (extraSlash !== undefined) return `${field.name} item ${shown(item)} has more than one '/'`;
  if (step !== undefined && (!/^[0-9]{1,2}$/.test(step) || Number(step) < 1)) return `${field.name} step ${shown(step)} must be a number from 1`;
  if (range === '*') return undefined;
  const [from, to, extraDash] = (range ?? '').split('-');
  if (extraDash !== undefined) return `${field.name} item ${shown(item)} has more than one '-'`;
  const start = valueOf(from ?? '', field);
  if (typeof start === 'string') return start;
  if (to === undefined) return undefined;
  const end = valueOf(to, field);
  if (typeof end === 'string') return end;
  if (end < start) return `${field.name} range ${shown(range)} ends before it starts (Temporal does not wrap ranges)`;
  return undefined;
}

export function cronProblem(expression: string): string | undefined {
  if (expression.length > 200) return 'cron is at most 200 characters';
  const trimmed = expression.trim();
  if (/^(CRON_)?TZ=/.test(trimmed)) return 'write the time zone in the schedule\'s timezone field, not in cron';
  if (trimmed.startsWith('@')) return `${shown(trimmed.split(/\s/)[0])} is not accepted: write the five fields (like "0 0 * * *" for @daily)`;
  const special = /[LW?#H]/.exec(trimmed.replace(/[A-Za-z]{3}/g, (w) => (MONTHS.includes(w.toLowerCase()) || DAYS.includes(w.toLowerCase()) ? '' : w)));
  if (special) return `cron ${shown(special[0])} is a crontab extension Temporal schedules do not accept (L, W, ?, # and H are refused)`;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) return `cron must have five fields (minute hour day-of-month month day-of-week), not ${fields.length}`;
  for (const [i, text] of fields.entries()) {
    for (const item of text.split(',')) {
      const problem = itemProblem(item, CRON_FIELDS[i]!);
      if (problem) return problem;
    }
  }
  return undefined;
}
