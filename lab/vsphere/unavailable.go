package main

import (
	"net/http"
	"sync"
	"time"
)

// outage makes the SDK endpoint answer 503 Service Unavailable until a time (vCenter restarting,
// a load balancer with no backend): PUT /esxi-zfs-lab/unavailable {"value": seconds}. The control
// API stays up, so a test can end the outage early with 0.
type outage struct {
	mu    sync.Mutex
	until time.Time
}

func (o *outage) set(seconds float64) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.until = time.Now().Add(time.Duration(seconds * float64(time.Second)))
	return o.until
}

func (o *outage) active() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return time.Now().Before(o.until)
}

// gate answers 503 during an outage and passes the call to sdk otherwise.
func (o *outage) gate(sdk http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o.active() {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "503 Service Unavailable (esxi-zfs lab: the endpoint is down)", http.StatusServiceUnavailable)
			return
		}
		sdk(w, r)
	}
}
