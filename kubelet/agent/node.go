package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/coordination"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/store"
)

// MachineInfo is what the node reports about its machine.
type MachineInfo struct {
	CPUs        int   // logical CPUs
	MemoryBytes int64 // total memory
	// MemoryAvailableBytes, DiskAvailableBytes/DiskTotalBytes and PIDs/PIDMax
	// feed the pressure conditions.
	MemoryAvailableBytes          int64
	DiskAvailableBytes, DiskBytes int64
	PIDs, PIDMax                  int64
	Hostname, InternalIP          string
	KernelVersion, OSImage        string
	MachineID, BootID             string
	// NetworkReady is false while the pod network is not configured.
	NetworkReady bool
}

// Machine reports the machine's resources. One method, so tests inject a
// MachineFunc and a simulated node reports what it likes.
type Machine interface {
	Info() (MachineInfo, error)
}

// MachineFunc adapts a function to Machine.
type MachineFunc func() (MachineInfo, error)

// Info calls f.
func (f MachineFunc) Info() (MachineInfo, error) { return f() }

// HostMachine reads this machine: /proc/meminfo, /proc/loadavg,
// /proc/sys/kernel/pid_max, the file system of Dir (or /), the hostname and
// the address of the default route's interface.
type HostMachine struct{ Dir string }

