/** zod strings checked by the grammars in core/names.ts: the schema's shell-bound fields. */
import { z } from 'zod';
import {
  absolutePathProblem, cidrProblem, datasetNameProblem, hostNameProblem, ipv4Problem, keyFilePathProblem, loginNameProblem,
  interfaceNameProblem, mountpointProblem, poolNameProblem, portGroupNameProblem, propertyValueProblem, userNameProblem, vswitchNameProblem,
} from '../core/names';

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
export const mountpoint = checked(mountpointProblem);
export const portGroupName = checked(portGroupNameProblem);
export const vswitchName = checked(vswitchNameProblem);
export const loginName = checked(loginNameProblem);
export const keyFilePath = checked(keyFilePathProblem);
export const propertyValue = checked(propertyValueProblem);
export const interfaceName = checked(interfaceNameProblem);
/** Where ssh reaches a host: an IPv4 address or a host name. */
export const hostAddress = checked((value) =>
  ipv4Problem(value) && hostNameProblem(value) ? 'must be an IPv4 address or a host name (letters, digits, \'-\' and dots)' : undefined);
