package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/types"
)

const (
	managementVswitch = "vSwitch0"
	storageVswitch    = "vSwitch1"
	storageUplink     = "vmnic1"
)

// newLab makes the vCenter: one datacenter (DC0) with each model host as a standalone host in
// its host folder, each with its local datastore, vSwitch0 ("VM Network", "Management Network",
// vmk0 on the host's address), vSwitch1 with uplink vmnic1 and no port groups, and its PCI bus.
func newLab(model *Model, hook *hook, dataDir string) (*lab, error) {
	m := simulator.VPX()
	m.Datacenter, m.Host, m.Cluster, m.ClusterHost, m.Pool = 1, 0, 0, 0, 0
	m.Datastore, m.Machine, m.Portgroup, m.Autostart = 0, 0, 0, false
	if err := m.Create(); err != nil {
		return nil, err
	}
	l := &lab{
		model: m, reg: m.Map(), hook: hook, faults: &faultRules{}, nfs: newNfsServers(model), dataDir: dataDir,
		hosts: map[string]*labHost{}, hostByRef: map[types.ManagedObjectReference]*labHost{},
		owner: map[types.ManagedObjectReference]*labHost{}, storageVMs: map[string]*labHost{},
	}
	l.reg.Handler = l.route

	ctx := context.Background()
	c, err := vim25.NewClient(ctx, m.Service)
	if err != nil {
		return nil, err
	}
	dc, err := find.NewFinder(c).DefaultDatacenter(ctx)
	if err != nil {
		return nil, err
	}
	folders, err := dc.Folders(ctx)
	if err != nil {
		return nil, err
	}
	l.networkFolder = folders.NetworkFolder.Reference()
	for _, hm := range model.Hosts {
		if err := l.addHost(ctx, c, folders.HostFolder, hm); err != nil {
			return nil, fmt.Errorf("host %s: %w", hm.Name, err)
		}
	}
	return l, nil
}

func (l *lab) addHost(ctx context.Context, c *vim25.Client, folder *object.Folder, hm HostModel) error {
	task, err := folder.AddStandaloneHost(ctx, types.HostConnectSpec{HostName: hm.Name}, true, nil, nil)
	if err != nil {
		return err
	}
	info, err := task.WaitForResult(ctx, nil)
	if err != nil {
		return err
	}
	h := &labHost{model: hm, ref: info.Result.(types.ManagedObjectReference), rebootSeconds: hm.rebootSeconds()}
	l.hosts[hm.Name] = h
	l.order = append(l.order, h)
	l.hostByRef[h.ref] = h
	if hm.StorageVM != nil {
		l.storageVMs[hm.StorageVM.Name] = h
	}

	host := l.hostObject(h)
	sctx := l.context()
	sctx.WithLock(host, func() { l.configureHost(h, host) })

	dss := object.NewHostDatastoreSystem(c, *host.ConfigManager.DatastoreSystem)
	dir := filepath.Join(l.dataDir, "local", hm.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if _, err := dss.CreateLocalDatastore(ctx, "datastore1-"+hm.Name, dir); err != nil {
		return fmt.Errorf("local datastore: %w", err)
	}
	ns := object.NewHostNetworkSystem(c, *host.ConfigManager.NetworkSystem)
	return ns.AddVirtualSwitch(ctx, storageVswitch, &types.HostVirtualSwitchSpec{
		NumPorts: 128, Mtu: 1500, Bridge: &types.HostVirtualSwitchBondBridge{NicDevice: []string{storageUplink}},
	})
}

// configureHost sets what vcsim's ESXi template lacks or shares between hosts, before any client
// can see the host; the caller holds its lock.
func (l *lab) configureHost(h *labHost, host *simulator.HostSystem) {
	network := host.Config.Network
	vmk0 := &network.Vnic[0]
	vmk0.Spec.Ip = &types.HostIpConfig{IpAddress: h.model.Address, SubnetMask: "255.255.255.0"}
	network.DnsConfig.GetHostDnsConfig().HostName = h.model.Name
	vmnic0 := network.Pnic[0]
	vmnic0.Pci = "0000:03:00.0"
	vmnic1 := vmnic0
	vmnic1.Device, vmnic1.Key, vmnic1.Pci = storageUplink, pnicKeyPrefix+storageUplink, "0000:04:00.0"
	vmnic1.Mac = fmt.Sprintf("00:1b:21:%02x:%02x:01", len(l.order)/256, len(l.order)%256)
	network.Pnic = []types.PhysicalNic{vmnic0, vmnic1}

	ns := l.reg.Get(*host.ConfigManager.NetworkSystem).(*simulator.HostNetworkSystem)
	ns.NetworkInfo = network
	l.owner[ns.Self] = h
	l.owner[*host.ConfigManager.DatastoreSystem] = h
	l.owner[*host.ConfigManager.StorageSystem] = h

	devices := pciDevices()
	hardware := *host.Hardware
	hardware.PciDevice = make([]types.HostPciDevice, len(devices))
	for i, d := range devices {
		hardware.PciDevice[i] = d.HostPciDevice
	}
	host.Hardware = &hardware
	host.Config.PciPassthruInfo = passthruInfo(devices)

	h.pci = &pciPassthruSystem{lab: l, host: h}
	h.pci.Self.Type = "HostPciPassthruSystem"
	h.pci.PciPassthruInfo = passthruInfo(devices)
	ref := l.reg.Put(h.pci).Reference()
	host.ConfigManager.PciPassthruSystem = &ref
	l.owner[ref] = h

	h.autoStart = &autoStartManager{lab: l, host: h}
	h.autoStart.Self.Type = "HostAutoStartManager"
	h.autoStart.Config = *host.Config.AutoStart
	autoStartRef := l.reg.Put(h.autoStart).Reference()
	host.ConfigManager.AutoStartManager = &autoStartRef
	l.owner[autoStartRef] = h
}
