// vim25 data objects and enums, named as the WSDL names them. Only what the runbooks use; field
// order on the wire comes from schema.ts. `_type` names an object's own type where the schema
// allows subtypes (the encoder writes it as xsi:type; the decoder sets it from xsi:type).
// Numbers are JavaScript numbers (xsd:long fits: capacities stay below 2^53); xsd:dateTime values
// are ISO strings, so everything here is plain JSON and can cross Temporal's boundaries.

export interface ManagedObjectReference {
  type: string;
  value: string;
}

export interface DynamicData {
  _type?: string;
}

// --- Session ---

export interface AboutInfo extends DynamicData {
  name: string;
  fullName: string;
  vendor: string;
  version: string;
  patchLevel?: string;
  build: string;
  osType: string;
  productLineId: string;
  /** `HostAgent` (ESXi) or `VirtualCenter`. */
  apiType: string;
  apiVersion: string;
  instanceUuid?: string;
}

export interface ServiceContent extends DynamicData {
  rootFolder: ManagedObjectReference;
  propertyCollector: ManagedObjectReference;
  viewManager?: ManagedObjectReference;
  about: AboutInfo;
  setting?: ManagedObjectReference;
  sessionManager?: ManagedObjectReference;
  taskManager?: ManagedObjectReference;
  searchIndex?: ManagedObjectReference;
  fileManager?: ManagedObjectReference;
  virtualDiskManager?: ManagedObjectReference;
  [manager: string]: unknown;
}

export interface UserSession extends DynamicData {
  key: string;
  userName: string;
  fullName: string;
  loginTime: string;
  lastActiveTime: string;
  locale: string;
  messageLocale: string;
  extensionSession?: boolean;
  ipAddress?: string;
  userAgent?: string;
  callCount?: number;
}

// --- Property collector ---

export interface SelectionSpec extends DynamicData {
  name?: string;
}

export interface TraversalSpec extends SelectionSpec {
  _type: 'TraversalSpec';
  type: string;
  path: string;
  skip?: boolean;
  selectSet?: (SelectionSpec | TraversalSpec)[];
}

export interface ObjectSpec extends DynamicData {
  obj: ManagedObjectReference;
  skip?: boolean;
  selectSet?: (SelectionSpec | TraversalSpec)[];
}

export interface PropertySpec extends DynamicData {
  type: string;
  all?: boolean;
  pathSet?: string[];
}

export interface PropertyFilterSpec extends DynamicData {
  propSet: PropertySpec[];
  objectSet: ObjectSpec[];
  reportMissingObjectsInResults?: boolean;
}

export interface RetrieveOptions extends DynamicData {
  maxObjects?: number;
}

export interface DynamicProperty {
  name: string;
  val: unknown;
}

export interface MissingProperty extends DynamicData {
  path: string;
  fault: LocalizedMethodFault;
}

export interface MissingObject extends DynamicData {
  obj: ManagedObjectReference;
  fault: LocalizedMethodFault;
}

export interface ObjectContent extends DynamicData {
  obj: ManagedObjectReference;
  propSet?: DynamicProperty[];
  missingSet?: MissingProperty[];
}

export interface RetrieveResult extends DynamicData {
  token?: string;
  objects: ObjectContent[];
}

export interface WaitOptions extends DynamicData {
  maxWaitSeconds?: number;
  maxObjectUpdates?: number;
}

export type ObjectUpdateKind = 'modify' | 'enter' | 'leave';
export type PropertyChangeOp = 'add' | 'remove' | 'assign' | 'indirectRemove';

export interface PropertyChange extends DynamicData {
  name: string;
  op: PropertyChangeOp;
  val?: unknown;
}

export interface ObjectUpdate extends DynamicData {
  kind: ObjectUpdateKind;
  obj: ManagedObjectReference;
  changeSet?: PropertyChange[];
  missingSet?: MissingProperty[];
}

export interface PropertyFilterUpdate extends DynamicData {
  filter: ManagedObjectReference;
  objectSet?: ObjectUpdate[];
  missingSet?: MissingObject[];
}

export interface UpdateSet extends DynamicData {
  version: string;
  filterSet?: PropertyFilterUpdate[];
  truncated?: boolean;
}

// --- Tasks and faults ---

