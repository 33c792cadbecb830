package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/resource"
	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/fake"
	"github.com/gantry-sdk/gantry/store"
)

func TestConfigMapVolumeUpdatesInPlace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		ctx := context.Background()
		cm := &core.ConfigMap{Data: map[string]string{"redis-config": "maxmemory 2mb"}}
		cm.Namespace, cm.Name = "default", "example-redis-config"
		cm, err := store.For[*core.ConfigMap](h.s).Create(ctx, cm, store.WriteOptions{})
		require.NoError(t, err)
		p := simplePod("redis", "redis")
		p.Spec.Volumes = []core.Volume{{Name: "config", VolumeSource: core.VolumeSource{ConfigMap: &core.ConfigMapVolumeSource{
			LocalObjectReference: core.LocalObjectReference{Name: "example-redis-config"},
			Items:                []core.KeyToPath{{Key: "redis-config", Path: "redis.conf"}},
		}}}, {Name: "data", VolumeSource: core.VolumeSource{EmptyDir: &core.EmptyDirVolumeSource{}}}}
		p.Spec.Containers[0].VolumeMounts = []core.VolumeMount{{Name: "config", MountPath: "/redis-master"}, {Name: "data", MountPath: "/redis-master-data"}}
		p = h.create(p)
		h.eventually(5*time.Second, "running", h.phase("redis", core.PodRunning))
		file := filepath.Join(h.opts.RootDir, "pods", string(p.UID), "volumes", "config", "redis.conf")
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, "maxmemory 2mb", string(b))
		assert.DirExists(t, filepath.Join(h.opts.RootDir, "pods", string(p.UID), "volumes", "data"))

		cm = apis.DeepCopy(cm)
		cm.Data["redis-config"] = "maxmemory 2mb\nmaxmemory-policy allkeys-lru"
		_, err = store.For[*core.ConfigMap](h.s).Update(ctx, cm, store.WriteOptions{})
		require.NoError(t, err)
		h.eventually(5*time.Second, "file updated", func() bool {
			b, err := os.ReadFile(file)
			return err == nil && string(b) == "maxmemory 2mb\nmaxmemory-policy allkeys-lru"
		})
		target, err := os.Readlink(filepath.Join(filepath.Dir(file), "redis.conf"))
		require.NoError(t, err)
		assert.Equal(t, "..data/redis.conf", target, "keys link through ..data")
		assert.Equal(t, int32(0), cstatus(h.pod("redis"), "redis").RestartCount, "updated without a restart")
	})
}

func TestMissingConfigMapWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		p := simplePod("wait", "app")
		p.Spec.Volumes = []core.Volume{{Name: "c", VolumeSource: core.VolumeSource{ConfigMap: &core.ConfigMapVolumeSource{
			LocalObjectReference: core.LocalObjectReference{Name: "later"}}}}}
		h.create(p)
		time.Sleep(3 * time.Second)
		assert.Equal(t, core.PodPending, h.pod("wait").Status.Phase)
		assert.Contains(t, cstatus(h.pod("wait"), "app").State.Waiting.Message, `configmap "later" not found`)
		cm := &core.ConfigMap{Data: map[string]string{"k": "v"}}
		cm.Namespace, cm.Name = "default", "later"
		_, err := store.For[*core.ConfigMap](h.s).Create(context.Background(), cm, store.WriteOptions{})
		require.NoError(t, err)
		h.eventually(15*time.Second, "running", h.phase("wait", core.PodRunning))
	})
}

