package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/types"
)

// addPassthrough gives vm a passthrough device with this backing and, when reserve, all its memory reserved.
func (s *testSim) addPassthrough(vm *object.VirtualMachine, backing types.BaseVirtualDeviceBackingInfo, reserve bool) {
	s.t.Helper()
	spec := types.VirtualMachineConfigSpec{
		DeviceChange: []types.BaseVirtualDeviceConfigSpec{&types.VirtualDeviceConfigSpec{
			Operation: types.VirtualDeviceConfigSpecOperationAdd,
			Device:    &types.VirtualPCIPassthrough{VirtualDevice: types.VirtualDevice{Key: -100, Backing: backing}},
		}},
		MemoryReservationLockedToMax: types.NewBool(reserve),
		ExtraConfig:                  []types.BaseOptionValue{&types.OptionValue{Key: "pciPassthru0.msiEnabled", Value: "FALSE"}},
	}
	_, err := s.wait(vm.Reconfigure(context.Background(), spec))
	must(s.t, err)
}

func TestAPassthroughVMPowersOnOnlyWithTheDeviceActiveAndItsMemoryReserved(t *testing.T) {
	s := startSim(t, testModel(0.2))
	ctx := context.Background()
	vm := s.createVM("vh1", "uss1", "VM Network")
	fixed := &types.VirtualPCIPassthroughDeviceBackingInfo{Id: ddrdriveAddress, DeviceId: "4dd1", VendorId: 0x19e3, SystemId: "BYPASS"}
	s.addPassthrough(vm, fixed, false)

	powerOnFails := func(vm *object.VirtualMachine, want string) {
		t.Helper()
		_, err := s.wait(vm.PowerOn(ctx))
		fault, msg := taskFault(t, err)
		if faultName(fault) != "GenericVmConfigFault" || !strings.Contains(msg, want) {
			t.Fatalf("power on: %T %q, want %q", fault, msg, want)
		}
	}
	powerOnFails(vm, "memory reservation")
	_, err := s.wait(vm.Reconfigure(ctx, types.VirtualMachineConfigSpec{MemoryReservationLockedToMax: types.NewBool(true)}))
	must(t, err)
	powerOnFails(vm, "is not a passthrough device")

	// The config target lists no device before passthrough is active, the card after the reboot.
	eb := types.ManagedObjectReference{}
	{
		h := s.hostMo("vh1", "parent")
		cr := object.NewComputeResource(s.c, *h.Parent)
		var err error
		eb, err = environmentBrowserOf(ctx, cr)
		must(t, err)
	}
	target := func() *types.ConfigTarget {
		res, err := methods.QueryConfigTarget(ctx, s.c, &types.QueryConfigTarget{This: eb})
		must(t, err)
		return res.Returnval
	}
	if got := target().PciPassthrough; len(got) != 0 {
		t.Fatalf("before passthrough is active: %d devices", len(got))
	}
	enablePassthru(t, s, "vh1", true)
	_, err = s.reboot("vh1", true)
	must(t, err)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	ct := target()
	if len(ct.PciPassthrough) != 1 || len(ct.DynamicPassthrough) != 1 {
		t.Fatalf("config target: %d passthrough, %d dynamic", len(ct.PciPassthrough), len(ct.DynamicPassthrough))
	}
	info := ct.PciPassthrough[0].GetVirtualMachinePciPassthroughInfo()
	if info.PciDevice.Id != ddrdriveAddress || info.SystemId == "" || ct.DynamicPassthrough[0].VendorId != 0x19e3 || ct.DynamicPassthrough[0].DeviceId != 0x4dd1 {
		t.Fatalf("config target: %+v %+v", info, ct.DynamicPassthrough[0])
	}

	_, err = s.wait(vm.PowerOn(ctx))
	must(t, err)
	other := s.createVM("vh1", "other", "VM Network")
	s.addPassthrough(other, &types.VirtualPCIPassthroughDynamicBackingInfo{
		AllowedDevice: []types.VirtualPCIPassthroughAllowedDevice{{VendorId: 0x19e3, DeviceId: 0x4dd1}}}, true)
	powerOnFails(other, "no free device")
	wrong := s.createVM("vh1", "wrong", "VM Network")
	s.addPassthrough(wrong, &types.VirtualPCIPassthroughDeviceBackingInfo{Id: ddrdriveAddress, DeviceId: "4dd2", VendorId: 0x19e3}, true)
	powerOnFails(wrong, "not vendorId")

	_, err = s.wait(vm.PowerOff(ctx))
	must(t, err)
	_, err = s.wait(other.PowerOn(ctx))
	must(t, err)
	powerOnFails(vm, "in use by VM other")
}
