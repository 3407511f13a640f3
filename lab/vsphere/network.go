package main

import (
	"fmt"
	"net"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// netMethods answers the HostNetworkSystem methods the runbook uses, keeping the host's
// config.network and the network system's networkInfo one value (vcsim keeps two that disagree),
// with the keys ESXi uses, and one Network object per port group name shared by every host that
// has that port group, as vCenter does (vcsim refuses a second host's port group of the same name).
type netMethods struct {
	*simulator.HostNetworkSystem
	alias
	lab *lab
	h   *labHost
}

const (
	vswitchKeyPrefix   = "key-vim.host.VirtualSwitch-"
	portgroupKeyPrefix = "key-vim.host.PortGroup-"
	pnicKeyPrefix      = "key-vim.host.PhysicalNic-"
)

// next copies the network info for a change: the slices a change appends to are new arrays.
func (w *netMethods) next() *types.HostNetworkInfo {
	info := *w.NetworkInfo
	info.Vswitch = append([]types.HostVirtualSwitch(nil), w.NetworkInfo.Vswitch...)
	info.Portgroup = append([]types.HostPortGroup(nil), w.NetworkInfo.Portgroup...)
	info.Vnic = append([]types.HostVirtualNic(nil), w.NetworkInfo.Vnic...)
	return &info
}

func (w *netMethods) publish(ctx *simulator.Context, info *types.HostNetworkInfo) {
	ctx.Update(w.HostNetworkSystem, []types.PropertyChange{{Name: "networkInfo", Val: info}})
	w.lab.update(ctx, w.lab.hostObject(w.h), types.PropertyChange{Name: "config.network", Val: info})
}

func faultf(fault types.BaseMethodFault, format string, args ...any) *soap.Fault {
	return simulator.Fault(fmt.Sprintf(format, args...), fault)
}

func (w *netMethods) AddVirtualSwitch(ctx *simulator.Context, req *types.AddVirtualSwitch) soap.HasFault {
	body := &methods.AddVirtualSwitchBody{}
	info := w.next()
	name := req.VswitchName
	if name == "" || len(name) > 31 {
		body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "vswitchName"}, "a vSwitch name has 1 to 31 characters, not %q", name)
		return body
	}
	if vswitchIndex(info, name) >= 0 {
		body.Fault_ = faultf(&types.AlreadyExists{Name: name}, "vSwitch %s already exists on host %s", name, w.h.model.Name)
		return body
	}
	spec := types.HostVirtualSwitchSpec{NumPorts: 128}
	if req.Spec != nil {
		spec = *req.Spec
	}
	var pnics []string
	if bridge, ok := spec.Bridge.(*types.HostVirtualSwitchBondBridge); ok {
		for _, device := range bridge.NicDevice {
			if !hasPnic(info, device) {
				body.Fault_ = faultf(&types.NotFound{}, "no physical NIC %s on host %s", device, w.h.model.Name)
				return body
			}
			if other := pnicUser(info, device); other != "" {
				body.Fault_ = faultf(&types.ResourceInUse{Name: device}, "physical NIC %s is an uplink of %s", device, other)
				return body
			}
			pnics = append(pnics, pnicKeyPrefix+device)
		}
	}
	mtu := spec.Mtu
	if mtu == 0 {
		mtu = 1500
	}
	info.Vswitch = append(info.Vswitch, types.HostVirtualSwitch{
		Name: name, Key: vswitchKeyPrefix + name, NumPorts: spec.NumPorts, NumPortsAvailable: spec.NumPorts,
		Mtu: mtu, Pnic: pnics, Spec: spec,
	})
	w.publish(ctx, info)
	body.Res = &types.AddVirtualSwitchResponse{}
	return body
}

