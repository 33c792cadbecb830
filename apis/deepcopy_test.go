package apis

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchPod is shaped like a core.Pod: metadata with maps and owner
// references, a spec with containers, pointers, nested slices and a RawJSON,
// and a status with times and conditions.
type benchPod struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata"`
	Spec       benchPodSpec   `json:"spec"`
	Status     benchPodStatus `json:"status,omitzero"`
}

type benchPodSpec struct {
	NodeName                      string            `json:"nodeName,omitempty"`
	RestartPolicy                 string            `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds,omitempty"`
	NodeSelector                  map[string]string `json:"nodeSelector,omitempty"`
	Containers                    []benchContainer  `json:"containers"`
	Volumes                       []benchVolume     `json:"volumes,omitempty"`
	HostNetwork                   bool              `json:"hostNetwork,omitempty"`
	Extra                         RawJSON           `json:"extra,omitempty"`
}

type benchContainer struct {
	Name            string            `json:"name"`
	Image           string            `json:"image"`
	Command         []string          `json:"command,omitempty"`
	Args            []string          `json:"args,omitempty"`
	Env             []benchEnvVar     `json:"env,omitempty"`
	Ports           []benchPort       `json:"ports,omitempty"`
	Limits          map[string]string `json:"limits,omitempty"`
	ImagePullPolicy string            `json:"imagePullPolicy,omitempty"`
	Privileged      *bool             `json:"privileged,omitempty"`
}

type benchEnvVar struct {
	Name      string          `json:"name"`
	Value     string          `json:"value,omitempty"`
	ValueFrom *benchEnvSource `json:"valueFrom,omitempty"`
}

type benchEnvSource struct {
	ConfigMapName string `json:"configMapName"`
	Key           string `json:"key"`
	Optional      *bool  `json:"optional,omitempty"`
}

type benchPort struct {
	Name          string `json:"name,omitempty"`
	ContainerPort int32  `json:"containerPort"`
	Protocol      string `json:"protocol,omitempty"`
}

type benchVolume struct {
	Name      string `json:"name"`
	ConfigMap *struct {
		Name  string   `json:"name"`
		Items []string `json:"items,omitempty"`
	} `json:"configMap,omitempty"`
}

type benchPodStatus struct {
	Phase      string      `json:"phase,omitempty"`
	PodIP      string      `json:"podIP,omitempty"`
	StartTime  *Time       `json:"startTime,omitempty"`
	Conditions []Condition `json:"conditions,omitempty"`
}

func dcPtr[T any](v T) *T { return &v }

func newBenchPod() *benchPod {
	now := NewTime(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	return &benchPod{
		TypeMeta: TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: ObjectMeta{
			Name: "web-7d4b9c-abcde", Namespace: "default", UID: "0b0e7f4a-0000-4000-8000-000000000001",
			ResourceVersion: "12345", Generation: 1, CreationTimestamp: now,
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7d4b9c", "tier": "frontend"},
			Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-11-21T12:00:00Z"},
			OwnerReferences: []OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d4b9c",
				UID: "0b0e7f4a-0000-4000-8000-000000000002", Controller: dcPtr(true), BlockOwnerDeletion: dcPtr(true)}},
			Finalizers: []string{"example.com/cleanup"},
		},
		Spec: benchPodSpec{
			NodeName: "node-1", RestartPolicy: "Always", TerminationGracePeriodSeconds: dcPtr(int64(30)),
			NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
			Containers: []benchContainer{
				{Name: "web", Image: "nginx:1.27", Command: []string{"nginx"}, Args: []string{"-g", "daemon off;"},
					Env:    []benchEnvVar{{Name: "MODE", Value: "prod"}, {Name: "KEY", ValueFrom: &benchEnvSource{ConfigMapName: "cfg", Key: "key", Optional: dcPtr(false)}}},
					Ports:  []benchPort{{Name: "http", ContainerPort: 80, Protocol: "TCP"}, {Name: "https", ContainerPort: 443, Protocol: "TCP"}},
					Limits: map[string]string{"cpu": "500m", "memory": "256Mi"}, ImagePullPolicy: "IfNotPresent", Privileged: dcPtr(false)},
				{Name: "sidecar", Image: "busybox:1.36", Command: []string{"sh", "-c", "sleep infinity"},
					Limits: map[string]string{"cpu": "100m"}, ImagePullPolicy: "IfNotPresent"},
			},
			Volumes: []benchVolume{{Name: "cfg", ConfigMap: &struct {
				Name  string   `json:"name"`
				Items []string `json:"items,omitempty"`
			}{Name: "cfg", Items: []string{"a.conf"}}}},
			Extra: RawJSON(`{"x":1}`),
		},
		Status: benchPodStatus{Phase: "Running", PodIP: "10.0.0.7", StartTime: &now,
			Conditions: []Condition{{Type: "Ready", Status: ConditionTrue, LastTransitionTime: now}, {Type: "PodScheduled", Status: ConditionTrue, LastTransitionTime: now}}},
	}
}