export interface KeyAnyValue extends DynamicData {
  key: string;
  value: unknown;
}

export interface LocalizableMessage extends DynamicData {
  key: string;
  arg?: KeyAnyValue[];
  message?: string;
}

/** A fault as data: `_type` is its type (`InvalidPowerState`); its own fields stay as the server sent them. */
export interface MethodFault {
  _type?: string;
  faultCause?: LocalizedMethodFault;
  faultMessage?: LocalizableMessage[];
  [field: string]: unknown;
}

export interface LocalizedMethodFault extends DynamicData {
  fault: MethodFault;
  localizedMessage?: string;
}

export type TaskInfoState = 'queued' | 'running' | 'success' | 'error';

export interface TaskInfo extends DynamicData {
  key: string;
  task: ManagedObjectReference;
  description?: LocalizableMessage;
  name?: string;
  descriptionId: string;
  entity?: ManagedObjectReference;
  entityName?: string;
  locked?: ManagedObjectReference[];
  state: TaskInfoState;
  cancelled: boolean;
  cancelable: boolean;
  error?: LocalizedMethodFault;
  result?: unknown;
  progress?: number;
  queueTime: string;
  startTime?: string;
  completeTime?: string;
  eventChainId: number;
}

// --- PCI passthrough ---

/** `HostSystem.hardware.pciDevice[]`. The ids are xsd:short: 0x8086 arrives as -32634 (see pci.ts). */
export interface HostPciDevice extends DynamicData {
  id: string;
  classId: number;
  bus: number;
  slot: number;
  function: number;
  vendorId: number;
  subVendorId: number;
  vendorName: string;
  deviceId: number;
  subDeviceId: number;
  parentBridge?: string;
  deviceName: string;
}

export interface HostPciPassthruConfig extends DynamicData {
  /** The PCI address, `0000:03:00.0`. */
  id: string;
  passthruEnabled: boolean;
  applyNow?: boolean;
  hardwareLabel?: string;
}

/** `HostSystem.config.pciPassthruInfo[]`: enabled is what was asked, active what runs since boot. */
export interface HostPciPassthruInfo extends DynamicData {
  id: string;
  dependentDevice: string;
  passthruEnabled: boolean;
  passthruCapable: boolean;
  passthruActive: boolean;
  hardwareLabel?: string;
}

// --- What a host offers a VM ---

export interface VirtualMachineTargetInfo extends DynamicData {
  name: string;
  configurationTag?: string[];
}

/** A device a VM may be given by DirectPath I/O, with the `systemId` its backing must carry. */
export interface VirtualMachinePciPassthroughInfo extends VirtualMachineTargetInfo {
  pciDevice: HostPciDevice;
  systemId: string;
}

export interface VirtualMachineDynamicPassthroughInfo extends VirtualMachineTargetInfo {
  vendorName: string;
  deviceName: string;
  customLabel?: string;
  vendorId: number;
  deviceId: number;
}

/** EnvironmentBrowser.QueryConfigTarget's answer (the parts the runbooks read). */
export interface ConfigTarget extends DynamicData {
  numCpus: number;
  numCpuCores: number;
  numNumaNodes: number;
  smcPresent: boolean;
  datastore?: unknown[];
  network?: unknown[];
  maxMemMBOptimalPerf: number;
  pciPassthrough?: VirtualMachinePciPassthroughInfo[];
  dynamicPassthrough?: VirtualMachineDynamicPassthroughInfo[];
}

// --- Virtual machines ---

export interface Description extends DynamicData {
  label: string;
  summary: string;
}

export interface OptionValue extends DynamicData {
  key: string;
  /** anyType: a string goes out as xsd:string (extraConfig's values are strings). */
  value: unknown;
}

export type SharesLevel = 'low' | 'normal' | 'high' | 'custom';

export interface SharesInfo extends DynamicData {
  shares: number;
  level: SharesLevel;
}

export interface ResourceAllocationInfo extends DynamicData {
  reservation?: number;
  expandableReservation?: boolean;
  limit?: number;
  shares?: SharesInfo;
  overheadLimit?: number;
}

export interface VirtualMachineFileInfo extends DynamicData {
  vmPathName?: string;
  snapshotDirectory?: string;
  suspendDirectory?: string;
  logDirectory?: string;
}

