package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// route is the registry's Handler: the simulator asks it, for every call, which object answers.
// The registry keeps vcsim's objects; a call the lab changes goes to a wrapper made for it.
func (l *lab) route(ctx *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
	h := l.hostOf(m.This)
	hostName := ""
	if h != nil {
		hostName = h.model.Name
	}
	if rule := l.faults.take(m.Name, hostName); rule != nil {
		fault, msg := rule.fault()
		return l.answer(ctx, m, &failer{Self: m.This, lab: l, rule: *rule, fault: fault, msg: msg}), nil
	}
	if h != nil && !l.connected(ctx, h) && !allowedWhileDown[m.Name] {
		// The simulator sends a Handler's fault with an empty faultstring: the message goes in faultMessage.
		fault := &types.HostNotConnected{}
		fault.FaultMessage = []types.LocalizableMessage{{Key: "esxi-zfs.lab.hostNotConnected",
			Message: fmt.Sprintf("host %s is not responding (%s on %s)", h.model.Name, m.Name, m.This.Value)}}
		return nil, fault
	}
	switch obj := l.reg.Get(m.This).(type) {
	case *simulator.HostSystem:
		if hostMethodNames[m.Name] {
			return l.answer(ctx, m, &hostMethods{HostSystem: obj, lab: l, h: h}), nil
		}
	case *simulator.HostNetworkSystem:
		if networkMethodNames[m.Name] {
			return l.answer(ctx, m, &netMethods{HostNetworkSystem: obj, lab: l, h: h}), nil
		}
	case *simulator.HostDatastoreSystem:
		if m.Name == "CreateNasDatastore" || m.Name == "RemoveDatastore" {
			return l.answer(ctx, m, &dssMethods{HostDatastoreSystem: obj, lab: l, h: h}), nil
		}
	case *simulator.EnvironmentBrowser:
		if m.Name == "QueryConfigTarget" {
			return l.answer(ctx, m, &envBrowserMethods{EnvironmentBrowser: obj, lab: l}), nil
		}
	case *simulator.VirtualMachine:
		if vmMethodNames[m.Name] {
			return l.answer(ctx, m, &vmMethods{VirtualMachine: obj, lab: l}), nil
		}
	}
	return nil, nil
}

// routed is a wrapper answering one call. Its Self (promoted from the object it wraps, or its
// own) stays the object's reference, so the simulator locks the object itself for the call.
type routed interface {
	mo.Reference
	setAlias(types.ManagedObjectReference)
}

type alias struct{ ref types.ManagedObjectReference }

func (a *alias) Reference() types.ManagedObjectReference   { return a.ref }
func (a *alias) setAlias(ref types.ManagedObjectReference) { a.ref = ref }

var aliases atomic.Int64

// answer hands the call to w. For a logged-in session the simulator looks the object up again in
// the session after asking the Handler (v0.53.0: the Handler's answer only counts for calls
// without a session), so w is put in the session's own registry under a reference of its own,
// used by this call alone, and the call is pointed at it. Nothing else ever sees that reference;
// it is dropped a minute later (a call's dispatch takes milliseconds: tasks run on their own).
func (l *lab) answer(ctx *simulator.Context, m *simulator.Method, w routed) mo.Reference {
	if ctx.Session != nil {
		ref := types.ManagedObjectReference{Type: "EsxiZfsLab" + m.This.Type, Value: fmt.Sprintf("%s-call-%d", m.This.Value, aliases.Add(1))}
		w.setAlias(ref)
		ctx.Session.Registry.Put(w)
		m.This = ref
		l.forgetAliases(ctx, routedAlias{ref: ref, registry: ctx.Session.Registry, at: time.Now()})
	}
	return w
}

type routedAlias struct {
	ref      types.ManagedObjectReference
	registry *simulator.Registry
	at       time.Time
}

// forgetAliases records a new alias and removes those older than a minute.
func (l *lab) forgetAliases(ctx *simulator.Context, added routedAlias) {
	l.aliasMu.Lock()
	defer l.aliasMu.Unlock()
	kept := l.aliases[:0]
	for _, a := range l.aliases {
		if time.Since(a.at) > time.Minute {
			a.registry.Remove(ctx, a.ref)
		} else {
			kept = append(kept, a)
		}
	}
	l.aliases = append(kept, added)
}

var (
	hostMethodNames    = map[string]bool{"RebootHost_Task": true, "EnterMaintenanceMode_Task": true, "ExitMaintenanceMode_Task": true}
	vmMethodNames      = map[string]bool{"PowerOnVM_Task": true, "PowerOffVM_Task": true, "SuspendVM_Task": true, "ResetVM_Task": true, "ShutdownGuest": true, "RebootGuest": true}
	networkMethodNames = map[string]bool{"AddVirtualSwitch": true, "AddPortGroup": true, "AddVirtualNic": true}
	// A host that does not respond refuses every call to it, its managers and its VMs, but these.
	allowedWhileDown = map[string]bool{"DisconnectHost_Task": true, "ReconnectHost_Task": true, "Destroy_Task": true}
)
