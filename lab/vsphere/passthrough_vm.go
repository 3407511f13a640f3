package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// What ESXi checks when a VM with a PCI passthrough device powers on: the device is active for
// passthrough on the VM's host (enabled and the host rebooted since), the backing names it right,
// no other running VM holds it, and the VM's memory is fully reserved.

// activeDevices are the host's PCI devices whose passthrough is active. The caller holds no lock.
func (l *lab) activeDevices(ctx *simulator.Context, h *labHost) []types.HostPciDevice {
	active := map[string]bool{}
	ctx.WithLock(h.pci, func() {
		for _, e := range h.pci.entries() {
			active[e.Id] = e.PassthruActive
		}
	})
	var out []types.HostPciDevice
	for _, d := range l.hostObject(h).Hardware.PciDevice {
		if active[d.Id] {
			out = append(out, d)
		}
	}
	return out
}

func passthroughDevices(vm *simulator.VirtualMachine) []*types.VirtualPCIPassthrough {
	var out []*types.VirtualPCIPassthrough
	for _, d := range vm.Config.Hardware.Device {
		if p, ok := d.(*types.VirtualPCIPassthrough); ok {
			out = append(out, p)
		}
	}
	return out
}

// passthroughProblem says why vm cannot power on with its passthrough devices, or "", and then
// has given each Dynamic DirectPath I/O device its assigned device. The caller holds vm's lock.
func (l *lab) passthroughProblem(ctx *simulator.Context, vm *simulator.VirtualMachine, h *labHost) string {
	devices := passthroughDevices(vm)
	if len(devices) == 0 {
		return ""
	}
	c := vm.Config
	locked := c.MemoryReservationLockedToMax != nil && *c.MemoryReservationLockedToMax
	reserved := c.MemoryAllocation != nil && c.MemoryAllocation.Reservation != nil && *c.MemoryAllocation.Reservation >= int64(c.Hardware.MemoryMB)
	if !locked && !reserved {
		return fmt.Sprintf("Invalid memory setting: memory reservation (sched.mem.min) should be equal to memsize(%d): a VM with a passthrough device needs all its memory reserved (memoryReservationLockedToMax)", c.Hardware.MemoryMB)
	}
	active := l.activeDevices(ctx, h)
	inUse := l.devicesInUse(ctx, vm, h)
	for _, d := range devices {
		switch b := d.Backing.(type) {
		case *types.VirtualPCIPassthroughDeviceBackingInfo:
			dev := findDevice(l.hostObject(h).Hardware.PciDevice, b.Id)
			switch {
			case dev == nil:
				return fmt.Sprintf("Device %s was not found on host %s", b.Id, h.model.Name)
			case findDevice(active, b.Id) == nil:
				return fmt.Sprintf("Device %s is not a passthrough device on host %s (passthruActive is false: enable passthrough and reboot the host)", b.Id, h.model.Name)
			case uint16(b.VendorId) != uint16(dev.VendorId) || !sameHexID(b.DeviceId, dev.DeviceId):
				return fmt.Sprintf("Device %s on host %s is %04x:%04x, not vendorId %d deviceId %q", b.Id, h.model.Name, uint16(dev.VendorId), uint16(dev.DeviceId), b.VendorId, b.DeviceId)
			case inUse[b.Id] != "":
				return fmt.Sprintf("Device %s on host %s is in use by VM %s", b.Id, h.model.Name, inUse[b.Id])
			}
		case *types.VirtualPCIPassthroughDynamicBackingInfo:
			free := matchingFree(active, b.AllowedDevice, inUse)
			if free == "" {
				return fmt.Sprintf("no free device on host %s matches the allowed devices %s", h.model.Name, allowedList(b.AllowedDevice))
			}
			// Dynamic DirectPath I/O picks the device at power on and says which in assignedId.
			b.AssignedId = free
			inUse[free] = vm.Name
			ctx.Update(vm, []types.PropertyChange{{Name: "config.hardware.device", Val: vm.Config.Hardware.Device}})
		default:
			return fmt.Sprintf("PCI passthrough backing %T is not supported by the lab", d.Backing)
		}
	}
	return ""
}

