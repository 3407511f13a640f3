package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// testSim is a running simulator and a govmomi client logged in to it over HTTPS, the server's
// certificate pinned by its thumbprint.
type testSim struct {
	t      *testing.T
	r      *running
	c      *vim25.Client
	events string
}

func testModel(rebootSeconds float64) *Model {
	return &Model{Hosts: []HostModel{
		{Name: "vh1", Address: "10.213.9.1", RebootSeconds: &rebootSeconds, StorageVM: &StorageVMModel{
			Name: "uss1", LabHost: "test-san-01", Address: "10.213.0.11", StorageAddress: "10.214.0.41"}},
		{Name: "vh2", Address: "10.213.9.2", RebootSeconds: &rebootSeconds},
	}}
}

func startSim(t *testing.T, model *Model) *testSim {
	t.Helper()
	dir := t.TempDir()
	events := filepath.Join(dir, "events")
	script := filepath.Join(dir, "hook.sh")
	must(t, os.WriteFile(script, []byte("#!/bin/sh\necho \"$*\" >> '"+events+"'\n"), 0o700))
	r, err := start(config{model: model, listen: "127.0.0.1:0", username: "root", password: "s3cret", hook: script})
	must(t, err)
	t.Cleanup(r.stop)

	u, err := url.Parse(r.state.URL)
	must(t, err)
	sc := soap.NewClient(u, false)
	ca := filepath.Join(dir, "ca.pem")
	must(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.server.Certificate().Raw}), 0o600))
	must(t, sc.SetRootCAs(ca))
	ctx := context.Background()
	c, err := vim25.NewClient(ctx, sc)
	must(t, err)
	must(t, session.NewManager(c).Login(ctx, url.UserPassword("root", "s3cret")))
	return &testSim{t: t, r: r, c: c, events: events}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (s *testSim) host(name string) *object.HostSystem {
	h, err := find.NewFinder(s.c).HostSystem(context.Background(), name)
	must(s.t, err)
	return h
}

func (s *testSim) hostMo(name string, props ...string) mo.HostSystem {
	var h mo.HostSystem
	must(s.t, property.DefaultCollector(s.c).RetrieveOne(context.Background(), s.host(name).Reference(), props, &h))
	return h
}

// hookEvents is what the hook script has written so far, one event per line.
func (s *testSim) hookEvents() []string {
	data, err := os.ReadFile(s.events)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	must(s.t, err)
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func (s *testSim) wait(t *object.Task, err error) (*types.TaskInfo, error) {
	must(s.t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return t.WaitForResult(ctx, nil)
}

// taskFault is the fault a failed task carries, with its message.
func taskFault(t *testing.T, err error) (types.BaseMethodFault, string) {
	t.Helper()
	var te task.Error
	if !errors.As(err, &te) {
		t.Fatalf("expected a task error, got %v", err)
	}
	return te.Fault(), te.LocalizedMessage
}

func (s *testSim) reboot(name string, force bool) (*types.TaskInfo, error) {
	res, err := methodsReboot(s.c, s.host(name).Reference(), force)
	return s.wait(object.NewTask(s.c, res), err)
}

func (s *testSim) waitConnection(name string, want types.HostSystemConnectionState, within time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s.hostMo(name, "runtime").Runtime.ConnectionState == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("%s: not %s within %s", name, want, within)
}

// control calls a control endpoint with the simulator's credentials over the pinned TLS.
func (s *testSim) control(method, path string, body any, out any) int {
	s.t.Helper()
	var reader io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		must(s.t, err)
		reader = strings.NewReader(string(data))
	}
	req, err := http.NewRequest(method, s.r.state.Control+path, reader)
	must(s.t, err)
	req.SetBasicAuth("root", "s3cret")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // verified below by thumbprint
		VerifyConnection: func(cs tls.ConnectionState) error {
			if got := colonHex(sha256Of(cs.PeerCertificates[0].Raw)); got != s.r.state.ThumbprintSHA256 {
				return fmt.Errorf("thumbprint %s", got)
			}
			return nil
		},
	}}}
	res, err := client.Do(req)
	must(s.t, err)
	defer res.Body.Close()
	if out != nil {
		must(s.t, json.NewDecoder(res.Body).Decode(out))
	}
	return res.StatusCode
}
