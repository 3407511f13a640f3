// The part of the vim25 WSDL this client speaks: for each data object and request type, its base
// type and its own elements in the schema's order (a sequence: the server rejects another order).
// Field types are XML Schema primitives, `ManagedObjectReference`, `anyType` or a type named here;
// `[]` marks a repeated element. Types the server returns that are not listed here are still read:
// as their declared base type, their own extra elements without typing (see decode.ts).

export type Primitive = 'string' | 'boolean' | 'byte' | 'short' | 'int' | 'long' | 'float' | 'double' | 'dateTime' | 'base64Binary';

export interface FieldDef {
  readonly name: string;
  /** A primitive, `ManagedObjectReference`, `anyType` or a data object type's name. */
  readonly type: string;
  readonly array: boolean;
}

export interface TypeDef {
  readonly base?: string;
  readonly fields: readonly FieldDef[];
}

export const PRIMITIVES: ReadonlySet<string> = new Set<Primitive>([
  'string', 'boolean', 'byte', 'short', 'int', 'long', 'float', 'double', 'dateTime', 'base64Binary',
]);

/** `fields('key:int', 'backing:VirtualDeviceBackingInfo', 'ipAddress:string[]')` */
function fields(...specs: string[]): FieldDef[] {
  return specs.map((spec) => {
    const [name, type] = spec.split(':');
    const array = type.endsWith('[]');
    return { name, type: array ? type.slice(0, -2) : type, array };
  });
}

const t = (base: string | undefined, ...specs: string[]): TypeDef => ({ base, fields: fields(...specs) });

const MOR = 'ManagedObjectReference';

