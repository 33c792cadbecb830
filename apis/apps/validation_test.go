package apps

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/field/fieldtest"
	"github.com/gantry-sdk/gantry/apis/resource"
)

func ptr[T any](v T) *T { return &v }

func template() core.PodTemplateSpec {
	return core.PodTemplateSpec{
		ObjectMeta: apis.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec:       core.PodSpec{Containers: []core.Container{{Name: "web", Image: "nginx"}}},
	}
}

func selector() *apis.LabelSelector {
	return &apis.LabelSelector{
		MatchLabels:      map[string]string{"app": "web"},
		MatchExpressions: []apis.LabelSelectorRequirement{{Key: "tier", Operator: apis.LabelSelectorOpIn, Values: []string{"front", "edge"}}},
	}
}

func validDeployment() *Deployment {
	d := &Deployment{
		ObjectMeta: apis.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       DeploymentSpec{Replicas: ptr(int32(3)), Selector: selector(), Template: template()},
	}
	DefaultDeployment(d)
	return d
}

func TestDefaultDeployment(t *testing.T) {
	d := &Deployment{Spec: DeploymentSpec{Template: template()}}
	DefaultDeployment(d)
	assert.Equal(t, int32(1), *d.Spec.Replicas)
	assert.Equal(t, RollingUpdateDeploymentStrategyType, d.Spec.Strategy.Type)
	assert.Equal(t, "25%", d.Spec.Strategy.RollingUpdate.MaxSurge.String())
	assert.Equal(t, "25%", d.Spec.Strategy.RollingUpdate.MaxUnavailable.String())
	assert.Equal(t, int32(10), *d.Spec.RevisionHistoryLimit)
	assert.Equal(t, int32(600), *d.Spec.ProgressDeadlineSeconds)
	assert.Equal(t, core.RestartPolicyAlways, d.Spec.Template.Spec.RestartPolicy)
	assert.Equal(t, core.PullAlways, d.Spec.Template.Spec.Containers[0].ImagePullPolicy)

	// The 25% bounds resolve as the Deployment controller uses them.
	surge, err := d.Spec.Strategy.RollingUpdate.MaxSurge.ScaledValue(10, true)
	require.NoError(t, err)
	unavail, err := d.Spec.Strategy.RollingUpdate.MaxUnavailable.ScaledValue(10, false)
	require.NoError(t, err)
	assert.Equal(t, []int{3, 2}, []int{surge, unavail})

	r := &Deployment{Spec: DeploymentSpec{Strategy: DeploymentStrategy{Type: RecreateDeploymentStrategyType}}}
	DefaultDeployment(r)
	assert.Nil(t, r.Spec.Strategy.RollingUpdate, "Recreate has no rolling bounds")

	own := &Deployment{Spec: DeploymentSpec{Strategy: DeploymentStrategy{RollingUpdate: &RollingUpdateDeployment{MaxSurge: ptr(apis.IntOrStringFromInt(2))}}}}
	DefaultDeployment(own)
	assert.Equal(t, "2", own.Spec.Strategy.RollingUpdate.MaxSurge.String())
	assert.Equal(t, "25%", own.Spec.Strategy.RollingUpdate.MaxUnavailable.String())
}

