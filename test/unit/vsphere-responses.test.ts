/**
 * Reading answers: return values typed by the schema, SOAP faults as typed errors (bodies captured
 * from govmomi's simulator, and ESXi's own InvalidLogin), a task's fault, and what is not SOAP at
 * all: an HTML error page, a truncated body, an error status without a fault.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isFault, SoapFault, TaskError } from '../../activities/vsphere/vim25/fault';
import { parseResponse, SoapProtocolError, type MethodCall } from '../../activities/vsphere/vim25/soap';
import type { ConfigTarget, HostConfigManager, ManagedObjectReference, RetrieveResult, TaskInfo } from '../../activities/vsphere/vim25/types';

const fixture = (name: string) => readFileSync(join(__dirname, '../fixtures/vsphere/responses', name), 'utf8');
const xml = (body: string, status = 200) => ({ status, contentType: 'text/xml; charset=utf-8', body });

const call = (method: string, returns?: MethodCall['returns']): MethodCall => ({ method, requestType: `${method}RequestType`, args: {}, returns });
const retrieve = call('RetrievePropertiesEx', { type: 'RetrieveResult' });

const faultOf = (method: string, file: string): SoapFault => {
  try {
    parseResponse(call(method), xml(fixture(file), 500));
  } catch (error) {
    assert.ok(error instanceof SoapFault, String(error));
    return error;
  }
  assert.fail('no fault');
};

test('InvalidLogin from ESXi: its type, faultstring and code, and a message that names them', () => {
  const fault = faultOf('Login', 'fault-invalid-login-esxi.xml');
  assert.equal(fault.faultType, 'InvalidLogin');
  assert.equal(fault.faultCode, 'ServerFaultCode');
  assert.equal(fault.faultString, 'Cannot complete login due to an incorrect user name or password.');
  assert.equal(fault.message, 'Login: InvalidLogin: Cannot complete login due to an incorrect user name or password.');
  assert.ok(isFault(fault, 'InvalidLogin') && isFault(fault, 'VimFault') && !isFault(fault, 'RuntimeFault'));
});

test("faults with their own fields: AlreadyExists's name, NotAuthenticated's object and privilege", () => {
  const exists = faultOf('AddVirtualSwitch', 'fault-already-exists.xml');
  assert.equal(exists.faultType, 'AlreadyExists');
  assert.equal(exists.fault.name, 'vSwitch0');
  assert.equal(exists.message, 'AddVirtualSwitch: AlreadyExists');

  const unauthenticated = faultOf('AddVirtualSwitch', 'fault-not-authenticated.xml');
  assert.equal(unauthenticated.faultType, 'NotAuthenticated');
  assert.deepEqual(unauthenticated.fault.object, { type: 'HostNetworkSystem', value: 'hostnetworksystem-2' });
  assert.equal(unauthenticated.fault.privilegeId, 'System.View');
  assert.ok(isFault(unauthenticated, 'NoPermission') && isFault(unauthenticated, 'SecurityError'));

  assert.equal(faultOf('AddPortGroup', 'fault-not-found.xml').faultType, 'NotFound');
  const missing = faultOf('AddVirtualSwitch', 'fault-managed-object-not-found.xml');
  assert.equal(missing.faultType, 'ManagedObjectNotFound');
  assert.equal(missing.faultString, 'managed object not found: HostNetworkSystem:nosuch');
});

test('a fault detail without xsi:type is named by its element (InvalidLoginFault -> InvalidLogin)', () => {
  const body = fixture('fault-invalid-login-esxi.xml').replace(' xsi:type="InvalidLogin"', '');
  assert.throws(() => parseResponse(call('Login'), xml(body, 500)), (e: SoapFault) => e.faultType === 'InvalidLogin');
});

test('a property value named by xsi:type under any prefix: HostConfigManager, ArrayOfManagedObjectReference, HostRuntimeInfo', () => {
  const result = parseResponse(retrieve, xml(fixture('retrieve-host.xml'))) as RetrieveResult;
  assert.equal(result.objects.length, 1);
  const props = Object.fromEntries((result.objects[0].propSet ?? []).map((p) => [p.name, p.val]));
  const managers = props.configManager as HostConfigManager;
  assert.deepEqual(managers.pciPassthruSystem, { type: 'HostPciPassthruSystem', value: 'ha-pcipassthrusystem' });
  assert.deepEqual(managers.networkSystem, { type: 'HostNetworkSystem', value: 'hostnetworksystem-2' });
  assert.deepEqual(props.vm, [{ type: 'VirtualMachine', value: 'vm-12' }, { type: 'VirtualMachine', value: 'vm-15' }]);
  const runtime = props.runtime as { connectionState: string; inMaintenanceMode: boolean; bootTime: string };
  assert.equal(runtime.connectionState, 'connected');
  assert.equal(runtime.inMaintenanceMode, false);
  assert.match(runtime.bootTime, /^\d{4}-\d\d-\d\dT/);
  const vswitches = props['config.network.vswitch'] as { name: string; numPorts: number; portgroup: string[] }[];
  assert.equal(vswitches[0].name, 'vSwitch0');
  assert.equal(typeof vswitches[0].numPorts, 'number');
  assert.ok(Array.isArray(vswitches[0].portgroup));
});

test('one item of a repeated element is still a list; numbers and booleans are converted', () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="HostSystem">host-21</obj><propSet><name>config.pciPassthruInfo</name><val xsi:type="ArrayOfHostPciPassthruInfo"><HostPciPassthruInfo xsi:type="HostPciPassthruInfo"><id>0000:03:00.0</id><dependentDevice>0000:03:00.0</dependentDevice><passthruEnabled>true</passthruEnabled><passthruCapable>true</passthruCapable><passthruActive>false</passthruActive></HostPciPassthruInfo></val></propSet><propSet><name>hardware.pciDevice</name><val xsi:type="ArrayOfHostPciDevice"><HostPciDevice><id>0000:03:00.0</id><classId>256</classId><bus>3</bus><slot>0</slot><function>0</function><vendorId>-32634</vendorId><subVendorId>-32634</subVendorId><vendorName>Intel Corporation</vendorName><deviceId>2387</deviceId><subDeviceId>13</subDeviceId><deviceName>PCIe Data Center SSD</deviceName></HostPciDevice></val></propSet><propSet><name>summary.overallStatus</name><val xsi:type="ManagedEntityStatus">green</val></propSet><propSet><name>name</name><val xsi:type="xsd:string">vh1 &amp; co</val></propSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>`;
  const result = parseResponse(retrieve, xml(body)) as RetrieveResult;
  const props = Object.fromEntries((result.objects[0].propSet ?? []).map((p) => [p.name, p.val]));
  assert.deepEqual(props['config.pciPassthruInfo'], [{
    _type: 'HostPciPassthruInfo', id: '0000:03:00.0', dependentDevice: '0000:03:00.0', passthruEnabled: true, passthruCapable: true, passthruActive: false,
  }]);
  const [device] = props['hardware.pciDevice'] as { vendorId: number; classId: number; deviceId: number }[];
  assert.equal(device.vendorId, -32634);
  assert.equal(device.classId, 0x0100);
  assert.equal(props['summary.overallStatus'], 'green');
  assert.equal(props.name, 'vh1 & co');
});

test("a task's fault: TaskInfo.error decoded, and TaskError carries its type and fields", () => {
  const result = parseResponse(retrieve, xml(fixture('task-info-invalid-power-state.xml'))) as RetrieveResult;
  const info = result.objects[0].propSet?.[0].val as TaskInfo;
  assert.equal(info.state, 'error');
  assert.deepEqual(info.entity, { type: 'VirtualMachine', value: 'vm-12' });
  assert.equal(info.cancelled, false);
  const error = new TaskError(`${info.descriptionId} ${info.key}`, info.error!);
  assert.equal(error.faultType, 'InvalidPowerState');
  assert.equal(error.fault.existingState, 'poweredOn');
  assert.ok(isFault(error, 'InvalidState'));
  assert.match(error.message, /^VirtualMachine\.powerOn task-17: InvalidPowerState/);
});

test('an HTML error page is a SoapProtocolError with its status, never read as SOAP', () => {
  const page = fixture('error-page.html');
  assert.throws(() => parseResponse(call('Login'), { status: 503, contentType: 'text/html; charset=utf-8', body: page }),
    (e: Error) => e instanceof SoapProtocolError && e.status === 503 && /^Login: HTTP 503 \(text\/html; charset=utf-8\): not a SOAP response/.test(e.message));
  // The same page sent as XML: still not an envelope.
  assert.throws(() => parseResponse(call('Login'), xml(page, 503)), (e: Error) => e instanceof SoapProtocolError && /DOCTYPE/.test(e.message));
  assert.throws(() => parseResponse(call('Login'), xml('<html><body>busy</body></html>', 200)),
    (e: Error) => e instanceof SoapProtocolError && /no SOAP envelope/.test(e.message));
});

test('a truncated response is a clear error, not a partial value', () => {
  const full = fixture('retrieve-host.xml');
  const cut = full.slice(0, Math.floor(full.length / 2));
  assert.throws(() => parseResponse(retrieve, xml(cut)),
    (e: Error) => e instanceof SoapProtocolError && /malformed or truncated XML/.test(e.message));
});

test('an error status whose body is SOAP but no fault, and an answer to another method, are refused', () => {
  const ok = '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><LogoutResponse xmlns="urn:vim25"/></soapenv:Body></soapenv:Envelope>';
  assert.throws(() => parseResponse(call('Logout'), xml(ok, 500)), /an error status without a SOAP fault/);
  assert.throws(() => parseResponse(call('Login'), xml(ok)), /expected LoginResponse, got LogoutResponse/);
  assert.equal(parseResponse(call('Logout'), xml(ok)), undefined);
});

test('a method returning a reference: the returnval', () => {
  const body = '<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><PowerOnVM_TaskResponse xmlns="urn:vim25"><returnval type="Task">task-9</returnval></PowerOnVM_TaskResponse></soapenv:Body></soapenv:Envelope>';
  const task = parseResponse(call('PowerOnVM_Task', { type: 'ManagedObjectReference' }), xml(body)) as ManagedObjectReference;
  assert.deepEqual(task, { type: 'Task', value: 'task-9' });
});

test('a subtype the schema lacks is read as its declared base type, keeping its xsi:type and extra elements', () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="VirtualMachine">vm-12</obj><propSet><name>config.hardware.device</name><val xsi:type="ArrayOfVirtualDevice"><VirtualDevice xsi:type="VirtualKeyboard"><key>600</key><deviceInfo><label>Keyboard</label><summary>Keyboard</summary></deviceInfo><controllerKey>300</controllerKey><unitNumber>0</unitNumber><futureField>x</futureField></VirtualDevice><VirtualDevice xsi:type="VirtualLsiLogicController"><key>1000</key><busNumber>0</busNumber><device>2000</device><hotAddRemove>true</hotAddRemove><sharedBus>noSharing</sharedBus></VirtualDevice></val></propSet></objects></returnval></RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>`;
  const result = parseResponse(retrieve, xml(body)) as RetrieveResult;
  const [keyboard, controller] = result.objects[0].propSet?.[0].val as Record<string, unknown>[];
  assert.deepEqual(keyboard, {
    _type: 'VirtualKeyboard', key: 600, deviceInfo: { label: 'Keyboard', summary: 'Keyboard' }, controllerKey: 300, unitNumber: 0, futureField: 'x',
  });
  assert.deepEqual(controller, { _type: 'VirtualLsiLogicController', key: 1000, busNumber: 0, device: [2000], hotAddRemove: true, sharedBus: 'noSharing' });
});

test("QueryConfigTarget's passthrough devices: the HostPciDevice and the systemId a device backing must carry", () => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><QueryConfigTargetResponse xmlns="urn:vim25"><returnval><numCpus>2</numCpus><numCpuCores>8</numCpuCores><numNumaNodes>1</numNumaNodes><smcPresent>false</smcPresent><maxMemMBOptimalPerf>65536</maxMemMBOptimalPerf><pciPassthrough xsi:type="VirtualMachinePciPassthroughInfo"><name>DDRdrive X1</name><pciDevice><id>0000:03:00.0</id><classId>256</classId><bus>3</bus><slot>0</slot><function>0</function><vendorId>6627</vendorId><subVendorId>6627</subVendorId><vendorName>DDRdrive LLC</vendorName><deviceId>1</deviceId><subDeviceId>1</subDeviceId><deviceName>DDRdrive X1</deviceName></pciDevice><systemId>5e2f3c1a-0b4d-22c1-9f1e-001b21a3c4d5</systemId></pciPassthrough></returnval></QueryConfigTargetResponse></soapenv:Body></soapenv:Envelope>`;
  const target = parseResponse(call('QueryConfigTarget', { type: 'ConfigTarget' }), xml(body)) as ConfigTarget;
  assert.equal(target.pciPassthrough?.length, 1);
  const [info] = target.pciPassthrough!;
  assert.equal(info.systemId, '5e2f3c1a-0b4d-22c1-9f1e-001b21a3c4d5');
  assert.equal(info.pciDevice.vendorId, 0x19e3);
  assert.equal(info.pciDevice.classId, 0x0100);
  assert.equal(target.maxMemMBOptimalPerf, 65536);
});
