package main

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// faultRule makes the next call of Method (on an object of Host, when set) fail once: a task
// method returns a task that fails with the fault, any other method the SOAP fault itself.
type faultRule struct {
	Method  string `json:"method"`
	Host    string `json:"host,omitempty"`
	Fault   string `json:"fault"`
	Message string `json:"message,omitempty"`
}

type faultRules struct {
	mu    sync.Mutex
	rules []faultRule
}

// faultKinds are the faults a rule may name.
var faultKinds = map[string]func() types.BaseMethodFault{
	"SystemError":      func() types.BaseMethodFault { return &types.SystemError{} },
	"HostConfigFault":  func() types.BaseMethodFault { return &types.HostConfigFault{} },
	"InvalidState":     func() types.BaseMethodFault { return &types.InvalidState{} },
	"HostNotConnected": func() types.BaseMethodFault { return &types.HostNotConnected{} },
	"NotFound":         func() types.BaseMethodFault { return &types.NotFound{} },
	"TaskInProgress":   func() types.BaseMethodFault { return &types.TaskInProgress{} },
	"Timedout":         func() types.BaseMethodFault { return &types.Timedout{} },
	"NoPermission":     func() types.BaseMethodFault { return &types.NoPermission{} },
}

func (r faultRule) validate() error {
	if _, ok := faultKinds[r.Fault]; !ok {
		return fmt.Errorf("fault %q: one of %s", r.Fault, strings.Join(sortedKeys(faultKinds), ", "))
	}
	if !reflect.ValueOf(&failer{}).MethodByName(goMethodName(r.Method)).IsValid() {
		return fmt.Errorf("method %q: one of %s", r.Method, strings.Join(failableMethods(), ", "))
	}
	return nil
}

func (f *faultRules) add(r faultRule) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, r)
}

func (f *faultRules) pending() []faultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]faultRule{}, f.rules...)
}

// take removes and returns the first rule for this call, if any.
func (f *faultRules) take(method, host string) *faultRule {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, r := range f.rules {
		if r.Method == method && (r.Host == "" || r.Host == host) {
			f.rules = append(f.rules[:i], f.rules[i+1:]...)
			return &r
		}
	}
	return nil
}

// fault builds the rule's fault, its message in faultMessage (and reason, for SystemError).
func (r faultRule) fault() (types.BaseMethodFault, string) {
	msg := r.Message
	if msg == "" {
		msg = fmt.Sprintf("%s injected by the lab into %s", r.Fault, r.Method)
	}
	fault := faultKinds[r.Fault]()
	if se, ok := fault.(*types.SystemError); ok {
		se.Reason = msg
	}
	fault.GetMethodFault().FaultMessage = []types.LocalizableMessage{{Key: "esxi-zfs.lab.injected", Message: msg}}
	return fault, msg
}

var taskCounter atomic.Int64

// failedTask registers a task that has already failed with fault, its localizedMessage msg
// (vcsim's own tasks only give the fault's Go type there).
func (l *lab) failedTask(ctx *simulator.Context, entity mo.Reference, name string, fault types.BaseMethodFault, msg string) types.ManagedObjectReference {
	t := simulator.CreateTask(entity, name, nil)
	t.Self = types.ManagedObjectReference{Type: "Task", Value: fmt.Sprintf("task-lab-%d", taskCounter.Add(1))}
	t.Info.Key = t.Self.Value
	t.Info.Task = t.Self
	t.Info.State = types.TaskInfoStateError
	t.Info.StartTime = now()
	t.Info.CompleteTime = now()
	t.Info.Error = &types.LocalizedMethodFault{Fault: fault, LocalizedMessage: msg}
	ctx.Map.Put(t)
	return t.Self
}

// failer answers one call with a rule's fault, in place of the object's own method.
type failer struct {
	alias
	Self  types.ManagedObjectReference
	lab   *lab
	rule  faultRule
	fault types.BaseMethodFault
	msg   string
}

func (f *failer) task(ctx *simulator.Context, name string) types.ManagedObjectReference {
	return f.lab.failedTask(ctx, f.Self, name, f.fault, f.msg)
}

