package agent

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/kubelet"
)

// containerEnv builds a container's environment: service variables first,
// then envFrom, then env (later ones win, as in the kubelet), with $(VAR)
// references to earlier variables expanded.
func (a *Agent) containerEnv(pod *core.Pod, c *core.Container, podIP string) ([]kubelet.KeyValue, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		for _, kv := range a.serviceEnv(pod.Namespace) {
			set(kv.Key, kv.Value)
		}
	}
	for i, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, ok := a.configMaps.Get(apis.Key{Namespace: pod.Namespace, Name: ef.ConfigMapRef.Name})
			if !ok {
				if isTrue(ef.ConfigMapRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("%w: envFrom[%d]: configmap %q not found", ErrInvalid, i, ef.ConfigMapRef.Name)
			}
			for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
				set(ef.Prefix+k, cm.Data[k])
			}
		case ef.SecretRef != nil:
			sec, ok := a.secrets.Get(apis.Key{Namespace: pod.Namespace, Name: ef.SecretRef.Name})
			if !ok {
				if isTrue(ef.SecretRef.Optional) {
					continue
				}
				return nil, fmt.Errorf("%w: envFrom[%d]: secret %q not found", ErrInvalid, i, ef.SecretRef.Name)
			}
			for _, k := range slices.Sorted(maps.Keys(sec.Data)) {
				set(ef.Prefix+k, string(sec.Data[k]))
			}
		}
	}
	for i, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vars))
			continue
		}
		v, ok, err := a.envValue(pod, c, podIP, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env[%d] (%s): %w", i, e.Name, err)
		}
		if ok {
			set(e.Name, v)
		}
	}
	out := make([]kubelet.KeyValue, 0, len(order))
	for _, k := range order {
		out = append(out, kubelet.KeyValue{Key: k, Value: vars[k]})
	}
	return out, nil
}

// expand replaces $(NAME) with earlier variables; $$ escapes a dollar.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				name := s[i+2 : i+2+end]
				if v, ok := vars[name]; ok {
					b.WriteString(v)
				} else {
					b.WriteString(s[i : i+3+end])
				}
				i += 2 + end
				continue
			}
			b.WriteByte('$')
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func isTrue(b *bool) bool { return b != nil && *b }

// envValue resolves a valueFrom; ok is false for a missing optional key.
func (a *Agent) envValue(pod *core.Pod, c *core.Container, podIP string, src *core.EnvVarSource) (string, bool, error) {
	switch {
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		cm, ok := a.configMaps.Get(apis.Key{Namespace: pod.Namespace, Name: r.Name})
		if ok {
			if v, ok := cm.Data[r.Key]; ok {
				return v, true, nil
			}
		}
		if isTrue(r.Optional) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%w: configMapKeyRef: key %q of configmap %q not found", ErrInvalid, r.Key, r.Name)
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		sec, ok := a.secrets.Get(apis.Key{Namespace: pod.Namespace, Name: r.Name})
		if ok {
			if v, ok := sec.Data[r.Key]; ok {
				return string(v), true, nil
			}
		}
		if isTrue(r.Optional) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%w: secretKeyRef: key %q of secret %q not found", ErrInvalid, r.Key, r.Name)
	case src.FieldRef != nil:
		v, err := a.fieldValue(pod, podIP, src.FieldRef.FieldPath)
		return v, err == nil, err
	case src.ResourceFieldRef != nil:
		v, err := resourceValue(pod, c, src.ResourceFieldRef)
		return v, err == nil, err
	}
	return "", false, fmt.Errorf("%w: valueFrom has no source", ErrInvalid)
}

// fieldValue is the downward API's view of a pod field.
func (a *Agent) fieldValue(pod *core.Pod, podIP, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return a.hostIP, nil
	}
	for _, p := range []struct {
		prefix string
		m      map[string]string
	}{{"metadata.labels['", pod.Labels}, {"metadata.annotations['", pod.Annotations}} {
		if rest, ok := strings.CutPrefix(path, p.prefix); ok {
			if k, ok := strings.CutSuffix(rest, "']"); ok {
				return p.m[k], nil
			}
		}
	}
	return "", fmt.Errorf("%w: fieldRef: unsupported fieldPath %q", ErrInvalid, path)
}

// formatMap renders labels as the downward API does: key="value" lines, sorted.
func formatMap(m map[string]string) string {
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}

