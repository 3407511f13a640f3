package main

import (
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vmMethods wraps a VM's power operations: vcsim's own task does the power change, then a
// storage VM gets its guest identity (its lab host's addresses) and the hook starts or stops
// the lab host's sshd before the task ends.
type vmMethods struct {
	*simulator.VirtualMachine
	alias
	lab *lab
}

func (w *vmMethods) PowerOnVMTask(ctx *simulator.Context, req *types.PowerOnVM_Task) soap.HasFault {
	if h := w.lab.hostOf(w.Self); h != nil && w.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		if problem := w.lab.passthroughProblem(ctx, w.VirtualMachine, h); problem != "" {
			fault := &types.GenericVmConfigFault{Reason: problem}
			ref := w.lab.failedTask(ctx, w.VirtualMachine, "powerOn", fault, problem)
			return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: ref}}
		}
	}
	ref := w.afterPower(ctx, "powerOn", func() soap.HasFault { return w.VirtualMachine.PowerOnVMTask(ctx, req) }, true)
	return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: ref}}
}

func (w *vmMethods) PowerOffVMTask(ctx *simulator.Context, req *types.PowerOffVM_Task) soap.HasFault {
	ref := w.afterPower(ctx, "powerOff", func() soap.HasFault { return w.VirtualMachine.PowerOffVMTask(ctx, req) }, false)
	return &methods.PowerOffVM_TaskBody{Res: &types.PowerOffVM_TaskResponse{Returnval: ref}}
}

func (w *vmMethods) SuspendVMTask(ctx *simulator.Context, req *types.SuspendVM_Task) soap.HasFault {
	ref := w.afterPower(ctx, "suspend", func() soap.HasFault { return w.VirtualMachine.SuspendVMTask(ctx, req) }, false)
	return &methods.SuspendVM_TaskBody{Res: &types.SuspendVM_TaskResponse{Returnval: ref}}
}

// ShutdownGuest of a storage VM: the guest stops (its lab host's sshd with it), then the VM is off.
func (w *vmMethods) ShutdownGuest(ctx *simulator.Context, req *types.ShutdownGuest) soap.HasFault {
	owner := w.lab.storageVMs[w.Name]
	if owner == nil || w.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return w.VirtualMachine.ShutdownGuest(ctx, req)
	}
	simulator.CreateTask(w.VirtualMachine, "shutdownGuest", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		w.guestDown(ctx, owner)
		ctx.Update(w.VirtualMachine, powerChanges(types.VirtualMachinePowerStatePoweredOff))
		return nil, nil
	}).Run(ctx)
	return &methods.ShutdownGuestBody{Res: &types.ShutdownGuestResponse{}}
}

// RebootGuest of a storage VM: the guest goes down and comes back, the VM stays on.
func (w *vmMethods) RebootGuest(ctx *simulator.Context, req *types.RebootGuest) soap.HasFault {
	owner := w.lab.storageVMs[w.Name]
	if owner == nil || w.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
		return w.VirtualMachine.RebootGuest(ctx, req)
	}
	simulator.CreateTask(w.VirtualMachine, "rebootGuest", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		w.guestDown(ctx, owner)
		w.guestUp(ctx, owner)
		return nil, nil
	}).Run(ctx)
	return &methods.RebootGuestBody{Res: &types.RebootGuestResponse{}}
}

// ResetVM_Task of a storage VM: off and on again, hooks included (vcsim's own reset skips them).
func (w *vmMethods) ResetVMTask(ctx *simulator.Context, req *types.ResetVM_Task) soap.HasFault {
	owner := w.lab.storageVMs[w.Name]
	if owner == nil {
		return w.VirtualMachine.ResetVMTask(ctx, req)
	}
	var ref types.ManagedObjectReference
	if state := w.Runtime.PowerState; state != types.VirtualMachinePowerStatePoweredOn {
		ref = w.lab.failedTask(ctx, w.VirtualMachine, "reset", &types.InvalidPowerState{
			RequestedState: types.VirtualMachinePowerStatePoweredOn, ExistingState: state}, "the VM is "+string(state))
	} else {
		ref = simulator.CreateTask(w.VirtualMachine, "reset", func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
			w.guestDown(ctx, owner)
			ctx.Update(w.VirtualMachine, []types.PropertyChange{{Name: "summary.runtime.bootTime", Val: time.Now()}})
			w.guestUp(ctx, owner)
			return nil, nil
		}).Run(ctx)
	}
	return &methods.ResetVM_TaskBody{Res: &types.ResetVM_TaskResponse{Returnval: ref}}
}

func (w *vmMethods) guestUp(ctx *simulator.Context, owner *labHost) {
	vm := owner.model.StorageVM
	ctx.Update(w.VirtualMachine, guestOn(w.VirtualMachine, vm))
	w.lab.hook.run("vm-on", vm.Name, vm.LabHost)
	w.lab.serverBack(ctx, vm.StorageAddress)
}

func (w *vmMethods) guestDown(ctx *simulator.Context, owner *labHost) {
	vm := owner.model.StorageVM
	ctx.Update(w.VirtualMachine, guestOff())
	w.lab.serverGone(ctx, vm.StorageAddress)
	w.lab.hook.run("vm-off", vm.Name, vm.LabHost)
}

// afterPower runs vcsim's power task inside ours (as vcsim's own ResetVM_Task does) and, when it
// succeeded, applies the lab's side of it.
func (w *vmMethods) afterPower(ctx *simulator.Context, name string, call func() soap.HasFault, on bool) types.ManagedObjectReference {
	return simulator.CreateTask(w.VirtualMachine, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) {
		inner, fault := taskOf(ctx, call())
		if fault != nil {
			return nil, fault
		}
		inner.Wait()
		if err := inner.Info.Error; err != nil {
			return nil, err.Fault
		}
		owner := w.lab.storageVMs[w.Name]
		if owner == nil {
			return nil, nil
		}
		if on {
			w.guestUp(ctx, owner)
		} else {
			w.guestDown(ctx, owner)
		}
		return nil, nil
	}).Run(ctx)
}