func (f *failer) soapFault() *soap.Fault { return simulator.Fault(f.msg, f.fault) }

func (f *failer) RebootHostTask(ctx *simulator.Context, _ *types.RebootHost_Task) soap.HasFault {
	return &methods.RebootHost_TaskBody{Res: &types.RebootHost_TaskResponse{Returnval: f.task(ctx, "rebootHost")}}
}

func (f *failer) EnterMaintenanceModeTask(ctx *simulator.Context, _ *types.EnterMaintenanceMode_Task) soap.HasFault {
	return &methods.EnterMaintenanceMode_TaskBody{Res: &types.EnterMaintenanceMode_TaskResponse{Returnval: f.task(ctx, "enterMaintenanceMode")}}
}

func (f *failer) ExitMaintenanceModeTask(ctx *simulator.Context, _ *types.ExitMaintenanceMode_Task) soap.HasFault {
	return &methods.ExitMaintenanceMode_TaskBody{Res: &types.ExitMaintenanceMode_TaskResponse{Returnval: f.task(ctx, "exitMaintenanceMode")}}
}

func (f *failer) PowerOnVMTask(ctx *simulator.Context, _ *types.PowerOnVM_Task) soap.HasFault {
	return &methods.PowerOnVM_TaskBody{Res: &types.PowerOnVM_TaskResponse{Returnval: f.task(ctx, "powerOn")}}
}

func (f *failer) PowerOffVMTask(ctx *simulator.Context, _ *types.PowerOffVM_Task) soap.HasFault {
	return &methods.PowerOffVM_TaskBody{Res: &types.PowerOffVM_TaskResponse{Returnval: f.task(ctx, "powerOff")}}
}

func (f *failer) CreateVMTask(ctx *simulator.Context, _ *types.CreateVM_Task) soap.HasFault {
	return &methods.CreateVM_TaskBody{Res: &types.CreateVM_TaskResponse{Returnval: f.task(ctx, "createVm")}}
}

func (f *failer) ReconfigVMTask(ctx *simulator.Context, _ *types.ReconfigVM_Task) soap.HasFault {
	return &methods.ReconfigVM_TaskBody{Res: &types.ReconfigVM_TaskResponse{Returnval: f.task(ctx, "reconfigVm")}}
}

func (f *failer) UpdatePassthruConfig(*types.UpdatePassthruConfig) soap.HasFault {
	return &methods.UpdatePassthruConfigBody{Fault_: f.soapFault()}
}

func (f *failer) AddVirtualSwitch(*types.AddVirtualSwitch) soap.HasFault {
	return &methods.AddVirtualSwitchBody{Fault_: f.soapFault()}
}

func (f *failer) AddPortGroup(*types.AddPortGroup) soap.HasFault {
	return &methods.AddPortGroupBody{Fault_: f.soapFault()}
}

func (f *failer) AddVirtualNic(*types.AddVirtualNic) soap.HasFault {
	return &methods.AddVirtualNicBody{Fault_: f.soapFault()}
}

func (f *failer) CreateNasDatastore(*types.CreateNasDatastore) soap.HasFault {
	return &methods.CreateNasDatastoreBody{Fault_: f.soapFault()}
}

func (f *failer) ReconfigureAutostart(*types.ReconfigureAutostart) soap.HasFault {
	return &methods.ReconfigureAutostartBody{Fault_: f.soapFault()}
}

// goMethodName is the simulator's dispatch name: "RebootHost_Task" -> "RebootHostTask".
func goMethodName(method string) string {
	if strings.HasSuffix(method, "_Task") {
		return strings.TrimSuffix(method, "_Task") + "Task"
	}
	return method
}

func failableMethods() []string {
	t := reflect.TypeOf(&failer{})
	var names []string
	for i := 0; i < t.NumMethod(); i++ {
		name := t.Method(i).Name
		if name == "Reference" || name == "SetAlias" {
			continue
		}
		if strings.HasSuffix(name, "Task") {
			name = strings.TrimSuffix(name, "Task") + "_Task"
		}
		names = append(names, name)
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
