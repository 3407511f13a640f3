package main

import (
	"context"
	"strings"
	"testing"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

func (s *testSim) networkSystem(host string) *object.HostNetworkSystem {
	ns, err := s.host(host).ConfigManager().NetworkSystem(context.Background())
	must(s.t, err)
	return ns
}

func (s *testSim) datastoreSystem(host string) *object.HostDatastoreSystem {
	dss, err := s.host(host).ConfigManager().DatastoreSystem(context.Background())
	must(s.t, err)
	return dss
}

func faultOf(t *testing.T, err error) (any, string) {
	t.Helper()
	if err == nil || !soap.IsSoapFault(err) {
		t.Fatalf("expected a SOAP fault, got %v", err)
	}
	f := soap.ToSoapFault(err)
	return f.VimFault(), f.String
}

func TestAFreshHostHasItsNetworksAndLocalDatastore(t *testing.T) {
	s := startSim(t, testModel(0.2))
	h := s.hostMo("vh1", "config", "datastore", "network")
	vs := map[string]types.HostVirtualSwitch{}
	for _, v := range h.Config.Network.Vswitch {
		vs[v.Name] = v
	}
	if v := vs["vSwitch0"]; !contains(v.Portgroup, "key-vim.host.PortGroup-VM Network") {
		t.Fatalf("vSwitch0: %+v", v)
	}
	if v := vs["vSwitch1"]; len(v.Portgroup) != 0 || !equal(v.Pnic, []string{"key-vim.host.PhysicalNic-vmnic1"}) {
		t.Fatalf("vSwitch1: %+v", v)
	}
	if ip := h.Config.Network.Vnic[0].Spec.Ip; ip.IpAddress != "10.213.9.1" || ip.Dhcp {
		t.Fatalf("vmk0: %+v", ip)
	}
	var ds mo.Datastore
	must(t, property.DefaultCollector(s.c).RetrieveOne(context.Background(), h.Datastore[0], []string{"name"}, &ds))
	if len(h.Datastore) != 1 || ds.Name != "datastore1-vh1" {
		t.Fatalf("datastores %v %q", h.Datastore, ds.Name)
	}
}

// registerDatastore's steps: port group eSAN on vSwitch1 on two hosts, a VMkernel NIC with a static
// address on each, then the same NFS export mounted on both.
func TestStoragePortGroupVmkernelNicAndNfsDatastore(t *testing.T) {
	s := startSim(t, testModel(0.2))
	ctx := context.Background()
	spec := types.HostPortGroupSpec{Name: "eSAN", VswitchName: "vSwitch1", Policy: types.HostNetworkPolicy{}}
	for i, host := range []string{"vh1", "vh2"} {
		ns := s.networkSystem(host)
		must(t, ns.AddPortGroup(ctx, spec))
		if fault, _ := faultOf(t, ns.AddPortGroup(ctx, spec)); faultName(fault) != "AlreadyExists" {
			t.Fatalf("the same port group twice: %T", fault)
		}
		nic := types.HostVirtualNicSpec{Ip: &types.HostIpConfig{IpAddress: []string{"10.214.9.11", "10.214.9.12"}[i], SubnetMask: "255.255.255.0"}}
		device, err := ns.AddVirtualNic(ctx, "eSAN", nic)
		must(t, err)
		if device != "vmk1" {
			t.Fatalf("%s: the new NIC is %s", host, device)
		}
		if fault, _ := faultOf(t, func() error { _, err := ns.AddVirtualNic(ctx, "eSAN", nic); return err }()); faultName(fault) != "AlreadyExists" {
			t.Fatalf("a second VMkernel NIC on eSAN: %T", fault)
		}
		if _, err := ns.AddVirtualNic(ctx, "no such", nic); err == nil {
			t.Fatal("a VMkernel NIC on a missing port group")
		}

		h := s.hostMo(host, "config", "network")
		var vmk1 *types.HostVirtualNic
		for i, v := range h.Config.Network.Vnic {
			if v.Device == "vmk1" {
				vmk1 = &h.Config.Network.Vnic[i]
			}
		}
		if vmk1 == nil || vmk1.Portgroup != "eSAN" || vmk1.Spec.Ip.IpAddress != nic.Ip.IpAddress || vmk1.Spec.Ip.SubnetMask != "255.255.255.0" {
			t.Fatalf("%s: config.network.vnic %+v", host, h.Config.Network.Vnic)
		}
		var nsMo mo.HostNetworkSystem
		must(t, property.DefaultCollector(s.c).RetrieveOne(ctx, ns.Reference(), []string{"networkInfo"}, &nsMo))
		if len(nsMo.NetworkInfo.Vnic) != len(h.Config.Network.Vnic) || len(nsMo.NetworkInfo.Portgroup) != len(h.Config.Network.Portgroup) {
			t.Fatalf("%s: networkInfo and config.network differ", host)
		}
		names := map[string]bool{}
		for _, ref := range h.Network {
			var n mo.Network
			must(t, property.DefaultCollector(s.c).RetrieveOne(ctx, ref, []string{"name", "host"}, &n))
			names[n.Name] = true
		}
		if !names["eSAN"] || !names["VM Network"] {
			t.Fatalf("%s: networks %v", host, names)
		}
	}

	nfs := types.HostNasVolumeSpec{RemoteHost: "10.214.9.41", RemotePath: "/export/uss1-nas-vol0", LocalPath: "uss1-nas-vol0",
		AccessMode: string(types.HostMountModeReadWrite), Type: "NFS"}
	var refs []types.ManagedObjectReference
	for _, host := range []string{"vh1", "vh2"} {
		ds, err := s.datastoreSystem(host).CreateNasDatastore(ctx, nfs)
		must(t, err)
		refs = append(refs, ds.Reference())
	}
	if refs[0] != refs[1] {
		t.Fatalf("one export on two hosts is one datastore: %v", refs)
	}
	var ds mo.Datastore
	must(t, property.DefaultCollector(s.c).RetrieveOne(ctx, refs[0], []string{"name", "info", "host", "summary"}, &ds))
	nas := ds.Info.(*types.NasDatastoreInfo)
	if ds.Name != "uss1-nas-vol0" || nas.Nas.RemoteHost != nfs.RemoteHost || nas.Nas.RemotePath != nfs.RemotePath || nas.Nas.Type != "NFS" || len(ds.Host) != 2 {
		t.Fatalf("datastore %q %+v mounts %d", ds.Name, nas.Nas, len(ds.Host))
	}
	if _, err := s.datastoreSystem("vh1").CreateNasDatastore(ctx, nfs); err == nil {
		t.Fatal("mounting the same datastore twice on a host")
	}
	other := nfs
	other.RemotePath = "/export/other"
	fault, msg := faultOf(t, func() error { _, err := s.datastoreSystem("vh1").CreateNasDatastore(ctx, other); return err }())
	if faultName(fault) != "DuplicateName" || !strings.Contains(msg, "/export/uss1-nas-vol0") || !strings.Contains(msg, "/export/other") {
		t.Fatalf("another export under the same name: %T %q", fault, msg)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
