package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
)

func methodsCurrentTime(c *vim25.Client) (*time.Time, error) {
	return methods.GetCurrentTime(context.Background(), c)
}

func TestTheSdkAnswers503DuringAnOutageAndTheControlStaysUp(t *testing.T) {
	s := startSim(t, testModel(0.2))
	if code := s.control("PUT", "/unavailable", map[string]any{"value": -1}, nil); code != 400 {
		t.Fatalf("negative seconds: %d", code)
	}
	if code := s.control("PUT", "/unavailable", map[string]any{"value": 30}, nil); code != 200 {
		t.Fatalf("unavailable: %d", code)
	}
	_, err := methodsCurrentTime(s.c)
	// Not a SOAP fault: the HTTP status itself.
	if err == nil || soap.IsSoapFault(err) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("during the outage: %v", err)
	}
	var states []hostState
	if code := s.control("GET", "/hosts", nil, &states); code != 200 || len(states) != 2 {
		t.Fatalf("the control API during the outage: %d", code)
	}
	if code := s.control("PUT", "/unavailable", map[string]any{"value": 0.3}, nil); code != 200 {
		t.Fatalf("a shorter outage: %d", code)
	}
	time.Sleep(400 * time.Millisecond)
	if _, err := methodsCurrentTime(s.c); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}
