package main

import (
	"context"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// createVM makes a VM on a host, its NICs on the given networks, as CreateVM_Task from the product would.
func (s *testSim) createVM(host, name string, networks ...string) *object.VirtualMachine {
	s.t.Helper()
	ctx := context.Background()
	finder := find.NewFinder(s.c)
	dc, err := finder.DefaultDatacenter(ctx)
	must(s.t, err)
	folders, err := dc.Folders(ctx)
	must(s.t, err)
	h := s.host(host)
	pool, err := h.ResourcePool(ctx)
	must(s.t, err)
	var devices object.VirtualDeviceList
	for _, n := range networks {
		backing := &types.VirtualEthernetCardNetworkBackingInfo{VirtualDeviceDeviceBackingInfo: types.VirtualDeviceDeviceBackingInfo{DeviceName: n}}
		nic, err := devices.CreateEthernetCard("vmxnet3", backing)
		must(s.t, err)
		devices = append(devices, nic)
	}
	changes, err := devices.ConfigSpec(types.VirtualDeviceConfigSpecOperationAdd)
	must(s.t, err)
	spec := types.VirtualMachineConfigSpec{Name: name, GuestId: "otherGuest64", NumCPUs: 2, MemoryMB: 4096,
		Files: &types.VirtualMachineFileInfo{VmPathName: "[datastore1-" + host + "]"}, DeviceChange: changes}
	info, err := s.wait(folders.VmFolder.CreateVM(ctx, spec, pool, h))
	must(s.t, err)
	return object.NewVirtualMachine(s.c, info.Result.(types.ManagedObjectReference))
}

func (s *testSim) vmMo(vm *object.VirtualMachine) mo.VirtualMachine {
	var m mo.VirtualMachine
	must(s.t, property.DefaultCollector(s.c).RetrieveOne(context.Background(), vm.Reference(), []string{"runtime", "guest", "summary"}, &m))
	return m
}

func TestTheStorageVMsPowerStartsAndStopsItsLabHost(t *testing.T) {
	s := startSim(t, testModel(0.3))
	ctx := context.Background()
	must(t, s.networkSystem("vh1").AddPortGroup(ctx, types.HostPortGroupSpec{Name: "eSAN", VswitchName: "vSwitch1"}))
	vm := s.createVM("vh1", "uss1", "VM Network", "eSAN")
	other := s.createVM("vh1", "plain", "VM Network")

	_, err := s.wait(vm.PowerOn(ctx))
	must(t, err)
	_, err = s.wait(other.PowerOn(ctx))
	must(t, err)
	if got := s.hookEvents(); !equal(got, []string{"vm-on uss1 test-san-01"}) {
		t.Fatalf("hook events after power on: %v", got)
	}
	m := s.vmMo(vm)
	g := m.Guest
	if m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || g.IpAddress != "10.213.0.11" || g.ToolsRunningStatus != "guestToolsRunning" || g.GuestState != "running" {
		t.Fatalf("powered on: %s, guest %+v", m.Runtime.PowerState, g)
	}
	if len(g.Net) != 2 || g.Net[0].Network != "VM Network" || !equal(g.Net[0].IpAddress, []string{"10.213.0.11"}) ||
		g.Net[1].Network != "eSAN" || !equal(g.Net[1].IpAddress, []string{"10.214.0.41"}) || g.Net[0].MacAddress == "" {
		t.Fatalf("guest.net %+v", g.Net)
	}
	if s.vmMo(other).Guest.IpAddress == "10.213.0.11" {
		t.Fatal("a VM that is no storage VM got the storage VM's address")
	}

	_, err = s.wait(vm.PowerOff(ctx))
	must(t, err)
	if g := s.vmMo(vm).Guest; g.IpAddress != "" || g.ToolsRunningStatus != "guestToolsNotRunning" || len(g.Net) != 0 {
		t.Fatalf("powered off: guest %+v", g)
	}
	_, err = s.wait(vm.PowerOn(ctx))
	must(t, err)

	// A forced reboot with VMs running: both stop, the storage VM's lab host goes down with it.
	_, err = s.reboot("vh1", true)
	must(t, err)
	for _, v := range []*object.VirtualMachine{vm, other} {
		if state := s.vmMo(v).Runtime.PowerState; state != types.VirtualMachinePowerStatePoweredOff {
			t.Fatalf("after the host's reboot began: %s", state)
		}
	}
	if _, err := vm.PowerOn(ctx); err == nil {
		t.Fatal("powering on a VM of a host that is not responding")
	}
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	time.Sleep(100 * time.Millisecond) // host-up runs right after the host is connected
	want := []string{"vm-on uss1 test-san-01", "vm-off uss1 test-san-01", "vm-on uss1 test-san-01",
		"vm-off uss1 test-san-01", "host-down vh1", "host-up vh1"}
	if got := s.hookEvents(); !equal(got, want) {
		t.Fatalf("hook events %v, want %v", got, want)
	}
	if s.vmMo(vm).Runtime.PowerState != types.VirtualMachinePowerStatePoweredOff {
		t.Fatal("the storage VM came back powered on (no autostart in the lab)")
	}
}

// Every way a storage VM's guest stops or starts tells the hook: guest shutdown, reset, suspend.
func TestGuestShutdownResetAndSuspendOfTheStorageVM(t *testing.T) {
	s := startSim(t, testModel(0.2))
	ctx := context.Background()
	vm := s.createVM("vh1", "uss1", "VM Network")
	_, err := s.wait(vm.PowerOn(ctx))
	must(t, err)
	_, err = s.wait(vm.Reset(ctx))
	must(t, err)
	if m := s.vmMo(vm); m.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || m.Guest.IpAddress != "10.213.0.11" {
		t.Fatalf("after reset: %s %q", m.Runtime.PowerState, m.Guest.IpAddress)
	}
	must(t, vm.ShutdownGuest(ctx))
	waitPower(t, s, vm, types.VirtualMachinePowerStatePoweredOff)
	if ip := s.vmMo(vm).Guest.IpAddress; ip != "" {
		t.Fatalf("after guest shutdown the guest reports %q", ip)
	}
	_, err = s.wait(vm.PowerOn(ctx))
	must(t, err)
	_, err = s.wait(vm.Suspend(ctx))
	must(t, err)
	_, err = s.wait(vm.PowerOn(ctx))
	must(t, err)
	want := []string{"vm-on uss1 test-san-01", "vm-off uss1 test-san-01", "vm-on uss1 test-san-01", "vm-off uss1 test-san-01",
		"vm-on uss1 test-san-01", "vm-off uss1 test-san-01", "vm-on uss1 test-san-01"}
	if got := s.hookEvents(); !equal(got, want) {
		t.Fatalf("hook events %v, want %v", got, want)
	}
}

func waitPower(t *testing.T, s *testSim, vm *object.VirtualMachine, want types.VirtualMachinePowerState) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.vmMo(vm).Runtime.PowerState != want {
		if time.Now().After(deadline) {
			t.Fatalf("not %s in 5 s", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