func (w *netMethods) AddPortGroup(ctx *simulator.Context, req *types.AddPortGroup) soap.HasFault {
	body := &methods.AddPortGroupBody{}
	spec := req.Portgrp
	info := w.next()
	if spec.Name == "" || len(spec.Name) > 59 {
		body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "portgrp.name"}, "a port group name has 1 to 59 characters, not %q", spec.Name)
		return body
	}
	i := vswitchIndex(info, spec.VswitchName)
	if i < 0 {
		body.Fault_ = faultf(&types.NotFound{}, "no vSwitch %s on host %s", spec.VswitchName, w.h.model.Name)
		return body
	}
	if portgroupIndex(info, spec.Name) >= 0 {
		body.Fault_ = faultf(&types.AlreadyExists{Name: spec.Name}, "port group %s already exists on host %s", spec.Name, w.h.model.Name)
		return body
	}
	if fault := w.joinNetwork(ctx, req); fault != nil {
		body.Fault_ = fault
		return body
	}
	vs := &info.Vswitch[i]
	vs.Portgroup = append(append([]string(nil), vs.Portgroup...), portgroupKeyPrefix+spec.Name)
	info.Portgroup = append(info.Portgroup, types.HostPortGroup{
		Key: portgroupKeyPrefix + spec.Name, Vswitch: vs.Key, ComputedPolicy: spec.Policy, Spec: spec,
	})
	w.publish(ctx, info)
	body.Res = &types.AddPortGroupResponse{}
	return body
}

// joinNetwork makes the datacenter's Network of that name (made by vcsim when it is the first)
// list this host, and the host list it.
func (w *netMethods) joinNetwork(ctx *simulator.Context, req *types.AddPortGroup) *soap.Fault {
	folder := w.lab.reg.Get(w.lab.networkFolder).(*simulator.Folder)
	var existing mo.Entity
	ctx.WithLock(folder, func() { existing = w.lab.reg.FindByName(req.Portgrp.Name, folder.ChildEntity) })
	if existing == nil {
		// vcsim's own AddPortGroup makes the Network; it edits the info it is given, so it gets a scratch copy.
		published := w.NetworkInfo
		w.NetworkInfo = w.next()
		res := w.HostNetworkSystem.AddPortGroup(ctx, req)
		w.NetworkInfo = published
		if f := res.Fault(); f != nil {
			return f
		}
		ctx.WithLock(folder, func() { existing = w.lab.reg.FindByName(req.Portgrp.Name, folder.ChildEntity) })
	}
	network, ok := existing.(*mo.Network)
	if !ok {
		return faultf(&types.DuplicateName{Name: req.Portgrp.Name, Object: existing.Reference()},
			"%s is the name of %s, not of a standard port group's network", req.Portgrp.Name, existing.Reference())
	}
	host := w.lab.hostObject(w.h)
	ctx.WithLock(network, func() {
		ctx.Update(network, []types.PropertyChange{{Name: "host", Val: withRef(network.Host, host.Self)}})
	})
	ctx.WithLock(host, func() {
		ctx.Update(host, []types.PropertyChange{{Name: "network", Val: withRef(host.Network, network.Self)}})
	})
	if host.Parent != nil {
		if cr, ok := w.lab.reg.Get(*host.Parent).(*mo.ComputeResource); ok {
			ctx.WithLock(cr, func() {
				ctx.Update(cr, []types.PropertyChange{{Name: "network", Val: withRef(cr.Network, network.Self)}})
			})
		}
	}
	return nil
}

func withRef(refs []types.ManagedObjectReference, ref types.ManagedObjectReference) []types.ManagedObjectReference {
	for _, r := range refs {
		if r == ref {
			return refs
		}
	}
	return append(append([]types.ManagedObjectReference(nil), refs...), ref)
}

