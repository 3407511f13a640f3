/**
 * A worker's /metrics, scraped over HTTP, as samples: the Prometheus text format's sample lines
 * only (a histogram is its `_bucket`, `_sum` and `_count` samples), which is what the tests read.
 * (parse-prometheus-text-format, the npm parser, merges a histogram's labelled series into one.)
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const match = LABEL.exec(text);
    if (!match) throw new Error(`bad labels in: ${line}`);
    labels[match[1]!] = match[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** The sample lines of a text exposition (comments and blank lines skipped). */
export function parseExposition(text: string): Sample[] {
  return text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).map((line) => {
    const match = SAMPLE.exec(line.trim());
    if (!match) throw new Error(`not a sample line: ${line}`);
    const value = match[3]!;
    return { name: match[1]!, labels: match[2] ? parseLabels(match[2], line) : {}, value: value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : Number(value) };
  });
}

export async function scrape(address: string): Promise<Sample[]> {
  const response = await fetch(`http://${address}/metrics`);
  if (!response.ok) throw new Error(`GET http://${address}/metrics: ${response.status}`);
  return parseExposition(await response.text());
}

/** The samples named `name` whose labels include `labels`. */
export function samples(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample named `name` with `labels`; the test fails when there is none or more than one. */
export function only(all: Sample[], name: string, labels: Record<string, string> = {}): Sample {
  const found = samples(all, name, labels);
  if (found.length !== 1) throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}, expected one: ${JSON.stringify(found.slice(0, 5))}`);
  return found[0]!;
}
