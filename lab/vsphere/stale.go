package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// The all-in-one design's daily pain: an NFS datastore served by a storage VM goes inaccessible on
// every host that mounts it when the VM stops (powered off, its ESXi host rebooting), and ESXi
// gives up on it once its NFS timeout passes (all paths down). When the VM is back the mount stays
// dead until the host is told to look again, or the datastore is mounted anew. staleMode says which
// of these brings a mount back in the lab; the server "answers" while its storage VM runs.
type staleMode string

const (
	// staleNone: a mount comes back by itself once its server answers (the VM returned in time).
	staleNone staleMode = "none"
	// staleRefresh (the default): it stays inaccessible until the host refreshes (RefreshStorageSystem
	// on the host, RefreshDatastore on the datastore) while its server answers.
	staleRefresh staleMode = "refresh"
	// staleRemount: only RemoveDatastore and CreateNasDatastore bring it back.
	staleRemount staleMode = "remount"
)

func parseStaleMode(s string) (staleMode, bool) {
	switch m := staleMode(s); m {
	case staleNone, staleRefresh, staleRemount:
		return m, true
	}
	return "", false
}

// nfsServers knows which storage addresses answer: a storage VM's while it runs. An address that is
// no storage VM's (an outside NFS server) always answers.
type nfsServers struct {
	mu   sync.Mutex
	mode staleMode
	down map[string]bool
}

func newNfsServers(model *Model) *nfsServers {
	s := &nfsServers{mode: staleRefresh, down: map[string]bool{}}
	for _, h := range model.Hosts {
		if h.StorageVM != nil {
			s.down[h.StorageVM.StorageAddress] = true // not built yet
		}
	}
	return s
}

func (s *nfsServers) answers(address string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.down[address]
}

func (s *nfsServers) staleMode() staleMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

