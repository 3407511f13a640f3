/** The benchmark's arithmetic: units, medians, rounding for JSON. */

export const MiB = 1024 * 1024;

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** For JSON: `digits` decimals, null for NaN and infinities. */
export const round = (x: number, digits = 3) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);

export const secs = (ms: number) => ms / 1000;
