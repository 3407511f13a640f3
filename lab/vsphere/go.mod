module esxi-zfs/lab/vsphere

go 1.24.13

// Builds with Go 1.26.10 or newer: older standard libraries have vulnerabilities govulncheck finds reachable
// from the simulator (net/http, crypto/tls, crypto/x509; test/lab/audit.test.ts). scripts/setup.sh builds with
// GOTOOLCHAIN=auto, so an older `go` fetches it through the module proxy.
toolchain go1.26.10

require github.com/vmware/govmomi v0.53.0

require github.com/google/uuid v1.6.0 // indirect
