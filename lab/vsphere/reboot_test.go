package main

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func passthru(t *testing.T, h mo.HostSystem, id string) types.HostPciPassthruInfo {
	t.Helper()
	for _, b := range h.Config.PciPassthruInfo {
		if info := b.GetHostPciPassthruInfo(); info.Id == id {
			return *info
		}
	}
	t.Fatalf("no passthrough info for %s", id)
	return types.HostPciPassthruInfo{}
}

func enablePassthru(t *testing.T, s *testSim, host string, enabled bool) {
	t.Helper()
	ref := *s.hostMo(host, "configManager").ConfigManager.PciPassthruSystem
	_, err := methods.UpdatePassthruConfig(context.Background(), s.c, &types.UpdatePassthruConfig{This: ref,
		Config: []types.BaseHostPciPassthruConfig{&types.HostPciPassthruConfig{Id: ddrdriveAddress, PassthruEnabled: enabled}}})
	must(t, err)
}

func TestThePciBusHasTheLogCardPassthroughCapable(t *testing.T) {
	s := startSim(t, testModel(0.2))
	h := s.hostMo("vh1", "hardware", "config", "configManager")
	var card *types.HostPciDevice
	for i, d := range h.Hardware.PciDevice {
		if d.Id == ddrdriveAddress {
			card = &h.Hardware.PciDevice[i]
		} else if passthru(t, h, d.Id).PassthruCapable {
			t.Errorf("%s (%s) should not be passthrough capable", d.Id, d.DeviceName)
		}
	}
	if card == nil || card.VendorId != 0x19e3 || card.DeviceId != 0x4dd1 || card.ClassId != 0x0100 || card.DeviceName != "DDRdrive X1" {
		t.Fatalf("the DDRdrive X1 at %s: %+v", ddrdriveAddress, card)
	}
	if p := passthru(t, h, ddrdriveAddress); !p.PassthruCapable || p.PassthruEnabled || p.PassthruActive {
		t.Fatalf("fresh host: %+v", p)
	}
	// Every host has its own passthrough system, registered and answering.
	other := s.hostMo("vh2", "configManager")
	if h.ConfigManager.PciPassthruSystem == nil || *h.ConfigManager.PciPassthruSystem == *other.ConfigManager.PciPassthruSystem {
		t.Fatalf("passthrough systems: %v and %v", h.ConfigManager.PciPassthruSystem, other.ConfigManager.PciPassthruSystem)
	}
	var pps mo.HostPciPassthruSystem
	must(t, property.DefaultCollector(s.c).RetrieveOne(context.Background(), *h.ConfigManager.PciPassthruSystem, nil, &pps))
	if len(pps.PciPassthruInfo) != len(h.Hardware.PciDevice) {
		t.Fatalf("pciPassthruInfo of the system: %d entries, %d devices", len(pps.PciPassthruInfo), len(h.Hardware.PciDevice))
	}
	_, err := methods.Refresh(context.Background(), s.c, &types.Refresh{This: *h.ConfigManager.PciPassthruSystem})
	must(t, err)
	_, err = methods.UpdatePassthruConfig(context.Background(), s.c, &types.UpdatePassthruConfig{This: *h.ConfigManager.PciPassthruSystem,
		Config: []types.BaseHostPciPassthruConfig{&types.HostPciPassthruConfig{Id: "0000:03:00.0", PassthruEnabled: true}}})
	if err == nil {
		t.Fatal("enabling passthrough of a device that is not capable should fail")
	}
}

// The runbook's cycle: enable (pending), maintenance mode, reboot, the host away then back with a
// new boot time and the device active; a watcher on WaitForUpdatesEx sees every state.
func TestPassthroughBecomesActiveOnlyAfterAReboot(t *testing.T) {
	s := startSim(t, testModel(1))
	ctx := context.Background()
	before := s.hostMo("vh1", "runtime")

	enablePassthru(t, s, "vh1", true)
	p := passthru(t, s.hostMo("vh1", "config"), ddrdriveAddress)
	if !p.PassthruEnabled || p.PassthruActive {
		t.Fatalf("after UpdatePassthruConfig: %+v", p)
	}

	_, err := s.reboot("vh1", false)
	if fault, msg := taskFault(t, err); faultName(fault) != "InvalidState" || msg == "" {
		t.Fatalf("a reboot without force outside maintenance mode: %T %q", fault, msg)
	}

	watched := []string{"connected", "no maintenance", "maintenance", "notResponding", "connected", "no maintenance"}
	var mu sync.Mutex
	var seen []string
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		_ = property.Wait(watchCtx, property.DefaultCollector(s.c), s.host("vh1").Reference(),
			[]string{"runtime.connectionState", "runtime.inMaintenanceMode"}, func(changes []types.PropertyChange) bool {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range changes {
					switch v := c.Val.(type) {
					case types.HostSystemConnectionState:
						seen = append(seen, string(v))
					case bool:
						seen = append(seen, map[bool]string{true: "maintenance", false: "no maintenance"}[v])
					}
				}
				return equal(seen, watched)
			})
	}()
	time.Sleep(200 * time.Millisecond) // the watcher's first update: the current values

	_, err = s.wait(s.host("vh1").EnterMaintenanceMode(ctx, 0, false, nil))
	must(t, err)
	if !s.hostMo("vh1", "runtime").Runtime.InMaintenanceMode {
		t.Fatal("not in maintenance mode")
	}
	started := time.Now()
	_, err = s.reboot("vh1", false)
	must(t, err)
	if state := s.hostMo("vh1", "runtime").Runtime.ConnectionState; state != types.HostSystemConnectionStateNotResponding {
		t.Fatalf("right after the reboot task: %s", state)
	}
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	if took := time.Since(started); took < 900*time.Millisecond {
		t.Fatalf("the host came back after %s, its reboot takes 1 s", took)
	}
	after := s.hostMo("vh1", "runtime", "config")
	if !after.Runtime.BootTime.After(*before.Runtime.BootTime) {
		t.Fatalf("boot time %s, before the reboot %s", after.Runtime.BootTime, before.Runtime.BootTime)
	}
	if p := passthru(t, after, ddrdriveAddress); !p.PassthruEnabled || !p.PassthruActive {
		t.Fatalf("after the reboot: %+v", p)
	}
	_, err = s.wait(s.host("vh1").ExitMaintenanceMode(ctx, 0))
	must(t, err)

	select {
	case <-watching:
	case <-time.After(10 * time.Second):
		t.Fatal("the watcher did not see the host come back and leave maintenance mode")
	}
	mu.Lock()
	defer mu.Unlock()
	if !equal(seen, watched) {
		t.Fatalf("WaitForUpdatesEx saw %v, want %v", seen, watched)
	}
	if got := s.hookEvents(); !equal(got, []string{"host-down vh1", "host-up vh1"}) {
		t.Fatalf("hook events %v", got)
	}
}

// faultName is a fault's type name, whether the client decoded it as a value or a pointer.
func faultName(v any) string {
	t := reflect.TypeOf(v)
	if t == nil {
		return "<nil>"
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
