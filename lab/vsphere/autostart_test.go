package main

import (
	"context"
	"testing"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// The boot order: the storage VM first, the VM on its datastore after it, when the host comes back.
func TestAutostartPowersVMsOnInOrderAfterAReboot(t *testing.T) {
	s := startSim(t, testModel(0.2))
	ctx := context.Background()
	storage := s.createVM("vh1", "uss1", "VM Network")
	guest := s.createVM("vh1", "app1", "VM Network")
	manager := *s.hostMo("vh1", "configManager").ConfigManager.AutoStartManager
	spec := types.HostAutoStartManagerConfig{
		Defaults: &types.AutoStartDefaults{Enabled: types.NewBool(true), StartDelay: 1},
		PowerInfo: []types.AutoStartPowerInfo{
			{Key: guest.Reference(), StartOrder: 2, StartDelay: 0, StartAction: "powerOn", WaitForHeartbeat: "systemDefault", StopAction: "systemDefault", StopDelay: -1},
			{Key: storage.Reference(), StartOrder: 1, StartDelay: 0, StartAction: "powerOn", WaitForHeartbeat: "yes", StopAction: "systemDefault", StopDelay: -1},
		},
	}
	_, err := methods.ReconfigureAutostart(ctx, s.c, &types.ReconfigureAutostart{This: manager, Spec: spec})
	must(t, err)
	var m mo.HostAutoStartManager
	must(t, property.DefaultCollector(s.c).RetrieveOne(ctx, manager, []string{"config"}, &m))
	if len(m.Config.PowerInfo) != 2 || m.Config.PowerInfo[0].Key != storage.Reference() || !*m.Config.Defaults.Enabled {
		t.Fatalf("config %+v", m.Config)
	}
	if h := s.hostMo("vh1", "config"); h.Config.AutoStart == nil || len(h.Config.AutoStart.PowerInfo) != 2 {
		t.Fatalf("config.autoStart of the host: %+v", h.Config.AutoStart)
	}
	other := s.createVM("vh2", "elsewhere", "VM Network")
	bad := types.HostAutoStartManagerConfig{PowerInfo: []types.AutoStartPowerInfo{{Key: other.Reference(), StartOrder: 3, StartAction: "powerOn"}}}
	if _, err := methods.ReconfigureAutostart(ctx, s.c, &types.ReconfigureAutostart{This: manager, Spec: bad}); err == nil {
		t.Fatal("another host's VM in this host's autostart order")
	}

	_, err = s.reboot("vh1", true)
	must(t, err)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for s.vmMo(guest).Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		if time.Now().After(deadline) {
			t.Fatal("the second VM of the order was not powered on")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s.vmMo(storage).Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn || s.vmMo(storage).Guest.IpAddress != "10.213.0.11" {
		t.Fatal("the storage VM is not running with its address")
	}
	if got := s.hookEvents(); !equal(got, []string{"host-down vh1", "host-up vh1", "vm-on uss1 test-san-01"}) {
		t.Fatalf("hook events %v", got)
	}
}

// A storage VM whose passthrough device is not active after the boot (turned off before the
// reboot) cannot start: autostart logs the refusal and goes on, the VM stays off.
func TestAutostartLeavesAVMWhoseDeviceIsNotActiveOff(t *testing.T) {
	s := startSim(t, testModel(0.2))
	storage := s.createVM("vh1", "uss1", "VM Network")
	s.addPassthrough(storage, &types.VirtualPCIPassthroughDeviceBackingInfo{Id: ddrdriveAddress, DeviceId: "4dd1", VendorId: 0x19e3, SystemId: "BYPASS"}, true)
	guest := s.createVM("vh1", "app1", "VM Network")
	s.setAutostart("vh1", 0, storage, guest)

	_, err := s.reboot("vh1", true)
	must(t, err)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for s.vmMo(guest).Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		if time.Now().After(deadline) {
			t.Fatal("the VM after the refused one was not powered on")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := s.vmMo(storage).Runtime.PowerState; got != types.VirtualMachinePowerStatePoweredOff {
		t.Fatalf("the storage VM without an active device: %s", got)
	}
}

// setAutostart enables autostart on the host with these VMs powering on in this order.
func (s *testSim) setAutostart(host string, startDelay int32, vms ...*object.VirtualMachine) types.ManagedObjectReference {
	s.t.Helper()
	manager := *s.hostMo(host, "configManager").ConfigManager.AutoStartManager
	spec := types.HostAutoStartManagerConfig{Defaults: &types.AutoStartDefaults{Enabled: types.NewBool(true), StartDelay: startDelay}}
	for i, vm := range vms {
		spec.PowerInfo = append(spec.PowerInfo, types.AutoStartPowerInfo{
			Key: vm.Reference(), StartOrder: int32(i + 1), StartDelay: 0, StartAction: "powerOn", WaitForHeartbeat: "systemDefault", StopAction: "systemDefault", StopDelay: -1,
		})
	}
	_, err := methods.ReconfigureAutostart(context.Background(), s.c, &types.ReconfigureAutostart{This: manager, Spec: spec})
	must(s.t, err)
	return manager
}