// AddVirtualNic adds a VMkernel NIC on a port group of this host, with the spec's static address.
func (w *netMethods) AddVirtualNic(ctx *simulator.Context, req *types.AddVirtualNic) soap.HasFault {
	body := &methods.AddVirtualNicBody{}
	info := w.next()
	if portgroupIndex(info, req.Portgroup) < 0 {
		body.Fault_ = faultf(&types.NotFound{}, "no port group %s on host %s", req.Portgroup, w.h.model.Name)
		return body
	}
	for _, v := range info.Vnic {
		if v.Portgroup == req.Portgroup {
			body.Fault_ = faultf(&types.AlreadyExists{Name: req.Portgroup}, "port group %s already has VMkernel NIC %s", req.Portgroup, v.Device)
			return body
		}
	}
	spec := req.Nic
	if spec.Ip == nil {
		body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "nic.ip"}, "a VMkernel NIC needs an IP configuration")
		return body
	}
	if !spec.Ip.Dhcp {
		ip := net.ParseIP(spec.Ip.IpAddress).To4()
		mask := net.ParseIP(spec.Ip.SubnetMask).To4()
		if ip == nil || mask == nil || !validMask(mask) {
			body.Fault_ = faultf(&types.InvalidArgument{InvalidProperty: "nic.ip"}, "invalid static address %q/%q", spec.Ip.IpAddress, spec.Ip.SubnetMask)
			return body
		}
		for _, v := range info.Vnic {
			if v.Spec.Ip != nil && v.Spec.Ip.IpAddress == spec.Ip.IpAddress {
				body.Fault_ = faultf(&types.AlreadyExists{Name: spec.Ip.IpAddress}, "address %s is already on %s", spec.Ip.IpAddress, v.Device)
				return body
			}
		}
	}
	device, n := nextVmk(info)
	spec.Portgroup = req.Portgroup
	if spec.Mtu == 0 {
		spec.Mtu = 1500
	}
	if spec.NetStackInstanceKey == "" {
		spec.NetStackInstanceKey = "defaultTcpipStack"
	}
	if spec.Mac == "" {
		spec.Mac = fmt.Sprintf("00:50:56:%02x:%02x:%02x", 0x60+w.index()%32, w.index()/32, n)
	}
	info.Vnic = append(info.Vnic, types.HostVirtualNic{
		Device: device, Key: "key-vim.host.VirtualNic-" + device, Portgroup: req.Portgroup, Spec: spec,
		Port: fmt.Sprintf("key-vim.host.PortGroup.Port-%d", 33554440+len(info.Vnic)),
	})
	w.publish(ctx, info)
	body.Res = &types.AddVirtualNicResponse{Returnval: device}
	return body
}

func (w *netMethods) index() int {
	for i, h := range w.lab.order {
		if h == w.h {
			return i
		}
	}
	return 0
}

func validMask(mask net.IP) bool {
	ones, bits := net.IPMask(mask).Size()
	return bits == 32 && ones > 0
}

func nextVmk(info *types.HostNetworkInfo) (string, int) {
	used := map[string]bool{}
	for _, v := range info.Vnic {
		used[v.Device] = true
	}
	for n := 0; ; n++ {
		if name := fmt.Sprintf("vmk%d", n); !used[name] {
			return name, n
		}
	}
}

func vswitchIndex(info *types.HostNetworkInfo, name string) int {
	for i := range info.Vswitch {
		if info.Vswitch[i].Name == name {
			return i
		}
	}
	return -1
}

func portgroupIndex(info *types.HostNetworkInfo, name string) int {
	for i := range info.Portgroup {
		if info.Portgroup[i].Spec.Name == name {
			return i
		}
	}
	return -1
}

func hasPnic(info *types.HostNetworkInfo, device string) bool {
	for _, p := range info.Pnic {
		if p.Device == device {
			return true
		}
	}
	return false
}

func pnicUser(info *types.HostNetworkInfo, device string) string {
	for _, vs := range info.Vswitch {
		for _, key := range vs.Pnic {
			if strings.TrimPrefix(key, pnicKeyPrefix) == device {
				return vs.Name
			}
		}
	}
	return ""
}
