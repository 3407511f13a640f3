package main

import (
	"context"
	"sync"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// lab is the simulator and what this program adds to it: per-host reboot state, the storage VMs,
// the hook, the fail-once rules. Simulator objects stay in the simulator's registry; this keeps
// only references and the lab's own knobs.
type lab struct {
	model   *simulator.Model
	reg     *simulator.Registry
	hook    *hook
	faults  *faultRules
	outage  outage
	nfs     *nfsServers
	dataDir string

	hosts     map[string]*labHost // by host name
	order     []*labHost          // in the model's order
	hostByRef map[types.ManagedObjectReference]*labHost
	// owner maps a host's configuration managers (network, datastore, PCI passthrough systems) to it.
	owner      map[types.ManagedObjectReference]*labHost
	storageVMs map[string]*labHost // by storage VM name
	aliasMu    sync.Mutex
	aliases    []routedAlias
	// nasMu serializes mounting and unmounting NFS datastores: vcsim appends a host's mount to a
	// shared datastore's host list without the datastore's lock, so two hosts mounting one export at
	// once could each write back a list without the other's mount.
	nasMu sync.Mutex
	// networkFolder is the datacenter's, where standard port groups appear as Network objects.
	networkFolder types.ManagedObjectReference
}

// labHost is one ESXi host's lab state. mu guards the fields below it.
type labHost struct {
	model     HostModel
	ref       types.ManagedObjectReference
	pci       *pciPassthruSystem
	autoStart *autoStartManager

	mu            sync.Mutex
	rebootSeconds float64
	neverReturn   bool
	revertNext    bool
	rebooting     bool
	// released is closed to bring back a host held down by neverReturn.
	released chan struct{}
	reboots  int
}

// context returns a fresh simulator context for work outside a request (a reboot finishing);
// each gets its own identity for the simulator's object locks.
func (l *lab) context() *simulator.Context {
	c := *l.model.Service.Context
	c.Context = context.Background()
	return &c
}

func (l *lab) hostObject(h *labHost) *simulator.HostSystem {
	return l.reg.Get(h.ref).(*simulator.HostSystem)
}

// connected reads a host's connection state under its lock.
func (l *lab) connected(ctx *simulator.Context, h *labHost) bool {
	var state types.HostSystemConnectionState
	host := l.hostObject(h)
	ctx.WithLock(host, func() { state = host.Runtime.ConnectionState })
	return state == types.HostSystemConnectionStateConnected
}

// hostOf returns the lab host a managed object belongs to: the host itself, one of its
// configuration managers, or a VM registered on it.
func (l *lab) hostOf(ref types.ManagedObjectReference) *labHost {
	switch ref.Type {
	case "HostSystem":
		return l.hostByRef[ref]
	case "VirtualMachine":
		vm, ok := l.reg.Get(ref).(*simulator.VirtualMachine)
		if !ok || vm.Runtime.Host == nil {
			return nil
		}
		return l.hostByRef[*vm.Runtime.Host]
	default:
		return l.owner[ref]
	}
}

func (l *lab) update(ctx *simulator.Context, obj mo.Reference, changes ...types.PropertyChange) {
	ctx.WithLock(obj, func() { ctx.Update(obj, changes) })
}

func now() *time.Time {
	t := time.Now()
	return &t
}