// devicesInUse maps the PCI address of each device a running VM of the host (other than vm) holds
// by address to that VM's name.
func (l *lab) devicesInUse(ctx *simulator.Context, vm *simulator.VirtualMachine, h *labHost) map[string]string {
	used := map[string]string{}
	for _, ref := range l.hostObject(h).Vm {
		other, ok := l.reg.Get(ref).(*simulator.VirtualMachine)
		if !ok || other == vm {
			continue
		}
		ctx.WithLock(other, func() {
			if other.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
				return
			}
			for _, d := range passthroughDevices(other) {
				switch b := d.Backing.(type) {
				case *types.VirtualPCIPassthroughDeviceBackingInfo:
					used[b.Id] = other.Name
				case *types.VirtualPCIPassthroughDynamicBackingInfo:
					if b.AssignedId != "" {
						used[b.AssignedId] = other.Name
					}
				}
			}
		})
	}
	return used
}

func findDevice(devices []types.HostPciDevice, id string) *types.HostPciDevice {
	for i := range devices {
		if devices[i].Id == id {
			return &devices[i]
		}
	}
	return nil
}

// sameHexID compares the backing's deviceId, a hex string ("4dd1"), with the device's signed short.
func sameHexID(hex string, id int16) bool {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(hex), "0x"), 16, 16)
	return err == nil && uint16(v) == uint16(id)
}

func matchingFree(active []types.HostPciDevice, allowed []types.VirtualPCIPassthroughAllowedDevice, inUse map[string]string) string {
	for _, d := range active {
		for _, a := range allowed {
			if uint16(a.VendorId) == uint16(d.VendorId) && uint16(a.DeviceId) == uint16(d.DeviceId) && inUse[d.Id] == "" {
				return d.Id
			}
		}
	}
	return ""
}

func allowedList(allowed []types.VirtualPCIPassthroughAllowedDevice) string {
	parts := make([]string, len(allowed))
	for i, a := range allowed {
		parts[i] = fmt.Sprintf("%04x:%04x", uint16(a.VendorId), uint16(a.DeviceId))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// envBrowserMethods adds to QueryConfigTarget what vcsim leaves out: the host's devices active for
// passthrough, for the VirtualPCIPassthroughDeviceBackingInfo (id, deviceId, vendorId, systemId)
// and the Dynamic DirectPath I/O allowed-device list.
type envBrowserMethods struct {
	*simulator.EnvironmentBrowser
	alias
	lab *lab
}

func (w *envBrowserMethods) QueryConfigTarget(ctx *simulator.Context, req *types.QueryConfigTarget) soap.HasFault {
	res := w.EnvironmentBrowser.QueryConfigTarget(ctx, req)
	body, ok := res.(*methods.QueryConfigTargetBody)
	if !ok || body.Res == nil || body.Res.Returnval == nil {
		return res
	}
	h := w.lab.browsedHost(w.Self, req.Host)
	if h == nil {
		return res
	}
	target := *body.Res.Returnval
	target.PciPassthrough = nil
	target.DynamicPassthrough = nil
	systemID := w.lab.hostObject(h).Hardware.SystemInfo.Uuid
	for _, d := range w.lab.activeDevices(ctx, h) {
		target.PciPassthrough = append(target.PciPassthrough, &types.VirtualMachinePciPassthroughInfo{
			VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: d.DeviceName},
			PciDevice:                d, SystemId: systemID,
		})
		target.DynamicPassthrough = append(target.DynamicPassthrough, types.VirtualMachineDynamicPassthroughInfo{
			VirtualMachineTargetInfo: types.VirtualMachineTargetInfo{Name: d.DeviceName},
			VendorName:               d.VendorName, DeviceName: d.DeviceName, VendorId: int32(d.VendorId), DeviceId: int32(d.DeviceId),
		})
	}
	return &methods.QueryConfigTargetBody{Res: &types.QueryConfigTargetResponse{Returnval: &target}}
}

// browsedHost is the host a QueryConfigTarget is about: the one named, or the only host of the
// standalone host's compute resource whose environment browser this is.
func (l *lab) browsedHost(browser types.ManagedObjectReference, host *types.ManagedObjectReference) *labHost {
	if host != nil {
		return l.hostByRef[*host]
	}
	for _, h := range l.order {
		parent := l.hostObject(h).Parent
		if parent == nil {
			continue
		}
		if cr, ok := l.reg.Get(*parent).(*mo.ComputeResource); ok && cr.EnvironmentBrowser != nil && *cr.EnvironmentBrowser == browser {
			return h
		}
	}
	return nil
}
