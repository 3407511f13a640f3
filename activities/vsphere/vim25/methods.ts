// One function per vim25 method, named as the API names it. Each takes the round tripper (a
// session) and the method's request: `_this` (the managed object called) and its arguments.
import type { CallOptions, RoundTripper } from './soap';
import type {
  ConfigTarget, HostAutoStartManagerConfig, HostNasVolumeSpec, HostPciPassthruConfig, HostPortGroupSpec, HostVirtualNicSpec,
  HostVirtualSwitchSpec, ManagedObjectReference, PropertyFilterSpec, RetrieveOptions, RetrieveResult,
  ServiceContent, UpdateSet, UserSession, VirtualMachineConfigSpec, WaitOptions,
} from './types';

type Ref = ManagedObjectReference;
type This = { _this: Ref };

const MOR = { type: 'ManagedObjectReference' } as const;

function call<T>(
  rt: RoundTripper, method: string, args: This, returns?: { type: string; array?: boolean }, options?: CallOptions,
): Promise<T> {
  const requestType = `${method.replace(/_Task$/, '')}RequestType`;
  return rt.roundTrip({ method, requestType, args, returns }, options) as Promise<T>;
}

// --- ServiceInstance and SessionManager ---

export const RetrieveServiceContent = (rt: RoundTripper, req: This): Promise<ServiceContent> =>
  call(rt, 'RetrieveServiceContent', req, { type: 'ServiceContent' });

export const Login = (rt: RoundTripper, req: This & { userName: string; password: string; locale?: string }): Promise<UserSession> =>
  call(rt, 'Login', req, { type: 'UserSession' });

export const Logout = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'Logout', req);

// --- PropertyCollector, PropertyFilter, ViewManager ---

export const RetrievePropertiesEx = (
  rt: RoundTripper, req: This & { specSet: PropertyFilterSpec[]; options: RetrieveOptions },
): Promise<RetrieveResult | undefined> => call(rt, 'RetrievePropertiesEx', req, { type: 'RetrieveResult' });

export const ContinueRetrievePropertiesEx = (rt: RoundTripper, req: This & { token: string }): Promise<RetrieveResult> =>
  call(rt, 'ContinueRetrievePropertiesEx', req, { type: 'RetrieveResult' });

export const CancelRetrievePropertiesEx = (rt: RoundTripper, req: This & { token: string }): Promise<void> =>
  call(rt, 'CancelRetrievePropertiesEx', req);

export const CreatePropertyCollector = (rt: RoundTripper, req: This): Promise<Ref> => call(rt, 'CreatePropertyCollector', req, MOR);

export const DestroyPropertyCollector = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'DestroyPropertyCollector', req);

export const CreateFilter = (rt: RoundTripper, req: This & { spec: PropertyFilterSpec; partialUpdates: boolean }): Promise<Ref> =>
  call(rt, 'CreateFilter', req, MOR);

export const DestroyPropertyFilter = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'DestroyPropertyFilter', req);

/** Undefined when `options.maxWaitSeconds` passed with no change. `call` may set a longer timeout and an abort signal. */
export const WaitForUpdatesEx = (
  rt: RoundTripper, req: This & { version?: string; options?: WaitOptions }, callOptions?: CallOptions,
): Promise<UpdateSet | undefined> => call(rt, 'WaitForUpdatesEx', req, { type: 'UpdateSet' }, callOptions);

export const CancelWaitForUpdates = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'CancelWaitForUpdates', req);

export const CreateContainerView = (rt: RoundTripper, req: This & { container: Ref; type?: string[]; recursive: boolean }): Promise<Ref> =>
  call(rt, 'CreateContainerView', req, MOR);

export const DestroyView = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'DestroyView', req);

// --- HostSystem and its systems ---

export const UpdatePassthruConfig = (rt: RoundTripper, req: This & { config: HostPciPassthruConfig[] }): Promise<void> =>
  call(rt, 'UpdatePassthruConfig', req);

/** HostPciPassthruSystem.Refresh: re-reads the devices' passthrough state. */
export const Refresh = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'Refresh', req);

export const RebootHost_Task = (rt: RoundTripper, req: This & { force: boolean }): Promise<Ref> => call(rt, 'RebootHost_Task', req, MOR);

export const EnterMaintenanceMode_Task = (
  rt: RoundTripper, req: This & { timeout: number; evacuatePoweredOffVms?: boolean },
): Promise<Ref> => call(rt, 'EnterMaintenanceMode_Task', req, MOR);

export const ExitMaintenanceMode_Task = (rt: RoundTripper, req: This & { timeout: number }): Promise<Ref> =>
  call(rt, 'ExitMaintenanceMode_Task', req, MOR);

export const ReconfigureAutostart = (rt: RoundTripper, req: This & { spec: HostAutoStartManagerConfig }): Promise<void> =>
  call(rt, 'ReconfigureAutostart', req);

export const AddVirtualSwitch = (rt: RoundTripper, req: This & { vswitchName: string; spec?: HostVirtualSwitchSpec }): Promise<void> =>
  call(rt, 'AddVirtualSwitch', req);

export const AddPortGroup = (rt: RoundTripper, req: This & { portgrp: HostPortGroupSpec }): Promise<void> => call(rt, 'AddPortGroup', req);

/** Returns the new VMkernel NIC's device name (`vmk1`). */
export const AddVirtualNic = (rt: RoundTripper, req: This & { portgroup: string; nic: HostVirtualNicSpec }): Promise<string> =>
  call(rt, 'AddVirtualNic', req, { type: 'string' });

export const CreateNasDatastore = (rt: RoundTripper, req: This & { spec: HostNasVolumeSpec }): Promise<Ref> =>
  call(rt, 'CreateNasDatastore', req, MOR);

export const RemoveDatastore = (rt: RoundTripper, req: This & { datastore: Ref }): Promise<void> => call(rt, 'RemoveDatastore', req);

export const RefreshStorageSystem = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'RefreshStorageSystem', req);

export const RescanAllHba = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'RescanAllHba', req);

// --- Datastore ---

/** Datastore.RefreshDatastore: the hosts read the datastore's state again (accessibility, space). */
export const RefreshDatastore = (rt: RoundTripper, req: This): Promise<void> => call(rt, 'RefreshDatastore', req);

// --- EnvironmentBrowser ---

/** What `host` (or, without it, the compute resource) offers a VM: passthrough devices with their systemId. */
export const QueryConfigTarget = (rt: RoundTripper, req: This & { host?: Ref }): Promise<ConfigTarget | undefined> =>
  call(rt, 'QueryConfigTarget', req, { type: 'ConfigTarget' });

// --- Folder, VirtualMachine, ManagedEntity ---

export const CreateVM_Task = (rt: RoundTripper, req: This & { config: VirtualMachineConfigSpec; pool: Ref; host?: Ref }): Promise<Ref> =>
  call(rt, 'CreateVM_Task', req, MOR);

export const ReconfigVM_Task = (rt: RoundTripper, req: This & { spec: VirtualMachineConfigSpec }): Promise<Ref> =>
  call(rt, 'ReconfigVM_Task', req, MOR);

export const PowerOnVM_Task = (rt: RoundTripper, req: This & { host?: Ref }): Promise<Ref> => call(rt, 'PowerOnVM_Task', req, MOR);

export const PowerOffVM_Task = (rt: RoundTripper, req: This): Promise<Ref> => call(rt, 'PowerOffVM_Task', req, MOR);

export const Destroy_Task = (rt: RoundTripper, req: This): Promise<Ref> => call(rt, 'Destroy_Task', req, MOR);
