/** zod strings checked by the grammars in core/names.ts: the schema's shell-bound fields. */
import { z } from 'zod';
import { absolutePathProblem, cidrProblem, datasetNameProblem, hostNameProblem, ipv4Problem, poolNameProblem, userNameProblem } from '../core/names';

/** A zod string checked by one of the problem functions above. */
export function checked(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message) ctx.addIssue({ code: 'custom', message });
  });
}

export const poolName = checked(poolNameProblem);
export const datasetName = checked(datasetNameProblem);
export const hostName = checked(hostNameProblem);
export const userName = checked(userNameProblem);
export const absolutePath = checked(absolutePathProblem);
export const ipv4 = checked(ipv4Problem);
export const cidr = checked(cidrProblem);
