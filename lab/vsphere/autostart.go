package main

import (
	"log"
	"sort"
	"strings"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// autoStartManager is the HostAutoStartManager vcsim lacks (the host's reference names none):
// ReconfigureAutostart keeps the order, and a host coming back from a reboot powers its VMs on in
// that order when autostart is enabled, as ESXi does: the all-in-one design's storage VM first.
type autoStartManager struct {
	mo.HostAutoStartManager
	lab  *lab
	host *labHost
}

func (m *autoStartManager) ReconfigureAutostart(ctx *simulator.Context, req *types.ReconfigureAutostart) soap.HasFault {
	body := &methods.ReconfigureAutostartBody{}
	next := m.Config
	if d := req.Spec.Defaults; d != nil {
		merged := *next.Defaults
		if d.Enabled != nil {
			merged.Enabled = d.Enabled
		}
		if d.WaitForHeartbeat != nil {
			merged.WaitForHeartbeat = d.WaitForHeartbeat
		}
		if d.StartDelay != 0 {
			merged.StartDelay = d.StartDelay
		}
		if d.StopDelay != 0 {
			merged.StopDelay = d.StopDelay
		}
		if d.StopAction != "" {
			merged.StopAction = d.StopAction
		}
		next.Defaults = &merged
	}
	host := m.lab.hostObject(m.host)
	info := append([]types.AutoStartPowerInfo(nil), next.PowerInfo...)
	for _, p := range req.Spec.PowerInfo {
		if simulator.FindReference(host.Vm, p.Key) == nil {
			body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "powerInfo.key"}, "%s is not a VM of host %s", p.Key.Value, m.host.model.Name)
			return body
		}
		info = withoutKey(info, p.Key)
		// startOrder -1 with startAction none takes the VM out of the order.
		if p.StartOrder != -1 || !strings.EqualFold(p.StartAction, "none") {
			info = append(info, p)
		}
	}
	sort.SliceStable(info, func(i, j int) bool { return order(info[i]) < order(info[j]) })
	next.PowerInfo = info
	ctx.Update(m, []types.PropertyChange{{Name: "config", Val: next}})
	m.lab.update(ctx, host, types.PropertyChange{Name: "config.autoStart", Val: &next})
	body.Res = &types.ReconfigureAutostartResponse{}
	return body
}

func order(p types.AutoStartPowerInfo) int32 {
	if p.StartOrder < 1 {
		return 1 << 30
	}
	return p.StartOrder
}

func withoutKey(info []types.AutoStartPowerInfo, key types.ManagedObjectReference) []types.AutoStartPowerInfo {
	out := info[:0:0]
	for _, p := range info {
		if p.Key != key {
			out = append(out, p)
		}
	}
	return out
}

// autoStart powers on, after a boot, the VMs the autostart order names with startAction powerOn,
// one after the other, each after its start delay (the lab caps delays at 5 s).
func (l *lab) autoStart(h *labHost) {
	ctx := l.context()
	var config types.HostAutoStartManagerConfig
	ctx.WithLock(h.autoStart, func() { config = h.autoStart.Config })
	if config.Defaults == nil || config.Defaults.Enabled == nil || !*config.Defaults.Enabled {
		return
	}
	for _, p := range config.PowerInfo {
		if !strings.EqualFold(p.StartAction, "powerOn") {
			continue
		}
		vm, ok := l.reg.Get(p.Key).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		w := &vmMethods{VirtualMachine: vm, lab: l}
		var res soap.HasFault
		ctx.WithLock(vm, func() { res = w.PowerOnVMTask(ctx, &types.PowerOnVM_Task{This: vm.Self}) })
		task := ctx.Map.Get(res.(*methods.PowerOnVM_TaskBody).Res.Returnval).(*simulator.Task)
		// A power-on refused up front (the passthrough device not active) is a task born failed, never run: nothing to wait for.
		if task.Info.State != types.TaskInfoStateError {
			task.Wait()
		}
		if task.Info.Error != nil {
			log.Printf("autostart %s on %s: %T", vm.Name, h.model.Name, task.Info.Error.Fault)
		}
		delay := p.StartDelay
		if delay < 0 {
			delay = config.Defaults.StartDelay
		}
		time.Sleep(min(time.Duration(delay)*time.Second, 5*time.Second))
	}
}