func TestContainerEnv(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		ctx := context.Background()
		cm := &core.ConfigMap{Data: map[string]string{"mode": "fast", "LEVEL": "3"}}
		cm.Namespace, cm.Name = "default", "cfg"
		_, err := store.For[*core.ConfigMap](h.s).Create(ctx, cm, store.WriteOptions{})
		require.NoError(t, err)
		sec := &core.Secret{Data: map[string][]byte{"password": []byte("s3cret")}}
		sec.Namespace, sec.Name = "default", "creds"
		_, err = store.For[*core.Secret](h.s).Create(ctx, sec, store.WriteOptions{})
		require.NoError(t, err)
		svc := &core.Service{Spec: core.ServiceSpec{ClusterIP: "10.0.0.11", Ports: []core.ServicePort{{Port: 6379, TargetPort: apis.IntOrStringFromInt(6379)}}}}
		svc.Namespace, svc.Name = "default", "redis-master"
		_, err = store.For[*core.Service](h.s).Create(ctx, svc, store.WriteOptions{})
		require.NoError(t, err)
		h.eventually(time.Second, "caches", func() bool {
			return h.agent.services.Len() == 1 && h.agent.secrets.Len() == 1 && h.agent.configMaps.Len() == 1
		})

		p := simplePod("env", "app")
		p.UID = "uid-1"
		p.Namespace = "default"
		p.Spec.NodeName = "n1"
		p.Labels = map[string]string{"app": "web"}
		p.Spec.Containers[0].Resources.Limits = core.ResourceList{core.ResourceMemory: resource.MustParse("64Mi")}
		p.Spec.Containers[0].EnvFrom = []core.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &core.ConfigMapEnvSource{LocalObjectReference: core.LocalObjectReference{Name: "cfg"}}}}
		p.Spec.Containers[0].Env = []core.EnvVar{
			{Name: "MODE", ValueFrom: &core.EnvVarSource{ConfigMapKeyRef: &core.ConfigMapKeySelector{LocalObjectReference: core.LocalObjectReference{Name: "cfg"}, Key: "mode"}}},
			{Name: "PASS", ValueFrom: &core.EnvVarSource{SecretKeyRef: &core.SecretKeySelector{LocalObjectReference: core.LocalObjectReference{Name: "creds"}, Key: "password"}}},
			{Name: "POD", ValueFrom: &core.EnvVarSource{FieldRef: &core.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "NS", ValueFrom: &core.EnvVarSource{FieldRef: &core.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "UID", ValueFrom: &core.EnvVarSource{FieldRef: &core.ObjectFieldSelector{FieldPath: "metadata.uid"}}},
			{Name: "LABELS", ValueFrom: &core.EnvVarSource{FieldRef: &core.ObjectFieldSelector{FieldPath: "metadata.labels"}}},
			{Name: "IP", ValueFrom: &core.EnvVarSource{FieldRef: &core.ObjectFieldSelector{FieldPath: "status.podIP"}}},
			{Name: "NODE", ValueFrom: &core.EnvVarSource{FieldRef: &core.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
			{Name: "MEM_MI", ValueFrom: &core.EnvVarSource{ResourceFieldRef: &core.ResourceFieldSelector{Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}}},
			{Name: "URL", Value: "redis://$(REDIS_MASTER_SERVICE_HOST):$(REDIS_MASTER_SERVICE_PORT)/$(MODE)"},
			{Name: "MISSING", ValueFrom: &core.EnvVarSource{ConfigMapKeyRef: &core.ConfigMapKeySelector{LocalObjectReference: core.LocalObjectReference{Name: "cfg"}, Key: "nope", Optional: ptr(true)}}},
		}
		env, err := h.agent.containerEnv(p, &p.Spec.Containers[0], "10.88.0.9")
		require.NoError(t, err)
		got := map[string]string{}
		for _, kv := range env {
			got[kv.Key] = kv.Value
		}
		want := map[string]string{
			"CFG_mode": "fast", "CFG_LEVEL": "3", "MODE": "fast", "PASS": "s3cret", "POD": "env", "NS": "default",
			"UID": "uid-1", "LABELS": `app="web"`, "IP": "10.88.0.9", "NODE": "n1", "MEM_MI": "64",
			"URL":                              "redis://10.0.0.11:6379/fast",
			"REDIS_MASTER_SERVICE_HOST":        "10.0.0.11",
			"REDIS_MASTER_SERVICE_PORT":        "6379",
			"REDIS_MASTER_PORT":                "tcp://10.0.0.11:6379",
			"REDIS_MASTER_PORT_6379_TCP":       "tcp://10.0.0.11:6379",
			"REDIS_MASTER_PORT_6379_TCP_PROTO": "tcp",
			"REDIS_MASTER_PORT_6379_TCP_PORT":  "6379",
			"REDIS_MASTER_PORT_6379_TCP_ADDR":  "10.0.0.11",
		}
		assert.Equal(t, want, got)

		// A missing required key is an error naming the variable.
		p.Spec.Containers[0].Env = []core.EnvVar{{Name: "X", ValueFrom: &core.EnvVarSource{SecretKeyRef: &core.SecretKeySelector{LocalObjectReference: core.LocalObjectReference{Name: "creds"}, Key: "nope"}}}}
		_, err = h.agent.containerEnv(p, &p.Spec.Containers[0], "")
		assert.ErrorIs(t, err, ErrInvalid)
		assert.ErrorContains(t, err, "env[0] (X)")
	})
}

func ptr[T any](v T) *T { return &v }

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"$(A)-$(B)": "1-two", "$$(A)": "$(A)", "$(C)": "$(C)", "x$": "x$", "$(A": "$(A", "plain": "plain",
	} {
		assert.Equal(t, want, expand(in, vars), in)
	}
}

