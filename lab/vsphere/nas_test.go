package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// RemoveDatastore unmounts from one host only; the datastore is gone with its last host; a
// datastore not mounted on the host is NotFound.
func TestRemoveDatastoreUnmountsFromOneHost(t *testing.T) {
	s := startSim(t, testModel(1))
	ctx := context.Background()
	nfs := types.HostNasVolumeSpec{RemoteHost: "10.214.9.42", RemotePath: "/export/uss1-nas-vol0", LocalPath: "uss1-nas-vol0-recovered",
		AccessMode: string(types.HostMountModeReadWrite), Type: "NFS"}
	var ds *object.Datastore
	for _, host := range []string{"vh1", "vh2"} {
		made, err := s.datastoreSystem(host).CreateNasDatastore(ctx, nfs)
		must(t, err)
		ds = made
	}
	must(t, s.datastoreSystem("vh1").Remove(ctx, ds))
	var left mo.Datastore
	must(t, property.DefaultCollector(s.c).RetrieveOne(ctx, ds.Reference(), []string{"host"}, &left))
	if len(left.Host) != 1 || containsRef(s.hostMo("vh1", "datastore").Datastore, ds.Reference()) {
		t.Fatalf("after unmounting from vh1: mounts %d", len(left.Host))
	}
	if fault, _ := faultOf(t, s.datastoreSystem("vh1").Remove(ctx, ds)); faultName(fault) != "NotFound" {
		t.Fatalf("unmounting twice: %T", fault)
	}
	must(t, s.datastoreSystem("vh2").Remove(ctx, ds))
	if containsRef(s.hostMo("vh2", "datastore").Datastore, ds.Reference()) {
		t.Fatal("vh2 still lists the datastore")
	}
	// The name is free again: the same name may stand for another export now.
	other := nfs
	other.RemotePath = "/export/other"
	_, err := s.datastoreSystem("vh2").CreateNasDatastore(ctx, other)
	must(t, err)
}

func containsRef(list []types.ManagedObjectReference, ref types.ManagedObjectReference) bool {
	for _, x := range list {
		if x == ref {
			return true
		}
	}
	return false
}

// Two hosts mounting one export at the same moment both end up in its host list, each with its
// access mode: vcsim appends a mount without the datastore's lock, so the lab serializes mounts.
func TestTwoHostsMountingOneExportAtOnceKeepBothMounts(t *testing.T) {
	s := startSim(t, testModel(1))
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		nfs := types.HostNasVolumeSpec{RemoteHost: "10.214.9.42", RemotePath: "/export/uss1-nas-vol0", LocalPath: fmt.Sprintf("race-%d", i),
			AccessMode: string(types.HostMountModeReadWrite), Type: "NFS"}
		made := make(chan *object.Datastore, 2)
		errs := make(chan error, 2)
		for _, host := range []string{"vh1", "vh2"} {
			go func(host string) {
				ds, err := s.datastoreSystem(host).CreateNasDatastore(ctx, nfs)
				errs <- err
				made <- ds
			}(host)
		}
		must(t, <-errs)
		must(t, <-errs)
		ds := <-made
		var got mo.Datastore
		must(t, property.DefaultCollector(s.c).RetrieveOne(ctx, ds.Reference(), []string{"host"}, &got))
		modes := map[string]string{}
		for _, m := range got.Host {
			modes[m.Key.Value] = m.MountInfo.AccessMode
		}
		if len(modes) != 2 {
			t.Fatalf("round %d: mounts %v, want both hosts", i, modes)
		}
		for host, mode := range modes {
			if mode != "readWrite" {
				t.Fatalf("round %d: %s mounts it %q", i, host, mode)
			}
		}
	}
}
