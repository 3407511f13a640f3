package main

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

const controlPrefix = "/esxi-zfs-lab"

// hostState is what GET /esxi-zfs-lab/hosts/{name} answers.
type hostState struct {
	Name              string          `json:"name"`
	Ref               string          `json:"ref"`
	ConnectionState   string          `json:"connectionState"`
	InMaintenanceMode bool            `json:"inMaintenanceMode"`
	BootTime          *time.Time      `json:"bootTime"`
	RebootSeconds     float64         `json:"rebootSeconds"`
	NeverReturn       bool            `json:"neverReturn"`
	RevertPassthrough bool            `json:"revertPassthroughOnNextReboot"`
	Rebooting         bool            `json:"rebooting"`
	Reboots           int             `json:"reboots"`
	Passthrough       []passthruState `json:"passthrough"`
	VMs               []vmState       `json:"vms"`
}

type passthruState struct {
	ID      string `json:"id"`
	Capable bool   `json:"passthruCapable"`
	Enabled bool   `json:"passthruEnabled"`
	Active  bool   `json:"passthruActive"`
}

type vmState struct {
	Name       string `json:"name"`
	PowerState string `json:"powerState"`
	IPAddress  string `json:"ipAddress,omitempty"`
}

// controlHandler serves the test hooks, behind the same user and password as the SDK.
func (l *lab) controlHandler(username, password string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+controlPrefix+"/hosts", func(w http.ResponseWriter, r *http.Request) {
		states := make([]hostState, 0, len(l.order))
		for _, h := range l.order {
			states = append(states, l.state(h))
		}
		writeJSON(w, http.StatusOK, states)
	})
	mux.HandleFunc("GET "+controlPrefix+"/hosts/{name}", l.withHost(func(w http.ResponseWriter, r *http.Request, h *labHost) {
		writeJSON(w, http.StatusOK, l.state(h))
	}))
	mux.HandleFunc("PUT "+controlPrefix+"/hosts/{name}/reboot-seconds", l.withHost(func(w http.ResponseWriter, r *http.Request, h *labHost) {
		seconds, ok := readSeconds(w, r)
		if !ok {
			return
		}
		h.mu.Lock()
		h.rebootSeconds = seconds
		h.mu.Unlock()
		writeJSON(w, http.StatusOK, l.state(h))
	}))
	mux.HandleFunc("PUT "+controlPrefix+"/hosts/{name}/never-return", l.withHost(func(w http.ResponseWriter, r *http.Request, h *labHost) {
		var body struct{ Value *bool }
		if !readJSON(w, r, &body) || !present(w, body.Value) {
			return
		}
		h.setNeverReturn(*body.Value)
		writeJSON(w, http.StatusOK, l.state(h))
	}))
	mux.HandleFunc("PUT "+controlPrefix+"/hosts/{name}/revert-passthrough", l.withHost(func(w http.ResponseWriter, r *http.Request, h *labHost) {
		var body struct{ Value *bool }
		if !readJSON(w, r, &body) || !present(w, body.Value) {
			return
		}
		h.mu.Lock()
		h.revertNext = *body.Value
		h.mu.Unlock()
		writeJSON(w, http.StatusOK, l.state(h))
	}))
	mux.HandleFunc("POST "+controlPrefix+"/fail-once", func(w http.ResponseWriter, r *http.Request) {
		var rule faultRule
		if !readJSON(w, r, &rule) {
			return
		}
		if err := rule.validate(); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if rule.Host != "" && l.hosts[rule.Host] == nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no host %q", rule.Host))
			return
		}
		l.faults.add(rule)
		writeJSON(w, http.StatusOK, l.faults.pending())
	})
	mux.HandleFunc("GET "+controlPrefix+"/fail-once", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, l.faults.pending())
	})
	mux.HandleFunc("GET "+controlPrefix+"/datastores", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, l.datastoreStates(l.context()))
	})
	mux.HandleFunc("PUT "+controlPrefix+"/stale-datastores", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Value *string }
		if !readJSON(w, r, &body) || !present(w, body.Value) {
			return
		}
		mode, ok := parseStaleMode(*body.Value)
		if !ok {
			writeError(w, http.StatusBadRequest, "value: none, refresh or remount")
			return
		}
		l.nfs.setMode(mode)
		writeJSON(w, http.StatusOK, map[string]staleMode{"staleMode": mode})
	})
	mux.HandleFunc("PUT "+controlPrefix+"/unavailable", func(w http.ResponseWriter, r *http.Request) {
		seconds, ok := readSeconds(w, r)
		if !ok {
			return
		}
		until := l.outage.set(seconds)
		writeJSON(w, http.StatusOK, map[string]time.Time{"until": until})
	})
	mux.HandleFunc("GET "+controlPrefix+"/hook-events", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, l.hook.history())
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(username)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="esxi-zfs-lab"`)
			writeError(w, http.StatusUnauthorized, "the simulator's user and password, by HTTP basic authentication")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (l *lab) withHost(f func(http.ResponseWriter, *http.Request, *labHost)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h := l.hosts[r.PathValue("name")]
		if h == nil {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no host %q", r.PathValue("name")))
			return
		}
		f(w, r, h)
	}
}

func (l *lab) state(h *labHost) hostState {
	ctx := l.context()
	s := hostState{Name: h.model.Name, Ref: h.ref.Value}
	h.mu.Lock()
	s.RebootSeconds, s.NeverReturn, s.RevertPassthrough = h.rebootSeconds, h.neverReturn, h.revertNext
	s.Rebooting, s.Reboots = h.rebooting, h.reboots
	h.mu.Unlock()
	host := l.hostObject(h)
	var vms []types.ManagedObjectReference
	ctx.WithLock(host, func() {
		s.ConnectionState = string(host.Runtime.ConnectionState)
		s.InMaintenanceMode = host.Runtime.InMaintenanceMode
		s.BootTime = host.Runtime.BootTime
		vms = append(vms, host.Vm...)
	})
	ctx.WithLock(h.pci, func() {
		for _, e := range h.pci.entries() {
			s.Passthrough = append(s.Passthrough, passthruState{ID: e.Id, Capable: e.PassthruCapable, Enabled: e.PassthruEnabled, Active: e.PassthruActive})
		}
	})
	s.VMs = []vmState{}
	for _, ref := range vms {
		vm, ok := l.reg.Get(ref).(*simulator.VirtualMachine)
		if !ok {
			continue
		}
		ctx.WithLock(vm, func() {
			v := vmState{Name: vm.Name, PowerState: string(vm.Runtime.PowerState)}
			if vm.Guest != nil {
				v.IPAddress = vm.Guest.IpAddress
			}
			s.VMs = append(s.VMs, v)
		})
	}
	return s
}

func present[T any](w http.ResponseWriter, v *T) bool {
	if v == nil {
		writeError(w, http.StatusBadRequest, `the body is {"value": ...}`)
		return false
	}
	return true
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

// readSeconds reads a {"value": seconds} body, 0 to 3600; otherwise it answers 400 and gives false.
func readSeconds(w http.ResponseWriter, r *http.Request) (float64, bool) {
	var body struct{ Value *float64 }
	if !readJSON(w, r, &body) {
		return 0, false
	}
	if body.Value == nil || *body.Value < 0 || *body.Value > 3600 {
		writeError(w, http.StatusBadRequest, "value: seconds, 0 to 3600")
		return 0, false
	}
	return *body.Value, true
}
