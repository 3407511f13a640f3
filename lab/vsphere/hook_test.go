package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Two subjects' events run side by side: the first waits for a file only the second one's run
// makes, which it would never see if the hook ran one event at a time. Events not asked for are
// recorded and not run; one subject's events keep their order.
func TestHookRunsSubjectsSideBySideOnlyTheEventsAskedFor(t *testing.T) {
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	flag := filepath.Join(dir, "b-ran")
	script := filepath.Join(dir, "hook.sh")
	// b writes its line, then lets a go on: a's line can only come after b's.
	body := "#!/bin/sh\n" +
		"if [ \"$2\" = a ]; then i=0; while [ ! -e '" + flag + "' ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n" +
		"  [ -e '" + flag + "' ] || { echo \"$* saw no b\" >> '" + ran + "'; exit 1; }; fi\n" +
		"echo \"$*\" >> '" + ran + "'\n" +
		"if [ \"$2\" = b ]; then touch '" + flag + "'; fi\n"
	must(t, os.WriteFile(script, []byte(body), 0o700))
	h := newHook(script, []string{"vm-on", "vm-off"})

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.run("vm-on", "a")
	}()
	h.run("host-up", "b")
	h.run("vm-on", "b")
	wg.Wait()
	h.run("vm-off", "a")

	out, err := os.ReadFile(ran)
	must(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(lines, "; ") != "vm-on b; vm-on a; vm-off a" {
		t.Fatalf("ran: %q", lines)
	}
	if got := strings.Join(h.history(), "; "); len(h.history()) != 4 || !strings.Contains(got, "host-up b") {
		t.Fatalf("recorded: %v", got)
	}
}