// Info reads the machine.
func (h HostMachine) Info() (MachineInfo, error) {
	m := MachineInfo{CPUs: runtime.NumCPU(), NetworkReady: true}
	mem, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return m, fmt.Errorf("agent: machine: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(mem))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "MemTotal:":
			m.MemoryBytes = v << 10
		case "MemAvailable:":
			m.MemoryAvailableBytes = v << 10
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		// "0.1 0.2 0.3 2/345 6789": the fourth field is running/total tasks.
		if f := strings.Fields(string(b)); len(f) >= 4 {
			if _, tot, ok := strings.Cut(f[3], "/"); ok {
				m.PIDs, _ = strconv.ParseInt(tot, 10, 64)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		m.PIDMax, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	dir := h.Dir
	if dir == "" {
		dir = "/"
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err == nil {
		m.DiskBytes = int64(st.Blocks) * st.Bsize
		m.DiskAvailableBytes = int64(st.Bavail) * st.Bsize
	}
	m.Hostname, _ = os.Hostname()
	m.InternalIP = outboundIP()
	var uts syscall.Utsname
	if syscall.Uname(&uts) == nil {
		m.KernelVersion = utsString(uts.Release[:])
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OSImage = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/etc/machine-id"); err == nil {
		m.MachineID = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		m.BootID = strings.TrimSpace(string(b))
	}
	return m, nil
}

func utsString(b []int8) string {
	var s []byte
	for _, c := range b {
		if c == 0 {
			break
		}
		s = append(s, byte(c))
	}
	return string(s)
}

// outboundIP is the source address of the route to the outside (no packet sent).
func outboundIP() string {
	c, err := net.Dial("udp4", "192.0.2.1:9")
	if err != nil {
		return "127.0.0.1"
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}

// Pressure thresholds, as the kubelet's default hard eviction thresholds.
const (
	memoryPressureBytes = 100 << 20 // memory.available < 100Mi
	diskPressurePercent = 10        // nodefs.available < 10%
	pidPressurePercent  = 90        // more than 90% of pid_max in use
	maxPods             = 110
)

func (a *Agent) machine() (MachineInfo, error) {
	m, err := a.opts.Machine.Info()
	if err != nil {
		return m, err
	}
	if a.opts.Hostname != "" {
		m.Hostname = a.opts.Hostname
	}
	if a.opts.InternalIP != "" {
		m.InternalIP = a.opts.InternalIP
	}
	if m.Hostname == "" {
		m.Hostname = a.node
	}
	return m, nil
}

// nodeStatus computes the node's status from the machine and the runtime,
// keeping the transition times of conditions that did not change.
func (a *Agent) nodeStatus(ctx context.Context, old *core.NodeStatus, m MachineInfo) core.NodeStatus {
	now := apis.NewTime(a.clock.Now())
	capacity := core.ResourceList{
		core.ResourceCPU:    resource.NewQuantity(int64(m.CPUs), resource.DecimalSI),
		core.ResourceMemory: resource.NewQuantity(m.MemoryBytes, resource.BinarySI),
		core.ResourcePods:   resource.NewQuantity(maxPods, resource.DecimalSI),
	}
	if m.DiskBytes > 0 {
		capacity[core.ResourceEphemeralStorage] = resource.NewQuantity(m.DiskBytes, resource.BinarySI)
	}
	allocatable := capacity.Clone()
	// Keep the hard eviction threshold out of what pods may request.
	if mem := m.MemoryBytes - memoryPressureBytes; mem > 0 {
		allocatable[core.ResourceMemory] = resource.NewQuantity(mem, resource.BinarySI)
	}
	_, rtErr := a.rt.ListPodSandboxes(ctx, kubeletSandboxFilter(a.node))
	cond := func(t core.NodeConditionType, bad bool, reasonBad, reasonOK, msg string) core.NodeCondition {
		st, reason := apis.ConditionFalse, reasonOK
		if bad {
			st, reason = apis.ConditionTrue, reasonBad
		}
		return core.NodeCondition{Type: t, Status: st, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	memBad := m.MemoryBytes > 0 && m.MemoryAvailableBytes < memoryPressureBytes
	diskBad := m.DiskBytes > 0 && m.DiskAvailableBytes*100 < m.DiskBytes*diskPressurePercent
	pidBad := m.PIDMax > 0 && m.PIDs*100 > m.PIDMax*pidPressurePercent
	conds := []core.NodeCondition{
		cond(core.NodeMemoryPressure, memBad, "KubeletHasInsufficientMemory", "KubeletHasSufficientMemory", "memory available"),
		cond(core.NodeDiskPressure, diskBad, "KubeletHasDiskPressure", "KubeletHasNoDiskPressure", "disk available"),
		cond(core.NodePIDPressure, pidBad, "KubeletHasInsufficientPID", "KubeletHasSufficientPID", "PIDs available"),
		cond(core.NodeNetworkUnavailable, !m.NetworkReady, "NetworkNotReady", "NetworkReady", "pod network"),
	}
	ready := core.NodeCondition{Type: core.NodeReady, Status: apis.ConditionTrue, Reason: "KubeletReady",
		Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
	if a.shut.shuttingDown() {
		ready.Status, ready.Reason, ready.Message = apis.ConditionFalse, "KubeletNotReady", MessageNodeShuttingDown
	} else if rtErr != nil {
		ready.Status, ready.Reason, ready.Message = apis.ConditionFalse, "KubeletNotReady", "container runtime: "+rtErr.Error()
	} else if !m.NetworkReady {
		ready.Status, ready.Reason, ready.Message = apis.ConditionFalse, "KubeletNotReady", "network plugin not ready"
	}
	conds = append(conds, ready)
	if old != nil {
		for i := range conds {
			if c := old.Condition(conds[i].Type); c != nil && c.Status == conds[i].Status {
				conds[i].LastTransitionTime = c.LastTransitionTime
			}
		}
	}
	version := a.opts.RuntimeVersion
	if version == "" {
		version = "cri://unknown"
	}
	addrs := []core.NodeAddress{}
	if m.InternalIP != "" {
		addrs = append(addrs, core.NodeAddress{Type: core.NodeInternalIP, Address: m.InternalIP})
	}
	addrs = append(addrs, core.NodeAddress{Type: core.NodeHostName, Address: m.Hostname})
	return core.NodeStatus{
		Capacity: capacity, Allocatable: allocatable, Conditions: conds, Addresses: addrs,
		NodeInfo: core.NodeSystemInfo{
			MachineID: m.MachineID, SystemUUID: m.MachineID, BootID: m.BootID,
			KernelVersion: m.KernelVersion, OSImage: m.OSImage,
			ContainerRuntimeVersion: version, KubeletVersion: Version,
			OperatingSystem: runtime.GOOS, Architecture: runtime.GOARCH,
		},
	}
}

// syncNode creates the Node if missing and writes its status.
func (a *Agent) syncNode(ctx context.Context) error {
	nodes := store.For[*core.Node](a.s)
	m, err := a.machine()
	if err != nil {
		return err
	}
	key := apis.Key{Name: a.node}
	n, err := nodes.Get(ctx, key, store.GetOptions{})
	if errors.Is(err, store.ErrNotFound) {
		n = &core.Node{}
		n.Name = a.node
		n.Labels = map[string]string{
			core.LabelHostname: m.Hostname, core.LabelOSStable: runtime.GOOS, core.LabelArchStable: runtime.GOARCH,
		}
		for k, v := range a.opts.Labels {
			n.Labels[k] = v
		}
		n, err = nodes.Create(ctx, n, store.WriteOptions{})
		if errors.Is(err, store.ErrAlreadyExists) {
			n, err = nodes.Get(ctx, key, store.GetOptions{})
		}
	}
	if err != nil {
		return fmt.Errorf("agent: register node %s: %w", a.node, err)
	}
	st := a.nodeStatus(ctx, &n.Status, m)
	n = apis.DeepCopy(n)
	n.Status = st
	if _, err := nodes.UpdateStatus(ctx, n, store.WriteOptions{}); err != nil {
		return fmt.Errorf("agent: node %s status: %w", a.node, err)
	}
	return nil
}

func (a *Agent) nodeLoop(ctx context.Context) {
	for {
		if !a.retry(ctx, "node status", a.syncNode) {
			return
		}
		if !a.sleep(ctx, a.opts.StatusInterval) {
			return
		}
	}
}

// renewLease creates or renews the node's Lease in kube-node-lease.
func (a *Agent) renewLease(ctx context.Context) error {
	leases := store.For[*coordination.Lease](a.s)
	key := apis.Key{Namespace: "kube-node-lease", Name: a.node}
	now := apis.MicroTime{Time: a.clock.Now()}
	dur := int32(a.opts.LeaseDuration / time.Second)
	l, err := leases.Get(ctx, key, store.GetOptions{})
	if errors.Is(err, store.ErrNotFound) {
		l = &coordination.Lease{}
		l.Namespace, l.Name = key.Namespace, key.Name
		holder := a.node
		l.Spec = coordination.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now}
		l.OwnerReferences = nil
		_, err = leases.Create(ctx, l, store.WriteOptions{})
		if err != nil {
			return fmt.Errorf("agent: create lease %s: %w", a.node, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("agent: get lease %s: %w", a.node, err)
	}
	l = apis.DeepCopy(l)
	holder := a.node
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &holder, &dur, &now
	if _, err := leases.Update(ctx, l, store.WriteOptions{}); err != nil {
		return fmt.Errorf("agent: renew lease %s: %w", a.node, err)
	}
	return nil
}

func (a *Agent) leaseLoop(ctx context.Context) {
	for {
		if !a.retry(ctx, "lease", a.renewLease) {
			return
		}
		if !a.sleep(ctx, a.opts.LeaseInterval) {
			return
		}
	}
}
