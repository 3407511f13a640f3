package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

var uss1Share = types.HostNasVolumeSpec{RemoteHost: "10.214.0.41", RemotePath: "/export/uss1-nas-vol0", LocalPath: "uss1-nas-vol0",
	AccessMode: string(types.HostMountModeReadWrite), Type: "NFS"}

// mounts is each host's view of the datastore ("vh1 true", "vh2 false AllPathsDown_Timeout") and the summary's.
func (s *testSim) mounts(ref types.ManagedObjectReference) (string, bool) {
	s.t.Helper()
	var ds mo.Datastore
	must(s.t, property.DefaultCollector(s.c).RetrieveOne(context.Background(), ref, []string{"host", "summary"}, &ds))
	var parts []string
	for _, m := range ds.Host {
		var h mo.HostSystem
		must(s.t, property.DefaultCollector(s.c).RetrieveOne(context.Background(), m.Key, []string{"name"}, &h))
		part := fmt.Sprintf("%s %t", h.Name, *m.MountInfo.Accessible)
		if m.MountInfo.InaccessibleReason != "" {
			part += " " + m.MountInfo.InaccessibleReason
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", "), ds.Summary.Accessible
}

func (s *testSim) expectMounts(ref types.ManagedObjectReference, want string, summary bool) {
	s.t.Helper()
	if got, accessible := s.mounts(ref); got != want || accessible != summary {
		s.t.Fatalf("mounts: %q summary.accessible %t, want %q %t", got, accessible, want, summary)
	}
}

// storageVM builds uss1 on vh1 (its NICs on VM Network and eSAN) and powers it on.
func (s *testSim) storageVM() *object.VirtualMachine {
	s.t.Helper()
	ctx := context.Background()
	must(s.t, s.networkSystem("vh1").AddPortGroup(ctx, types.HostPortGroupSpec{Name: "eSAN", VswitchName: "vSwitch1"}))
	vm := s.createVM("vh1", "uss1", "VM Network", "eSAN")
	_, err := s.wait(vm.PowerOn(ctx))
	must(s.t, err)
	return vm
}

func (s *testSim) mountOn(hosts ...string) types.ManagedObjectReference {
	s.t.Helper()
	var ref types.ManagedObjectReference
	for _, h := range hosts {
		ds, err := s.datastoreSystem(h).CreateNasDatastore(context.Background(), uss1Share)
		must(s.t, err)
		ref = ds.Reference()
	}
	return ref
}

func (s *testSim) refreshStorage(host string) {
	s.t.Helper()
	ref := *s.hostMo(host, "configManager").ConfigManager.StorageSystem
	_, err := methods.RefreshStorageSystem(context.Background(), s.c, &types.RefreshStorageSystem{This: ref})
	must(s.t, err)
}

func (s *testSim) refreshDatastore(ref types.ManagedObjectReference) {
	s.t.Helper()
	_, err := methods.RefreshDatastore(context.Background(), s.c, &types.RefreshDatastore{This: ref})
	must(s.t, err)
}

func (s *testSim) setStale(mode string) {
	s.t.Helper()
	if status := s.control("PUT", "/stale-datastores", map[string]string{"value": mode}, nil); status != 200 {
		s.t.Fatalf("stale-datastores %s: HTTP %d", mode, status)
	}
}

func TestAStorageVMsDatastoresStayInaccessibleAfterItReturnsUntilRefreshed(t *testing.T) {
	s := startSim(t, testModel(0.3))
	ctx := context.Background()
	fault, msg := faultOf(t, func() error { _, err := s.datastoreSystem("vh2").CreateNasDatastore(ctx, uss1Share); return err }())
	if faultName(fault) != "HostConfigFault" || !strings.Contains(msg, "Unable to connect to NFS server") {
		t.Fatalf("mounting a share of a storage VM that does not run: %T %q", fault, msg)
	}
	vm := s.storageVM()
	ds := s.mountOn("vh1", "vh2")
	s.expectMounts(ds, "vh1 true, vh2 true", true)

	_, err := s.wait(vm.PowerOff(ctx))
	must(t, err)
	s.expectMounts(ds, "vh1 false AllPathsDown_Timeout, vh2 false AllPathsDown_Timeout", false)
	s.refreshStorage("vh2")
	s.expectMounts(ds, "vh1 false AllPathsDown_Timeout, vh2 false AllPathsDown_Timeout", false)

	_, err = s.wait(vm.PowerOn(ctx))
	must(t, err)
	s.expectMounts(ds, "vh1 false AllPathsDown_Timeout, vh2 false AllPathsDown_Timeout", false)
	s.refreshStorage("vh2")
	s.expectMounts(ds, "vh1 false AllPathsDown_Timeout, vh2 true", true)
	s.refreshDatastore(ds)
	s.expectMounts(ds, "vh1 true, vh2 true", true)

	var states []datastoreState
	if status := s.control("GET", "/datastores", nil, &states); status != 200 || len(states) != 1 || !states[0].Accessible || !states[0].Answers || states[0].Mode != staleRefresh {
		t.Fatalf("GET /datastores: %d %+v", status, states)
	}
}

func TestAfterAHostRebootOnlyARemountHelpsInRemountMode(t *testing.T) {
	s := startSim(t, testModel(0.3))
	ctx := context.Background()
	if status := s.control("PUT", "/stale-datastores", map[string]string{"value": "sometimes"}, nil); status != 400 {
		t.Fatalf("an unknown mode: HTTP %d", status)
	}
	s.setStale("remount")
	vm := s.storageVM()
	ds := s.mountOn("vh1", "vh2")
	// A VM on vh2 with its files on the datastore.
	app := s.createVMOn("vh2", "app1", "uss1-nas-vol0")

	_, err := s.reboot("vh1", true)
	must(t, err)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	s.expectMounts(ds, "vh1 false AllPathsDown_Timeout, vh2 false AllPathsDown_Timeout", false)
	_, err = s.wait(vm.PowerOn(ctx))
	must(t, err)
	s.refreshStorage("vh1")
	s.refreshDatastore(ds)
	s.expectMounts(ds, "vh1 false AllPathsDown_Timeout, vh2 false AllPathsDown_Timeout", false)

	// vh1 has no VM on it: unmounted, the datastore stays (vh2 mounts it), then mounted anew.
	must(t, s.datastoreSystem("vh1").Remove(ctx, object.NewDatastore(s.c, ds)))
	s.expectMounts(ds, "vh2 false AllPathsDown_Timeout", false)
	if h := s.hostMo("vh1", "datastore"); len(h.Datastore) != 1 {
		t.Fatalf("vh1 still lists %v", h.Datastore)
	}
	if again := s.mountOn("vh1"); again != ds {
		t.Fatalf("mounted anew as %v, not %v", again, ds)
	}
	s.expectMounts(ds, "vh2 false AllPathsDown_Timeout, vh1 true", true)

	// vh2 has app1 on it: refused, named.
	fault, msg := faultOf(t, s.datastoreSystem("vh2").Remove(ctx, object.NewDatastore(s.c, ds)))
	if faultName(fault) != "ResourceInUse" || !strings.Contains(msg, "app1") {
		t.Fatalf("removing a datastore a VM uses: %T %q", fault, msg)
	}
	_, err = s.wait(app.Destroy(ctx))
	must(t, err)
	must(t, s.datastoreSystem("vh2").Remove(ctx, object.NewDatastore(s.c, ds)))
	must(t, s.datastoreSystem("vh1").Remove(ctx, object.NewDatastore(s.c, ds)))
	if _, err := find.NewFinder(s.c).Datastore(ctx, "uss1-nas-vol0"); err == nil {
		t.Fatal("a datastore no host mounts is still in the inventory")
	}
	fault, _ = faultOf(t, s.datastoreSystem("vh1").Remove(ctx, object.NewDatastore(s.c, ds)))
	if faultName(fault) != "ManagedObjectNotFound" && faultName(fault) != "NotFound" {
		t.Fatalf("removing it again: %T", fault)
	}
}

func TestInModeNoneTheMountsComeBackByThemselves(t *testing.T) {
	s := startSim(t, testModel(0.3))
	ctx := context.Background()
	s.setStale("none")
	vm := s.storageVM()
	ds := s.mountOn("vh2")
	_, err := s.wait(vm.PowerOff(ctx))
	must(t, err)
	s.expectMounts(ds, "vh2 false AllPathsDown_Timeout", false)
	_, err = s.wait(vm.PowerOn(ctx))
	must(t, err)
	s.expectMounts(ds, "vh2 true", true)
}

// createVMOn makes a plain VM on host with its files on datastore.
func (s *testSim) createVMOn(host, name, datastore string) *object.VirtualMachine {
	s.t.Helper()
	ctx := context.Background()
	dc, err := find.NewFinder(s.c).DefaultDatacenter(ctx)
	must(s.t, err)
	folders, err := dc.Folders(ctx)
	must(s.t, err)
	h := s.host(host)
	pool, err := h.ResourcePool(ctx)
	must(s.t, err)
	spec := types.VirtualMachineConfigSpec{Name: name, GuestId: "otherGuest64", NumCPUs: 1, MemoryMB: 512,
		Files: &types.VirtualMachineFileInfo{VmPathName: "[" + datastore + "]"}}
	info, err := s.wait(folders.VmFolder.CreateVM(ctx, spec, pool, h))
	must(s.t, err)
	return object.NewVirtualMachine(s.c, info.Result.(types.ManagedObjectReference))
}
