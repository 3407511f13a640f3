// esxi-zfs-vcsim: the lab's vCenter, govmomi's simulator (vcsim) extended for the runbook: PCI
// passthrough that takes effect at a reboot, reboots that take a host away for a while, VMkernel
// NICs, NFS datastores, storage VMs whose power starts and stops a lab storage host, test hooks.
//
//	esxi-zfs-vcsim --model FILE --listen 127.0.0.1:0 --state FILE --username U --password-file F [--hook CMD]
package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/vmware/govmomi/simulator"
)

type config struct {
	model    *Model
	listen   string
	username string
	password string
	hook     string
	// hookEvents: the events the hook is run for; empty: every event.
	hookEvents []string
}

// stateFile is what --state receives once the server listens. Never the password.
type stateFile struct {
	URL              string `json:"url"`
	ThumbprintSHA1   string `json:"thumbprintSha1"`
	ThumbprintSHA256 string `json:"thumbprintSha256"`
	PID              int    `json:"pid"`
	Control          string `json:"control"`
}

type running struct {
	lab     *lab
	server  *simulator.Server
	dataDir string
	state   stateFile
}

func start(cfg config) (*running, error) {
	if host, _, err := net.SplitHostPort(cfg.listen); err != nil || !net.ParseIP(host).IsLoopback() {
		return nil, fmt.Errorf("--listen %q: a loopback address and port, like 127.0.0.1:0", cfg.listen)
	}
	dataDir, err := os.MkdirTemp("", "esxi-zfs-vcsim-")
	if err != nil {
		return nil, err
	}
	l, err := newLab(cfg.model, newHook(cfg.hook, cfg.hookEvents), dataDir)
	if err != nil {
		_ = os.RemoveAll(dataDir)
		return nil, err
	}
	cert, err := selfSignedCert()
	if err != nil {
		_ = os.RemoveAll(dataDir)
		return nil, err
	}
	svc := l.model.Service
	svc.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	svc.Listen = &url.URL{Host: cfg.listen, User: url.UserPassword(cfg.username, cfg.password)}
	control := l.controlHandler(cfg.username, cfg.password)
	svc.HandleFunc(controlPrefix+"/", control.ServeHTTP)
	// More specific than the "/sdk" the simulator registers in NewServer: every SOAP call passes the gate.
	svc.HandleFunc("POST "+l.model.Service.Context.Map.Path, l.outage.gate(svc.ServeSDK))
	server := svc.NewServer()

	info := server.CertificateInfo()
	sum := sha256.Sum256(server.Certificate().Raw)
	sdk := url.URL{Scheme: "https", Host: server.URL.Host, Path: server.URL.Path}
	return &running{lab: l, server: server, dataDir: dataDir, state: stateFile{
		URL:              sdk.String(),
		ThumbprintSHA1:   info.ThumbprintSHA1,
		ThumbprintSHA256: colonHex(sum[:]),
		PID:              os.Getpid(),
		Control:          "https://" + server.URL.Host + controlPrefix,
	}}, nil
}

func (r *running) stop() {
	r.server.Close()
	r.lab.model.Remove()
	_ = os.RemoveAll(r.dataDir)
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}

func writeState(file string, s stateFile) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", file, os.Getpid())
	if err := os.WriteFile(tmp, append(data, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func readPassword(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	password := strings.TrimRight(string(data), "\r\n")
	if password == "" {
		return "", errors.New("the password file is empty")
	}
	return password, nil
}

func main() {
	log.SetPrefix("esxi-zfs-vcsim: ")
	modelFile := flag.String("model", "", "the hosts (JSON)")
	listen := flag.String("listen", "127.0.0.1:0", "loopback address and port (0: any free port)")
	stateOut := flag.String("state", "", "where to write url, thumbprints, pid and control URL once listening")
	username := flag.String("username", "", "the SDK user")
	passwordFile := flag.String("password-file", "", "a file holding the SDK password")
	hookCommand := flag.String("hook", "", "command run as CMD EVENT ARGS... (vm-on, vm-off, host-down, host-up)")
	hookEvents := flag.String("hook-events", "", "comma-separated: only these events run the hook (all of them are still recorded); empty: every event")
	flag.Parse()
	if *modelFile == "" || *stateOut == "" || *username == "" || *passwordFile == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	var events []string
	if *hookEvents != "" {
		events = strings.Split(*hookEvents, ",")
	}
	if err := run(*modelFile, *listen, *stateOut, *username, *passwordFile, *hookCommand, events); err != nil {
		log.Fatal(err)
	}
}

func run(modelFile, listen, stateOut, username, passwordFile, hookCommand string, hookEvents []string) error {
	model, err := loadModel(modelFile)
	if err != nil {
		return err
	}
	password, err := readPassword(passwordFile)
	if err != nil {
		return fmt.Errorf("--password-file: %w", err)
	}
	r, err := start(config{model: model, listen: listen, username: username, password: password, hook: hookCommand, hookEvents: hookEvents})
	if err != nil {
		return err
	}
	defer r.stop()
	stateOut, _ = filepath.Abs(stateOut)
	if err := writeState(stateOut, r.state); err != nil {
		return err
	}
	log.Printf("serving %s (%d hosts), state in %s", r.state.URL, len(model.Hosts), stateOut)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	sig := <-signals
	log.Printf("%s: stopping", sig)
	return nil
}