// handCopyPod is what generated DeepCopy code does for benchPod, written out.
func handCopyPod(in *benchPod) *benchPod {
	out := new(benchPod)
	*out = *in
	m := &out.ObjectMeta
	cloneStrMap := func(s map[string]string) map[string]string {
		if s == nil {
			return nil
		}
		o := make(map[string]string, len(s))
		for k, v := range s {
			o[k] = v
		}
		return o
	}
	cloneStrs := func(s []string) []string {
		if s == nil {
			return nil
		}
		o := make([]string, len(s))
		copy(o, s)
		return o
	}
	m.Labels = cloneStrMap(in.Labels)
	m.Annotations = cloneStrMap(in.Annotations)
	m.Finalizers = cloneStrs(in.Finalizers)
	if in.DeletionTimestamp != nil {
		t := *in.DeletionTimestamp
		m.DeletionTimestamp = &t
	}
	if in.DeletionGracePeriodSeconds != nil {
		v := *in.DeletionGracePeriodSeconds
		m.DeletionGracePeriodSeconds = &v
	}
	if in.OwnerReferences != nil {
		m.OwnerReferences = make([]OwnerReference, len(in.OwnerReferences))
		for i, r := range in.OwnerReferences {
			m.OwnerReferences[i] = r
			if r.Controller != nil {
				v := *r.Controller
				m.OwnerReferences[i].Controller = &v
			}
			if r.BlockOwnerDeletion != nil {
				v := *r.BlockOwnerDeletion
				m.OwnerReferences[i].BlockOwnerDeletion = &v
			}
		}
	}
	if in.ManagedFields != nil {
		m.ManagedFields = make([]ManagedFieldsEntry, len(in.ManagedFields))
		for i, e := range in.ManagedFields {
			m.ManagedFields[i] = e
			if e.Time != nil {
				t := *e.Time
				m.ManagedFields[i].Time = &t
			}
			if e.FieldsV1 != nil {
				r := append(RawJSON(nil), *e.FieldsV1...)
				m.ManagedFields[i].FieldsV1 = &r
			}
		}
	}
	s := &out.Spec
	if in.Spec.TerminationGracePeriodSeconds != nil {
		v := *in.Spec.TerminationGracePeriodSeconds
		s.TerminationGracePeriodSeconds = &v
	}
	s.NodeSelector = cloneStrMap(in.Spec.NodeSelector)
	if in.Spec.Containers != nil {
		s.Containers = make([]benchContainer, len(in.Spec.Containers))
		for i, c := range in.Spec.Containers {
			oc := &s.Containers[i]
			*oc = c
			oc.Command = cloneStrs(c.Command)
			oc.Args = cloneStrs(c.Args)
			oc.Limits = cloneStrMap(c.Limits)
			if c.Privileged != nil {
				v := *c.Privileged
				oc.Privileged = &v
			}
			if c.Ports != nil {
				oc.Ports = append([]benchPort(nil), c.Ports...)
			}
			if c.Env != nil {
				oc.Env = make([]benchEnvVar, len(c.Env))
				for j, e := range c.Env {
					oc.Env[j] = e
					if e.ValueFrom != nil {
						vf := *e.ValueFrom
						if vf.Optional != nil {
							v := *vf.Optional
							vf.Optional = &v
						}
						oc.Env[j].ValueFrom = &vf
					}
				}
			}
		}
	}
	if in.Spec.Volumes != nil {
		s.Volumes = make([]benchVolume, len(in.Spec.Volumes))
		for i, v := range in.Spec.Volumes {
			s.Volumes[i] = v
			if v.ConfigMap != nil {
				cm := *v.ConfigMap
				cm.Items = cloneStrs(cm.Items)
				s.Volumes[i].ConfigMap = &cm
			}
		}
	}
	if in.Spec.Extra != nil {
		s.Extra = append(RawJSON(nil), in.Spec.Extra...)
	}
	if in.Status.StartTime != nil {
		t := *in.Status.StartTime
		out.Status.StartTime = &t
	}
	if in.Status.Conditions != nil {
		out.Status.Conditions = append([]Condition(nil), in.Status.Conditions...)
	}
	return out
}

