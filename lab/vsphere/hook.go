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

// hook runs the --hook command as `CMD EVENT ARGS...` for the events it was given (every event when
// none), one at a time per subject (the same arguments: a VM's off and on, a host's down and up) in
// the order the simulator reaches them; different subjects run side by side, as separate machines
// would (4 hosts coming back at once are not served one after the other). CMD is a shell command
// prefix (it may carry its own arguments); the event and its arguments are passed as positional
// parameters, never parsed by the shell.
type hook struct {
	command string
	only    map[string]bool
	mu      sync.Mutex
	// events records every event reached, run or not, for the control endpoint and tests.
	events   []string
	subjects map[string]*sync.Mutex
}

func newHook(command string, events []string) *hook {
	h := &hook{command: command, only: map[string]bool{}, subjects: map[string]*sync.Mutex{}}
	for _, e := range events {
		h.only[e] = true
	}
	return h
}

func (h *hook) run(event string, args ...string) {
	line := strings.Join(append([]string{event}, args...), " ")
	subject := strings.Join(args, " ")
	h.mu.Lock()
	h.events = append(h.events, line)
	turn := h.subjects[subject]
	if turn == nil {
		turn = &sync.Mutex{}
		h.subjects[subject] = turn
	}
	h.mu.Unlock()
	if h.command == "" || (len(h.only) > 0 && !h.only[event]) {
		return
	}
	turn.Lock()
	defer turn.Unlock()
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