// resourceValue is a container's request or limit in units of the divisor
// (rounded up), as the downward API exposes it.
func resourceValue(pod *core.Pod, c *core.Container, r *core.ResourceFieldSelector) (string, error) {
	if r.ContainerName != "" {
		c = nil
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == r.ContainerName {
				c = &pod.Spec.Containers[i]
			}
		}
		if c == nil {
			return "", fmt.Errorf("%w: resourceFieldRef: no container %q", ErrInvalid, r.ContainerName)
		}
	}
	kind, name, ok := strings.Cut(r.Resource, ".")
	if !ok || (kind != "limits" && kind != "requests") {
		return "", fmt.Errorf("%w: resourceFieldRef: unsupported resource %q", ErrInvalid, r.Resource)
	}
	list := c.Resources.Requests
	if kind == "limits" {
		list = c.Resources.Limits
	}
	q, has := list[core.ResourceName(name)]
	if !has {
		// An unset limit is the node's allocatable; report 0 requests as 0.
		if kind == "limits" {
			return "0", nil
		}
		q = resource.NewQuantity(0, resource.DecimalSI)
	}
	div := r.Divisor
	if div.IsZero() {
		div = resource.NewQuantity(1, resource.DecimalSI)
	}
	if name == string(core.ResourceCPU) {
		return strconv.FormatInt(ceilDiv(q.MilliValue(), div.MilliValue()), 10), nil
	}
	return strconv.FormatInt(ceilDiv(q.Value(), max(div.Value(), 1)), 10), nil
}

func ceilDiv(a, b int64) int64 {
	if b <= 0 {
		return a
	}
	return (a + b - 1) / b
}

// serviceEnv is the variables of the Services of a namespace, as the kubelet
// sets them: REDIS_MASTER_SERVICE_HOST, _SERVICE_PORT[_NAME], and the Docker
// link style REDIS_MASTER_PORT=tcp://ip:port and REDIS_MASTER_PORT_6379_TCP*.
func (a *Agent) serviceEnv(ns string) []kubelet.KeyValue {
	svcs := a.services.ListNamespace(ns)
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].Name < svcs[j].Name })
	var out []kubelet.KeyValue
	add := func(k, v string) { out = append(out, kubelet.KeyValue{Key: k, Value: v}) }
	for _, s := range svcs {
		ip := s.Spec.ClusterIP
		if ip == "" || ip == "None" || len(s.Spec.Ports) == 0 {
			continue
		}
		name := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
		first := s.Spec.Ports[0]
		add(name+"_SERVICE_HOST", ip)
		add(name+"_SERVICE_PORT", strconv.Itoa(int(first.Port)))
		for _, p := range s.Spec.Ports {
			if p.Name != "" {
				add(name+"_SERVICE_PORT_"+strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_")), strconv.Itoa(int(p.Port)))
			}
		}
		proto := strings.ToLower(string(first.Protocol))
		if proto == "" {
			proto = "tcp"
		}
		add(name+"_PORT", fmt.Sprintf("%s://%s:%d", proto, ip, first.Port))
		for _, p := range s.Spec.Ports {
			pr := string(p.Protocol)
			if pr == "" {
				pr = "TCP"
			}
			prefix := fmt.Sprintf("%s_PORT_%d_%s", name, p.Port, strings.ToUpper(pr))
			add(prefix, fmt.Sprintf("%s://%s:%d", strings.ToLower(pr), ip, p.Port))
			add(prefix+"_PROTO", strings.ToLower(pr))
			add(prefix+"_PORT", strconv.Itoa(int(p.Port)))
			add(prefix+"_ADDR", ip)
		}
	}
	return out
}