export interface VirtualMachineBootOptions extends DynamicData {
  bootDelay?: number;
  enterBIOSSetup?: boolean;
  efiSecureBootEnabled?: boolean;
  bootRetryEnabled?: boolean;
  bootRetryDelay?: number;
}

export interface VirtualDeviceConnectInfo extends DynamicData {
  migrateConnect?: string;
  startConnected: boolean;
  allowGuestControl: boolean;
  connected: boolean;
  status?: string;
}

export type VirtualDeviceBackingInfo = DynamicData;

export interface VirtualDeviceDeviceBackingInfo extends VirtualDeviceBackingInfo {
  deviceName: string;
  useAutoDetect?: boolean;
}

export interface VirtualDeviceFileBackingInfo extends VirtualDeviceBackingInfo {
  fileName: string;
  datastore?: ManagedObjectReference;
  backingObjectId?: string;
}

export interface VirtualDevice extends DynamicData {
  key: number;
  deviceInfo?: Description;
  backing?: VirtualDeviceBackingInfo;
  connectable?: VirtualDeviceConnectInfo;
  controllerKey?: number;
  unitNumber?: number;
}

/** Pinned to one host's device: DirectPath I/O as ESXi 4-6 know it. */
export interface VirtualPCIPassthroughDeviceBackingInfo extends VirtualDeviceDeviceBackingInfo {
  _type: 'VirtualPCIPassthroughDeviceBackingInfo';
  /** The PCI address, `0000:03:00.0`. */
  id: string;
  /** The device id in hex, as a string (`"1"` for 0x0001): unlike HostPciDevice.deviceId. */
  deviceId: string;
  systemId: string;
  /** xsd:short, signed. */
  vendorId: number;
}

export interface VirtualPCIPassthroughAllowedDevice extends DynamicData {
  vendorId: number;
  deviceId: number;
  subVendorId?: number;
  subDeviceId?: number;
  revisionId?: number;
}

/** Dynamic DirectPath I/O (vSphere 7+, hardware version 17+): any host device that matches. */
export interface VirtualPCIPassthroughDynamicBackingInfo extends VirtualDeviceDeviceBackingInfo {
  _type: 'VirtualPCIPassthroughDynamicBackingInfo';
  allowedDevice?: VirtualPCIPassthroughAllowedDevice[];
  customLabel?: string;
  assignedId?: string;
}

export interface VirtualPCIPassthrough extends VirtualDevice {
  _type: 'VirtualPCIPassthrough';
  backing: VirtualPCIPassthroughDeviceBackingInfo | VirtualPCIPassthroughDynamicBackingInfo;
}

export interface VirtualEthernetCardNetworkBackingInfo extends VirtualDeviceDeviceBackingInfo {
  _type: 'VirtualEthernetCardNetworkBackingInfo';
  network?: ManagedObjectReference;
  inPassthroughMode?: boolean;
}

export interface VirtualEthernetCard extends VirtualDevice {
  backing?: VirtualEthernetCardNetworkBackingInfo;
  addressType?: string;
  macAddress?: string;
  wakeOnLanEnabled?: boolean;
}

export interface VirtualE1000 extends VirtualEthernetCard {
  _type: 'VirtualE1000';
}

export interface VirtualVmxnet3 extends VirtualEthernetCard {
  _type: 'VirtualVmxnet3';
}

export interface VirtualDiskFlatVer2BackingInfo extends VirtualDeviceFileBackingInfo {
  _type: 'VirtualDiskFlatVer2BackingInfo';
  diskMode: 'persistent' | 'independent_persistent' | 'independent_nonpersistent' | 'nonpersistent' | 'undoable' | 'append';
  split?: boolean;
  writeThrough?: boolean;
  thinProvisioned?: boolean;
  eagerlyScrub?: boolean;
  uuid?: string;
}

export interface VirtualDisk extends VirtualDevice {
  _type: 'VirtualDisk';
  backing?: VirtualDiskFlatVer2BackingInfo;
  capacityInKB: number;
  capacityInBytes?: number;
}

export interface VirtualCdromIsoBackingInfo extends VirtualDeviceFileBackingInfo {
  _type: 'VirtualCdromIsoBackingInfo';
}

export interface VirtualCdrom extends VirtualDevice {
  _type: 'VirtualCdrom';
  backing?: VirtualCdromIsoBackingInfo;
}

