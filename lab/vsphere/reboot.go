package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// hostMethods answers the HostSystem methods vcsim gets wrong for this lab: a reboot that takes
// the host away for a while and applies pending passthrough, and maintenance mode that tells
// property collectors. It answers one call (dispatch.go), never stands for the host in the registry.
type hostMethods struct {
	*simulator.HostSystem
	alias
	lab *lab
	h   *labHost
}

func (w *hostMethods) RebootHostTask(ctx *simulator.Context, req *types.RebootHost_Task) soap.HasFault {
	var ref types.ManagedObjectReference
	switch {
	case !req.Force && !w.Runtime.InMaintenanceMode:
		ref = w.lab.failedTask(ctx, w.HostSystem, "rebootHost", &types.InvalidState{},
			fmt.Sprintf("host %s is not in maintenance mode: reboot it with force=true or enter maintenance mode first", w.Name))
	default:
		ref = simulator.CreateTask(w.HostSystem, "rebootHost", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			return nil, w.lab.goDown(ctx, w.h, w.HostSystem)
		}).Run(ctx)
	}
	return &methods.RebootHost_TaskBody{Res: &types.RebootHost_TaskResponse{Returnval: ref}}
}

// EnterMaintenanceModeTask refuses at once when VMs run on the host: a standalone ESXi host
// cannot evacuate them, and a real one would wait, the task running, until they are powered off.
func (w *hostMethods) EnterMaintenanceModeTask(ctx *simulator.Context, req *types.EnterMaintenanceMode_Task) soap.HasFault {
	var ref types.ManagedObjectReference
	if on := w.lab.poweredOnVMs(ctx, w.HostSystem); len(on) > 0 {
		ref = w.lab.failedTask(ctx, w.HostSystem, "enterMaintenanceMode", &types.InvalidState{},
			fmt.Sprintf("host %s has powered-on VMs (%s): power them off first", w.Name, strings.Join(on, ", ")))
	} else {
		ref = simulator.CreateTask(w.HostSystem, "enterMaintenanceMode", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			ctx.Update(w.HostSystem, maintenanceChanges(true))
			return nil, nil
		}).Run(ctx)
	}
	return &methods.EnterMaintenanceMode_TaskBody{Res: &types.EnterMaintenanceMode_TaskResponse{Returnval: ref}}
}

func (w *hostMethods) ExitMaintenanceModeTask(ctx *simulator.Context, req *types.ExitMaintenanceMode_Task) soap.HasFault {
	ref := simulator.CreateTask(w.HostSystem, "exitMaintenanceMode", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		ctx.Update(w.HostSystem, maintenanceChanges(false))
		return nil, nil
	}).Run(ctx)
	return &methods.ExitMaintenanceMode_TaskBody{Res: &types.ExitMaintenanceMode_TaskResponse{Returnval: ref}}
}

func maintenanceChanges(on bool) []types.PropertyChange {
	return []types.PropertyChange{
		{Name: "runtime.inMaintenanceMode", Val: on},
		{Name: "summary.runtime.inMaintenanceMode", Val: on},
	}
}

func connectionChanges(state types.HostSystemConnectionState) []types.PropertyChange {
	return []types.PropertyChange{
		{Name: "runtime.connectionState", Val: state},
		{Name: "summary.runtime.connectionState", Val: state},
	}
}

// goDown runs in the reboot task, holding the host's lock: VMs off, host not responding. The
// rest of the reboot (hooks, the wait, coming back) runs after the task has succeeded, as on
// ESXi, whose reboot task ends when the reboot has begun.
func (l *lab) goDown(ctx *simulator.Context, h *labHost, host *simulator.HostSystem) types.BaseMethodFault {
	h.mu.Lock()
	if h.rebooting { // a second reboot task queued behind the first on the host's lock
		h.mu.Unlock()
		return &types.HostNotConnected{}
	}
	h.rebooting = true
	h.reboots++
	deadline := time.Now().Add(time.Duration(h.rebootSeconds * float64(time.Second)))
	released := make(chan struct{})
	h.released = released
	h.mu.Unlock()

	stopped := l.powerOffAll(ctx, host)
	for _, owner := range stopped {
		l.serverGone(ctx, owner.model.StorageVM.StorageAddress)
	}
	ctx.Update(host, connectionChanges(types.HostSystemConnectionStateNotResponding))
	go l.comeBack(h, stopped, deadline, released)
	return nil
}

func (l *lab) comeBack(h *labHost, stopped []*labHost, deadline time.Time, released chan struct{}) {
	for _, owner := range stopped {
		l.hook.run("vm-off", owner.model.StorageVM.Name, owner.model.StorageVM.LabHost)
	}
	l.hook.run("host-down", h.model.Name)
	time.Sleep(time.Until(deadline))

	h.mu.Lock()
	hold := h.neverReturn
	h.mu.Unlock()
	if hold {
		<-released
	}

	h.mu.Lock()
	revert := h.revertNext
	h.revertNext = false
	h.mu.Unlock()

	ctx := l.context()
	ctx.WithLock(h.pci, func() { h.pci.applyAtBoot(ctx, revert) })
	host := l.hostObject(h)
	ctx.WithLock(host, func() {
		ctx.Update(host, append(connectionChanges(types.HostSystemConnectionStateConnected),
			types.PropertyChange{Name: "runtime.bootTime", Val: time.Now()}))
	})
	h.mu.Lock()
	h.rebooting = false
	h.released = nil
	h.mu.Unlock()
	l.hostBooted(ctx, h)
	l.hook.run("host-up", h.model.Name)
	l.autoStart(h)
}

// setNeverReturn holds the host down after its reboot time (true), or brings a held host back.
func (h *labHost) setNeverReturn(hold bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.neverReturn = hold
	if !hold && h.released != nil {
		close(h.released)
		h.released = nil
	}
}