func (s *nfsServers) setMode(m staleMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

func (s *nfsServers) set(address string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down[address] = !up
}

// nasDatastores are the NFS datastores, with their remote host.
func (l *lab) nasDatastores(ctx *simulator.Context) []*simulator.Datastore {
	var out []*simulator.Datastore
	for _, e := range l.reg.All("Datastore") {
		ds := e.(*simulator.Datastore)
		var nas bool
		ctx.WithLock(ds, func() {
			info, ok := ds.Info.(*types.NasDatastoreInfo)
			nas = ok && info.Nas != nil
		})
		if nas {
			out = append(out, ds)
		}
	}
	return out
}

func remoteOf(ds *simulator.Datastore) string {
	return ds.Info.(*types.NasDatastoreInfo).Nas.RemoteHost
}

// setMounts sets the accessibility of the datastore's mounts on the hosts `which` picks, and the
// summary's (accessible while one host has it: vCenter's view). It takes no other object's lock.
func (l *lab) setMounts(ctx *simulator.Context, ds *simulator.Datastore, which func(host types.ManagedObjectReference) bool, accessible bool) {
	ctx.WithLock(ds, func() {
		mounts := append([]types.DatastoreHostMount(nil), ds.Host...)
		changed := false
		for i := range mounts {
			info := &mounts[i].MountInfo
			if !which(mounts[i].Key) || (info.Accessible != nil && *info.Accessible == accessible) {
				continue
			}
			info.Accessible = types.NewBool(accessible)
			info.InaccessibleReason = ""
			if !accessible {
				// ESXi's reason once the NFS timeout passed (the lab skips the wait before it).
				info.InaccessibleReason = string(types.HostMountInfoInaccessibleReasonAllPathsDown_Timeout)
			}
			changed = true
		}
		any := false
		for _, m := range mounts {
			any = any || (m.MountInfo.Accessible != nil && *m.MountInfo.Accessible)
		}
		if changed || ds.Summary.Accessible != any {
			ctx.Update(ds, []types.PropertyChange{{Name: "host", Val: mounts}, {Name: "summary.accessible", Val: any}})
		}
	})
}

// serverGone: the storage VM serving `address` stopped; every mount of its datastores goes inaccessible.
func (l *lab) serverGone(ctx *simulator.Context, address string) {
	l.nfs.set(address, false)
	for _, ds := range l.nasDatastores(ctx) {
		if remoteOf(ds) == address {
			l.setMounts(ctx, ds, func(types.ManagedObjectReference) bool { return true }, false)
		}
	}
}

// serverBack: the storage VM serving `address` runs again; its mounts come back only in staleNone.
func (l *lab) serverBack(ctx *simulator.Context, address string) {
	l.nfs.set(address, true)
	if l.nfs.staleMode() != staleNone {
		return
	}
	for _, ds := range l.nasDatastores(ctx) {
		if remoteOf(ds) == address {
			l.setMounts(ctx, ds, l.runningHost, true)
		}
	}
}

// hostBooted: a host that came back mounts its NFS datastores afresh, those whose server answers.
func (l *lab) hostBooted(ctx *simulator.Context, h *labHost) {
	for _, ds := range l.nasDatastores(ctx) {
		up := l.nfs.answers(remoteOf(ds))
		l.setMounts(ctx, ds, func(host types.ManagedObjectReference) bool { return host == h.ref }, up)
	}
}

// refreshed: a refresh on the hosts `which` picks brings their mounts of ds back, unless only a
// remount can, or its server does not answer.
func (l *lab) refreshed(ctx *simulator.Context, ds *simulator.Datastore, which func(types.ManagedObjectReference) bool) {
	if l.nfs.staleMode() == staleRemount || !l.nfs.answers(remoteOf(ds)) {
		return
	}
	l.setMounts(ctx, ds, which, true)
}

// runningHost picks the hosts that are not rebooting. It reads the lab's own state, not the
// HostSystem (whose lock a reboot holds while it takes the datastores' locks).
func (l *lab) runningHost(ref types.ManagedObjectReference) bool {
	h := l.hostByRef[ref]
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.rebooting
}

// storageSystemMethods: RefreshStorageSystem re-reads the host's NFS mounts (vcsim's does nothing).
type storageSystemMethods struct {
	*simulator.HostStorageSystem
	alias
	lab *lab
	h   *labHost
}

func (w *storageSystemMethods) RefreshStorageSystem(ctx *simulator.Context, req *types.RefreshStorageSystem) soap.HasFault {
	for _, ds := range w.lab.nasDatastores(ctx) {
		w.lab.refreshed(ctx, ds, func(host types.ManagedObjectReference) bool { return host == w.h.ref })
	}
	return &methods.RefreshStorageSystemBody{Res: &types.RefreshStorageSystemResponse{}}
}

// datastoreMethods: RefreshDatastore of an NFS datastore asks every connected host that mounts it.
type datastoreMethods struct {
	*simulator.Datastore
	alias
	lab *lab
}

func (w *datastoreMethods) RefreshDatastore(ctx *simulator.Context, req *types.RefreshDatastore) soap.HasFault {
	res := w.Datastore.RefreshDatastore(ctx, req)
	if res.Fault() != nil {
		return res
	}
	if info, ok := w.Info.(*types.NasDatastoreInfo); ok && info.Nas != nil {
		// The call holds the datastore's lock; setMounts takes it again (the same context may).
		w.lab.refreshed(ctx, w.Datastore, w.lab.runningHost)
	}
	return res
}

// RemoveDatastore unmounts a datastore from this host (vcsim has no such method). Refused while
// VMs registered on this host have files on it, as ESXi refuses it (ResourceInUse). The datastore
// itself goes when no host mounts it any more.
func (w *dssMethods) RemoveDatastore(ctx *simulator.Context, req *types.RemoveDatastore) soap.HasFault {
	w.lab.nasMu.Lock()
	defer w.lab.nasMu.Unlock()
	body := &methods.RemoveDatastoreBody{}
	ds, ok := w.lab.reg.Get(req.Datastore).(*simulator.Datastore)
	mounted := false
	if ok {
		ctx.WithLock(ds, func() { mounted = simulator.FindReference(w.Datastore, ds.Self) != nil })
	}
	if !mounted {
		body.Fault_ = faultf(&types.NotFound{}, "datastore %s is not mounted on host %s", req.Datastore.Value, w.h.model.Name)
		return body
	}
	if vms := w.lab.vmsOn(ctx, ds, w.h); len(vms) > 0 {
		body.Fault_ = faultf(&types.ResourceInUse{Type: "Datastore", Name: ds.Name},
			"the resource '%s' is in use: VMs registered on %s have files on it (%s)", ds.Name, w.h.model.Name, strings.Join(vms, ", "))
		return body
	}
	host := w.lab.hostObject(w.h)
	var left []types.DatastoreHostMount
	ctx.WithLock(ds, func() {
		for _, m := range ds.Host {
			if m.Key != w.h.ref {
				left = append(left, m)
			}
		}
		ctx.Update(ds, []types.PropertyChange{{Name: "host", Val: left}})
	})
	simulator.RemoveReference(&w.Datastore, ds.Self)
	datastores := append([]types.ManagedObjectReference(nil), w.Datastore...)
	ctx.Update(w.HostDatastoreSystem, []types.PropertyChange{{Name: "datastore", Val: datastores}})
	ctx.WithLock(host, func() { ctx.Update(host, []types.PropertyChange{{Name: "datastore", Val: datastores}}) })
	if parent, ok := w.lab.reg.Get(*host.Parent).(*mo.ComputeResource); ok {
		ctx.Map.RemoveReference(ctx, parent, &parent.Datastore, ds.Self)
	}
	if len(left) == 0 {
		w.lab.forgetDatastore(ctx, ds)
	} else {
		w.lab.setMounts(ctx, ds, func(types.ManagedObjectReference) bool { return false }, false) // the summary, from the hosts left
	}
	body.Res = &types.RemoveDatastoreResponse{}
	return body
}

// forgetDatastore removes a datastore no host mounts from its folder, the datacenter and the registry.
func (l *lab) forgetDatastore(ctx *simulator.Context, ds *simulator.Datastore) {
	if folder, ok := l.reg.Get(*ds.Parent).(*simulator.Folder); ok {
		ctx.WithLock(folder, func() {
			simulator.RemoveReference(&folder.ChildEntity, ds.Self)
			ctx.Update(folder, []types.PropertyChange{{Name: "childEntity", Val: append([]types.ManagedObjectReference(nil), folder.ChildEntity...)}})
		})
	}
	for _, e := range l.reg.All("Datacenter") {
		dc := e.(*simulator.Datacenter)
		ctx.Map.RemoveReference(ctx, dc, &dc.Datastore, ds.Self)
	}
	l.reg.Remove(ctx, ds.Self)
}

// vmsOn names the VMs registered on host h with files on ds.
func (l *lab) vmsOn(ctx *simulator.Context, ds *simulator.Datastore, h *labHost) []string {
	var refs []types.ManagedObjectReference
	ctx.WithLock(ds, func() { refs = append(refs, ds.Vm...) })
	var names []string
	for _, ref := range refs {
		vm, ok := l.reg.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		ctx.WithLock(vm, func() {
			if vm.Runtime.Host != nil && *vm.Runtime.Host == h.ref {
				names = append(names, vm.Name)
			}
		})
	}
	sort.Strings(names)
	return names
}

// datastoreState is what GET /esxi-zfs-lab/datastores answers for an NFS datastore.
type datastoreState struct {
	Name       string       `json:"name"`
	RemoteHost string       `json:"remoteHost"`
	RemotePath string       `json:"remotePath"`
	Accessible bool         `json:"accessible"`
	Answers    bool         `json:"serverAnswers"`
	Hosts      []mountState `json:"hosts"`
	VMs        []string     `json:"vms"`
	Mode       staleMode    `json:"staleMode"`
}

type mountState struct {
	Host       string `json:"host"`
	Accessible bool   `json:"accessible"`
	Reason     string `json:"inaccessibleReason,omitempty"`
}

func (l *lab) datastoreStates(ctx *simulator.Context) []datastoreState {
	states := []datastoreState{}
	for _, ds := range l.nasDatastores(ctx) {
		var s datastoreState
		var vms []types.ManagedObjectReference
		ctx.WithLock(ds, func() {
			nas := ds.Info.(*types.NasDatastoreInfo).Nas
			s = datastoreState{Name: ds.Name, RemoteHost: nas.RemoteHost, RemotePath: nas.RemotePath, Accessible: ds.Summary.Accessible, Hosts: []mountState{}, VMs: []string{}}
			for _, m := range ds.Host {
				name := m.Key.Value
				if h := l.hostByRef[m.Key]; h != nil {
					name = h.model.Name
				}
				s.Hosts = append(s.Hosts, mountState{Host: name, Accessible: m.MountInfo.Accessible != nil && *m.MountInfo.Accessible, Reason: m.MountInfo.InaccessibleReason})
			}
			vms = append(vms, ds.Vm...)
		})
		for _, ref := range vms {
			if vm, ok := l.reg.Get(ref).(*simulator.VirtualMachine); ok {
				ctx.WithLock(vm, func() { s.VMs = append(s.VMs, fmt.Sprintf("%s %s", vm.Name, vm.Runtime.PowerState)) })
			}
		}
		s.Answers = l.nfs.answers(s.RemoteHost)
		s.Mode = l.nfs.staleMode()
		states = append(states, s)
	}
	sort.Slice(states, func(i, j int) bool { return states[i].Name < states[j].Name })
	return states
}