func TestValidateDeployment(t *testing.T) {
	assert.Empty(t, ValidateDeployment(validDeployment()))
	tests := []struct {
		name   string
		mutate func(d *Deployment)
		path   string
		typ    field.Type
	}{
		{"name", func(d *Deployment) { d.Name = "Bad_Name" }, "metadata.name", field.TypeInvalid},
		{"replicas negative", func(d *Deployment) { d.Spec.Replicas = ptr(int32(-1)) }, "spec.replicas", field.TypeInvalid},
		{"replicas zero ok", func(d *Deployment) { d.Spec.Replicas = ptr(int32(0)) }, "", ""},
		{"selector required", func(d *Deployment) { d.Spec.Selector = nil }, "spec.selector", field.TypeRequired},
		{"selector empty", func(d *Deployment) { d.Spec.Selector = &apis.LabelSelector{} }, "spec.selector", field.TypeInvalid},
		{"selector syntax", func(d *Deployment) { d.Spec.Selector.MatchLabels["app"] = "a b" }, "spec.selector.matchLabels[app]", field.TypeInvalid},
		{"selector operator", func(d *Deployment) { d.Spec.Selector.MatchExpressions[0].Operator = "Has" }, "spec.selector.matchExpressions[0].operator", field.TypeNotSupported},
		{"selector In without values", func(d *Deployment) { d.Spec.Selector.MatchExpressions[0].Values = nil }, "spec.selector.matchExpressions[0].values", field.TypeRequired},
		{"selector does not match labels", func(d *Deployment) { d.Spec.Template.Labels["app"] = "db" }, "spec.template.metadata.labels", field.TypeInvalid},
		{"set-based selector does not match", func(d *Deployment) { d.Spec.Template.Labels["tier"] = "back" }, "spec.template.metadata.labels", field.TypeInvalid},
		{"template container image", func(d *Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" }, "spec.template.spec.containers[0].image", field.TypeRequired},
		{"template no containers", func(d *Deployment) { d.Spec.Template.Spec.Containers = nil }, "spec.template.spec.containers", field.TypeRequired},
		{"template restartPolicy", func(d *Deployment) { d.Spec.Template.Spec.RestartPolicy = core.RestartPolicyOnFailure }, "spec.template.spec.restartPolicy", field.TypeNotSupported},
		{"template label syntax", func(d *Deployment) { d.Spec.Template.Labels["x"] = "-" }, "spec.template.metadata.labels[x]", field.TypeInvalid},
		{"template resources", func(d *Deployment) {
			d.Spec.Template.Spec.Containers[0].Resources = core.ResourceRequirements{
				Requests: core.ResourceList{core.ResourceMemory: resource.MustParse("2Gi")},
				Limits:   core.ResourceList{core.ResourceMemory: resource.MustParse("1Gi")},
			}
		}, "spec.template.spec.containers[0].resources.requests[memory]", field.TypeInvalid},
		{"strategy type", func(d *Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, "spec.strategy.type", field.TypeNotSupported},
		{"recreate with rollingUpdate", func(d *Deployment) { d.Spec.Strategy.Type = RecreateDeploymentStrategyType }, "spec.strategy.rollingUpdate", field.TypeForbidden},
		{"maxSurge percent syntax", func(d *Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(apis.IntOrStringFromString("lots")) }, "spec.strategy.rollingUpdate.maxSurge", field.TypeInvalid},
		{"maxUnavailable over 100%", func(d *Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(apis.IntOrStringFromString("101%"))
		}, "spec.strategy.rollingUpdate.maxUnavailable", field.TypeInvalid},
		{"maxSurge over 100% ok", func(d *Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(apis.IntOrStringFromString("200%")) }, "", ""},
		{"maxUnavailable negative", func(d *Deployment) { d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(apis.IntOrStringFromInt(-1)) }, "spec.strategy.rollingUpdate.maxUnavailable", field.TypeInvalid},
		{"both zero", func(d *Deployment) {
			d.Spec.Strategy.RollingUpdate.MaxUnavailable = ptr(apis.IntOrStringFromInt(0))
			d.Spec.Strategy.RollingUpdate.MaxSurge = ptr(apis.IntOrStringFromString("0%"))
		}, "spec.strategy.rollingUpdate.maxUnavailable", field.TypeInvalid},
		{"minReadySeconds", func(d *Deployment) { d.Spec.MinReadySeconds = -1 }, "spec.minReadySeconds", field.TypeInvalid},
		{"revisionHistoryLimit", func(d *Deployment) { d.Spec.RevisionHistoryLimit = ptr(int32(-1)) }, "spec.revisionHistoryLimit", field.TypeInvalid},
		{"progressDeadline vs minReady", func(d *Deployment) { d.Spec.MinReadySeconds = 600 }, "spec.progressDeadlineSeconds", field.TypeInvalid},
		{"progressDeadline negative", func(d *Deployment) { d.Spec.ProgressDeadlineSeconds = ptr(int32(-1)) }, "spec.progressDeadlineSeconds", field.TypeInvalid},
		{"strategy type required", func(d *Deployment) { d.Spec.Strategy.Type = "" }, "spec.strategy.type", field.TypeRequired},
		{"selector Exists with values", func(d *Deployment) {
			d.Spec.Selector.MatchExpressions[0] = apis.LabelSelectorRequirement{Key: "tier", Operator: apis.LabelSelectorOpExists, Values: []string{"x"}}
		}, "spec.selector.matchExpressions[0].values", field.TypeForbidden},
		{"selector key", func(d *Deployment) { d.Spec.Selector.MatchExpressions[0].Key = "a b" }, "spec.selector.matchExpressions[0].key", field.TypeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDeployment()
			tt.mutate(d)
			errs := ValidateDeployment(d)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			fieldtest.ExpectOnly(t, errs, tt.path, tt.typ)
		})
	}
}

func TestSelectorImmutable(t *testing.T) {
	old := validDeployment()
	d := validDeployment()
	d.Spec.Replicas = ptr(int32(9))
	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	assert.Empty(t, ValidateDeploymentUpdate(d, old))
	d.Spec.Selector.MatchLabels["app"] = "web2"
	fieldtest.ExpectOnly(t, ValidateDeploymentUpdate(d, old), "spec.selector", field.TypeInvalid)

	rs, oldRS := validReplicaSet(), validReplicaSet()
	rs.Spec.Selector = &apis.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	fieldtest.ExpectOnly(t, ValidateReplicaSetUpdate(rs, oldRS), "spec.selector", field.TypeInvalid)

	ds, oldDS := validDaemonSet(), validDaemonSet()
	ds.Spec.Selector = nil
	fieldtest.ExpectOnly(t, ValidateDaemonSetUpdate(ds, oldDS), "spec.selector", field.TypeInvalid)

	ss, oldSS := validStatefulSet(), validStatefulSet()
	ss.Spec.Replicas = ptr(int32(5))
	ss.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(2))
	ss.Spec.Template.Spec.Containers[0].Image = "db:2"
	assert.Empty(t, ValidateStatefulSetUpdate(ss, oldSS))
	ss.Spec.ServiceName = "other"
	fieldtest.ExpectOnly(t, ValidateStatefulSetUpdate(ss, oldSS), "spec", field.TypeForbidden)
	ss = validStatefulSet()
	ss.Spec.Selector.MatchLabels["app"] = "x"
	fieldtest.ExpectOnly(t, ValidateStatefulSetUpdate(ss, oldSS), "spec.selector", field.TypeInvalid)
}

func validReplicaSet() *ReplicaSet {
	rs := &ReplicaSet{
		ObjectMeta: apis.ObjectMeta{Name: "web-abc", Namespace: "default"},
		Spec:       ReplicaSetSpec{Replicas: ptr(int32(2)), Selector: selector(), Template: template()},
	}
	DefaultReplicaSet(rs)
	return rs
}

func TestValidateReplicaSet(t *testing.T) {
	assert.Empty(t, ValidateReplicaSet(validReplicaSet()))
	rs := &ReplicaSet{}
	DefaultReplicaSet(rs)
	assert.Equal(t, int32(1), *rs.Spec.Replicas)
	tests := []struct {
		name   string
		mutate func(rs *ReplicaSet)
		path   string
		typ    field.Type
	}{
		{"replicas", func(rs *ReplicaSet) { rs.Spec.Replicas = ptr(int32(-2)) }, "spec.replicas", field.TypeInvalid},
		{"selector", func(rs *ReplicaSet) { rs.Spec.Selector = nil }, "spec.selector", field.TypeRequired},
		{"labels", func(rs *ReplicaSet) { rs.Spec.Template.Labels = nil }, "spec.template.metadata.labels", field.TypeInvalid},
		{"minReadySeconds", func(rs *ReplicaSet) { rs.Spec.MinReadySeconds = -5 }, "spec.minReadySeconds", field.TypeInvalid},
		{"namespace", func(rs *ReplicaSet) { rs.Namespace = "" }, "metadata.namespace", field.TypeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := validReplicaSet()
			tt.mutate(rs)
			fieldtest.ExpectOnly(t, ValidateReplicaSet(rs), tt.path, tt.typ)
		})
	}
}

