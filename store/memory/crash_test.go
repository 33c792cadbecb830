package memory_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

var crashTrials = flag.Int("crash.trials", 200, "trials of TestCrashSafety (20 with -short)")

// crashChildEnv makes the test binary act as the writer of TestCrashSafety.
const crashChildEnv = "GANTRY_MEMORY_CRASH_CHILD_DIR"

// crashOptions are small, so that trials roll segments, snapshot in the
// background and remove old files: each of those can be interrupted too.
var crashOptions = memory.Options{SegmentBytes: 16 << 10, SnapshotBytes: 64 << 10}

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	verifyNoLeaks(m)
}

// crashChild writes until it is killed: concurrent writers put unique keys
// (and compact now and then), and print each key once its write is
// acknowledged. It never returns normally.
func crashChild(dir string) {
	kv, err := memory.Open(dir, crashOptions)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	out.WriteString("ready\n")
	out.Flush()
	var mu sync.Mutex
	ack := func(key string) {
		mu.Lock()
		out.WriteString(key + "\n")
		out.Flush() // before the next write of this writer: the parent may kill us any time
		mu.Unlock()
	}
	ctx := context.Background()
	run := fmt.Sprintf("%x", time.Now().UnixNano())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("%s/%d/%d", run, w, i)
				ops := []store.Op{store.Put(key, []byte(key)), store.Put(fmt.Sprintf("shared/%d", w), []byte(key))}
				rev, err := kv.Txn(ctx, store.Txn{Then: ops})
				if err != nil {
					fmt.Fprintln(os.Stderr, "txn:", err)
					os.Exit(4)
				}
				ack(key)
				if w == 0 && i%50 == 49 && rev > 100 {
					if err := kv.Compact(ctx, rev-100); err != nil {
						fmt.Fprintln(os.Stderr, "compact:", err)
					}
				}
			}
		})
	}
	wg.Wait()
}

// TestCrashSafety kills a writing child process with SIGKILL at random
// moments, then reopens its directory: the store opens, and every write the
// child saw acknowledged is there. Directories are reused for ten trials, so
// recovery also runs on what earlier recoveries left.
func TestCrashSafety(t *testing.T) {
	trials := *crashTrials
	if testing.Short() {
		trials = min(trials, 20)
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var dir string
	acked := map[string]bool{}
	total := 0
	for trial := range trials {
		if trial%10 == 0 {
			dir = t.TempDir()
			acked = map[string]bool{}
		}
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		require.NoError(t, cmd.Start())
		lines := make(chan []string, 1)
		ready := make(chan struct{})
		go func() {
			var keys []string
			r := bufio.NewReader(stdout)
			for {
				line, err := r.ReadString('\n')
				if err != nil { // a line cut by the kill was never complete
					break
				}
				if line == "ready\n" {
					close(ready)
					continue
				}
				keys = append(keys, strings.TrimSuffix(line, "\n"))
			}
			io.Copy(io.Discard, r)
			lines <- keys
		}()
		if rng.IntN(5) == 0 {
			// Kill early: during start-up and recovery.
			time.Sleep(time.Duration(rng.IntN(30_000)) * time.Microsecond)
		} else {
			select {
			case <-ready:
			case <-time.After(20 * time.Second):
			}
			time.Sleep(time.Duration(rng.IntN(40_000)) * time.Microsecond)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		keys := <-lines
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("trial %d: child ended by itself (%v): %s", trial, err, stderr.String())
		}
		for _, k := range keys {
			acked[k] = true
		}
		total += len(keys)

		kv, err := memory.Open(dir, crashOptions)
		require.NoError(t, err, "trial %d: reopen after SIGKILL", trial)
		page, err := kv.Range(context.Background(), "", store.RangeOptions{})
		require.NoError(t, err)
		present := make(map[string]bool, len(page.KVs))
		for _, kv := range page.KVs {
			present[kv.Key] = true
			if !strings.HasPrefix(kv.Key, "shared/") && string(kv.Value) != kv.Key {
				t.Fatalf("trial %d: key %q has value %q", trial, kv.Key, kv.Value)
			}
		}
		for k := range acked {
			if !present[k] {
				t.Fatalf("trial %d: acknowledged write %q lost (%d acknowledged this trial)", trial, k, len(keys))
			}
		}
		require.NoError(t, kv.Close())
	}
	t.Logf("%d trials, %d acknowledged writes checked", trials, total)
}
