package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTheModelFileIsChecked(t *testing.T) {
	cases := map[string]string{
		`{"hosts": []}`: "at least one host",
		`{"hosts": [{"name": "vh1", "address": "10.0.0.1"}, {"name": "vh1", "address": "10.0.0.2"}]}`:        "used twice",
		`{"hosts": [{"name": "vh 1", "address": "10.0.0.1"}]}`:                                               "name",
		`{"hosts": [{"name": "vh1", "address": "10.0.0"}]}`:                                                  "IPv4",
		`{"hosts": [{"name": "vh1", "address": "10.0.0.1", "rebootSeconds": -1}]}`:                           "rebootSeconds",
		`{"hosts": [{"name": "vh1", "address": "10.0.0.1", "storageVm": {"name": "uss1", "labHost": "a"}}]}`: "storageVm",
		`{"hosts": [{"name": "vh1", "address": "10.0.0.1", "extra": 1}]}`:                                    "unknown field",
	}
	dir := t.TempDir()
	for text, want := range cases {
		file := filepath.Join(dir, "model.json")
		must(t, os.WriteFile(file, []byte(text), 0o600))
		if _, err := loadModel(file); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", text, err, want)
		}
	}
	good := `{"hosts": [{"name": "vh1", "address": "10.213.9.1", "storageVm": {"name": "uss1", "labHost": "test-san-01", "address": "10.213.0.11", "storageAddress": "10.214.0.41"}}, {"name": "vh2", "address": "10.213.9.2", "rebootSeconds": 0.5}]}`
	file := filepath.Join(dir, "good.json")
	must(t, os.WriteFile(file, []byte(good), 0o600))
	m, err := loadModel(file)
	must(t, err)
	if m.Hosts[0].rebootSeconds() != defaultRebootSeconds || m.Hosts[1].rebootSeconds() != 0.5 || m.Hosts[0].StorageVM.LabHost != "test-san-01" {
		t.Fatalf("%+v", m)
	}
}

func TestTheListenAddressIsLoopbackOnly(t *testing.T) {
	if _, err := start(config{model: testModel(1), listen: "0.0.0.0:0", username: "u", password: "p"}); err == nil {
		t.Fatal("listening on every interface")
	}
}
