package main

import (
	"context"
	"crypto/sha256"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

func sha256Of(b []byte) []byte {
	sum := sha256.Sum256(b)
	return sum[:]
}

func methodsReboot(c *vim25.Client, host types.ManagedObjectReference, force bool) (types.ManagedObjectReference, error) {
	res, err := methods.RebootHost_Task(context.Background(), c, &types.RebootHost_Task{This: host, Force: force})
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return res.Returnval, nil
}

func methodsUpdatePassthru(c *vim25.Client, ref types.ManagedObjectReference, enabled bool) (*types.UpdatePassthruConfigResponse, error) {
	return methods.UpdatePassthruConfig(context.Background(), c, &types.UpdatePassthruConfig{This: ref,
		Config: []types.BaseHostPciPassthruConfig{&types.HostPciPassthruConfig{Id: ddrdriveAddress, PassthruEnabled: enabled}}})
}

func environmentBrowserOf(ctx context.Context, cr *object.ComputeResource) (types.ManagedObjectReference, error) {
	var m mo.ComputeResource
	if err := cr.Properties(ctx, cr.Reference(), []string{"environmentBrowser"}, &m); err != nil {
		return types.ManagedObjectReference{}, err
	}
	return *m.EnvironmentBrowser, nil
}
