package main

import (
	"context"
	"log"
	"os/exec"
	"strings"
	"sync"
	"time"
)

const hookTimeout = 2 * time.Minute

// hook runs the --hook command as `CMD EVENT ARGS...`, one event at a time, in the order the
// simulator reaches them. CMD is a shell command prefix (it may carry its own arguments); the
// event and its arguments are passed as positional parameters, never parsed by the shell.
type hook struct {
	command string
	mu      sync.Mutex
	// events records every event run, for the control endpoint and tests.
	events []string
}

func (h *hook) run(event string, args ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	line := strings.Join(append([]string{event}, args...), " ")
	h.events = append(h.events, line)
	if h.command == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), hookTimeout)
	defer cancel()
	argv := append([]string{"-c", h.command + ` "$@"`, "esxi-zfs-hook", event}, args...)
	started := time.Now()
	out, err := exec.CommandContext(ctx, "/bin/sh", argv...).CombinedOutput()
	text := strings.TrimSpace(string(out))
	if err != nil {
		log.Printf("hook %s: failed after %s: %v: %s", line, time.Since(started).Round(time.Millisecond), err, text)
		return
	}
	log.Printf("hook %s: ok in %s%s", line, time.Since(started).Round(time.Millisecond), prefixed(text))
}

func (h *hook) history() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string{}, h.events...)
}

func prefixed(text string) string {
	if text == "" {
		return ""
	}
	return ": " + text
}
