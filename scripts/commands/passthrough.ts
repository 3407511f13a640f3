/**
 * `esxi-zfs passthrough FILE [--host NAME ...] [--wait] [--json]`: starts enablePassthrough for each
 * ESXi host named (default: every host with a passthrough device), one workflow per host
 * (`enable-passthrough/<host>`). With --wait it follows each run's status query: the step, the
 * reboot wait's deadline, and what to do when a host does not come back.
 * `esxi-zfs host-is-back HOST`: the operator's signal that a host that did not come back is up.
 */
import type { Command } from 'commander';
import { WorkflowIds } from '../../core/provision/shared';
import type { WorkflowHandle } from '@temporalio/client';
import { enablePassthrough } from '../../workflows';
import { Runbook, runSearchAttributes } from '../../core/search-attributes';
import { hostIsBackSignal, passthroughStatusQuery, type EnablePassthroughResult, type PassthroughStatus } from '../../core/passthrough/shared';
import { requireInventory } from '../../inventory/load';
import { enablePassthroughInput, passthroughHosts } from '../../inventory/passthrough';
import { report, settle, startOrFollow } from '../start-runs';
import { withClient } from '../temporal-client';

export const passthroughWorkflowId = WorkflowIds.enablePassthrough;
const STATUS_EVERY_MS = 2000;

export function formatPassthroughResult(result: EnablePassthroughResult): string {
  const lines = [`${result.host}: ${result.device.id} (${result.device.description}) active, ${result.reboots === 0 ? 'no reboot' : `${result.reboots} reboot(s)`}`];
  for (const { step, report } of result.steps) {
    for (const c of report.changed) lines.push(`  ${step}: ${c}`);
    for (const w of report.warnings) lines.push(`  ${step}: warning: ${w}`);
  }
  return lines.join('\n');
}

const describe = (host: string, s: PassthroughStatus) =>
  `${host}: ${s.step} since ${s.since}${s.deadline ? `, back by ${s.deadline}` : ''}${s.waitingForOperator ? `\n  ${s.waitingForOperator}` : ''}`;

/** Prints each host's status when it changes, until its run ends. */
async function follow(host: string, handle: WorkflowHandle<typeof enablePassthrough>): Promise<EnablePassthroughResult> {
  let last = '';
  const result = handle.result();
  let ended = false;
  void result.then(() => { ended = true; }, () => { ended = true; });
  while (!ended) {
    const line = await handle.query(passthroughStatusQuery).then((s) => describe(host, s), () => last);
    if (line !== last) console.log((last = line));
    await Promise.race([result.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, STATUS_EVERY_MS))]);
  }
  return result;
}

export function registerPassthrough(program: Command): void {
  program
    .command('passthrough')
    .description('hand each host\'s PCI device to VT-d passthrough (workflow enablePassthrough): enable, reboot, wait, verify passthruActive; no reboot when active already')
    .argument('<file>', 'inventory YAML file')
    .option('--host <name...>', 'only these ESXi hosts (default: every host with a passthrough device)')
    .option('--wait', 'follow each run (step, reboot deadline) and print the results; exit 1 if one failed')
    .option('--json', 'with --wait: print the results as JSON')
    .action(async (file: string, options: { host?: string[]; wait?: boolean; json?: boolean }) => {
      const inventory = requireInventory(file);
      const names = options.host ?? passthroughHosts(inventory);
      const inputs = names.map((name) => enablePassthroughInput(inventory, name));
      await withClient(async (client) => {
        const handles = await startOrFollow(client, enablePassthrough, inputs.map((input) => ({
          workflowId: passthroughWorkflowId(input.host.name),
          args: [input],
          searchAttributes: runSearchAttributes(Runbook.enablePassthrough, { host: input.host.name }),
          summary: `passthrough on ${input.host.name}: enable, reboot, verify`,
        })), options.json);
        if (!options.wait) return;
        const settled = await settle(names, handles.map((h, i) => (options.json ? h.result() : follow(names[i]!, h))));
        report('enablePassthrough', settled, options.json, formatPassthroughResult);
      });
    });

  program
    .command('host-is-back')
    .description('tell a waiting enablePassthrough run that its host is up again (after fixing what kept it down): it checks again')
    .argument('<host>', 'the ESXi host, as the inventory names it')
    .action(async (host: string) => {
      await withClient(async (client) => {
        await client.workflow.getHandle(passthroughWorkflowId(host)).signal(hostIsBackSignal);
        console.log(`sent hostIsBack to ${passthroughWorkflowId(host)}`);
      });
    });
}
