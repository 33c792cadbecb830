package cri_test

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
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// BenchmarkStartLatency measures, in one run, the time from nothing to a running
// container of the same busybox image three ways: a pod through the Runtime port
// (RunPodSandbox + CreateContainer + StartContainer: network namespace, CNI
// bridge and IP, pause container, app container), `runc run -d` of a prepared
// bundle, and `ctr run -d`. Each reports p50 and p99 in milliseconds;
// teardown happens off the clock.
func BenchmarkStartLatency(b *testing.B) {
	critest.Require(b, startErr)
	b.Run("runtime-pod", benchPodStart)
	b.Run("runc-run", benchRuncRun)
	b.Run("ctr-run", benchCtrRun)
}

func reportPercentiles(b *testing.B, d []time.Duration) {
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
	b.ReportMetric(0, "ns/op") // the percentiles are the figures; the mean includes teardown pauses
}

func benchPodStart(b *testing.B) {
	ctx := context.Background()
	rt, err := env.Dial(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	var lat, sandbox, create, startC []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{
			Name: fmt.Sprint("bench-", i), Namespace: "bench", UID: fmt.Sprintf("bench-%d-%d", os.Getpid(), i),
			CgroupParent: env.CgroupParent, LogDirectory: env.LogDir,
		})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		sandbox = append(sandbox, t1.Sub(start))
		id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{
			Name: "app", Image: critest.BusyboxImage, Command: []string{"sleep", "3600"}, LogPath: fmt.Sprintf("bench-%d/app/0.log", i),
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
	reportPercentiles(b, lat)
	// Where the time goes (medians).
	b.ReportMetric(median(sandbox), "sandbox-p50-ms")
	b.ReportMetric(median(create), "create-p50-ms")
	b.ReportMetric(median(startC), "start-p50-ms")
}

func median(d []time.Duration) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[len(d)/2].Microseconds()) / 1000
}

// runcBundle unpacks the busybox image's layer into an OCI bundle whose process
// sleeps, with its cgroup under the Env's parent.
func runcBundle(b *testing.B) string {
	dir, err := os.MkdirTemp(env.Dir, "bench-bundle-")
	if err != nil {
		b.Fatal(err)
	}
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.MkdirAll(rootfs, 0o755); err != nil {
		b.Fatal(err)
	}
	layer, err := critest.BusyboxLayer("/bin/busybox")
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

func benchRuncRun(b *testing.B) {
	bundle := runcBundle(b)
	root := filepath.Join(env.Dir, "runc-bench")
	runcLog, err := os.Create(filepath.Join(env.Dir, "runc-bench.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer runcLog.Close()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-runc-%d", i)
		// Each container its own cgroup under the Env's parent (cleaned at Stop).
		b.StopTimer()
		setCgroupsPath(b, bundle, env.CgroupParent+"/"+id)
		b.StartTimer()
		start := time.Now()
		// Not a pipe: a detached container inherits runc's stdio and would hold
		// a pipe open for ever.
		cmd := exec.Command("runc", "--root", root, "run", "-d", "--bundle", bundle, id)
		cmd.Stdout, cmd.Stderr = runcLog, runcLog
		if err := cmd.Run(); err != nil {
			b.Fatalf("runc run: %v (see %s)", err, runcLog.Name())
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if out, err := exec.Command("runc", "--root", root, "delete", "-f", id).CombinedOutput(); err != nil {
			b.Fatalf("runc delete: %v %s", err, out)
		}
		b.StartTimer()
	}
	reportPercentiles(b, lat)
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

func benchCtrRun(b *testing.B) {
	ctx := context.Background()
	const ns = "gantry-bench"
	if _, err := env.Ctr(ctx, ns, "images", "ls", "-q"); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("ctr", "--address", env.Socket, "--namespace", ns, "images", "import", "-")
	cmd.Stdin = bytes.NewReader(env.ImageArchive())
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("ctr import: %v %s", err, out)
	}
	runcRoot := filepath.Join(env.Dir, "runc-ctr")
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-ctr-%d", i)
		start := time.Now()
		if _, err := env.Ctr(ctx, ns, "run", "-d", "--runc-root", runcRoot, "--cgroup", env.CgroupParent+"/"+id,
			critest.BusyboxImage, id, "sleep", "3600"); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if _, err := env.Ctr(ctx, ns, "task", "rm", "-f", id); err != nil {
			b.Fatal(err)
		}
		if _, err := env.Ctr(ctx, ns, "containers", "rm", id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	reportPercentiles(b, lat)
}

// BenchmarkBurst110 starts 110 pods (the default pod limit of a node) at once
// through the port, each a sandbox and one container, and reports the time
// until all run. Run it with -benchtime=1x.
func BenchmarkBurst110(b *testing.B) {
	critest.Require(b, startErr)
	ctx := context.Background()
	rt, err := env.Dial(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	const pods = 110
	var total []time.Duration
	for round := 0; b.Loop(); round++ {
		start := time.Now()
		ids := make([]string, pods)
		errs := make(chan error, pods)
		for i := range pods {
			go func() {
				sb, err := rt.RunPodSandbox(ctx, kubelet.SandboxConfig{
					Name: fmt.Sprintf("burst-%d-%d", round, i), Namespace: "bench", UID: fmt.Sprintf("burst-%d-%d-%d", os.Getpid(), round, i),
					CgroupParent: env.CgroupParent,
				})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = sb.ID
				id, err := rt.CreateContainer(ctx, sb.ID, kubelet.ContainerConfig{Name: "app", Image: critest.BusyboxImage, Command: []string{"sleep", "3600"}})
				if err == nil {
					err = rt.StartContainer(ctx, id)
				}
				errs <- err
			}()
		}
		var failed error
		for range pods {
			if err := <-errs; err != nil && failed == nil {
				failed = err
			}
		}
		total = append(total, time.Since(start))
		b.StopTimer()
		teardown := make(chan struct{}, pods)
		for _, id := range ids {
			go func() {
				defer func() { teardown <- struct{}{} }()
				if id != "" {
					_ = rt.StopPodSandbox(ctx, id)
					_ = rt.RemovePodSandbox(ctx, id)
				}
			}()
		}
		for range pods {
			<-teardown
		}
		if failed != nil {
			b.Fatal(failed)
		}
		b.StartTimer()
	}
	b.ReportMetric(median(total)*1, "all-running-ms")
	b.ReportMetric(0, "ns/op")
}
