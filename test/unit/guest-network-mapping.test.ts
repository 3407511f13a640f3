/**
 * Which guest interface each NIC of the spec is, and every typed error of the mapping.
 *
 *   node --import tsx --test test/unit/guest-network-mapping.test.ts
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mapNics, networkProfiles, planNetwork } from '../../core/guest/network';
import type { LiveAddress } from '../../core/guest/network';
import { networkFixture, uss1Spec, kindOf } from './guest-network-spec';

const live = (device: string, cidr: string): LiveAddress => {
  const [address, prefix] = cidr.split('/');
  return { address: address!, prefix: Number(prefix), device, dynamic: false };
};
const guest = (nics: string[], addresses: LiveAddress[]) => ({ nics, addresses });

describe('NIC mapping', () => {
  test('without devices: the guest\'s NICs in the order the OS lists them (ifindex, datalink id), not by name', () => {
    const m = mapNics(uss1Spec(), guest(['eth10', 'eth2'], [live('eth10', '192.0.2.41/24')]), '192.0.2.41');
    assert.deepEqual(m.map((a) => [a.spec.role, a.device, a.connected]), [['management', 'eth10', true], ['storage', 'eth2', false]]);
  });

  test('a NIC with a device takes it; the others take what is left, in order', () => {
    const spec = uss1Spec({ nics: [{ address: '192.0.2.41/24', role: 'management' }, { address: '10.0.1.41/24', role: 'storage', device: 'ens192' }, { address: '10.0.9.41/24', role: 'other' }] });
    const m = mapNics(spec, guest(['ens192', 'ens224', 'ens256'], [live('ens224', '192.0.2.41/24')]), '192.0.2.41');
    assert.deepEqual(m.map((a) => a.device), ['ens224', 'ens192', 'ens256']);
  });

  test('the management NIC is found by the address the worker is connected to (reachAt before the switch)', () => {
    const m = mapNics(uss1Spec(), guest(['e1000g0', 'e1000g1'], [live('e1000g0', '10.0.0.99/24')]), '10.0.0.99');
    assert.equal(m.find((a) => a.connected)!.spec.role, 'management');
  });

  test('typed errors: a device the guest lacks, fewer interfaces than NICs', () => {
    const withDevice = uss1Spec({ nics: [{ address: '192.0.2.41/24', role: 'management', device: 'eth0' }, { address: '10.0.1.41/24', role: 'storage', device: 'eth7' }] });
    assert.equal(kindOf(() => mapNics(withDevice, guest(['eth0', 'eth1'], [live('eth0', '192.0.2.41/24')]), '192.0.2.41')), 'MissingDevice');
    assert.throws(() => mapNics(withDevice, guest(['eth0', 'eth1'], [live('eth0', '192.0.2.41/24')]), '192.0.2.41'), /no interface "eth7" \(it has "eth0", "eth1"\)/);
    assert.equal(kindOf(() => mapNics(uss1Spec(), guest(['eth0'], [live('eth0', '192.0.2.41/24')]), '192.0.2.41')), 'TooFewInterfaces');
  });

  test('typed errors: connected through the storage NIC, connected to an address no interface has (NAT)', () => {
    assert.equal(kindOf(() => mapNics(uss1Spec(), guest(['eth0', 'eth1'], [live('eth1', '10.0.1.41/24')]), '10.0.1.41')), 'ConnectedThroughOtherNic');
    assert.equal(kindOf(() => mapNics(uss1Spec(), guest(['eth0', 'eth1'], [live('eth0', '192.0.2.41/24')]), '203.0.113.9')), 'ConnectedAddressNotOnGuest');
  });

  test('typed errors in the spec itself', () => {
    const g = guest(['eth0', 'eth1'], [live('eth0', '192.0.2.41/24')]);
    const nics = (n: ReturnType<typeof uss1Spec>['nics']) => () => mapNics(uss1Spec({ nics: n }), g, '192.0.2.41');
    assert.equal(kindOf(nics([{ address: '192.0.2.41/24', role: 'storage' }])), 'BadNetworkSpec', 'no management NIC');
    assert.equal(kindOf(nics([{ address: '192.0.2.41/24', role: 'management' }, { address: '10.0.1.41/24', role: 'management' }])), 'BadNetworkSpec');
    assert.equal(kindOf(nics([{ address: '192.0.2.41', role: 'management' }])), 'BadNetworkSpec', 'no prefix');
    assert.equal(kindOf(nics([{ address: '192.0.2.41/24', role: 'management', device: 'eth0' }, { address: '10.0.1.41/24', role: 'storage', device: 'eth0' }])), 'BadNetworkSpec');
    assert.equal(kindOf(nics([{ address: '192.0.2.41/24', role: 'management', gateway: '192.0.2.1' }, { address: '10.0.1.41/24', role: 'storage', gateway: '10.0.1.1' }])), 'BadNetworkSpec');
    assert.equal(kindOf(nics([{ address: '192.0.2.41/24', role: 'management', gateway: '10.0.1.1' }])), 'UnreachableGateway');
  });

  test('a route through a gateway on none of the NICs\' networks is refused', () => {
    const facts = networkProfiles.linux.parseFacts(networkFixture('debian-blank-static.facts'));
    const spec = uss1Spec({ routes: [{ to: '10.2.0.0/16', via: '172.16.0.1' }] });
    assert.equal(kindOf(() => planNetwork(spec, facts, '192.0.2.41', networkProfiles.linux)), 'UnreachableGateway');
    const twoDefaults = uss1Spec({ routes: [{ to: '0.0.0.0/0', via: '10.0.1.1' }] });
    assert.equal(kindOf(() => planNetwork(twoDefaults, facts, '192.0.2.41', networkProfiles.linux)), 'BadNetworkSpec');
  });
});
