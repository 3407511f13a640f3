package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"regexp"
)

// Model is the --model file: the ESXi hosts the simulated vCenter manages.
type Model struct {
	Hosts []HostModel `json:"hosts"`
}

type HostModel struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	// StorageVM is the VM the product creates later on this host; absent: a host without one.
	StorageVM     *StorageVMModel `json:"storageVm,omitempty"`
	RebootSeconds *float64        `json:"rebootSeconds,omitempty"`
}

type StorageVMModel struct {
	Name string `json:"name"`
	// LabHost is the lab storage host standing in for this VM's guest (its sshd follows the VM's power).
	LabHost        string `json:"labHost"`
	Address        string `json:"address"`
	StorageAddress string `json:"storageAddress"`
}

const defaultRebootSeconds = 3.0

var labelRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$`)

func loadModel(file string) (*Model, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var m Model
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &m, nil
}

func (m *Model) validate() error {
	if len(m.Hosts) == 0 {
		return fmt.Errorf("hosts: at least one host")
	}
	names := map[string]bool{}
	for i, h := range m.Hosts {
		at := fmt.Sprintf("hosts[%d]", i)
		if !labelRe.MatchString(h.Name) {
			return fmt.Errorf("%s.name %q: letters, digits, '.', '_', '-'", at, h.Name)
		}
		if net.ParseIP(h.Address).To4() == nil {
			return fmt.Errorf("%s.address %q: an IPv4 address", at, h.Address)
		}
		if h.RebootSeconds != nil && (*h.RebootSeconds < 0 || *h.RebootSeconds > 3600) {
			return fmt.Errorf("%s.rebootSeconds: 0 to 3600", at)
		}
		if names[h.Name] {
			return fmt.Errorf("%s.name %q: used twice", at, h.Name)
		}
		names[h.Name] = true
		if vm := h.StorageVM; vm != nil {
			if !labelRe.MatchString(vm.Name) || !labelRe.MatchString(vm.LabHost) {
				return fmt.Errorf("%s.storageVm: name and labHost are letters, digits, '.', '_', '-'", at)
			}
			if net.ParseIP(vm.Address).To4() == nil || net.ParseIP(vm.StorageAddress).To4() == nil {
				return fmt.Errorf("%s.storageVm: address and storageAddress are IPv4 addresses", at)
			}
			if names["vm:"+vm.Name] {
				return fmt.Errorf("%s.storageVm.name %q: used twice", at, vm.Name)
			}
			names["vm:"+vm.Name] = true
		}
	}
	return nil
}

func (h HostModel) rebootSeconds() float64 {
	if h.RebootSeconds == nil {
		return defaultRebootSeconds
	}
	return *h.RebootSeconds
}
