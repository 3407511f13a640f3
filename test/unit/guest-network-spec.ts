/** The runbook's uss1 as a NetworkSpec, and a compact view of planned actions for golden tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkSpec } from '../../core/configure/shared';
import { NetworkPlanError, type PlannedAction } from '../../core/guest/network';

/** e1000g0/eth0 management 192.0.2.41/24 gw 192.0.2.1, storage 10.0.1.41/24, vh0-nas..vh3-nas, DNS. */
export const uss1Spec = (extra: Partial<NetworkSpec> = {}): NetworkSpec => ({
  hostName: 'uss1',
  nics: [
    { address: '192.0.2.41/24', gateway: '192.0.2.1', role: 'management' },
    { address: '10.0.1.41/24', role: 'storage' },
  ],
  routes: [],
  dns: { domain: 'example.net', servers: ['192.0.2.53', '192.0.2.54'] },
  hosts: [0, 1, 2, 3].map((i) => ({ address: `10.0.1.1${i}`, names: [`vh${i}-nas`] })),
  ...extra,
});

export const networkFixture = (name: string): string => readFileSync(join(__dirname, '../fixtures/guest/network', name), 'utf8');

/** `run ARGV...` for commands, `write PATH (MODE OWNER)` for files. */
export const summary = (actions: PlannedAction[]): string[] =>
  actions.map((a) => (a.kind === 'command' ? `run ${a.argv.join(' ')}` : `write ${a.path} (${a.spec.mode} ${a.spec.owner})`));

export const contentOf = (actions: PlannedAction[], path: string): string | undefined => {
  const a = actions.find((x) => x.kind === 'file' && x.path === path);
  return a?.kind === 'file' ? a.content : undefined;
};

/** A facts output with one section's header and body replaced (its byte count recomputed). */
export function withSection(facts: string, name: string, header: { kind: string; meta?: string }, body: string): string {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`^::esxi-zfs:: \\S+ (\\d+) \\S+ \\S+ \\S+ ${escaped}\\n`, 'm').exec(facts);
  if (!m) throw new Error(`no section ${name}`);
  const bytes = Buffer.from(facts, 'utf8');
  const start = Buffer.byteLength(facts.slice(0, m.index));
  const end = start + Buffer.byteLength(m[0]) + Number(m[1]);
  const section = `::esxi-zfs:: ${header.kind} ${Buffer.byteLength(body)} ${header.meta ?? '- - -'} ${name}\n${body}`;
  return bytes.subarray(0, start).toString('utf8') + section + bytes.subarray(end).toString('utf8');
}

/** The kind of NetworkPlanError `fn` throws, or 'no error'. */
export const kindOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof NetworkPlanError) return e.kind;
    throw e;
  }
  return 'no error';
};