func TestDownwardAPIVolume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		p := simplePod("dw", "app")
		p.Labels = map[string]string{"zone": "a"}
		p.Spec.Volumes = []core.Volume{{Name: "info", VolumeSource: core.VolumeSource{DownwardAPI: &core.DownwardAPIVolumeSource{
			Items: []core.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &core.ObjectFieldSelector{FieldPath: "metadata.labels"}}},
		}}}}
		p = h.create(p)
		h.eventually(5*time.Second, "running", h.phase("dw", core.PodRunning))
		b, err := os.ReadFile(filepath.Join(h.opts.RootDir, "pods", string(p.UID), "volumes", "info", "labels"))
		require.NoError(t, err)
		assert.Equal(t, `zone="a"`, string(b))
	})
}

func TestStaticPodsMirrored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		manifest := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n  containers:\n  - name: etcd\n    image: app:v1\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, "etcd.yaml"), []byte(manifest), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("kind: Pod\nmetadata: {name: x}\nspec: {nope: 1}\n"), 0o644))
		h := newHarness(t, Options{StaticPodDir: dir})
		key := apis.Key{Namespace: "kube-system", Name: "etcd-n1"}
		h.eventually(5*time.Second, "mirror running", func() bool {
			p, err := store.For[*core.Pod](h.s).Get(context.Background(), key, store.GetOptions{})
			return err == nil && p.Status.Phase == core.PodRunning && p.Annotations[AnnotationMirror] != ""
		})
		// The mirror comes back when deleted from the store.
		zero := int64(0)
		_, err := store.For[*core.Pod](h.s).Delete(context.Background(), key, store.DeleteOptions{GracePeriodSeconds: &zero})
		require.NoError(t, err)
		h.eventually(30*time.Second, "mirror recreated", func() bool {
			p, err := store.For[*core.Pod](h.s).Get(context.Background(), key, store.GetOptions{})
			return err == nil && p.Status.Phase == core.PodRunning
		})
		// Removing the manifest removes the pod (once every manifest reads:
		// while one fails, mirrors are kept rather than guessed away).
		require.NoError(t, os.Remove(filepath.Join(dir, "etcd.yaml")))
		require.NoError(t, os.Remove(filepath.Join(dir, "bad.yaml")))
		h.eventually(time.Minute, "mirror gone", func() bool {
			_, err := store.For[*core.Pod](h.s).Get(context.Background(), key, store.GetOptions{})
			return err != nil
		})
	})
}

func TestDecodeStaticPodErrors(t *testing.T) {
	for in, want := range map[string]string{
		"kind: Service\nmetadata: {name: x}\n":                  `kind "Service"`,
		"kind: Pod\nspec: {containers: [{name: a}]}\n":          "metadata.name",
		"kind: Pod\nmetadata: {name: x}\n":                      "spec.containers",
		"kind: Pod\nmetadata: {name: x}\nspec: {bogus: true}\n": "bogus",
		"\x00\x01": "static pod",
	} {
		_, err := DecodeStaticPod([]byte(in), "n1")
		assert.ErrorIs(t, err, ErrInvalid, in)
		assert.ErrorContains(t, err, want, in)
	}
}

func FuzzDecodeStaticPod(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: i}]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeStaticPod(b, "n1")
		if err == nil && (p.Spec.NodeName != "n1" || p.Annotations[AnnotationMirror] == "") {
			t.Fatalf("decoded static pod not bound: %+v", p)
		}
	})
}

func TestLogsHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, Options{})
		h.rt.Script("app", fake.Behavior{Exit: true, ExitAfter: time.Second, ExitCode: 1,
			Logs: []fake.LogEntry{{Stream: "stdout", Line: "hello"}, {Stream: "stderr", Line: "oops"}}})
		h.create(simplePod("logs", "app"))
		h.eventually(time.Minute, "restarted", func() bool { return cstatus(h.pod("logs"), "app").RestartCount >= 1 })
		for _, q := range []string{"", "?previous=true", "?follow=true"} {
			rec := httptest.NewRecorder()
			h.agent.LogsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/containerLogs/default/logs/app"+q, nil))
			assert.Equal(t, http.StatusOK, rec.Code, q)
			assert.Equal(t, "hello\noops\n", rec.Body.String(), q)
		}
		rec := httptest.NewRecorder()
		h.agent.LogsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/containerLogs/default/logs/nope", nil))
		assert.Equal(t, http.StatusNotFound, rec.Code)
		_ = kubelet.ReasonError
	})
}