func validStatefulSet() *StatefulSet {
	ss := &StatefulSet{
		ObjectMeta: apis.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: StatefulSetSpec{
			Replicas: ptr(int32(3)), ServiceName: "db",
			Selector: &apis.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
			Template: core.PodTemplateSpec{
				ObjectMeta: apis.ObjectMeta{Labels: map[string]string{"app": "db"}},
				Spec:       core.PodSpec{Containers: []core.Container{{Name: "db", Image: "postgres:16"}}},
			},
			VolumeClaimTemplates: []core.PersistentVolumeClaim{{
				ObjectMeta: apis.ObjectMeta{Name: "data"},
				Spec: core.PersistentVolumeClaimSpec{
					AccessModes: []core.PersistentVolumeAccessMode{core.ReadWriteOnce},
					Resources:   core.VolumeResourceRequirements{Requests: core.ResourceList{core.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	}
	DefaultStatefulSet(ss)
	return ss
}

func TestDefaultStatefulSet(t *testing.T) {
	ss := &StatefulSet{}
	DefaultStatefulSet(ss)
	assert.Equal(t, int32(1), *ss.Spec.Replicas)
	assert.Equal(t, OrderedReadyPodManagement, ss.Spec.PodManagementPolicy)
	assert.Equal(t, RollingUpdateStatefulSetStrategyType, ss.Spec.UpdateStrategy.Type)
	assert.Equal(t, int32(0), *ss.Spec.UpdateStrategy.RollingUpdate.Partition)
	assert.Equal(t, int32(10), *ss.Spec.RevisionHistoryLimit)
	assert.Equal(t, RetainPersistentVolumeClaimRetentionPolicyType, ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted)
	assert.Equal(t, RetainPersistentVolumeClaimRetentionPolicyType, ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled)
	assert.Equal(t, core.PersistentVolumeFilesystem, *validStatefulSet().Spec.VolumeClaimTemplates[0].Spec.VolumeMode)
	od := &StatefulSet{Spec: StatefulSetSpec{UpdateStrategy: StatefulSetUpdateStrategy{Type: OnDeleteStatefulSetStrategyType}}}
	DefaultStatefulSet(od)
	assert.Nil(t, od.Spec.UpdateStrategy.RollingUpdate)
}

func TestValidateStatefulSet(t *testing.T) {
	assert.Empty(t, ValidateStatefulSet(validStatefulSet()))
	tests := []struct {
		name   string
		mutate func(ss *StatefulSet)
		path   string
		typ    field.Type
	}{
		{"replicas", func(ss *StatefulSet) { ss.Spec.Replicas = ptr(int32(-1)) }, "spec.replicas", field.TypeInvalid},
		{"selector", func(ss *StatefulSet) { ss.Spec.Selector.MatchLabels["app"] = "other" }, "spec.template.metadata.labels", field.TypeInvalid},
		{"serviceName", func(ss *StatefulSet) { ss.Spec.ServiceName = "DB" }, "spec.serviceName", field.TypeInvalid},
		{"podManagementPolicy", func(ss *StatefulSet) { ss.Spec.PodManagementPolicy = "Random" }, "spec.podManagementPolicy", field.TypeNotSupported},
		{"updateStrategy type", func(ss *StatefulSet) { ss.Spec.UpdateStrategy.Type = "Rolling" }, "spec.updateStrategy.type", field.TypeNotSupported},
		{"partition", func(ss *StatefulSet) { ss.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(-1)) }, "spec.updateStrategy.rollingUpdate.partition", field.TypeInvalid},
		{"maxUnavailable zero", func(ss *StatefulSet) {
			ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(apis.IntOrStringFromInt(0))
		}, "spec.updateStrategy.rollingUpdate.maxUnavailable", field.TypeInvalid},
		{"maxUnavailable percent ok", func(ss *StatefulSet) {
			ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(apis.IntOrStringFromString("50%"))
		}, "", ""},
		{"OnDelete with rollingUpdate", func(ss *StatefulSet) { ss.Spec.UpdateStrategy.Type = OnDeleteStatefulSetStrategyType }, "spec.updateStrategy.rollingUpdate", field.TypeInvalid},
		{"claim template name", func(ss *StatefulSet) { ss.Spec.VolumeClaimTemplates[0].Name = "" }, "spec.volumeClaimTemplates[0].metadata.name", field.TypeRequired},
		{"claim template storage", func(ss *StatefulSet) { ss.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests = nil }, "spec.volumeClaimTemplates[0].spec.resources.requests[storage]", field.TypeRequired},
		{"claim retention", func(ss *StatefulSet) { ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenScaled = "Keep" }, "spec.persistentVolumeClaimRetentionPolicy.whenScaled", field.TypeNotSupported},
		{"ordinals", func(ss *StatefulSet) { ss.Spec.Ordinals = &StatefulSetOrdinals{Start: -1} }, "spec.ordinals.start", field.TypeInvalid},
		{"minReadySeconds", func(ss *StatefulSet) { ss.Spec.MinReadySeconds = -1 }, "spec.minReadySeconds", field.TypeInvalid},
		{"restartPolicy", func(ss *StatefulSet) { ss.Spec.Template.Spec.RestartPolicy = core.RestartPolicyNever }, "spec.template.spec.restartPolicy", field.TypeNotSupported},
		{"revisionHistoryLimit", func(ss *StatefulSet) { ss.Spec.RevisionHistoryLimit = ptr(int32(-1)) }, "spec.revisionHistoryLimit", field.TypeInvalid},
		{"podManagementPolicy required", func(ss *StatefulSet) { ss.Spec.PodManagementPolicy = "" }, "spec.podManagementPolicy", field.TypeRequired},
		{"updateStrategy required", func(ss *StatefulSet) { ss.Spec.UpdateStrategy.Type = "" }, "spec.updateStrategy.type", field.TypeRequired},
		{"claim template name syntax", func(ss *StatefulSet) { ss.Spec.VolumeClaimTemplates[0].Name = "Data" }, "spec.volumeClaimTemplates[0].metadata.name", field.TypeInvalid},
		{"claim template duplicate", func(ss *StatefulSet) {
			ss.Spec.VolumeClaimTemplates = append(ss.Spec.VolumeClaimTemplates, ss.Spec.VolumeClaimTemplates[0])
		}, "spec.volumeClaimTemplates[1].metadata.name", field.TypeDuplicate},
		{"claim whenDeleted", func(ss *StatefulSet) { ss.Spec.PersistentVolumeClaimRetentionPolicy.WhenDeleted = "" }, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted", field.TypeNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := validStatefulSet()
			tt.mutate(ss)
			errs := ValidateStatefulSet(ss)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			fieldtest.ExpectOnly(t, errs, tt.path, tt.typ)
		})
	}
}

func validDaemonSet() *DaemonSet {
	ds := &DaemonSet{
		ObjectMeta: apis.ObjectMeta{Name: "agent", Namespace: "kube-system"},
		Spec: DaemonSetSpec{
			Selector: &apis.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: core.PodTemplateSpec{
				ObjectMeta: apis.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       core.PodSpec{Containers: []core.Container{{Name: "agent", Image: "agent:1"}}},
			},
		},
	}
	DefaultDaemonSet(ds)
	return ds
}

func TestDaemonSet(t *testing.T) {
	ds := validDaemonSet()
	assert.Equal(t, RollingUpdateDaemonSetStrategyType, ds.Spec.UpdateStrategy.Type)
	assert.Equal(t, "1", ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable.String())
	assert.Equal(t, "0", ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge.String())
	assert.Equal(t, int32(10), *ds.Spec.RevisionHistoryLimit)
	assert.Empty(t, ValidateDaemonSet(ds))
	tests := []struct {
		name   string
		mutate func(ds *DaemonSet)
		path   string
		typ    field.Type
	}{
		{"selector", func(ds *DaemonSet) { ds.Spec.Selector = nil }, "spec.selector", field.TypeRequired},
		{"labels", func(ds *DaemonSet) { ds.Spec.Template.Labels["app"] = "x" }, "spec.template.metadata.labels", field.TypeInvalid},
		{"both zero", func(ds *DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(apis.IntOrStringFromInt(0))
		}, "spec.updateStrategy.rollingUpdate.maxUnavailable", field.TypeInvalid},
		{"both set", func(ds *DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxSurge = ptr(apis.IntOrStringFromString("10%"))
		}, "spec.updateStrategy.rollingUpdate.maxSurge", field.TypeInvalid},
		{"type", func(ds *DaemonSet) { ds.Spec.UpdateStrategy.Type = "Canary" }, "spec.updateStrategy.type", field.TypeNotSupported},
		{"restartPolicy", func(ds *DaemonSet) { ds.Spec.Template.Spec.RestartPolicy = core.RestartPolicyOnFailure }, "spec.template.spec.restartPolicy", field.TypeNotSupported},
		{"minReadySeconds", func(ds *DaemonSet) { ds.Spec.MinReadySeconds = -1 }, "spec.minReadySeconds", field.TypeInvalid},
		{"revisionHistoryLimit", func(ds *DaemonSet) { ds.Spec.RevisionHistoryLimit = ptr(int32(-1)) }, "spec.revisionHistoryLimit", field.TypeInvalid},
		{"type required", func(ds *DaemonSet) { ds.Spec.UpdateStrategy.Type = "" }, "spec.updateStrategy.type", field.TypeRequired},
		{"maxUnavailable over 100%", func(ds *DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(apis.IntOrStringFromString("150%"))
		}, "spec.updateStrategy.rollingUpdate.maxUnavailable", field.TypeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := validDaemonSet()
			tt.mutate(ds)
			fieldtest.ExpectOnly(t, ValidateDaemonSet(ds), tt.path, tt.typ)
		})
	}
}

func TestControllerRevision(t *testing.T) {
	r := &ControllerRevision{ObjectMeta: apis.ObjectMeta{Name: "db-7c9", Namespace: "default"}, Data: apis.RawJSON(`{"spec":{}}`), Revision: 2}
	assert.Empty(t, ValidateControllerRevision(r))
	r.Revision = -1
	fieldtest.ExpectOnly(t, ValidateControllerRevision(r), "revision", field.TypeInvalid)
	changed := *r
	changed.Data = apis.RawJSON(`{"spec":{"x":1}}`)
	fieldtest.ExpectOnly(t, ValidateControllerRevisionUpdate(&changed, r), "data", field.TypeInvalid)
}

func TestRegistration(t *testing.T) {
	s := apis.NewScheme()
	require.NoError(t, AddToScheme(s))
	for name, kind := range map[string]string{"deploy": "Deployment", "rs": "ReplicaSet", "sts": "StatefulSet", "ds": "DaemonSet", "controllerrevision": "ControllerRevision"} {
		k, err := s.ByResource(name)
		require.NoError(t, err, name)
		assert.Equal(t, kind, k.GVK.Kind)
		assert.Equal(t, "apps", k.GVK.Group)
	}
	// Registered hooks run through the Scheme.
	k, _ := s.ByResource("deployments")
	d := &Deployment{ObjectMeta: apis.ObjectMeta{Name: "x", Namespace: "default"}, Spec: DeploymentSpec{Selector: selector(), Template: template()}}
	k.Default(d)
	assert.Equal(t, int32(1), *d.Spec.Replicas)
	assert.Empty(t, k.Validate(d))
	old := *d
	d2 := *d
	d2.Spec.Selector = &apis.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}
	errs := k.ValidateUpdate(&d2, &old)
	require.Len(t, errs, 1)
	assert.Equal(t, "spec.selector", errs[0].Field)
	require.Error(t, AddToScheme(s), "registering twice fails")
}

func TestStatefulSetMountsClaimTemplates(t *testing.T) {
	ss := validStatefulSet()
	ss.Spec.Template.Spec.Containers[0].VolumeMounts = []core.VolumeMount{{Name: "data", MountPath: "/data"}}
	assert.Empty(t, ValidateStatefulSet(ss), "containers may mount claim templates")
	assert.Empty(t, ss.Spec.Template.Spec.Volumes, "validation does not change the template")
	ss.Spec.Template.Spec.Containers[0].VolumeMounts[0].Name = "logs"
	fieldtest.ExpectOnly(t, ValidateStatefulSet(ss), "spec.template.spec.containers[0].volumeMounts[0].name", field.TypeNotFound)
}