export interface VirtualController extends VirtualDevice {
  busNumber: number;
  device?: number[];
}

export type VirtualSCSISharing = 'noSharing' | 'virtualSharing' | 'physicalSharing';

export interface VirtualSCSIController extends VirtualController {
  hotAddRemove?: boolean;
  sharedBus: VirtualSCSISharing;
  scsiCtlrUnitNumber?: number;
}

export interface ParaVirtualSCSIController extends VirtualSCSIController {
  _type: 'ParaVirtualSCSIController';
}

export interface VirtualLsiLogicSASController extends VirtualSCSIController {
  _type: 'VirtualLsiLogicSASController';
}

export interface VirtualAHCIController extends VirtualController {
  _type: 'VirtualAHCIController';
}

/** The devices this client builds, told apart by `_type`. */
export type AnyVirtualDevice =
  | VirtualPCIPassthrough | VirtualE1000 | VirtualVmxnet3 | VirtualDisk | VirtualCdrom
  | ParaVirtualSCSIController | VirtualLsiLogicSASController | VirtualAHCIController;

export type VirtualDeviceConfigSpecOperation = 'add' | 'remove' | 'edit';
export type VirtualDeviceConfigSpecFileOperation = 'create' | 'destroy' | 'replace';

export interface VirtualDeviceConfigSpec extends DynamicData {
  operation?: VirtualDeviceConfigSpecOperation;
  fileOperation?: VirtualDeviceConfigSpecFileOperation;
  /** Read back from a VM, any VirtualDevice; sent, one of the devices this client builds. */
  device: AnyVirtualDevice | VirtualDevice;
}

/** The elements schema.ts lists, in that order on the wire. */
export interface VirtualMachineConfigSpec extends DynamicData {
  changeVersion?: string;
  name?: string;
  /** Hardware version: `vmx-17` and later for Dynamic DirectPath I/O. */
  version?: string;
  uuid?: string;
  instanceUuid?: string;
  guestId?: string;
  annotation?: string;
  files?: VirtualMachineFileInfo;
  numCPUs?: number;
  numCoresPerSocket?: number;
  memoryMB?: number;
  deviceChange?: VirtualDeviceConfigSpec[];
  cpuAllocation?: ResourceAllocationInfo;
  memoryAllocation?: ResourceAllocationInfo;
  extraConfig?: OptionValue[];
  bootOptions?: VirtualMachineBootOptions;
  firmware?: 'bios' | 'efi';
  memoryReservationLockedToMax?: boolean;
}

export type VirtualMachinePowerState = 'poweredOff' | 'poweredOn' | 'suspended';

export interface VirtualMachineRuntimeInfo extends DynamicData {
  host?: ManagedObjectReference;
  connectionState: string;
  powerState: VirtualMachinePowerState;
  bootTime?: string;
}

export interface GuestNicInfo extends DynamicData {
  network?: string;
  ipAddress?: string[];
  macAddress?: string;
  connected: boolean;
  deviceConfigId: number;
}

export interface GuestInfo extends DynamicData {
  toolsStatus?: string;
  toolsRunningStatus?: string;
  guestId?: string;
  guestFullName?: string;
  hostName?: string;
  ipAddress?: string;
  net?: GuestNicInfo[];
  guestState: string;
}

// --- Hosts ---

export type HostSystemConnectionState = 'connected' | 'notResponding' | 'disconnected';
export type HostSystemPowerState = 'poweredOn' | 'poweredOff' | 'standBy' | 'unknown';

export interface HostRuntimeInfo extends DynamicData {
  connectionState: HostSystemConnectionState;
  powerState: HostSystemPowerState;
  inMaintenanceMode: boolean;
  bootTime?: string;
}

// --- Host networking ---

export interface HostIpConfig extends DynamicData {
  dhcp: boolean;
  ipAddress?: string;
  subnetMask?: string;
}

/** Sent empty: the port group inherits its vSwitch's policy. */
export type HostNetworkPolicy = DynamicData;

export interface HostVirtualSwitchBondBridge extends DynamicData {
  _type: 'HostVirtualSwitchBondBridge';
  nicDevice: string[];
}

