package builtin_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/apps"
	"github.com/gantry-sdk/gantry/apis/builtin"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

// splitDocuments splits a multi-document YAML stream on `---` lines.
func splitDocuments(b []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		if len(bytes.TrimSpace(stripComments(cur.Bytes()))) > 0 {
			docs = append(docs, bytes.Clone(cur.Bytes()))
		}
		cur.Reset()
	}
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if t := bytes.TrimRight(line, " \t\r\n"); bytes.Equal(t, []byte("---")) {
			flush()
			continue
		}
		cur.Write(line)
	}
	flush()
	return docs
}

func stripComments(b []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")) {
			out = append(out, line...)
		}
	}
	return out
}

// decode reads one document strictly into the kind its apiVersion and kind name.
func decode(t *testing.T, s *apis.Scheme, doc []byte) (apis.Object, *apis.KindInfo, error) {
	t.Helper()
	var tm apis.TypeMeta
	require.NoError(t, yaml.Unmarshal(doc, &tm))
	k, err := s.Lookup(tm.GroupVersionKind())
	if err != nil {
		return nil, nil, err
	}
	obj := k.New()
	require.NoError(t, yaml.UnmarshalStrict(doc, obj), "strict decode of %s", tm.Kind)
	return obj, k, nil
}

// admit defaults and validates as the store does on create; a manifest
// without a namespace lands in "default", as kubectl applies it.
func admit(k *apis.KindInfo, obj apis.Object) field.ErrorList {
	if k.Namespaced() && obj.Meta().Namespace == "" {
		obj.Meta().Namespace = core.NamespaceDefault
	}
	k.Default(obj)
	return k.Validate(obj)
}