// taskOf finds the task a task method's response names, or the fault it returned instead.
func taskOf(ctx *simulator.Context, res soap.HasFault) (*simulator.Task, types.BaseMethodFault) {
	if f := res.Fault(); f != nil {
		return nil, f.VimFault().(types.BaseMethodFault)
	}
	var ref types.ManagedObjectReference
	switch body := res.(type) {
	case *methods.PowerOnVM_TaskBody:
		ref = body.Res.Returnval
	case *methods.PowerOffVM_TaskBody:
		ref = body.Res.Returnval
	case *methods.SuspendVM_TaskBody:
		ref = body.Res.Returnval
	}
	return ctx.Map.Get(ref).(*simulator.Task), nil
}

// guestOn is what VMware Tools would report in a running storage VM: the management address, and
// both NICs with the addresses in the model (in the order of the VM's NICs).
func guestOn(vm *simulator.VirtualMachine, model *StorageVMModel) []types.PropertyChange {
	addresses := []string{model.Address, model.StorageAddress}
	var nics []types.GuestNicInfo
	for _, d := range vm.Config.Hardware.Device {
		card, ok := d.(types.BaseVirtualEthernetCard)
		if !ok || len(nics) == len(addresses) {
			continue
		}
		eth := card.GetVirtualEthernetCard()
		network := ""
		if b, ok := eth.Backing.(*types.VirtualEthernetCardNetworkBackingInfo); ok {
			network = b.DeviceName
		}
		nics = append(nics, guestNic(network, eth.MacAddress, eth.Key, addresses[len(nics)]))
	}
	for len(nics) < len(addresses) {
		nics = append(nics, guestNic("", "", int32(4000+len(nics)), addresses[len(nics)]))
	}
	running := string(types.VirtualMachineToolsRunningStatusGuestToolsRunning)
	return []types.PropertyChange{
		{Name: "guest.ipAddress", Val: model.Address},
		{Name: "guest.hostName", Val: model.LabHost},
		{Name: "guest.net", Val: nics},
		{Name: "guest.toolsRunningStatus", Val: running},
		{Name: "guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsOk},
		{Name: "guest.guestState", Val: "running"},
		{Name: "guestHeartbeatStatus", Val: types.ManagedEntityStatusGreen},
		{Name: "summary.guest.ipAddress", Val: model.Address},
		{Name: "summary.guest.hostName", Val: model.LabHost},
		{Name: "summary.guest.toolsRunningStatus", Val: running},
	}
}

func guestNic(network, mac string, key int32, address string) types.GuestNicInfo {
	return types.GuestNicInfo{
		Network: network, IpAddress: []string{address}, MacAddress: mac, Connected: true, DeviceConfigId: key,
		IpConfig: &types.NetIpConfigInfo{IpAddress: []types.NetIpConfigInfoIpAddress{{IpAddress: address, PrefixLength: 24, State: "preferred"}}},
	}
}

func guestOff() []types.PropertyChange {
	notRunning := string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)
	return []types.PropertyChange{
		{Name: "guest.ipAddress", Val: ""},
		{Name: "guest.hostName", Val: ""},
		{Name: "guest.net", Val: []types.GuestNicInfo{}},
		{Name: "guest.toolsRunningStatus", Val: notRunning},
		{Name: "guest.toolsStatus", Val: types.VirtualMachineToolsStatusToolsNotRunning},
		{Name: "guest.guestState", Val: "notRunning"},
		{Name: "guestHeartbeatStatus", Val: types.ManagedEntityStatusGray},
		{Name: "summary.guest.ipAddress", Val: ""},
		{Name: "summary.guest.hostName", Val: ""},
		{Name: "summary.guest.toolsRunningStatus", Val: notRunning},
	}
}

func powerChanges(state types.VirtualMachinePowerState) []types.PropertyChange {
	return []types.PropertyChange{
		{Name: "runtime.powerState", Val: state},
		{Name: "summary.runtime.powerState", Val: state},
	}
}

// powerOffAll powers off every running VM of a host going down (no guest shutdown: the host is
// rebooting); returns the storage VMs it stopped, by their lab host.
func (l *lab) powerOffAll(ctx *simulator.Context, host *simulator.HostSystem) []*labHost {
	var stopped []*labHost
	for _, ref := range host.Vm {
		vm, ok := l.reg.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		ctx.WithLock(vm, func() {
			if vm.Runtime.PowerState != types.VirtualMachinePowerStatePoweredOn {
				return
			}
			changes := powerChanges(types.VirtualMachinePowerStatePoweredOff)
			if owner := l.storageVMs[vm.Name]; owner != nil {
				changes = append(changes, guestOff()...)
				stopped = append(stopped, owner)
			} else {
				changes = append(changes, types.PropertyChange{Name: "guest.toolsRunningStatus",
					Val: string(types.VirtualMachineToolsRunningStatusGuestToolsNotRunning)})
			}
			ctx.Update(vm, changes)
		})
	}
	return stopped
}

func (l *lab) poweredOnVMs(ctx *simulator.Context, host *simulator.HostSystem) []string {
	var on []string
	for _, ref := range host.Vm {
		vm, ok := l.reg.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		ctx.WithLock(vm, func() {
			if vm.Runtime.PowerState == types.VirtualMachinePowerStatePoweredOn {
				on = append(on, vm.Name)
			}
		})
	}
	return on
}
