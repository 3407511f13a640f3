/**
 * Time zones as Temporal's server accepts them: Go's time.LoadLocation, which takes "UTC" and the
 * IANA database's zone and link names, spelt exactly (case matters: `america/chicago` is refused
 * there, though JavaScript's Intl accepts it). The names come from the IANA database as the
 * `tzdata` package ships it.
 */
import tzdata from 'tzdata/timezone-data.json';
import { shown } from '../core/show';

const ZONES: ReadonlySet<string> = new Set(['UTC', ...Object.keys(tzdata.zones)]);
const BY_LOWER_CASE = new Map([...ZONES].map((z) => [z.toLowerCase(), z]));

export function timeZoneProblem(zone: string): string | undefined {
  if (ZONES.has(zone)) return undefined;
  const spelt = BY_LOWER_CASE.get(zone.toLowerCase());
  if (spelt) return `time zone names are case-sensitive in Temporal: write ${spelt}`;
  return `${shown(zone)} is not an IANA time zone (like America/Chicago or UTC)`;
}