// setupVolumes makes the pod's volumes on disk and returns their host paths
// by name. ConfigMap, Secret and downward API volumes are rewritten when
// their content changes, atomically: files live in a timestamped directory
// that the ..data symlink points at, and each key is a symlink through
// ..data, so a reader sees the old set or the new one, never half.
func (a *Agent) setupVolumes(pod *core.Pod, st *podState) (map[string]string, error) {
	out := map[string]string{}
	for i, v := range pod.Spec.Volumes {
		dir := filepath.Join(a.podDir(st.uid), "volumes", v.Name)
		var files map[string][]byte
		switch {
		case v.EmptyDir != nil:
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, fmt.Errorf("agent: volume %s: %w", v.Name, err)
			}
			_ = os.Chmod(dir, 0o777)
			if err := applyFSGroup(pod, dir); err != nil {
				return nil, fmt.Errorf("agent: volume %s: fsGroup: %w", v.Name, err)
			}
		case v.HostPath != nil:
			dir = v.HostPath.Path
		case v.ConfigMap != nil:
			cm, ok := a.configMaps.Get(apis.Key{Namespace: pod.Namespace, Name: v.ConfigMap.Name})
			if !ok && !isTrue(v.ConfigMap.Optional) {
				return nil, fmt.Errorf("%w: volumes[%d] (%s): configmap %q not found", ErrInvalid, i, v.Name, v.ConfigMap.Name)
			}
			files = map[string][]byte{}
			if ok {
				data := map[string][]byte{}
				for k, s := range cm.Data {
					data[k] = []byte(s)
				}
				maps.Copy(data, cm.BinaryData)
				if err := project(files, data, v.ConfigMap.Items, v.Name); err != nil {
					return nil, err
				}
			}
		case v.Secret != nil:
			sec, ok := a.secrets.Get(apis.Key{Namespace: pod.Namespace, Name: v.Secret.SecretName})
			if !ok && !isTrue(v.Secret.Optional) {
				return nil, fmt.Errorf("%w: volumes[%d] (%s): secret %q not found", ErrInvalid, i, v.Name, v.Secret.SecretName)
			}
			files = map[string][]byte{}
			if ok {
				if err := project(files, sec.Data, v.Secret.Items, v.Name); err != nil {
					return nil, err
				}
			}
		case v.DownwardAPI != nil:
			files = map[string][]byte{}
			for _, it := range v.DownwardAPI.Items {
				var val string
				var err error
				switch {
				case it.FieldRef != nil:
					val, err = a.fieldValue(pod, st.ip, it.FieldRef.FieldPath)
				case it.ResourceFieldRef != nil:
					val, err = resourceValue(pod, &pod.Spec.Containers[0], it.ResourceFieldRef)
				}
				if err != nil {
					return nil, fmt.Errorf("volumes[%d] (%s): %s: %w", i, v.Name, it.Path, err)
				}
				files[it.Path] = []byte(val)
			}
		default:
			return nil, fmt.Errorf("%w: volumes[%d] (%s): volume type not supported by this agent", ErrInvalid, i, v.Name)
		}
		if files != nil {
			if err := writeAtomic(dir, files, a.clock.Now().UnixNano()); err != nil {
				return nil, fmt.Errorf("agent: volume %s: %w", v.Name, err)
			}
		}
		out[v.Name] = dir
	}
	return out, nil
}

// project picks the files of a volume: every key, or the listed items.
func project(files, data map[string][]byte, items []core.KeyToPath, vol string) error {
	if len(items) == 0 {
		maps.Copy(files, data)
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			return fmt.Errorf("%w: volume %s: key %q not found", ErrInvalid, vol, it.Key)
		}
		files[it.Path] = v
	}
	return nil
}

// writeAtomic publishes files under dir through the ..data symlink; it does
// nothing when the content is unchanged.
func writeAtomic(dir string, files map[string][]byte, stamp int64) error {
	for p := range files {
		if p == "" || strings.HasPrefix(p, "..") || filepath.IsAbs(p) || strings.Contains(p, "/../") {
			return fmt.Errorf("%w: file path %q", ErrInvalid, p)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dataLink := filepath.Join(dir, "..data")
	if cur, err := os.Readlink(dataLink); err == nil && sameFiles(filepath.Join(dir, cur), files) {
		return nil
	}
	ts := fmt.Sprintf("..%d", stamp)
	tsDir := filepath.Join(dir, ts)
	for p, b := range files {
		f := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f, b, 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(tsDir, 0o755); err != nil {
		return err
	}
	old, _ := os.Readlink(dataLink)
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(ts, tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, dataLink); err != nil {
		return err
	}
	// Top-level names link through ..data; stale ones go.
	want := map[string]bool{}
	for p := range files {
		top, _, _ := strings.Cut(p, "/")
		want[top] = true
		link := filepath.Join(dir, top)
		if _, err := os.Lstat(link); err != nil {
			if err := os.Symlink(filepath.Join("..data", top), link); err != nil {
				return err
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "..") && !want[e.Name()] {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if old != "" && old != ts {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}

func sameFiles(dir string, files map[string][]byte) bool {
	n := 0
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, files[rel]) {
			return os.ErrNotExist
		}
		return nil
	})
	return err == nil && n == len(files)
}
