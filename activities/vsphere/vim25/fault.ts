// vSphere faults as errors. A method's SOAP fault and a task that ended in error both carry the
// fault's type (`InvalidPowerState`), its fields as the server sent them, and its message.
import type { LocalizedMethodFault, MethodFault } from './types';

/** The fault types the runbooks tell apart, each with its base type, so `isFault(e, 'InvalidState')` matches `InvalidPowerState`. */
const FAULT_BASES: Readonly<Record<string, string>> = {
  VimFault: 'MethodFault',
  RuntimeFault: 'MethodFault',
  InvalidProperty: 'MethodFault',
  InvalidLogin: 'VimFault',
  InvalidState: 'VimFault',
  InvalidPowerState: 'InvalidState',
  InvalidHostState: 'InvalidState',
  DuplicateName: 'VimFault',
  AlreadyExists: 'VimFault',
  NotFound: 'VimFault',
  InvalidName: 'VimFault',
  ResourceInUse: 'VimFault',
  TaskInProgress: 'VimFault',
  HostConfigFault: 'VimFault',
  PlatformConfigFault: 'HostConfigFault',
  NasConfigFault: 'HostConfigFault',
  InvalidDatastore: 'VimFault',
  InvalidDatastorePath: 'InvalidDatastore',
  FileFault: 'VimFault',
  FileAlreadyExists: 'FileFault',
  InvalidArgument: 'RuntimeFault',
  InvalidRequest: 'RuntimeFault',
  MethodNotFound: 'InvalidRequest',
  InvalidType: 'InvalidRequest',
  ManagedObjectNotFound: 'RuntimeFault',
  NotSupported: 'RuntimeFault',
  RequestCanceled: 'RuntimeFault',
  HostCommunication: 'RuntimeFault',
  HostNotConnected: 'HostCommunication',
  SecurityError: 'RuntimeFault',
  NoPermission: 'SecurityError',
  NotAuthenticated: 'NoPermission',
  RestrictedVersion: 'SecurityError',
};

/** Whether a fault type is `ancestor` or one of its known subtypes. */
export function isFaultType(faultType: string, ancestor: string): boolean {
  for (let type: string | undefined = faultType; type; type = FAULT_BASES[type]) {
    if (type === ancestor) return true;
  }
  return false;
}

/** A fault the server reported. `faultType` is the vim25 type; `fault` holds its fields (`existingState`, `name`, ...). */
export abstract class VimFault extends Error {
  constructor(
    readonly faultType: string,
    readonly fault: MethodFault,
    readonly faultMessage: string,
    context: string,
  ) {
    super(`${context}: ${faultType}${faultMessage ? `: ${faultMessage}` : ''}`);
  }
}

/** A SOAP fault answering a method call. */
export class SoapFault extends VimFault {
  override name = 'SoapFault';

  constructor(
    readonly method: string,
    readonly faultCode: string,
    readonly faultString: string,
    fault: MethodFault | undefined,
  ) {
    super(fault?._type ?? 'SoapFault', fault ?? {}, faultString, method);
  }
}

/** A task that ended in `error`: TaskInfo.error as an error. */
export class TaskError extends VimFault {
  override name = 'TaskError';

  constructor(
    readonly task: string,
    error: LocalizedMethodFault,
  ) {
    const fault = error.fault ?? {};
    super(fault._type ?? 'MethodFault', fault, error.localizedMessage ?? faultText(fault), task);
  }
}

/** Whether `error` is a vSphere fault of `faultType` or a subtype of it. */
export function isFault(error: unknown, faultType: string): error is VimFault {
  return error instanceof VimFault && isFaultType(error.faultType, faultType);
}

function faultText(fault: MethodFault): string {
  return (fault.faultMessage ?? []).map((m) => m.message ?? m.key).join('; ');
}
