/**
 * The inventory's crontab expressions as Temporal schedules read them, and the calendars the server
 * returns as what they match.
 *
 * Crontab vs Temporal: when both day-of-month and day-of-week are restricted, crontab runs when
 * EITHER matches ("0 0 1 * 1": the 1st and every Monday), a Temporal calendar when BOTH match (a
 * Monday the 1st). `temporalCronExpressions` keeps crontab's meaning by sending two expressions.
 * Temporal rejects crontab's `L`, `W`, `#` and `?`, which cron-parser accepts: core/cron.ts refuses them first.
 *
 * What the server returns: `describe()` does not return the cron string that was sent. The server
 * compiles `cronExpressions` into structured calendars (ranges of second, minute, hour, day of
 * month, month, year, day of week; Sunday 7 becomes 0, `0,7` becomes two ranges) and drops the
 * cron text. So both sides are reduced to the sets of values each calendar field matches
 * (`cronFieldSets`, `calendarFieldSets`) and those are compared.
 */
import { DAYS_OF_WEEK, MONTHS, type CalendarSpecDescription } from '@temporalio/client';
import { CronExpressionParser } from 'cron-parser';
import { cronProblem } from '../../core/cron';
import { shown } from '../../core/show';

/**
 * The inventory's five-field crontab expression as Temporal cron expressions with crontab's
 * meaning: one expression, or two when both day-of-month and day-of-week are restricted (crontab
 * ORs them; a Temporal calendar ANDs them). A field counts as restricted unless it starts with `*`,
 * as in Vixie cron. Throws on syntax Temporal does not accept.
 */
export function temporalCronExpressions(cron: string): string[] {
  const problem = cronProblem(cron);
  if (problem) throw new Error(`cron ${shown(cron)}: ${problem}`);
  const fields = cron.trim().split(/\s+/);
  const [minute, hour, dayOfMonth, month, dayOfWeek] = fields as [string, string, string, string, string];
  if (!dayOfMonth.startsWith('*') && !dayOfWeek.startsWith('*')) {
    return [`${minute} ${hour} ${dayOfMonth} ${month} *`, `${minute} ${hour} * ${month} ${dayOfWeek}`];
  }
  return [fields.join(' ')];
}

/** The values each field of a calendar matches; `year: '*'` is every year. Comparable by JSON. */
export interface CalendarFieldSets {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  month: number[];
  year: number[] | '*';
  dayOfWeek: number[];
}

const sortedUnique = (values: Iterable<number>) => [...new Set(values)].sort((a, b) => a - b);

/** What a (Temporal-compatible, five-field) cron expression matches, by cron-parser. */
export function cronFieldSets(expression: string): CalendarFieldSets {
  const { fields } = CronExpressionParser.parse(expression, { strict: false });
  const numbers = (values: readonly unknown[], what: string) =>
    values.map((v) => {
      if (typeof v !== 'number') throw new Error(`cron '${expression}': ${what} value ${String(v)} is not supported by Temporal`);
      return v;
    });
  return {
    second: sortedUnique(numbers(fields.second.values, 'second')),
    minute: sortedUnique(numbers(fields.minute.values, 'minute')),
    hour: sortedUnique(numbers(fields.hour.values, 'hour')),
    dayOfMonth: sortedUnique(numbers(fields.dayOfMonth.values, 'day-of-month')),
    month: sortedUnique(numbers(fields.month.values, 'month')),
    year: '*',
    dayOfWeek: sortedUnique(numbers(fields.dayOfWeek.values, 'day-of-week').map((d) => d % 7)),
  };
}

/** What a calendar returned by `describe()` matches (ranges expanded, names to numbers). */
export function calendarFieldSets(calendar: CalendarSpecDescription): CalendarFieldSets {
  const expand = <T>(ranges: { start: T; end: T; step: number }[], toNumber: (v: T) => number) => {
    const out: number[] = [];
    for (const range of ranges) {
      const start = toNumber(range.start);
      const end = Math.max(start, toNumber(range.end));
      const step = range.step > 0 ? range.step : 1;
      for (let v = start; v <= end; v += step) out.push(v);
    }
    return sortedUnique(out);
  };
  const id = (v: number) => v;
  return {
    second: expand(calendar.second, id),
    minute: expand(calendar.minute, id),
    hour: expand(calendar.hour, id),
    dayOfMonth: expand(calendar.dayOfMonth, id),
    month: expand(calendar.month, (m) => MONTHS.indexOf(m) + 1),
    year: calendar.year.length === 0 ? '*' : expand(calendar.year, id),
    dayOfWeek: expand(calendar.dayOfWeek, (d) => DAYS_OF_WEEK.indexOf(d) % 7),
  };
}

function fieldText(values: number[] | '*', min: number, max: number): string {
  if (values === '*') return '*';
  if (values.length === max - min + 1 && values[0] === min && values[values.length - 1] === max) return '*';
  // Compress runs of consecutive values: 1,2,3,5 -> 1-3,5
  const parts: string[] = [];
  for (let i = 0; i < values.length; ) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[j]! + 1) j++;
    parts.push(j - i >= 2 ? `${values[i]}-${values[j]}` : values.slice(i, j + 1).join(','));
    i = j + 1;
  }
  return parts.join(',');
}

/** A calendar as a crontab-like line, for display ("59 23 * * *"; seconds and years when used). */
export function calendarToCron(calendar: CalendarSpecDescription): string {
  const sets = calendarFieldSets(calendar);
  const main = [
    fieldText(sets.minute, 0, 59),
    fieldText(sets.hour, 0, 23),
    fieldText(sets.dayOfMonth, 1, 31),
    fieldText(sets.month, 1, 12),
    fieldText(sets.dayOfWeek, 0, 6),
  ].join(' ');
  const second = sets.second.length === 1 && sets.second[0] === 0 ? '' : `${fieldText(sets.second, 0, 59)} `;
  const year = sets.year === '*' ? '' : ` ${fieldText(sets.year, 0, 9999)}`;
  return `${second}${main}${year}`;
}