const dataObjects: Record<string, TypeDef> = {
  DynamicData: t(undefined),

  // Session
  AboutInfo: t('DynamicData', 'name:string', 'fullName:string', 'vendor:string', 'version:string', 'patchLevel:string',
    'build:string', 'localeVersion:string', 'localeBuild:string', 'osType:string', 'productLineId:string', 'apiType:string',
    'apiVersion:string', 'instanceUuid:string', 'licenseProductName:string', 'licenseProductVersion:string'),
  ServiceContent: t('DynamicData', `rootFolder:${MOR}`, `propertyCollector:${MOR}`, `viewManager:${MOR}`, 'about:AboutInfo',
    `setting:${MOR}`, `userDirectory:${MOR}`, `sessionManager:${MOR}`, `authorizationManager:${MOR}`, `serviceManager:${MOR}`,
    `perfManager:${MOR}`, `scheduledTaskManager:${MOR}`, `alarmManager:${MOR}`, `eventManager:${MOR}`, `taskManager:${MOR}`,
    `extensionManager:${MOR}`, `customizationSpecManager:${MOR}`, `guestCustomizationManager:${MOR}`, `customFieldsManager:${MOR}`,
    `accountManager:${MOR}`, `diagnosticManager:${MOR}`, `licenseManager:${MOR}`, `searchIndex:${MOR}`, `fileManager:${MOR}`,
    `datastoreNamespaceManager:${MOR}`, `virtualDiskManager:${MOR}`, `virtualizationManager:${MOR}`, `snmpSystem:${MOR}`,
    `vmProvisioningChecker:${MOR}`, `vmCompatibilityChecker:${MOR}`, `ovfManager:${MOR}`, `ipPoolManager:${MOR}`,
    `dvSwitchManager:${MOR}`, `hostProfileManager:${MOR}`, `clusterProfileManager:${MOR}`, `complianceManager:${MOR}`,
    `localizationManager:${MOR}`, `storageResourceManager:${MOR}`, `guestOperationsManager:${MOR}`, `overheadMemoryManager:${MOR}`,
    `certificateManager:${MOR}`, `ioFilterManager:${MOR}`, `vStorageObjectManager:${MOR}`, `hostSpecManager:${MOR}`,
    `cryptoManager:${MOR}`, `healthUpdateManager:${MOR}`, `failoverClusterConfigurator:${MOR}`, `failoverClusterManager:${MOR}`,
    `tenantManager:${MOR}`, `siteInfoManager:${MOR}`, `storageQueryManager:${MOR}`),
  UserSession: t('DynamicData', 'key:string', 'userName:string', 'fullName:string', 'loginTime:dateTime', 'lastActiveTime:dateTime',
    'locale:string', 'messageLocale:string', 'extensionSession:boolean', 'ipAddress:string', 'userAgent:string', 'callCount:long'),

  // Property collector
  SelectionSpec: t('DynamicData', 'name:string'),
  TraversalSpec: t('SelectionSpec', 'type:string', 'path:string', 'skip:boolean', 'selectSet:SelectionSpec[]'),
  ObjectSpec: t('DynamicData', `obj:${MOR}`, 'skip:boolean', 'selectSet:SelectionSpec[]'),
  PropertySpec: t('DynamicData', 'type:string', 'all:boolean', 'pathSet:string[]'),
  PropertyFilterSpec: t('DynamicData', 'propSet:PropertySpec[]', 'objectSet:ObjectSpec[]', 'reportMissingObjectsInResults:boolean'),
  RetrieveOptions: t('DynamicData', 'maxObjects:int'),
  RetrieveResult: t('DynamicData', 'token:string', 'objects:ObjectContent[]'),
  ObjectContent: t('DynamicData', `obj:${MOR}`, 'propSet:DynamicProperty[]', 'missingSet:MissingProperty[]'),
  DynamicProperty: t(undefined, 'name:string', 'val:anyType'),
  MissingProperty: t('DynamicData', 'path:string', 'fault:LocalizedMethodFault'),
  MissingObject: t('DynamicData', `obj:${MOR}`, 'fault:LocalizedMethodFault'),
  WaitOptions: t('DynamicData', 'maxWaitSeconds:int', 'maxObjectUpdates:int'),
  UpdateSet: t('DynamicData', 'version:string', 'filterSet:PropertyFilterUpdate[]', 'truncated:boolean'),
  PropertyFilterUpdate: t('DynamicData', `filter:${MOR}`, 'objectSet:ObjectUpdate[]', 'missingSet:MissingObject[]'),
  ObjectUpdate: t('DynamicData', 'kind:string', `obj:${MOR}`, 'changeSet:PropertyChange[]', 'missingSet:MissingProperty[]'),
  PropertyChange: t('DynamicData', 'name:string', 'op:string', 'val:anyType'),

  // Tasks and faults
  LocalizableMessage: t('DynamicData', 'key:string', 'arg:KeyAnyValue[]', 'message:string'),
  KeyAnyValue: t('DynamicData', 'key:string', 'value:anyType'),
  LocalizedMethodFault: t('DynamicData', 'fault:MethodFault', 'localizedMessage:string'),
  MethodFault: t(undefined, 'faultCause:LocalizedMethodFault', 'faultMessage:LocalizableMessage[]'),
  TaskReason: t('DynamicData'),
  TaskInfo: t('DynamicData', 'key:string', `task:${MOR}`, 'description:LocalizableMessage', 'name:string', 'descriptionId:string',
    `entity:${MOR}`, 'entityName:string', `locked:${MOR}[]`, 'state:string', 'cancelled:boolean', 'cancelable:boolean',
    'error:LocalizedMethodFault', 'result:anyType', 'progress:int', 'progressDetails:KeyAnyValue[]', 'reason:TaskReason',
    'queueTime:dateTime', 'startTime:dateTime', 'completeTime:dateTime', 'eventChainId:int', 'changeTag:string',
    'parentTaskKey:string', 'rootTaskKey:string', 'activationId:string'),

  // PCI passthrough
  HostPciDevice: t('DynamicData', 'id:string', 'classId:short', 'bus:byte', 'slot:byte', 'physicalSlot:int', 'slotDescription:string',
    'function:byte', 'vendorId:short', 'subVendorId:short', 'vendorName:string', 'deviceId:short', 'subDeviceId:short',
    'parentBridge:string', 'deviceName:string', 'deviceClassName:string'),
  HostPciPassthruConfig: t('DynamicData', 'id:string', 'passthruEnabled:boolean', 'applyNow:boolean', 'hardwareLabel:string'),
  HostPciPassthruInfo: t('DynamicData', 'id:string', 'dependentDevice:string', 'passthruEnabled:boolean', 'passthruCapable:boolean',
    'passthruActive:boolean', 'hardwareLabel:string'),

  // What a host offers a VM (EnvironmentBrowser.QueryConfigTarget): the passthrough devices and their systemId
  VirtualMachineTargetInfo: t('DynamicData', 'name:string', 'configurationTag:string[]'),
  VirtualMachinePciPassthroughInfo: t('VirtualMachineTargetInfo', 'pciDevice:HostPciDevice', 'systemId:string'),
  VirtualMachineDynamicPassthroughInfo: t('VirtualMachineTargetInfo', 'vendorName:string', 'deviceName:string', 'customLabel:string',
    'vendorId:int', 'deviceId:int'),
  // A subset of the elements, in order, for reading.
  ConfigTarget: t('DynamicData', 'numCpus:int', 'numCpuCores:int', 'numNumaNodes:int', 'maxCpusPerHost:int', 'smcPresent:boolean',
    'datastore:anyType[]', 'network:anyType[]', 'maxMemMBOptimalPerf:int', 'supportedMaxMemMB:int',
    'pciPassthrough:VirtualMachinePciPassthroughInfo[]', 'dynamicPassthrough:VirtualMachineDynamicPassthroughInfo[]'),

  // Virtual machine configuration
  Description: t('DynamicData', 'label:string', 'summary:string'),
  OptionValue: t('DynamicData', 'key:string', 'value:anyType'),
  SharesInfo: t('DynamicData', 'shares:int', 'level:string'),
  ResourceAllocationInfo: t('DynamicData', 'reservation:long', 'expandableReservation:boolean', 'limit:long', 'shares:SharesInfo',
    'overheadLimit:long'),
  VirtualMachineFileInfo: t('DynamicData', 'vmPathName:string', 'snapshotDirectory:string', 'suspendDirectory:string',
    'logDirectory:string', 'ftMetadataDirectory:string'),
  VirtualMachineBootOptions: t('DynamicData', 'bootDelay:long', 'enterBIOSSetup:boolean', 'efiSecureBootEnabled:boolean',
    'bootRetryEnabled:boolean', 'bootRetryDelay:long'),
  // A subset of the spec's elements, in the schema's order; the encoder refuses any other.
  VirtualMachineConfigSpec: t('DynamicData', 'changeVersion:string', 'name:string', 'version:string', 'uuid:string',
    'instanceUuid:string', 'guestId:string', 'annotation:string', 'files:VirtualMachineFileInfo', 'numCPUs:int',
    'numCoresPerSocket:int', 'memoryMB:long', 'deviceChange:VirtualDeviceConfigSpec[]', 'cpuAllocation:ResourceAllocationInfo',
    'memoryAllocation:ResourceAllocationInfo', 'extraConfig:OptionValue[]', 'bootOptions:VirtualMachineBootOptions',
    'firmware:string', 'memoryReservationLockedToMax:boolean'),
  VirtualDeviceConfigSpec: t('DynamicData', 'operation:string', 'fileOperation:string', 'device:VirtualDevice'),
  VirtualDeviceConnectInfo: t('DynamicData', 'migrateConnect:string', 'startConnected:boolean', 'allowGuestControl:boolean',
    'connected:boolean', 'status:string'),
  VirtualDevice: t('DynamicData', 'key:int', 'deviceInfo:Description', 'backing:VirtualDeviceBackingInfo',
    'connectable:VirtualDeviceConnectInfo', 'controllerKey:int', 'unitNumber:int'),
  VirtualDeviceBackingInfo: t('DynamicData'),
  VirtualDeviceDeviceBackingInfo: t('VirtualDeviceBackingInfo', 'deviceName:string', 'useAutoDetect:boolean'),
  VirtualDeviceFileBackingInfo: t('VirtualDeviceBackingInfo', 'fileName:string', `datastore:${MOR}`, 'backingObjectId:string'),
  VirtualDeviceRemoteDeviceBackingInfo: t('VirtualDeviceBackingInfo', 'deviceName:string', 'useAutoDetect:boolean'),
  VirtualPCIPassthrough: t('VirtualDevice'),
  VirtualPCIPassthroughDeviceBackingInfo: t('VirtualDeviceDeviceBackingInfo', 'id:string', 'deviceId:string', 'systemId:string',
    'vendorId:short'),
  VirtualPCIPassthroughAllowedDevice: t('DynamicData', 'vendorId:int', 'deviceId:int', 'subVendorId:int', 'subDeviceId:int',
    'revisionId:short'),
  VirtualPCIPassthroughDynamicBackingInfo: t('VirtualDeviceDeviceBackingInfo', 'allowedDevice:VirtualPCIPassthroughAllowedDevice[]',
    'customLabel:string', 'assignedId:string'),
  VirtualEthernetCard: t('VirtualDevice', 'addressType:string', 'macAddress:string', 'wakeOnLanEnabled:boolean'),
  VirtualE1000: t('VirtualEthernetCard'),
  VirtualVmxnet: t('VirtualEthernetCard'),
  VirtualVmxnet3: t('VirtualVmxnet'),
  VirtualEthernetCardNetworkBackingInfo: t('VirtualDeviceDeviceBackingInfo', `network:${MOR}`, 'inPassthroughMode:boolean'),
  VirtualDisk: t('VirtualDevice', 'capacityInKB:long', 'capacityInBytes:long'),
  VirtualDiskFlatVer2BackingInfo: t('VirtualDeviceFileBackingInfo', 'diskMode:string', 'split:boolean', 'writeThrough:boolean',
    'thinProvisioned:boolean', 'eagerlyScrub:boolean', 'uuid:string'),
  VirtualCdrom: t('VirtualDevice'),
  VirtualCdromIsoBackingInfo: t('VirtualDeviceFileBackingInfo'),
  VirtualCdromRemotePassthroughBackingInfo: t('VirtualDeviceRemoteDeviceBackingInfo', 'exclusive:boolean'),
  VirtualController: t('VirtualDevice', 'busNumber:int', 'device:int[]'),
  VirtualPCIController: t('VirtualController'),
  VirtualIDEController: t('VirtualController'),
  VirtualSIOController: t('VirtualController'),
  VirtualPS2Controller: t('VirtualController'),
  VirtualSATAController: t('VirtualController'),
  VirtualAHCIController: t('VirtualSATAController'),
  VirtualNVMEController: t('VirtualController', 'sharedBus:string'),
  VirtualSCSIController: t('VirtualController', 'hotAddRemove:boolean', 'sharedBus:string', 'scsiCtlrUnitNumber:int'),
  ParaVirtualSCSIController: t('VirtualSCSIController'),
  VirtualLsiLogicController: t('VirtualSCSIController'),
  VirtualLsiLogicSASController: t('VirtualSCSIController'),

  // Host networking
  HostIpConfig: t('DynamicData', 'dhcp:boolean', 'ipAddress:string', 'subnetMask:string'),
  HostNetworkPolicy: t('DynamicData'),
  HostVirtualSwitchBridge: t('DynamicData'),
  HostVirtualSwitchBondBridge: t('HostVirtualSwitchBridge', 'nicDevice:string[]'),
  HostVirtualSwitchSpec: t('DynamicData', 'numPorts:int', 'bridge:HostVirtualSwitchBridge', 'policy:HostNetworkPolicy', 'mtu:int'),
  HostPortGroupSpec: t('DynamicData', 'name:string', 'vlanId:int', 'vswitchName:string', 'policy:HostNetworkPolicy'),
  HostVirtualNicSpec: t('DynamicData', 'ip:HostIpConfig', 'mac:string', 'portgroup:string', 'mtu:int'),
  HostVirtualSwitch: t('DynamicData', 'name:string', 'key:string', 'numPorts:int', 'numPortsAvailable:int', 'mtu:int',
    'portgroup:string[]', 'pnic:string[]', 'spec:HostVirtualSwitchSpec'),
  HostPortGroup: t('DynamicData', 'key:string', 'port:HostPortGroupPort[]', 'vswitch:string', 'computedPolicy:HostNetworkPolicy',
    'spec:HostPortGroupSpec'),
  HostPortGroupPort: t('DynamicData', 'key:string', 'mac:string[]', 'type:string'),
  HostVirtualNic: t('DynamicData', 'device:string', 'key:string', 'portgroup:string', 'spec:HostVirtualNicSpec', 'port:string'),

  // Datastores
  HostNasVolumeSpec: t('DynamicData', 'remoteHost:string', 'remotePath:string', 'localPath:string', 'accessMode:string',
    'type:string', 'userName:string', 'password:string', 'remoteHostNames:string[]', 'securityType:string'),
  HostFileSystemVolume: t('DynamicData', 'type:string', 'name:string', 'capacity:long'),
  HostNasVolume: t('HostFileSystemVolume', 'remoteHost:string', 'remotePath:string', 'userName:string', 'remoteHostNames:string[]',
    'securityType:string', 'protocolEndpoint:boolean'),
  DatastoreInfo: t('DynamicData', 'name:string', 'url:string', 'freeSpace:long', 'maxFileSize:long', 'maxVirtualDiskCapacity:long',
    'maxMemoryFileSize:long', 'timestamp:dateTime', 'containerId:string', 'aliasOf:string'),
  NasDatastoreInfo: t('DatastoreInfo', 'nas:HostNasVolume'),
  DatastoreHostMount: t('DynamicData', `key:${MOR}`, 'mountInfo:HostMountInfo'),
  HostMountInfo: t('DynamicData', 'path:string', 'accessMode:string', 'mounted:boolean', 'accessible:boolean', 'inaccessibleReason:string',
    'vmknicName:string', 'vmknicActive:boolean', 'mountFailedReason:string', 'numTcpConnections:int'),
  DatastoreSummary: t('DynamicData', `datastore:${MOR}`, 'name:string', 'url:string', 'capacity:long', 'freeSpace:long',
    'uncommitted:long', 'accessible:boolean', 'multipleHostAccess:boolean', 'type:string', 'maintenanceMode:string'),

  // Autostart
  AutoStartDefaults: t('DynamicData', 'enabled:boolean', 'startDelay:int', 'stopDelay:int', 'waitForHeartbeat:boolean',
    'stopAction:string'),
  AutoStartPowerInfo: t('DynamicData', `key:${MOR}`, 'startOrder:int', 'startDelay:int', 'waitForHeartbeat:string',
    'startAction:string', 'stopDelay:int', 'stopAction:string'),
  HostAutoStartManagerConfig: t('DynamicData', 'defaults:AutoStartDefaults', 'powerInfo:AutoStartPowerInfo[]'),

  // Runtime state read by the runbooks
  HostRuntimeInfo: t('DynamicData', 'connectionState:string', 'powerState:string', 'standbyMode:string', 'inMaintenanceMode:boolean',
    'inQuarantineMode:boolean', 'bootTime:dateTime'),
  VirtualMachineRuntimeInfo: t('DynamicData', 'device:anyType[]', `host:${MOR}`, 'connectionState:string', 'powerState:string',
    'vmFailoverInProgress:boolean', 'faultToleranceState:string', 'dasVmProtection:anyType', 'toolsInstallerMounted:boolean',
    'suspendTime:dateTime', 'bootTime:dateTime'),
  GuestNicInfo: t('DynamicData', 'network:string', 'ipAddress:string[]', 'macAddress:string', 'connected:boolean',
    'deviceConfigId:int'),
  GuestInfo: t('DynamicData', 'toolsStatus:string', 'toolsVersionStatus:string', 'toolsVersionStatus2:string',
    'toolsRunningStatus:string', 'toolsVersion:string', 'toolsInstallType:string', 'guestId:string', 'guestFamily:string',
    'guestFullName:string', 'guestDetailedData:string', 'hostName:string', 'ipAddress:string', 'net:GuestNicInfo[]',
    'ipStack:anyType[]', 'disk:anyType[]', 'screen:anyType', 'guestState:string', 'appHeartbeatStatus:string'),
};

