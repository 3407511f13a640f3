import type { Command } from 'commander';
import { EXIT_INVALID, formatProblem, formatSummary, loadInventoryFile } from '../../inventory/load';
import { escapeText, safeJson } from '../../inventory/problems';
import { buildPlan, formatPlan } from '../../inventory/plan';

export { EXIT_INVALID } from '../../inventory/load';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check an inventory file: its problems with their paths and lines (exit 2), or the plan of what it builds')
    .argument('<file>', 'inventory YAML file')
    .option('--json', 'print the result as JSON')
    .action((file: string, options: { json?: boolean }) => {
      const result = loadInventoryFile(file);
      if (!result.ok) {
        if (options.json) {
          console.log(safeJson({ ok: false, file, problems: result.problems, moreProblems: result.moreProblems }));
        } else {
          // One line per problem (formatProblem escapes every control character), then the count.
          const lines = result.problems.map((problem) => formatProblem(file, problem));
          lines.push(formatSummary(file, result.problems.length, result.moreProblems));
          process.stderr.write(`${lines.join('\n')}\n`);
        }
        process.exitCode = EXIT_INVALID;
        return;
      }
      const plan = buildPlan(result.inventory);
      if (options.json) console.log(safeJson({ ok: true, file, plan }));
      else console.log(`${file} is valid. It will build:\n${formatPlan(plan)}`.split('\n').map(escapeText).join('\n'));
    });
}