func readManifest(t *testing.T, name string) []byte {
	t.Helper()
	return readFile(t, filepath.Join("..", "testdata", "manifests", name))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestManifestContents checks what defaulting makes of the shared manifests'
// values; apis/manifests_test.go checks that they decode and validate, and
// that each document of invalid.yaml names its field.
func TestManifestContents(t *testing.T) {
	s, err := builtin.NewScheme()
	require.NoError(t, err)

	docs := splitDocuments(readManifest(t, "deployment-gobackend.yaml"))
	require.Len(t, docs, 2)
	obj, k, err := decode(t, s, docs[0])
	require.NoError(t, err)
	require.Empty(t, admit(k, obj))
	d := obj.(*apps.Deployment)
	assert.Equal(t, int32(2), *d.Spec.Replicas)
	c := d.Spec.Template.Spec.Containers[0]
	assert.Equal(t, "512Mi", c.Resources.Limits.Memory().String())
	assert.Equal(t, int64(1000), c.Resources.Limits.Cpu().MilliValue())
	assert.Equal(t, "200m", c.Resources.Requests.Cpu().String())
	assert.Equal(t, core.PullIfNotPresent, c.ImagePullPolicy, "tag v1")
	assert.Equal(t, "25%", d.Spec.Strategy.RollingUpdate.MaxSurge.String())
	assert.Equal(t, int32(600), *d.Spec.ProgressDeadlineSeconds)

	obj, k, err = decode(t, s, docs[1])
	require.NoError(t, err)
	require.Empty(t, admit(k, obj))
	svc := obj.(*core.Service)
	assert.Equal(t, core.ServiceTypeClusterIP, svc.Spec.Type)
	assert.Equal(t, apis.IntOrStringFromInt(8080), svc.Spec.Ports[0].TargetPort)
	assert.Equal(t, core.ProtocolTCP, svc.Spec.Ports[0].Protocol)

	// kubectl -o yaml output: status, managedFields and server-set metadata survive.
	obj, _, err = decode(t, s, splitDocuments(readManifest(t, "deployment-by-get-o-yaml.yaml"))[0])
	require.NoError(t, err)
	d = obj.(*apps.Deployment)
	assert.Equal(t, "4455", d.ResourceVersion)
	assert.Equal(t, "5699d40d-472f-4348-9975-62c2c332e334", d.UID)
	require.Len(t, d.ManagedFields, 1)
	assert.Equal(t, "kubectl-create", d.ManagedFields[0].Manager)
	require.Len(t, d.Status.Conditions, 2)
	assert.Equal(t, apps.DeploymentAvailable, d.Status.Conditions[0].Type)
	assert.Equal(t, int32(1), d.Status.AvailableReplicas)
	assert.Equal(t, core.PullAlways, d.Spec.Template.Spec.Containers[0].ImagePullPolicy)

	obj, k, err = decode(t, s, splitDocuments(readManifest(t, "pod-configmap-volume.yaml"))[0])
	require.NoError(t, err)
	require.Empty(t, admit(k, obj))
	pod := obj.(*core.Pod)
	assert.Equal(t, "myconfigmap", pod.Spec.Volumes[0].ConfigMap.Name)
	assert.True(t, pod.Spec.Containers[0].VolumeMounts[0].ReadOnly)
	assert.Equal(t, core.PullAlways, pod.Spec.Containers[0].ImagePullPolicy, "no tag")
	assert.Equal(t, core.RestartPolicyAlways, pod.Spec.RestartPolicy)

	obj, k, err = decode(t, s, splitDocuments(readManifest(t, "service-nodeport.yaml"))[0])
	require.NoError(t, err)
	require.Empty(t, admit(k, obj))
	assert.Equal(t, int32(31000), obj.(*core.Service).Spec.Ports[0].NodePort)
}

func TestSchemeRegistersEveryKind(t *testing.T) {
	s, err := builtin.NewScheme()
	require.NoError(t, err)
	tests := []struct {
		name     string
		gvk      string
		resource string
		scope    apis.Scope
	}{
		{"po", "v1, Kind=Pod", "pods", apis.NamespaceScoped},
		{"no", "v1, Kind=Node", "nodes", apis.ClusterScoped},
		{"ns", "v1, Kind=Namespace", "namespaces", apis.ClusterScoped},
		{"svc", "v1, Kind=Service", "services", apis.NamespaceScoped},
		{"ep", "v1, Kind=Endpoints", "endpoints", apis.NamespaceScoped},
		{"cm", "v1, Kind=ConfigMap", "configmaps", apis.NamespaceScoped},
		{"secrets", "v1, Kind=Secret", "secrets", apis.NamespaceScoped},
		{"ev", "v1, Kind=Event", "events", apis.NamespaceScoped},
		{"pv", "v1, Kind=PersistentVolume", "persistentvolumes", apis.ClusterScoped},
		{"pvc", "v1, Kind=PersistentVolumeClaim", "persistentvolumeclaims", apis.NamespaceScoped},
		{"rc", "v1, Kind=ReplicationController", "replicationcontrollers", apis.NamespaceScoped},
		{"sa", "v1, Kind=ServiceAccount", "serviceaccounts", apis.NamespaceScoped},
		{"deploy", "apps/v1, Kind=Deployment", "deployments", apis.NamespaceScoped},
		{"rs", "apps/v1, Kind=ReplicaSet", "replicasets", apis.NamespaceScoped},
		{"sts", "apps/v1, Kind=StatefulSet", "statefulsets", apis.NamespaceScoped},
		{"ds", "apps/v1, Kind=DaemonSet", "daemonsets", apis.NamespaceScoped},
		{"controllerrevisions", "apps/v1, Kind=ControllerRevision", "controllerrevisions", apis.NamespaceScoped},
		{"jobs", "batch/v1, Kind=Job", "jobs", apis.NamespaceScoped},
		{"cj", "batch/v1, Kind=CronJob", "cronjobs", apis.NamespaceScoped},
		{"ing", "networking.k8s.io/v1, Kind=Ingress", "ingresses", apis.NamespaceScoped},
		{"ingressclasses", "networking.k8s.io/v1, Kind=IngressClass", "ingressclasses", apis.ClusterScoped},
		{"leases", "coordination.k8s.io/v1, Kind=Lease", "leases", apis.NamespaceScoped},
		{"endpointslices", "discovery.k8s.io/v1, Kind=EndpointSlice", "endpointslices", apis.NamespaceScoped},
		{"sc", "storage.k8s.io/v1, Kind=StorageClass", "storageclasses", apis.ClusterScoped},
		{"pdb", "policy/v1, Kind=PodDisruptionBudget", "poddisruptionbudgets", apis.NamespaceScoped},
		{"deployments.apps", "apps/v1, Kind=Deployment", "deployments", apis.NamespaceScoped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := s.ByResource(tt.name)
			require.NoError(t, err)
			assert.Equal(t, tt.gvk, k.GVK.String())
			assert.Equal(t, tt.resource, k.Resource)
			assert.Equal(t, tt.scope, k.Scope)
			obj := k.New()
			assert.Equal(t, k.GVK, obj.Type().GroupVersionKind())
			assert.True(t, k.HasStatus() == (strings.Contains("Pod Node Namespace Service PersistentVolume PersistentVolumeClaim ReplicationController Deployment ReplicaSet StatefulSet DaemonSet Job CronJob Ingress PodDisruptionBudget", k.GVK.Kind)), k.GVK.Kind)
		})
	}
	assert.Len(t, s.Kinds(), 25)
	_, err = s.ByResource("widgets")
	assert.ErrorIs(t, err, apis.ErrUnknownKind)
}
