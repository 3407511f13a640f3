package main

import (
	"fmt"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The runbook's log device: a DDRdrive X1 (vendor 0x19e3, class 0x0100 "SCSI storage controller").
// Its device id here, 0x4dd1, is this lab's choice.
const (
	ddrdriveAddress  = "0000:0b:00.0"
	ddrdriveVendorID = 0x19e3
	ddrdriveDeviceID = 0x4dd1
	ddrdriveClassID  = 0x0100
)

type pciDevice struct {
	types.HostPciDevice
	capable bool
}

// pciDevices is a small host's PCI bus: chipset, SATA, two NICs (vmnic0 management, vmnic1
// storage uplink) that are not passthrough capable, and the DDRdrive X1 that is. The wire types
// are signed shorts, so ids above 0x7fff (Intel's 0x8086) are negative, as ESXi sends them.
func pciDevices() []pciDevice {
	dev := func(id string, bus, slot, fn byte, class, vendor, device uint16, vendorName, name string, capable bool) pciDevice {
		return pciDevice{types.HostPciDevice{
			Id: id, ClassId: int16(class), Bus: bus, Slot: slot, Function: fn,
			VendorId: int16(vendor), SubVendorId: int16(vendor), VendorName: vendorName,
			DeviceId: int16(device), SubDeviceId: int16(device), DeviceName: name,
		}, capable}
	}
	return []pciDevice{
		dev("0000:00:00.0", 0x00, 0x00, 0, 0x0600, 0x8086, 0x3ec4, "Intel Corporation", "8th Gen Core Processor Host Bridge", false),
		dev("0000:00:17.0", 0x00, 0x17, 0, 0x0106, 0x8086, 0xa352, "Intel Corporation", "Cannon Lake PCH SATA AHCI Controller", false),
		dev("0000:03:00.0", 0x03, 0x00, 0, 0x0200, 0x8086, 0x10d3, "Intel Corporation", "82574L Gigabit Network Connection", false),
		dev("0000:04:00.0", 0x04, 0x00, 0, 0x0200, 0x8086, 0x10fb, "Intel Corporation", "82599ES 10-Gigabit SFI/SFP+ Network Connection", false),
		dev(ddrdriveAddress, 0x0b, 0x00, 0, ddrdriveClassID, ddrdriveVendorID, ddrdriveDeviceID, "DDRdrive LLC", "DDRdrive X1", true),
	}
}

// pciPassthruSystem is the HostPciPassthruSystem vcsim lacks (the host's reference to one is never
// registered). Changes are pending until the host reboots: UpdatePassthruConfig sets
// passthruEnabled, the reboot sets passthruActive.
type pciPassthruSystem struct {
	mo.HostPciPassthruSystem
	lab  *lab
	host *labHost
}

func passthruInfo(devices []pciDevice) []types.BaseHostPciPassthruInfo {
	info := make([]types.BaseHostPciPassthruInfo, len(devices))
	for i, d := range devices {
		info[i] = &types.HostPciPassthruInfo{Id: d.Id, DependentDevice: d.Id, PassthruCapable: d.capable}
	}
	return info
}

// entries copies the current passthrough state, for a change to be applied as a whole.
func (s *pciPassthruSystem) entries() []types.HostPciPassthruInfo {
	out := make([]types.HostPciPassthruInfo, len(s.PciPassthruInfo))
	for i, b := range s.PciPassthruInfo {
		out[i] = *b.GetHostPciPassthruInfo()
	}
	return out
}

// set publishes new passthrough state on this object and on the host's config.pciPassthruInfo.
// The caller holds this object's lock.
func (s *pciPassthruSystem) set(ctx *simulator.Context, entries []types.HostPciPassthruInfo) {
	info := make([]types.BaseHostPciPassthruInfo, len(entries))
	forHost := make([]types.BaseHostPciPassthruInfo, len(entries))
	for i := range entries {
		a, b := entries[i], entries[i]
		info[i], forHost[i] = &a, &b
	}
	ctx.Update(s, []types.PropertyChange{{Name: "pciPassthruInfo", Val: info}})
	s.lab.update(ctx, s.lab.hostObject(s.host), types.PropertyChange{Name: "config.pciPassthruInfo", Val: forHost})
}

func (s *pciPassthruSystem) UpdatePassthruConfig(ctx *simulator.Context, req *types.UpdatePassthruConfig) soap.HasFault {
	body := &methods.UpdatePassthruConfigBody{}
	entries := s.entries()
	for _, c := range req.Config {
		cfg := c.GetHostPciPassthruConfig()
		i := indexOf(entries, cfg.Id)
		if i < 0 {
			body.Fault_ = simulator.Fault(fmt.Sprintf("no PCI device %q on host %s", cfg.Id, s.host.model.Name), &types.NotFound{})
			return body
		}
		if !entries[i].PassthruCapable && cfg.PassthruEnabled {
			body.Fault_ = simulator.Fault(fmt.Sprintf("PCI device %s on host %s is not capable of passthrough", cfg.Id, s.host.model.Name),
				&types.HostConfigFault{})
			return body
		}
		entries[i].PassthruEnabled = cfg.PassthruEnabled
	}
	s.set(ctx, entries)
	body.Res = &types.UpdatePassthruConfigResponse{}
	return body
}

func (s *pciPassthruSystem) Refresh(ctx *simulator.Context, req *types.Refresh) soap.HasFault {
	s.set(ctx, s.entries())
	return &methods.RefreshBody{Res: &types.RefreshResponse{}}
}

// applyAtBoot makes pending changes active, or, when the host reverts them (as ESXi 8.0 sometimes
// does), drops every pending enable. The caller holds this object's lock.
func (s *pciPassthruSystem) applyAtBoot(ctx *simulator.Context, revert bool) {
	entries := s.entries()
	for i := range entries {
		e := &entries[i]
		if revert && e.PassthruEnabled != e.PassthruActive {
			e.PassthruEnabled, e.PassthruActive = false, false
		}
		e.PassthruActive = e.PassthruEnabled
	}
	s.set(ctx, entries)
}

func indexOf(entries []types.HostPciPassthruInfo, id string) int {
	for i := range entries {
		if entries[i].Id == id {
			return i
		}
	}
	return -1
}