/** Each method's request, named as the WSDL names it (`RebootHost_Task` takes a `RebootHostRequestType`). */
const requests: Record<string, TypeDef> = {
  RetrieveServiceContentRequestType: t(undefined, `_this:${MOR}`),
  LoginRequestType: t(undefined, `_this:${MOR}`, 'userName:string', 'password:string', 'locale:string'),
  LogoutRequestType: t(undefined, `_this:${MOR}`),
  RetrievePropertiesExRequestType: t(undefined, `_this:${MOR}`, 'specSet:PropertyFilterSpec[]', 'options:RetrieveOptions'),
  ContinueRetrievePropertiesExRequestType: t(undefined, `_this:${MOR}`, 'token:string'),
  CancelRetrievePropertiesExRequestType: t(undefined, `_this:${MOR}`, 'token:string'),
  CreatePropertyCollectorRequestType: t(undefined, `_this:${MOR}`),
  DestroyPropertyCollectorRequestType: t(undefined, `_this:${MOR}`),
  CreateFilterRequestType: t(undefined, `_this:${MOR}`, 'spec:PropertyFilterSpec', 'partialUpdates:boolean'),
  DestroyPropertyFilterRequestType: t(undefined, `_this:${MOR}`),
  WaitForUpdatesExRequestType: t(undefined, `_this:${MOR}`, 'version:string', 'options:WaitOptions'),
  CancelWaitForUpdatesRequestType: t(undefined, `_this:${MOR}`),
  CreateContainerViewRequestType: t(undefined, `_this:${MOR}`, `container:${MOR}`, 'type:string[]', 'recursive:boolean'),
  DestroyViewRequestType: t(undefined, `_this:${MOR}`),
  UpdatePassthruConfigRequestType: t(undefined, `_this:${MOR}`, 'config:HostPciPassthruConfig[]'),
  RefreshRequestType: t(undefined, `_this:${MOR}`),
  RebootHostRequestType: t(undefined, `_this:${MOR}`, 'force:boolean'),
  EnterMaintenanceModeRequestType: t(undefined, `_this:${MOR}`, 'timeout:int', 'evacuatePoweredOffVms:boolean'),
  ExitMaintenanceModeRequestType: t(undefined, `_this:${MOR}`, 'timeout:int'),
  CreateVMRequestType: t(undefined, `_this:${MOR}`, 'config:VirtualMachineConfigSpec', `pool:${MOR}`, `host:${MOR}`),
  ReconfigVMRequestType: t(undefined, `_this:${MOR}`, 'spec:VirtualMachineConfigSpec'),
  PowerOnVMRequestType: t(undefined, `_this:${MOR}`, `host:${MOR}`),
  PowerOffVMRequestType: t(undefined, `_this:${MOR}`),
  DestroyRequestType: t(undefined, `_this:${MOR}`),
  QueryConfigTargetRequestType: t(undefined, `_this:${MOR}`, `host:${MOR}`),
  ReconfigureAutostartRequestType: t(undefined, `_this:${MOR}`, 'spec:HostAutoStartManagerConfig'),
  AddVirtualSwitchRequestType: t(undefined, `_this:${MOR}`, 'vswitchName:string', 'spec:HostVirtualSwitchSpec'),
  AddPortGroupRequestType: t(undefined, `_this:${MOR}`, 'portgrp:HostPortGroupSpec'),
  AddVirtualNicRequestType: t(undefined, `_this:${MOR}`, 'portgroup:string', 'nic:HostVirtualNicSpec'),
  CreateNasDatastoreRequestType: t(undefined, `_this:${MOR}`, 'spec:HostNasVolumeSpec'),
  RemoveDatastoreRequestType: t(undefined, `_this:${MOR}`, `datastore:${MOR}`),
  RefreshStorageSystemRequestType: t(undefined, `_this:${MOR}`),
  RescanAllHbaRequestType: t(undefined, `_this:${MOR}`),
};

export const TYPES: Readonly<Record<string, TypeDef>> = { ...dataObjects, ...requests };

/** The type's elements in wire order: its bases' first, root first. */
export function allFields(typeName: string): readonly FieldDef[] {
  const def = TYPES[typeName];
  if (!def) return [];
  return def.base ? [...allFields(def.base), ...def.fields] : def.fields;
}

export function isKnownType(typeName: string): boolean {
  return typeName in TYPES;
}

/** Whether `typeName` is `ancestor` or derives from it. */
export function isSubtypeOf(typeName: string, ancestor: string): boolean {
  for (let name: string | undefined = typeName; name; name = TYPES[name]?.base) {
    if (name === ancestor) return true;
  }
  return false;
}
