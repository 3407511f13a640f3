package main

import (
	"crypto/sha1"
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

func TestTheStateMatchesTheServedCertificate(t *testing.T) {
	s := startSim(t, testModel(0.2))
	u, err := url.Parse(s.r.state.URL)
	must(t, err)
	conn, err := tls.Dial("tcp", u.Host, &tls.Config{InsecureSkipVerify: true}) // checked by thumbprint below
	must(t, err)
	defer conn.Close()
	raw := conn.ConnectionState().PeerCertificates[0].Raw
	sum := sha1.Sum(raw)
	if colonHex(sum[:]) != s.r.state.ThumbprintSHA1 || colonHex(sha256Of(raw)) != s.r.state.ThumbprintSHA256 {
		t.Fatalf("state thumbprints %s %s", s.r.state.ThumbprintSHA1, s.r.state.ThumbprintSHA256)
	}
	if !strings.HasPrefix(s.r.state.Control, "https://"+u.Host+"/") || u.Path != "/sdk" {
		t.Fatalf("state %+v", s.r.state)
	}
}

func TestControlNeedsTheCredentials(t *testing.T) {
	s := startSim(t, testModel(0.2))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	res, err := client.Get(s.r.state.Control + "/hosts")
	must(t, err)
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("without credentials: %d", res.StatusCode)
	}
	var states []hostState
	if code := s.control("GET", "/hosts", nil, &states); code != 200 || len(states) != 2 || states[0].Name != "vh1" {
		t.Fatalf("%d %+v", code, states)
	}
	if code := s.control("GET", "/hosts/vh9", nil, nil); code != 404 {
		t.Fatalf("a missing host: %d", code)
	}
	if code := s.control("POST", "/fail-once", faultRule{Method: "Nope_Task", Fault: "SystemError"}, nil); code != 400 {
		t.Fatalf("an unknown method: %d", code)
	}
}

func TestARebootTaskFailsOnceThenWorks(t *testing.T) {
	s := startSim(t, testModel(0.2))
	rule := faultRule{Method: "RebootHost_Task", Host: "vh1", Fault: "SystemError", Message: "the lab says no"}
	if code := s.control("POST", "/fail-once", rule, nil); code != 200 {
		t.Fatalf("fail-once: %d", code)
	}
	// Another host's reboot is not the rule's.
	_, err := s.reboot("vh2", true)
	must(t, err)
	_, err = s.reboot("vh1", true)
	fault, msg := taskFault(t, err)
	if faultName(fault) != "SystemError" || msg != "the lab says no" {
		t.Fatalf("the failing reboot: %T %q", fault, msg)
	}
	if state := s.hostMo("vh1", "runtime").Runtime.ConnectionState; state != types.HostSystemConnectionStateConnected {
		t.Fatalf("a failed reboot took the host down: %s", state)
	}
	_, err = s.reboot("vh1", true)
	must(t, err)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)

	if code := s.control("POST", "/fail-once", faultRule{Method: "UpdatePassthruConfig", Fault: "HostConfigFault", Message: "busy"}, nil); code != 200 {
		t.Fatalf("fail-once: %d", code)
	}
	ref := *s.hostMo("vh1", "configManager").ConfigManager.PciPassthruSystem
	_, err = methodsUpdatePassthru(s.c, ref, true)
	if fault, msg := faultOf(t, err); faultName(fault) != "HostConfigFault" || msg != "busy" {
		t.Fatalf("UpdatePassthruConfig: %T %q", fault, msg)
	}
	_, err = methodsUpdatePassthru(s.c, ref, true)
	must(t, err)
}

func TestAHostThatNeverComesBackUntilReleased(t *testing.T) {
	s := startSim(t, testModel(0.2))
	var st hostState
	s.control("PUT", "/hosts/vh1/never-return", map[string]bool{"value": true}, &st)
	if !st.NeverReturn {
		t.Fatalf("%+v", st)
	}
	_, err := s.reboot("vh1", true)
	must(t, err)
	time.Sleep(time.Second)
	s.control("GET", "/hosts/vh1", nil, &st)
	if st.ConnectionState != "notResponding" || !st.Rebooting {
		t.Fatalf("a second after a 0.2 s reboot: %+v", st)
	}
	if _, err := methodsReboot(s.c, s.host("vh1").Reference(), true); err == nil {
		t.Fatal("rebooting a host that does not respond")
	} else if fault, _ := faultOf(t, err); faultName(fault) != "HostNotConnected" {
		t.Fatalf("rebooting a host that does not respond: %T", fault)
	}
	s.control("PUT", "/hosts/vh1/never-return", map[string]bool{"value": false}, &st)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 5*time.Second)
}

func TestRebootSecondsAndARevertedPassthrough(t *testing.T) {
	s := startSim(t, testModel(0.2))
	var st hostState
	if code := s.control("PUT", "/hosts/vh1/reboot-seconds", map[string]float64{"value": 1.5}, &st); code != 200 || st.RebootSeconds != 1.5 {
		t.Fatalf("%d %+v", code, st)
	}
	s.control("PUT", "/hosts/vh1/revert-passthrough", map[string]bool{"value": true}, &st)
	enablePassthru(t, s, "vh1", true)
	started := time.Now()
	_, err := s.reboot("vh1", true)
	must(t, err)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	if took := time.Since(started); took < 1400*time.Millisecond || took > 5*time.Second {
		t.Fatalf("a 1.5 s reboot took %s", took)
	}
	if p := passthru(t, s.hostMo("vh1", "config"), ddrdriveAddress); p.PassthruEnabled || p.PassthruActive {
		t.Fatalf("reverted: %+v", p)
	}
	s.control("GET", "/hosts/vh1", nil, &st)
	if st.RevertPassthrough || st.Reboots != 1 {
		t.Fatalf("the revert is for one reboot: %+v", st)
	}
	// Enabled again, the next reboot keeps it.
	enablePassthru(t, s, "vh1", true)
	_, err = s.reboot("vh1", true)
	must(t, err)
	s.waitConnection("vh1", types.HostSystemConnectionStateConnected, 10*time.Second)
	if p := passthru(t, s.hostMo("vh1", "config"), ddrdriveAddress); !p.PassthruEnabled || !p.PassthruActive {
		t.Fatalf("after the second reboot: %+v", p)
	}
}