export interface HostVirtualSwitchSpec extends DynamicData {
  numPorts: number;
  bridge?: HostVirtualSwitchBondBridge;
  policy?: HostNetworkPolicy;
  mtu?: number;
}

export interface HostPortGroupSpec extends DynamicData {
  name: string;
  vlanId: number;
  vswitchName: string;
  policy: HostNetworkPolicy;
}

export interface HostVirtualNicSpec extends DynamicData {
  ip?: HostIpConfig;
  mac?: string;
  portgroup?: string;
  mtu?: number;
}

export interface HostVirtualSwitch extends DynamicData {
  name: string;
  key: string;
  numPorts: number;
  numPortsAvailable: number;
  mtu?: number;
  portgroup?: string[];
  pnic?: string[];
  spec: HostVirtualSwitchSpec;
}

export interface HostPortGroup extends DynamicData {
  key?: string;
  vswitch?: string;
  spec: HostPortGroupSpec;
}

export interface HostVirtualNic extends DynamicData {
  device: string;
  key: string;
  portgroup: string;
  spec: HostVirtualNicSpec;
  port?: string;
}

// --- Datastores ---

export type HostMountMode = 'readWrite' | 'readOnly';
/** `NFS` is version 3. */
export type HostFileSystemVolumeFileSystemType = 'NFS' | 'NFS41' | 'VMFS' | 'vsan' | 'VVOL' | 'PMEM' | 'OTHER';

export interface HostNasVolumeSpec extends DynamicData {
  remoteHost: string;
  remotePath: string;
  /** The datastore's name. */
  localPath: string;
  accessMode: HostMountMode;
  type?: HostFileSystemVolumeFileSystemType;
  userName?: string;
  password?: string;
  remoteHostNames?: string[];
  securityType?: string;
}

export interface HostNasVolume extends DynamicData {
  type: string;
  name: string;
  capacity: number;
  remoteHost: string;
  remotePath: string;
  userName?: string;
  remoteHostNames?: string[];
  securityType?: string;
}

export interface DatastoreInfo extends DynamicData {
  name: string;
  url: string;
  freeSpace: number;
  maxFileSize: number;
  maxMemoryFileSize: number;
  timestamp?: string;
}

/** One host's mount of a datastore (the Datastore's `host` property). */
export interface DatastoreHostMount extends DynamicData {
  key: ManagedObjectReference;
  mountInfo: HostMountInfo;
}

export interface HostMountInfo extends DynamicData {
  path?: string;
  accessMode: HostMountMode;
  mounted?: boolean;
  accessible?: boolean;
  inaccessibleReason?: string;
}

export interface NasDatastoreInfo extends DatastoreInfo {
  _type: 'NasDatastoreInfo';
  nas?: HostNasVolume;
}

export interface DatastoreSummary extends DynamicData {
  datastore?: ManagedObjectReference;
  name: string;
  url: string;
  capacity: number;
  freeSpace: number;
  accessible: boolean;
  type: string;
}

// --- Autostart ---

export interface AutoStartDefaults extends DynamicData {
  enabled?: boolean;
  startDelay?: number;
  stopDelay?: number;
  waitForHeartbeat?: boolean;
  stopAction?: string;
}

export type AutoStartWaitHeartbeatSetting = 'yes' | 'no' | 'systemDefault';

export interface AutoStartPowerInfo extends DynamicData {
  key: ManagedObjectReference;
  startOrder: number;
  startDelay: number;
  waitForHeartbeat: AutoStartWaitHeartbeatSetting;
  /** `powerOn`, `none` or `systemDefault`. */
  startAction: string;
  stopDelay: number;
  /** `powerOff`, `suspend`, `guestShutdown`, `none` or `systemDefault`. */
  stopAction: string;
}

export interface HostAutoStartManagerConfig extends DynamicData {
  defaults?: AutoStartDefaults;
  powerInfo?: AutoStartPowerInfo[];
}

/** `HostSystem.configManager`: the host's managers (those the runbooks use). */
export interface HostConfigManager extends DynamicData {
  networkSystem?: ManagedObjectReference;
  storageSystem?: ManagedObjectReference;
  datastoreSystem?: ManagedObjectReference;
  autoStartManager?: ManagedObjectReference;
  pciPassthruSystem?: ManagedObjectReference;
  [manager: string]: unknown;
}
