package main

import (
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// dssMethods answers CreateNasDatastore as vCenter does: spec.localPath is the datastore's name,
// the same export mounted on another host is the same datastore, and a name already given to
// another export is refused. vcsim keeps a datastore's files in a directory named by localPath, so
// each export gets one under the lab's data directory.
type dssMethods struct {
	*simulator.HostDatastoreSystem
	alias
	lab *lab
	h   *labHost
}

func (w *dssMethods) CreateNasDatastore(ctx *simulator.Context, req *types.CreateNasDatastore) soap.HasFault {
	w.lab.nasMu.Lock()
	defer w.lab.nasMu.Unlock()
	body := &methods.CreateNasDatastoreBody{}
	spec := req.Spec
	name := spec.LocalPath
	if spec.Type == "" {
		spec.Type = string(types.HostFileSystemVolumeFileSystemTypeNFS)
	}
	if spec.AccessMode == "" {
		spec.AccessMode = string(types.HostMountModeReadWrite)
	}
	switch {
	case name == "" || strings.ContainsAny(name, "/\\") || len(name) > 42:
		body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "spec.localPath"}, "the datastore name (spec.localPath) %q: 1 to 42 characters, no '/'", name)
	case spec.Type != "NFS" && spec.Type != "NFS41":
		body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "spec.type"}, "spec.type %q: NFS or NFS41", spec.Type)
	case spec.AccessMode != string(types.HostMountModeReadWrite) && spec.AccessMode != string(types.HostMountModeReadOnly):
		body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "spec.accessMode"}, "spec.accessMode %q: readWrite or readOnly", spec.AccessMode)
	case spec.RemoteHost == "" || !path.IsAbs(spec.RemotePath) || strings.Contains(spec.RemotePath, ".."):
		body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "spec.remotePath"}, "an NFS export needs a remote host and an absolute path, not %q:%q", spec.RemoteHost, spec.RemotePath)
	}
	if body.Fault_ != nil {
		return body
	}
	if fault := w.sameExport(name, spec); fault != nil {
		body.Fault_ = fault
		return body
	}
	if !w.lab.nfs.answers(spec.RemoteHost) {
		body.Fault_ = faultf(&types.HostConfigFault{}, "NFS mount %s:%s failed: Unable to connect to NFS server (its storage VM is not running)", spec.RemoteHost, spec.RemotePath)
		return body
	}
	dir := filepath.Join(w.lab.dataDir, "nfs", spec.RemoteHost, filepath.Clean(spec.RemotePath), name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		body.Fault_ = faultf(&types.HostConfigFault{}, "the lab's directory for %s: %v", name, err)
		return body
	}
	local := spec
	local.LocalPath = dir
	res := w.HostDatastoreSystem.CreateNasDatastore(ctx, &types.CreateNasDatastore{This: req.This, Spec: local})
	if f := res.Fault(); f != nil {
		body.Fault_ = f
		return body
	}
	// vcsim answers an empty reference when the datastore already existed (mounted on another host).
	ref := w.lab.datastoreNamed(name).Self
	w.describe(ctx, ref, name, spec)
	body.Res = &types.CreateNasDatastoreResponse{Returnval: ref}
	return body
}

func (l *lab) datastoreNamed(name string) *simulator.Datastore {
	for _, e := range l.reg.All("Datastore") {
		if ds := e.(*simulator.Datastore); ds.Name == name {
			return ds
		}
	}
	return nil
}

// sameExport refuses a name that already stands for something else than this export.
func (w *dssMethods) sameExport(name string, spec types.HostNasVolumeSpec) *soap.Fault {
	if ds := w.lab.datastoreNamed(name); ds != nil {
		nas, ok := ds.Info.(*types.NasDatastoreInfo)
		if !ok || nas.Nas == nil {
			return faultf(&types.DuplicateName{Name: name, Object: ds.Self}, "datastore %s already exists and is not an NFS datastore", name)
		}
		if nas.Nas.RemoteHost != spec.RemoteHost || nas.Nas.RemotePath != spec.RemotePath || nas.Nas.Type != spec.Type {
			return faultf(&types.DuplicateName{Name: name, Object: ds.Self},
				"datastore %s is already %s %s:%s, not %s %s:%s", name,
				nas.Nas.Type, nas.Nas.RemoteHost, nas.Nas.RemotePath, spec.Type, spec.RemoteHost, spec.RemotePath)
		}
	}
	return nil
}

// describe gives the datastore ESXi's view of the mount: its name (not the lab's directory), the
// remote host names, and this host's access mode.
func (w *dssMethods) describe(ctx *simulator.Context, ref types.ManagedObjectReference, name string, spec types.HostNasVolumeSpec) {
	ds := w.lab.reg.Get(ref).(*simulator.Datastore)
	ctx.WithLock(ds, func() {
		nas := ds.Info.(*types.NasDatastoreInfo)
		nas.Name = name
		nas.Nas.Name = name
		nas.Nas.RemoteHostNames = []string{spec.RemoteHost}
		if len(spec.RemoteHostNames) > 0 {
			nas.Nas.RemoteHostNames = spec.RemoteHostNames
		}
		mounts := append([]types.DatastoreHostMount(nil), ds.Host...)
		for i := range mounts {
			if mounts[i].Key == w.lab.hostObject(w.h).Self {
				mounts[i].MountInfo.AccessMode = spec.AccessMode
			}
		}
		ctx.Update(ds, []types.PropertyChange{{Name: "info", Val: nas}, {Name: "host", Val: mounts}})
	})
	// The new mount answers; the summary says so even where other hosts' mounts are still dead.
	w.lab.setMounts(ctx, ds, func(host types.ManagedObjectReference) bool { return host == w.h.ref }, true)
}