// sharedMemory returns the path of the first pointer, slice or map that a
// and b share, or "" when they share none (what a deep copy guarantees).
func sharedMemory(a, b reflect.Value, path string) string {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.Type() == reflect.TypeFor[*time.Location]() {
			return ""
		}
		if a.Pointer() == b.Pointer() && a.Type().Elem().Size() > 0 {
			return path
		}
		return sharedMemory(a.Elem(), b.Elem(), "(*"+path+")")
	case reflect.Slice:
		if a.IsNil() || b.IsNil() || a.Cap() == 0 {
			return ""
		}
		if a.Pointer() == b.Pointer() {
			return path
		}
		for i := range a.Len() {
			if p := sharedMemory(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	case reflect.Map:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		if a.UnsafePointer() == b.UnsafePointer() {
			return path
		}
		for it := a.MapRange(); it.Next(); {
			if p := sharedMemory(it.Value(), b.MapIndex(it.Key()), fmt.Sprintf("%s[%v]", path, it.Key())); p != "" {
				return p
			}
		}
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return ""
		}
		return sharedMemory(a.Elem(), b.Elem(), path)
	case reflect.Struct:
		for i := range a.NumField() {
			if p := sharedMemory(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); p != "" {
				return p
			}
		}
	case reflect.Array:
		for i := range a.Len() {
			if p := sharedMemory(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

func checkDeepCopy[T any](t *testing.T, in T) T {
	t.Helper()
	out := DeepCopy(in)
	require.Equal(t, in, out)
	assert.Empty(t, sharedMemory(reflect.ValueOf(&in).Elem(), reflect.ValueOf(&out).Elem(), "v"), "shares memory")
	return out
}

type dcTreeNode struct {
	Name string
	Kids []dcTreeNode
	Next *dcTreeNode
	Meta map[string]*dcTreeNode
}

type dcWithUnexported struct {
	public  []int
	private map[string][]byte
	iface   any
	arr     [2]*int
	empty   [0]*int
	fn      func() int
	ch      chan int
	mp      map[[2]int]any
}

func TestDeepCopyPod(t *testing.T) {
	in := newBenchPod()
	out := checkDeepCopy(t, in)
	require.Equal(t, handCopyPod(in), out)

	// Changes to the copy do not show in the original.
	out.Labels["app"] = "changed"
	out.Spec.Containers[0].Env[1].ValueFrom.Key = "changed"
	*out.Spec.Containers[0].Privileged = true
	out.Spec.Volumes[0].ConfigMap.Items[0] = "changed"
	out.Spec.Extra[2] = 'y'
	out.Status.StartTime.Time = time.Time{}
	assert.Equal(t, newBenchPod(), in)
}

func TestDeepCopyAnyShape(t *testing.T) {
	one := 1
	checkDeepCopy(t, 42)
	checkDeepCopy(t, "s")
	checkDeepCopy(t, []string{"a", "b"})
	checkDeepCopy(t, map[string]string{"a": "b"})
	checkDeepCopy(t, map[string][]int{"a": {1}, "b": nil})
	checkDeepCopy(t, []*int{&one, nil})
	checkDeepCopy(t, &[]map[string]*int{{"x": &one}})
	checkDeepCopy(t, RawJSON(`{"a":1}`))
	checkDeepCopy(t, &RawJSON{'1'})
	checkDeepCopy(t, NewTime(time.Now()))
	checkDeepCopy(t, []Time{NewTime(time.Now())})
	checkDeepCopy(t, any(map[string]any{"a": []any{1, "x", map[string]any{"b": true}}}))
	checkDeepCopy(t, &LabelSelector{MatchLabels: map[string]string{"a": "b"}, MatchExpressions: []LabelSelectorRequirement{{Key: "k", Operator: LabelSelectorOpIn, Values: []string{"v"}}}})
	checkDeepCopy(t, &ManagedFieldsEntry{Manager: "m", FieldsV1: &RawJSON{'{', '}'}, Time: &Time{time.Now()}})

	tree := &dcTreeNode{Name: "root", Kids: []dcTreeNode{{Name: "a", Kids: []dcTreeNode{{Name: "a1"}}}, {Name: "b", Next: &dcTreeNode{Name: "n"}}},
		Meta: map[string]*dcTreeNode{"m": {Name: "m", Kids: []dcTreeNode{{Name: "m1"}}}}}
	checkDeepCopy(t, tree)

	// Unexported fields are copied too; funcs and channels are shared handles.
	ch := make(chan int)
	w := dcWithUnexported{public: []int{1}, private: map[string][]byte{"k": []byte("v")}, iface: &one, arr: [2]*int{&one, nil},
		fn: func() int { return 1 }, ch: ch, mp: map[[2]int]any{{1, 2}: []int{3}}}
	c := DeepCopy(w)
	assert.Empty(t, sharedMemory(reflect.ValueOf(&w).Elem(), reflect.ValueOf(&c).Elem(), "w"))
	assert.Equal(t, 1, c.fn())
	assert.Equal(t, ch, c.ch)
	assert.Equal(t, w.private, c.private)
	assert.Equal(t, w.mp, c.mp)
	assert.Equal(t, 1, *c.iface.(*int))
	assert.NotSame(t, w.iface.(*int), c.iface.(*int))
}

func TestDeepCopyNilAndEmpty(t *testing.T) {
	type s struct {
		NilSlice   []string
		EmptySlice []string
		NilMap     map[string]string
		EmptyMap   map[string]string
		NilPtr     *int
		NilIface   any
		NilStructs []Condition
		EmptyRaw   RawJSON
	}
	in := s{EmptySlice: []string{}, EmptyMap: map[string]string{}, NilStructs: nil, EmptyRaw: RawJSON{}}
	out := DeepCopy(in)
	assert.Nil(t, out.NilSlice)
	assert.NotNil(t, out.EmptySlice)
	assert.Empty(t, out.EmptySlice)
	assert.Nil(t, out.NilMap)
	assert.NotNil(t, out.EmptyMap)
	assert.Nil(t, out.NilPtr)
	assert.Nil(t, out.NilIface)
	assert.Nil(t, out.NilStructs)
	assert.NotNil(t, out.EmptyRaw)
	assert.Nil(t, DeepCopy[*benchPod](nil))
	assert.Nil(t, DeepCopy[Object](nil))
}

func TestDeepCopyObjectInterface(t *testing.T) {
	var obj Object = newBenchPod()
	cp := DeepCopy(obj)
	require.IsType(t, &benchPod{}, cp)
	assert.NotSame(t, obj, cp)
	assert.Equal(t, obj, cp)
	cp.Meta().Labels["app"] = "x"
	assert.Equal(t, "web", obj.Meta().Labels["app"])
}

func TestDeepCopyConcurrent(t *testing.T) {
	// Plans for new types are built while other goroutines copy.
	type fresh struct {
		A []map[string]*int
		B *fresh
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				p := newBenchPod()
				require.Equal(t, p, DeepCopy(p))
				v := &fresh{A: []map[string]*int{{"a": dcPtr(1)}}, B: &fresh{}}
				require.Equal(t, v, DeepCopy(v))
			}
		})
	}
	wg.Wait()
}

func TestPointerFree(t *testing.T) {
	assert.True(t, pointerFree(reflect.TypeFor[int32]()))
	assert.True(t, pointerFree(reflect.TypeFor[struct {
		A int
		B [2]bool
	}]()))
	assert.False(t, pointerFree(reflect.TypeFor[string]()))
	assert.False(t, pointerFree(reflect.TypeFor[Time]()))
	assert.Equal(t, uintptr(8), unsafe.Sizeof(uintptr(0)))
}

func BenchmarkDeepCopyPod(b *testing.B) {
	in := newBenchPod()
	b.Run("reflect-plan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = DeepCopy(in)
		}
	})
	b.Run("hand-written", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = handCopyPod(in)
		}
	})
	b.Run("json-round-trip", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			j, err := json.Marshal(in)
			if err != nil {
				b.Fatal(err)
			}
			var out benchPod
			if err := json.Unmarshal(j, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDeepCopySmall(b *testing.B) {
	b.Run("labels", func(b *testing.B) {
		m := map[string]string{"app": "web", "tier": "frontend"}
		b.ReportAllocs()
		for b.Loop() {
			_ = DeepCopy(m)
		}
	})
	b.Run("scalar-struct", func(b *testing.B) {
		v := OwnerReference{APIVersion: "v1", Kind: "Pod", Name: "a", UID: "u"}
		b.ReportAllocs()
		for b.Loop() {
			_ = DeepCopy(v)
		}
	})
}
