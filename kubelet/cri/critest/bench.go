package critest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gantry-sdk/gantry/kubelet"
)

// Start-latency benchmarks shared by the runtimes' packages, so that each
// measures its pods beside `runc run` and `ctr run` in the same run.

// ReportPercentiles reports the p50 and p99 of d in milliseconds, and zeroes
// ns/op (the mean would include teardown pauses).
func ReportPercentiles(b *testing.B, d []time.Duration) {
	if len(d) == 0 {
		return
	}
	slices.Sort(d)
	pct := func(p float64) float64 {
		i := int(p * float64(len(d)-1))
		return float64(d[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// Median of d in milliseconds.
func Median(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds()) / 1000
}

// BenchPodStart measures, per iteration, nothing -> a running `sleep 3600` of
// the busybox image through rt: RunPodSandbox + CreateContainer +
// StartContainer + one ContainerStatus showing Running. before runs off the
// clock ahead of each iteration (nil: nothing); teardown is off the clock too.
func (e *Env) BenchPodStart(b *testing.B, rt kubelet.Runtime, before func()) {
	ctx := context.Background()
	var lat, sandbox, create, startC []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if before != nil {
			b.StopTimer()
			before()
			b.StartTimer()
		}
		start := time.Now()
		sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{
			Name: fmt.Sprint("bench-", i), Namespace: "bench", UID: fmt.Sprintf("bench-%d-%d", os.Getpid(), i),
			CgroupParent: e.CgroupParent, LogDirectory: e.LogDir,
		})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		sandbox = append(sandbox, t1.Sub(start))
		id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{
			Name: "app", Image: BusyboxImage, Command: []string{"sleep", "3600"}, LogPath: fmt.Sprintf("bench-%d-%d/app/0.log", os.Getpid(), i),
		})
		if err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		create = append(create, t2.Sub(t1))
		if err := rt.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
		startC = append(startC, time.Since(t2))
		st, err := rt.ContainerStatus(ctx, id)
		if err != nil || st.State != kubelet.ContainerRunning {
			b.Fatalf("container %s: %v %v", id, st.State, err)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if err := rt.StopPodSandbox(ctx, sb.ID); err != nil {
			b.Fatal(err)
		}
		if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	ReportPercentiles(b, lat)
	// Where the time goes (medians).
	b.ReportMetric(Median(sandbox), "sandbox-p50-ms")
	b.ReportMetric(Median(create), "create-p50-ms")
	b.ReportMetric(Median(startC), "start-p50-ms")
}

// runcBundle unpacks the busybox image's layer into an OCI bundle whose process
// sleeps, with its cgroup under the Env's parent.
func (e *Env) runcBundle(b *testing.B) string {
	dir, err := os.MkdirTemp(e.Dir, "bench-bundle-")
	if err != nil {
		b.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		b.Fatal(err)
	}
	layer, err := BusyboxLayer("/bin/busybox")
	if err != nil {
		b.Fatal(err)
	}
	if err := untar(layer.Gzip, rootfs); err != nil {
		b.Fatal(err)
	}
	if out, err := exec.Command("runc", "spec", "--bundle", dir).CombinedOutput(); err != nil {
		b.Fatalf("runc spec: %v %s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		b.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		b.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"sleep", "3600"}
	proc["env"] = []string{"PATH=/bin"}
	spec["root"] = map[string]any{"path": "rootfs", "readonly": false}
	raw, _ = json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), raw, 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

func untar(gz []byte, dst string) error {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dst, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, os.FileMode(h.Mode)&os.ModePerm)
		case tar.TypeSymlink:
			_ = os.Remove(p)
			err = os.Symlink(h.Linkname, p)
		case tar.TypeReg:
			var data []byte
			if data, err = io.ReadAll(tr); err == nil {
				err = os.WriteFile(p, data, os.FileMode(h.Mode)&os.ModePerm)
			}
		}
		if err != nil {
			return err
		}
	}
}

// BenchRuncRun measures `runc run -d` of a prepared bundle of the busybox root
// file system (no image, no snapshot, no network, no shim).
func (e *Env) BenchRuncRun(b *testing.B) {
	e.benchRunc(b, "run", func(runc func(...string) error, bundle, id string) error {
		return runc("run", "-d", "--bundle", bundle, id)
	})
}

// BenchRuncCreateStart measures `runc create` then `runc start` of the same
// bundle as BenchRuncRun: the two steps every containerd or CRI-O shim takes
// (a task is created, then started), so the floor of a pod start through any
// of them.
func (e *Env) BenchRuncCreateStart(b *testing.B) {
	e.benchRunc(b, "create-start", func(runc func(...string) error, bundle, id string) error {
		if err := runc("create", "--bundle", bundle, id); err != nil {
			return err
		}
		return runc("start", id)
	})
}

// benchRunc measures start, given a runc command runner, per container of the
// bundle; each container gets its own cgroup under the Env's parent (cleaned at
// Stop) and is deleted off the clock.
func (e *Env) benchRunc(b *testing.B, name string, start func(runc func(...string) error, bundle, id string) error) {
	bundle := e.runcBundle(b)
	root := filepath.Join(e.Dir, "runc-bench-"+name)
	runcLog, err := os.Create(root + ".log")
	if err != nil {
		b.Fatal(err)
	}
	defer runcLog.Close()
	runc := func(args ...string) error {
		cmd := exec.Command("runc", append([]string{"--root", root}, args...)...)
		// Not a pipe: a detached container inherits runc's stdio and would hold
		// a pipe open for ever.
		cmd.Stdout, cmd.Stderr = runcLog, runcLog
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("runc %s: %w (see %s)", args[0], err, runcLog.Name())
		}
		return nil
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-runc-%s-%d-%d", name, os.Getpid(), i)
		b.StopTimer()
		setCgroupsPath(b, bundle, e.CgroupParent+"/"+id)
		b.StartTimer()
		t0 := time.Now()
		if err := start(runc, bundle, id); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		b.StopTimer()
		if err := runc("delete", "-f", id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	ReportPercentiles(b, lat)
}

func setCgroupsPath(b *testing.B, bundle, path string) {
	p := filepath.Join(bundle, "config.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		b.Fatal(err)
	}
	spec["linux"].(map[string]any)["cgroupsPath"] = path
	raw, _ = json.Marshal(spec)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchCtrRun measures `ctr run -d` of the busybox image on the Env's daemon
// (snapshot, shim, runc; no sandbox, no CNI).
func (e *Env) BenchCtrRun(b *testing.B) {
	ctx := context.Background()
	const ns = "gantry-bench"
	cmd := exec.Command("ctr", "--address", e.Socket, "--namespace", ns, "images", "import", "-")
	cmd.Stdin = bytes.NewReader(e.ImageArchive())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("ctr import: %v %s", err, out)
	}
	runcRoot := filepath.Join(e.Dir, "runc-ctr")
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-ctr-%d-%d", os.Getpid(), i)
		start := time.Now()
		if _, err := e.Ctr(ctx, ns, "run", "-d", "--runc-root", runcRoot, "--cgroup", e.CgroupParent+"/"+id,
			BusyboxImage, id, "sleep", "3600"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if _, err := e.Ctr(ctx, ns, "task", "rm", "-f", id); err != nil {
			b.Fatal(err)
		}
		if _, err := e.Ctr(ctx, ns, "containers", "rm", id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	ReportPercentiles(b, lat)
}
