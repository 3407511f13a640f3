/**
 * The storage network as an operator lays it out: each address on one interface only (two VMs with
 * one address would make a ring replicate a host into itself), not a subnet's network or
 * broadcast address, and each gateway inside its NIC's subnet and not the NIC's own address.
 */
import { cidrProblem, ipv4Problem } from '../../core/names';
import { shown } from '../../core/show';
import { arr, duplicates, type Finding, formatPath, obj, type Path, type Raw, str } from './raw';

const toNumber = (address: string): number => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
const toText = (n: number): string => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

interface Subnet { address: number; network: number; broadcast: number; prefix: number }

function subnetOf(cidr: string): Subnet | undefined {
  if (cidrProblem(cidr)) return undefined;
  const [text, prefixText] = cidr.split('/') as [string, string];
  const prefix = Number(prefixText);
  const address = toNumber(text);
  const size = 2 ** (32 - prefix);
  const network = Math.floor(address / size) * size;
  return { address, network, broadcast: network + size - 1, prefix };
}

function hostAddressProblem(subnet: Subnet, what: string): string | undefined {
  // /31 (point to point) and /32 have no network or broadcast address.
  if (subnet.prefix > 30) return undefined;
  if (subnet.address === subnet.network) return `${what} is the network address of its subnet ${toText(subnet.network)}/${subnet.prefix}`;
  if (subnet.address === subnet.broadcast) return `${what} is the broadcast address of its subnet ${toText(subnet.network)}/${subnet.prefix}`;
  return undefined;
}

export function addressFindings(root: Raw): Finding[] {
  const findings: Finding[] = [];
  const claimed = new Map<number, Path>();
  const claim = (subnet: Subnet, path: Path) => {
    const first = claimed.get(subnet.address);
    if (first) findings.push({ path, message: `address ${toText(subnet.address)} is already given to ${formatPath(first)}` });
    else claimed.set(subnet.address, path);
  };
  arr(root.hosts).forEach((h, i) => {
    const host = obj(h);
    const vmkernel = obj(obj(host?.storageNetwork)?.vmkernel);
    const vmkernelSubnet = subnetOf(str(vmkernel?.address) ?? '');
    const vmkernelPath: Path = ['hosts', i, 'storageNetwork', 'vmkernel', 'address'];
    if (vmkernelSubnet) {
      const problem = hostAddressProblem(vmkernelSubnet, 'the VMkernel address');
      if (problem) findings.push({ path: vmkernelPath, message: problem });
      claim(vmkernelSubnet, vmkernelPath);
    }
    const vm = obj(host?.storageVm);
    const vmSubnets: Subnet[] = [];
    findings.push(...duplicates(arr(vm?.nics).map((n, j) => ({ value: str(obj(n)?.device), path: ['hosts', i, 'storageVm', 'nics', j, 'device'] })), 'interface'));
    arr(vm?.nics).forEach((n, j) => {
      const nic = obj(n);
      const at: Path = ['hosts', i, 'storageVm', 'nics', j];
      const subnet = subnetOf(str(nic?.address) ?? '');
      if (!subnet) return;
      vmSubnets.push(subnet);
      const problem = hostAddressProblem(subnet, 'the address');
      if (problem) findings.push({ path: [...at, 'address'], message: problem });
      claim(subnet, [...at, 'address']);
      const gatewayText = str(nic?.gateway);
      if (gatewayText === undefined || ipv4Problem(gatewayText)) return;
      const gateway = toNumber(gatewayText);
      if (gateway === subnet.address) {
        findings.push({ path: [...at, 'gateway'], message: 'the gateway is this NIC\'s own address' });
      } else if (gateway < subnet.network || gateway > subnet.broadcast) {
        findings.push({ path: [...at, 'gateway'], message: `gateway ${shown(gatewayText)} is outside this NIC's subnet ${toText(subnet.network)}/${subnet.prefix}` });
      } else if (subnet.prefix <= 30 && (gateway === subnet.network || gateway === subnet.broadcast)) {
        findings.push({ path: [...at, 'gateway'], message: `gateway ${shown(gatewayText)} is the ${gateway === subnet.network ? 'network' : 'broadcast'} address of this NIC's subnet` });
      }
    });
    findings.push(...managementFindings(vm, vmSubnets, ['hosts', i, 'storageVm']));
    arr(vm?.routes).forEach((r, k) => {
      const via = str(obj(r)?.via);
      if (via === undefined || ipv4Problem(via) || vmSubnets.length === 0) return;
      const gateway = toNumber(via);
      if (!vmSubnets.some((s) => gateway >= s.network && gateway <= s.broadcast)) {
        findings.push({ path: ['hosts', i, 'storageVm', 'routes', k, 'via'], message: `${shown(via)} is on none of this VM's NIC subnets: a route goes through a neighbour` });
      }
    });
  });
  return findings;
}

/** The worker reaches a VM on its management NIC: ssh.address, when an address, is one NIC's; one default gateway. */
function managementFindings(vm: Raw | undefined, subnets: Subnet[], path: Path): Finding[] {
  const findings: Finding[] = [];
  const sshAddress = str(obj(vm?.ssh)?.address);
  if (sshAddress !== undefined && !ipv4Problem(sshAddress) && subnets.length > 0 && !subnets.some((s) => s.address === toNumber(sshAddress))) {
    findings.push({ path: [...path, 'ssh', 'address'], message: `${shown(sshAddress)} is not the address of any of this VM's nics: ssh reaches the VM on its management NIC` });
  }
  const gateways = arr(vm?.nics).flatMap((n, j) => (str(obj(n)?.gateway) === undefined ? [] : [j]));
  for (const j of gateways.slice(1)) {
    findings.push({ path: [...path, 'nics', j, 'gateway'], message: `a second default gateway (nics[${gateways[0]}] has one): give other networks a route instead` });
  }
  return findings;
}
