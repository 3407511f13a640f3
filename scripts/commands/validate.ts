import type { Command } from 'commander';
import { formatProblem, loadInventoryFile } from '../../inventory/load';
import { buildPlan, formatPlan } from '../../inventory/plan';

/** Exit code for an inventory with problems: nothing was started. */
export const EXIT_INVALID = 2;

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an inventory file: every problem at once with its path and line (exit 2), or the plan of what it builds')
    .argument('<file>', 'inventory YAML file')
    .option('--json', 'print the result as JSON')
    .action((file: string, options: { json?: boolean }) => {
      const result = loadInventoryFile(file);
      if (!result.ok) {
        if (options.json) console.log(JSON.stringify({ ok: false, file, problems: result.problems }, null, 2));
        else {
          for (const problem of result.problems) console.error(formatProblem(file, problem));
          console.error(`${result.problems.length} problem(s) in ${file}; nothing was started`);
        }
        process.exitCode = EXIT_INVALID;
        return;
      }
      const plan = buildPlan(result.inventory);
      if (options.json) console.log(JSON.stringify({ ok: true, file, plan }, null, 2));
      else console.log(`${file} is valid. It will build:\n${formatPlan(plan)}`);
    });
}
