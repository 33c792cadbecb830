package core

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/field/fieldtest"
	"github.com/gantry-sdk/gantry/apis/resource"
)

func ptr[T any](v T) *T { return &v }

func validPod() *Pod {
	p := &Pod{
		ObjectMeta: apis.ObjectMeta{Name: "web-0", Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: PodSpec{
			Containers: []Container{{
				Name:  "web",
				Image: "nginx:1.27",
				Ports: []ContainerPort{{Name: "http", ContainerPort: 80}},
				Env: []EnvVar{
					{Name: "A", Value: "1"},
					{Name: "POD", ValueFrom: &EnvVarSource{FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}}},
					{Name: "MEM", ValueFrom: &EnvVarSource{ResourceFieldRef: &ResourceFieldSelector{Resource: "limits.memory"}}},
					{Name: "CM", ValueFrom: &EnvVarSource{ConfigMapKeyRef: &ConfigMapKeySelector{LocalObjectReference: LocalObjectReference{Name: "cm"}, Key: "k"}}},
					{Name: "S", ValueFrom: &EnvVarSource{SecretKeyRef: &SecretKeySelector{LocalObjectReference: LocalObjectReference{Name: "s"}, Key: "k"}}},
				},
				EnvFrom: []EnvFromSource{{ConfigMapRef: &ConfigMapEnvSource{LocalObjectReference: LocalObjectReference{Name: "cm"}}}},
				Resources: ResourceRequirements{
					Requests: ResourceList{ResourceCPU: resource.MustParse("200m"), ResourceMemory: resource.MustParse("256Mi")},
					Limits:   ResourceList{ResourceCPU: resource.MustParse("1"), ResourceMemory: resource.MustParse("512Mi")},
				},
				VolumeMounts:   []VolumeMount{{Name: "cfg", MountPath: "/etc/cfg", ReadOnly: true}},
				LivenessProbe:  &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Path: "/healthz", Port: apis.IntOrStringFromString("http")}}},
				ReadinessProbe: &Probe{ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: apis.IntOrStringFromInt(80)}}},
				StartupProbe:   &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"true"}}}},
				Lifecycle:      &Lifecycle{PreStop: &LifecycleHandler{Sleep: &SleepAction{Seconds: 5}}},
			}},
			InitContainers: []Container{{Name: "init", Image: "busybox"}},
			Volumes: []Volume{
				{Name: "cfg", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{LocalObjectReference: LocalObjectReference{Name: "cm"}}}},
				{Name: "scratch", VolumeSource: VolumeSource{EmptyDir: &EmptyDirVolumeSource{}}},
			},
			Tolerations: []Toleration{{Key: "node.kubernetes.io/not-ready", Operator: TolerationOpExists, Effect: TaintEffectNoExecute, TolerationSeconds: ptr(int64(300))}},
			Affinity: &Affinity{
				NodeAffinity: &NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &NodeSelector{NodeSelectorTerms: []NodeSelectorTerm{{
					MatchExpressions: []NodeSelectorRequirement{{Key: "zone", Operator: NodeSelectorOpIn, Values: []string{"a"}}},
				}}}},
				PodAntiAffinity: &PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []WeightedPodAffinityTerm{{
					Weight:          50,
					PodAffinityTerm: PodAffinityTerm{TopologyKey: LabelHostname, LabelSelector: &apis.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
				}}},
			},
			TopologySpreadConstraints: []TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: LabelTopologyZone, WhenUnsatisfiable: DoNotSchedule}},
		},
	}
	DefaultPod(p)
	return p
}

func TestValidatePodValid(t *testing.T) {
	assert.Empty(t, ValidatePod(validPod()))
}

func TestValidatePodRules(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *Pod)
		path   string
		typ    field.Type
	}{
		{"name required", func(p *Pod) { p.Name = "" }, "metadata.name", field.TypeRequired},
		{"name syntax", func(p *Pod) { p.Name = "Web_0" }, "metadata.name", field.TypeInvalid},
		{"generateName ok", func(p *Pod) { p.Name = ""; p.GenerateName = "web-" }, "", ""},
		{"generateName syntax", func(p *Pod) { p.Name = ""; p.GenerateName = "Web-" }, "metadata.generateName", field.TypeInvalid},
		{"namespace required", func(p *Pod) { p.Namespace = "" }, "metadata.namespace", field.TypeRequired},
		{"label key", func(p *Pod) { p.Labels["-bad"] = "x" }, "metadata.labels", field.TypeInvalid},
		{"label value", func(p *Pod) { p.Labels["ok"] = "bad value" }, "metadata.labels[ok]", field.TypeInvalid},
		{"annotation key", func(p *Pod) { p.Annotations = map[string]string{"a/b/c": ""} }, "metadata.annotations", field.TypeInvalid},
		{"owner uid", func(p *Pod) {
			p.OwnerReferences = []apis.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs"}}
		}, "metadata.ownerReferences[0].uid", field.TypeRequired},
		{"no containers", func(p *Pod) { p.Spec.Containers = nil }, "spec.containers", field.TypeRequired},
		{"container name required", func(p *Pod) { p.Spec.Containers[0].Name = "" }, "spec.containers[0].name", field.TypeRequired},
		{"container name label", func(p *Pod) { p.Spec.Containers[0].Name = "Web" }, "spec.containers[0].name", field.TypeInvalid},
		{"container name unique across init", func(p *Pod) { p.Spec.Containers[0].Name = "init" }, "spec.containers[0].name", field.TypeDuplicate},
		{"image required", func(p *Pod) { p.Spec.Containers[0].Image = "" }, "spec.containers[0].image", field.TypeRequired},
		{"init image required", func(p *Pod) { p.Spec.InitContainers[0].Image = " " }, "spec.initContainers[0].image", field.TypeRequired},
		{"containerPort 0", func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 }, "spec.containers[0].ports[0].containerPort", field.TypeInvalid},
		{"containerPort 65536", func(p *Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 65536 }, "spec.containers[0].ports[0].containerPort", field.TypeInvalid},
		{"hostPort range", func(p *Pod) { p.Spec.Containers[0].Ports[0].HostPort = 70000 }, "spec.containers[0].ports[0].hostPort", field.TypeInvalid},
		{"protocol enum", func(p *Pod) { p.Spec.Containers[0].Ports[0].Protocol = "ICMP" }, "spec.containers[0].ports[0].protocol", field.TypeNotSupported},
		{"port name syntax", func(p *Pod) { p.Spec.Containers[0].Ports[0].Name = "has_underscore" }, "spec.containers[0].ports[0].name", field.TypeInvalid},
		{"hostNetwork ports match", func(p *Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 8080
		}, "spec.containers[0].ports[0].containerPort", field.TypeInvalid},
		{"env name", func(p *Pod) { p.Spec.Containers[0].Env[0].Name = "A=B" }, "spec.containers[0].env[0].name", field.TypeInvalid},
		{"env value and valueFrom", func(p *Pod) { p.Spec.Containers[0].Env[1].Value = "x" }, "spec.containers[0].env[1].valueFrom", field.TypeInvalid},
		{"env two sources", func(p *Pod) {
			p.Spec.Containers[0].Env[1].ValueFrom.SecretKeyRef = &SecretKeySelector{LocalObjectReference: LocalObjectReference{Name: "s"}, Key: "k"}
		}, "spec.containers[0].env[1].valueFrom", field.TypeInvalid},
		{"env fieldRef path", func(p *Pod) { p.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath = "spec.containers" }, "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath", field.TypeNotSupported},
		{"env resourceFieldRef", func(p *Pod) { p.Spec.Containers[0].Env[2].ValueFrom.ResourceFieldRef.Resource = "limits.gpu" }, "spec.containers[0].env[2].valueFrom.resourceFieldRef.resource", field.TypeNotSupported},
		{"env configMapKeyRef key", func(p *Pod) { p.Spec.Containers[0].Env[3].ValueFrom.ConfigMapKeyRef.Key = "" }, "spec.containers[0].env[3].valueFrom.configMapKeyRef.key", field.TypeRequired},
		{"env secretKeyRef name", func(p *Pod) { p.Spec.Containers[0].Env[4].ValueFrom.SecretKeyRef.Name = "" }, "spec.containers[0].env[4].valueFrom.secretKeyRef.name", field.TypeRequired},
		{"envFrom empty", func(p *Pod) { p.Spec.Containers[0].EnvFrom[0].ConfigMapRef = nil }, "spec.containers[0].envFrom[0]", field.TypeInvalid},
		{"request above limit", func(p *Pod) {
			p.Spec.Containers[0].Resources.Requests[ResourceCPU] = resource.MustParse("2")
		}, "spec.containers[0].resources.requests[cpu]", field.TypeInvalid},
		{"negative request", func(p *Pod) {
			p.Spec.Containers[0].Resources.Requests[ResourceMemory] = resource.MustParse("-1")
		}, "spec.containers[0].resources.requests[memory]", field.TypeInvalid},
		{"volumeMount unknown volume", func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "nope" }, "spec.containers[0].volumeMounts[0].name", field.TypeNotFound},
		{"volumeMount path required", func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].MountPath = "" }, "spec.containers[0].volumeMounts[0].mountPath", field.TypeRequired},
		{"volumeMount path unique", func(p *Pod) {
			p.Spec.Containers[0].VolumeMounts = append(p.Spec.Containers[0].VolumeMounts, VolumeMount{Name: "scratch", MountPath: "/etc/cfg"})
		}, "spec.containers[0].volumeMounts[1].mountPath", field.TypeInvalid},
		{"probe without handler", func(p *Pod) { p.Spec.Containers[0].LivenessProbe.HTTPGet = nil }, "spec.containers[0].livenessProbe", field.TypeRequired},
		{"probe two handlers", func(p *Pod) {
			p.Spec.Containers[0].ReadinessProbe.Exec = &ExecAction{Command: []string{"true"}}
		}, "spec.containers[0].readinessProbe", field.TypeForbidden},
		{"probe port", func(p *Pod) { p.Spec.Containers[0].ReadinessProbe.TCPSocket.Port = apis.IntOrStringFromInt(0) }, "spec.containers[0].readinessProbe.tcpSocket.port", field.TypeInvalid},
		{"probe named port", func(p *Pod) {
			p.Spec.Containers[0].LivenessProbe.HTTPGet.Port = apis.IntOrStringFromString("Not-Valid")
		}, "spec.containers[0].livenessProbe.httpGet.port", field.TypeInvalid},
		{"probe scheme", func(p *Pod) { p.Spec.Containers[0].LivenessProbe.HTTPGet.Scheme = "FTP" }, "spec.containers[0].livenessProbe.httpGet.scheme", field.TypeNotSupported},
		{"probe negative delay", func(p *Pod) { p.Spec.Containers[0].ReadinessProbe.InitialDelaySeconds = -1 }, "spec.containers[0].readinessProbe.initialDelaySeconds", field.TypeInvalid},
		{"liveness successThreshold", func(p *Pod) { p.Spec.Containers[0].LivenessProbe.SuccessThreshold = 2 }, "spec.containers[0].livenessProbe.successThreshold", field.TypeInvalid},
		{"exec command", func(p *Pod) { p.Spec.Containers[0].StartupProbe.Exec.Command = nil }, "spec.containers[0].startupProbe.exec.command", field.TypeRequired},
		{"init container probe", func(p *Pod) {
			p.Spec.InitContainers[0].ReadinessProbe = &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"x"}}}}
		}, "spec.initContainers[0].readinessProbe", field.TypeForbidden},
		{"lifecycle handler", func(p *Pod) { p.Spec.Containers[0].Lifecycle.PreStop = &LifecycleHandler{} }, "spec.containers[0].lifecycle.preStop", field.TypeRequired},
		{"pull policy", func(p *Pod) { p.Spec.Containers[0].ImagePullPolicy = "Sometimes" }, "spec.containers[0].imagePullPolicy", field.TypeNotSupported},
		{"restartPolicy enum", func(p *Pod) { p.Spec.RestartPolicy = "Sometimes" }, "spec.restartPolicy", field.TypeNotSupported},
		{"dnsPolicy enum", func(p *Pod) { p.Spec.DNSPolicy = "Google" }, "spec.dnsPolicy", field.TypeNotSupported},
		{"grace negative", func(p *Pod) { p.Spec.TerminationGracePeriodSeconds = ptr(int64(-1)) }, "spec.terminationGracePeriodSeconds", field.TypeInvalid},
		{"activeDeadline zero", func(p *Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(0)) }, "spec.activeDeadlineSeconds", field.TypeInvalid},
		{"nodeSelector value", func(p *Pod) { p.Spec.NodeSelector = map[string]string{"disk": "s s d"} }, "spec.nodeSelector[disk]", field.TypeInvalid},
		{"serviceAccountName", func(p *Pod) { p.Spec.ServiceAccountName = "Bad" }, "spec.serviceAccountName", field.TypeInvalid},
		{"nodeName", func(p *Pod) { p.Spec.NodeName = "node_1" }, "spec.nodeName", field.TypeInvalid},
		{"volume name", func(p *Pod) { p.Spec.Volumes[1].Name = "Scratch" }, "spec.volumes[1].name", field.TypeInvalid},
		{"volume duplicate", func(p *Pod) { p.Spec.Volumes[1].Name = "cfg" }, "spec.volumes[1].name", field.TypeDuplicate},
		{"volume two sources", func(p *Pod) { p.Spec.Volumes[1].HostPath = &HostPathVolumeSource{Path: "/x"} }, "spec.volumes[1]", field.TypeForbidden},
		{"configMap name", func(p *Pod) { p.Spec.Volumes[0].ConfigMap.Name = "" }, "spec.volumes[0].configMap.name", field.TypeRequired},
		{"configMap item path", func(p *Pod) {
			p.Spec.Volumes[0].ConfigMap.Items = []KeyToPath{{Key: "k", Path: "../etc"}}
		}, "spec.volumes[0].configMap.items[0].path", field.TypeInvalid},
		{"secret name", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{Secret: &SecretVolumeSource{}}
		}, "spec.volumes[1].secret.secretName", field.TypeRequired},
		{"hostPath path", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{HostPath: &HostPathVolumeSource{}}
		}, "spec.volumes[1].hostPath.path", field.TypeRequired},
		{"pvc claimName", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{PersistentVolumeClaim: &PersistentVolumeClaimVolumeSource{}}
		}, "spec.volumes[1].persistentVolumeClaim.claimName", field.TypeRequired},
		{"downwardAPI item", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{DownwardAPI: &DownwardAPIVolumeSource{Items: []DownwardAPIVolumeFile{{Path: "labels"}}}}
		}, "spec.volumes[1].downwardAPI.items[0]", field.TypeRequired},
		{"projected source", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{Projected: &ProjectedVolumeSource{Sources: []VolumeProjection{{}}}}
		}, "spec.volumes[1].projected.sources[0]", field.TypeForbidden},
		{"emptyDir sizeLimit", func(p *Pod) { p.Spec.Volumes[1].EmptyDir.SizeLimit = ptr(resource.MustParse("-1Gi")) }, "spec.volumes[1].emptyDir.sizeLimit", field.TypeInvalid},
		{"toleration exists with value", func(p *Pod) { p.Spec.Tolerations[0].Value = "x" }, "spec.tolerations[0].operator", field.TypeInvalid},
		{"toleration seconds needs NoExecute", func(p *Pod) { p.Spec.Tolerations[0].Effect = TaintEffectNoSchedule }, "spec.tolerations[0].effect", field.TypeInvalid},
		{"toleration effect", func(p *Pod) { p.Spec.Tolerations[0].Effect = "Evict"; p.Spec.Tolerations[0].TolerationSeconds = nil }, "spec.tolerations[0].effect", field.TypeNotSupported},
		{"toleration operator", func(p *Pod) { p.Spec.Tolerations[0].Operator = "Like" }, "spec.tolerations[0].operator", field.TypeNotSupported},
		{"toleration empty key equal", func(p *Pod) {
			p.Spec.Tolerations[0] = Toleration{Operator: TolerationOpEqual, Value: "v"}
		}, "spec.tolerations[0].operator", field.TypeInvalid},
		{"node affinity no terms", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms = nil
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms", field.TypeRequired},
		{"node affinity operator", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Operator = "Near"
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator", field.TypeNotSupported},
		{"node affinity Gt value", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0] = NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpGt, Values: []string{"many"}}
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]", field.TypeInvalid},
		{"pod anti-affinity weight", func(p *Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].Weight = 101
		}, "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", field.TypeInvalid},
		{"pod anti-affinity topologyKey", func(p *Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey = ""
		}, "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey", field.TypeRequired},
		{"pod affinity selector operator", func(p *Pod) {
			p.Spec.Affinity.PodAffinity = &PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []PodAffinityTerm{{
				TopologyKey:   LabelHostname,
				LabelSelector: &apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "app", Operator: "Is"}}},
			}}}
		}, "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator", field.TypeNotSupported},
		{"spread maxSkew", func(p *Pod) { p.Spec.TopologySpreadConstraints[0].MaxSkew = 0 }, "spec.topologySpreadConstraints[0].maxSkew", field.TypeInvalid},
		{"spread topologyKey", func(p *Pod) { p.Spec.TopologySpreadConstraints[0].TopologyKey = "" }, "spec.topologySpreadConstraints[0].topologyKey", field.TypeRequired},
		{"spread whenUnsatisfiable", func(p *Pod) { p.Spec.TopologySpreadConstraints[0].WhenUnsatisfiable = "Never" }, "spec.topologySpreadConstraints[0].whenUnsatisfiable", field.TypeNotSupported},
		{"spread minDomains", func(p *Pod) { p.Spec.TopologySpreadConstraints[0].MinDomains = ptr(int32(0)) }, "spec.topologySpreadConstraints[0].minDomains", field.TypeInvalid},
		{"ephemeral container name unique", func(p *Pod) {
			p.Spec.EphemeralContainers = []EphemeralContainer{{Container: Container{Name: "web", Image: "busybox"}}}
		}, "spec.ephemeralContainers[0].name", field.TypeDuplicate},
		{"ephemeral container ports", func(p *Pod) {
			p.Spec.EphemeralContainers = []EphemeralContainer{{Container: Container{Name: "debug", Image: "busybox", Ports: []ContainerPort{{ContainerPort: 80, Protocol: ProtocolTCP}}}}}
		}, "spec.ephemeralContainers[0].ports", field.TypeForbidden},
		{"ephemeral container ok", func(p *Pod) {
			p.Spec.EphemeralContainers = []EphemeralContainer{{Container: Container{Name: "debug", Image: "busybox"}, TargetContainerName: "web"}}
		}, "", ""},
		{"runAsUser negative", func(p *Pod) { p.Spec.SecurityContext.RunAsUser = ptr(int64(-1)) }, "spec.securityContext.runAsUser", field.TypeInvalid},
		{"hostname", func(p *Pod) { p.Spec.Hostname = "a.b" }, "spec.hostname", field.TypeInvalid},
		{"subdomain", func(p *Pod) { p.Spec.Subdomain = "A" }, "spec.subdomain", field.TypeInvalid},
		{"schedulerName", func(p *Pod) { p.Spec.SchedulerName = "My Scheduler" }, "spec.schedulerName", field.TypeInvalid},
		{"priorityClassName", func(p *Pod) { p.Spec.PriorityClassName = "High" }, "spec.priorityClassName", field.TypeInvalid},
		{"imagePullSecrets name", func(p *Pod) { p.Spec.ImagePullSecrets = []LocalObjectReference{{}} }, "spec.imagePullSecrets[0].name", field.TypeRequired},
		{"dnsPolicy None needs nameservers", func(p *Pod) { p.Spec.DNSPolicy = DNSNone }, "spec.dnsConfig.nameservers", field.TypeRequired},
		{"preemptionPolicy", func(p *Pod) { p.Spec.PreemptionPolicy = ptr(PreemptionPolicy("Sometimes")) }, "spec.preemptionPolicy", field.TypeNotSupported},
		{"restartPolicy required", func(p *Pod) { p.Spec.RestartPolicy = "" }, "spec.restartPolicy", field.TypeRequired},
		{"terminationMessagePolicy", func(p *Pod) { p.Spec.Containers[0].TerminationMessagePolicy = "Stderr" }, "spec.containers[0].terminationMessagePolicy", field.TypeNotSupported},
		{"image whitespace", func(p *Pod) { p.Spec.Containers[0].Image = " nginx" }, "spec.containers[0].image", field.TypeInvalid},
		{"hostIP", func(p *Pod) { p.Spec.Containers[0].Ports[0].HostIP = "localhost" }, "spec.containers[0].ports[0].hostIP", field.TypeInvalid},
		{"port name duplicate", func(p *Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, ContainerPort{Name: "http", ContainerPort: 81, Protocol: ProtocolTCP})
		}, "spec.containers[0].ports[1].name", field.TypeDuplicate},
		{"protocol required", func(p *Pod) { p.Spec.Containers[0].Ports[0].Protocol = "" }, "spec.containers[0].ports[0].protocol", field.TypeRequired},
		{"env name required", func(p *Pod) { p.Spec.Containers[0].Env[0].Name = "" }, "spec.containers[0].env[0].name", field.TypeRequired},
		{"env name printable", func(p *Pod) { p.Spec.Containers[0].Env[0].Name = "A\tB" }, "spec.containers[0].env[0].name", field.TypeInvalid},
		{"env valueFrom empty", func(p *Pod) { p.Spec.Containers[0].Env[1].ValueFrom = &EnvVarSource{} }, "spec.containers[0].env[1].valueFrom", field.TypeInvalid},
		{"env fieldRef required", func(p *Pod) { p.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath = "" }, "spec.containers[0].env[1].valueFrom.fieldRef.fieldPath", field.TypeRequired},
		{"env fieldRef label entry ok", func(p *Pod) { p.Spec.Containers[0].Env[1].ValueFrom.FieldRef.FieldPath = "metadata.labels['app']" }, "", ""},
		{"env resourceFieldRef required", func(p *Pod) { p.Spec.Containers[0].Env[2].ValueFrom.ResourceFieldRef.Resource = "" }, "spec.containers[0].env[2].valueFrom.resourceFieldRef.resource", field.TypeRequired},
		{"env resourceFieldRef divisor", func(p *Pod) {
			p.Spec.Containers[0].Env[2].ValueFrom.ResourceFieldRef.Divisor = resource.MustParse("-1")
		}, "spec.containers[0].env[2].valueFrom.resourceFieldRef.divisor", field.TypeInvalid},
		{"env configMapKeyRef name", func(p *Pod) { p.Spec.Containers[0].Env[3].ValueFrom.ConfigMapKeyRef.Name = "" }, "spec.containers[0].env[3].valueFrom.configMapKeyRef.name", field.TypeRequired},
		{"env secretKeyRef key", func(p *Pod) { p.Spec.Containers[0].Env[4].ValueFrom.SecretKeyRef.Key = "" }, "spec.containers[0].env[4].valueFrom.secretKeyRef.key", field.TypeRequired},
		{"envFrom both", func(p *Pod) {
			p.Spec.Containers[0].EnvFrom[0].SecretRef = &SecretEnvSource{LocalObjectReference: LocalObjectReference{Name: "s"}}
		}, "spec.containers[0].envFrom[0]", field.TypeInvalid},
		{"envFrom configMap name", func(p *Pod) { p.Spec.Containers[0].EnvFrom[0].ConfigMapRef.Name = "" }, "spec.containers[0].envFrom[0].configMapRef.name", field.TypeRequired},
		{"envFrom secret name", func(p *Pod) {
			p.Spec.Containers[0].EnvFrom[0] = EnvFromSource{SecretRef: &SecretEnvSource{}}
		}, "spec.containers[0].envFrom[0].secretRef.name", field.TypeRequired},
		{"resource name", func(p *Pod) {
			p.Spec.Containers[0].Resources.Limits["bad name"] = resource.MustParse("1")
		}, "spec.containers[0].resources.limits", field.TypeInvalid},
		{"volumeMount name required", func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].Name = "" }, "spec.containers[0].volumeMounts[0].name", field.TypeRequired},
		{"volumeMount subPath", func(p *Pod) { p.Spec.Containers[0].VolumeMounts[0].SubPath = "../x" }, "spec.containers[0].volumeMounts[0].subPath", field.TypeInvalid},
		{"probe header name", func(p *Pod) {
			p.Spec.Containers[0].LivenessProbe.HTTPGet.HTTPHeaders = []HTTPHeader{{Value: "x"}}
		}, "spec.containers[0].livenessProbe.httpGet.httpHeaders[0].name", field.TypeRequired},
		{"grpc port", func(p *Pod) {
			p.Spec.Containers[0].LivenessProbe.ProbeHandler = ProbeHandler{GRPC: &GRPCAction{Port: 0}}
		}, "spec.containers[0].livenessProbe.grpc.port", field.TypeInvalid},
		{"probe grace", func(p *Pod) { p.Spec.Containers[0].LivenessProbe.TerminationGracePeriodSeconds = ptr(int64(0)) }, "spec.containers[0].livenessProbe.terminationGracePeriodSeconds", field.TypeInvalid},
		{"probe timeout negative", func(p *Pod) { p.Spec.Containers[0].ReadinessProbe.TimeoutSeconds = -1 }, "spec.containers[0].readinessProbe.timeoutSeconds", field.TypeInvalid},
		{"probe period negative", func(p *Pod) { p.Spec.Containers[0].ReadinessProbe.PeriodSeconds = -1 }, "spec.containers[0].readinessProbe.periodSeconds", field.TypeInvalid},
		{"probe failureThreshold negative", func(p *Pod) { p.Spec.Containers[0].ReadinessProbe.FailureThreshold = -1 }, "spec.containers[0].readinessProbe.failureThreshold", field.TypeInvalid},
		{"sleep seconds", func(p *Pod) { p.Spec.Containers[0].Lifecycle.PreStop.Sleep.Seconds = -1 }, "spec.containers[0].lifecycle.preStop.sleep.seconds", field.TypeInvalid},
		{"postStart two handlers", func(p *Pod) {
			p.Spec.Containers[0].Lifecycle.PostStart = &LifecycleHandler{Exec: &ExecAction{Command: []string{"x"}}, TCPSocket: &TCPSocketAction{Port: apis.IntOrStringFromInt(80)}}
		}, "spec.containers[0].lifecycle.postStart", field.TypeForbidden},
		{"init restartPolicy value", func(p *Pod) { p.Spec.InitContainers[0].RestartPolicy = ptr(ContainerRestartPolicy("Never")) }, "spec.initContainers[0].restartPolicy", field.TypeNotSupported},
		{"sidecar may have probes", func(p *Pod) {
			p.Spec.InitContainers[0].RestartPolicy = ptr(ContainerRestartPolicyAlways)
			p.Spec.InitContainers[0].ReadinessProbe = &Probe{ProbeHandler: ProbeHandler{Exec: &ExecAction{Command: []string{"x"}}}}
		}, "", ""},
		{"volume name required", func(p *Pod) { p.Spec.Volumes[1].Name = "" }, "spec.volumes[1].name", field.TypeRequired},
		{"volume without source", func(p *Pod) { p.Spec.Volumes[1].VolumeSource = VolumeSource{} }, "spec.volumes[1]", field.TypeRequired},
		{"configMap defaultMode", func(p *Pod) { p.Spec.Volumes[0].ConfigMap.DefaultMode = ptr(int32(0o1000)) }, "spec.volumes[0].configMap.defaultMode", field.TypeInvalid},
		{"configMap item key", func(p *Pod) { p.Spec.Volumes[0].ConfigMap.Items = []KeyToPath{{Path: "x"}} }, "spec.volumes[0].configMap.items[0].key", field.TypeRequired},
		{"configMap item absolute", func(p *Pod) { p.Spec.Volumes[0].ConfigMap.Items = []KeyToPath{{Key: "k", Path: "/etc/x"}} }, "spec.volumes[0].configMap.items[0].path", field.TypeInvalid},
		{"configMap item mode", func(p *Pod) {
			p.Spec.Volumes[0].ConfigMap.Items = []KeyToPath{{Key: "k", Path: "x", Mode: ptr(int32(-1))}}
		}, "spec.volumes[0].configMap.items[0].mode", field.TypeInvalid},
		{"downwardAPI both refs", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{DownwardAPI: &DownwardAPIVolumeSource{Items: []DownwardAPIVolumeFile{{
				Path: "x", FieldRef: &ObjectFieldSelector{FieldPath: "metadata.name"}, ResourceFieldRef: &ResourceFieldSelector{Resource: "limits.cpu"},
			}}}}
		}, "spec.volumes[1].downwardAPI.items[0]", field.TypeInvalid},
		{"downwardAPI fieldRef", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{DownwardAPI: &DownwardAPIVolumeSource{Items: []DownwardAPIVolumeFile{{
				Path: "x", FieldRef: &ObjectFieldSelector{FieldPath: "spec.volumes"},
			}}}}
		}, "spec.volumes[1].downwardAPI.items[0].fieldRef.fieldPath", field.TypeNotSupported},
		{"projected serviceAccountToken path", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{Projected: &ProjectedVolumeSource{Sources: []VolumeProjection{{ServiceAccountToken: &ServiceAccountTokenProjection{}}}}}
		}, "spec.volumes[1].projected.sources[0].serviceAccountToken.path", field.TypeRequired},
		{"nfs server", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{NFS: &NFSVolumeSource{Path: "/exports"}}
		}, "spec.volumes[1].nfs.server", field.TypeRequired},
		{"nfs path", func(p *Pod) {
			p.Spec.Volumes[1].VolumeSource = VolumeSource{NFS: &NFSVolumeSource{Server: "nfs", Path: "exports"}}
		}, "spec.volumes[1].nfs.path", field.TypeInvalid},
		{"csi driver", func(p *Pod) { p.Spec.Volumes[1].VolumeSource = VolumeSource{CSI: &CSIVolumeSource{}} }, "spec.volumes[1].csi.driver", field.TypeRequired},
		{"toleration key", func(p *Pod) { p.Spec.Tolerations[0].Key = "bad key" }, "spec.tolerations[0].key", field.TypeInvalid},
		{"toleration value", func(p *Pod) {
			p.Spec.Tolerations[0] = Toleration{Key: "k", Operator: TolerationOpEqual, Value: "bad value"}
		}, "spec.tolerations[0].value", field.TypeInvalid},
		{"node affinity In without values", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Values = nil
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values", field.TypeRequired},
		{"node affinity Exists with values", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Operator = NodeSelectorOpExists
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values", field.TypeForbidden},
		{"node affinity Lt values count", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0] = NodeSelectorRequirement{Key: "cores", Operator: NodeSelectorOpLt, Values: []string{"1", "2"}}
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values", field.TypeRequired},
		{"node affinity key", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchExpressions[0].Key = "-zone"
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key", field.TypeInvalid},
		{"matchFields key", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields = []NodeSelectorRequirement{{Key: "spec.nodeName", Operator: NodeSelectorOpIn, Values: []string{"a"}}}
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key", field.TypeNotSupported},
		{"matchFields operator", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields = []NodeSelectorRequirement{{Key: "metadata.name", Operator: NodeSelectorOpExists}}
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].operator", field.TypeNotSupported},
		{"matchFields one value", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields = []NodeSelectorRequirement{{Key: "metadata.name", Operator: NodeSelectorOpIn, Values: []string{"a", "b"}}}
		}, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values", field.TypeRequired},
		{"node preference weight", func(p *Pod) {
			p.Spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution = []PreferredSchedulingTerm{{Weight: 0}}
		}, "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight", field.TypeInvalid},
		{"pod affinity namespace", func(p *Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.Namespaces = []string{"Bad"}
		}, "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.namespaces[0]", field.TypeInvalid},
		{"pod affinity topologyKey syntax", func(p *Pod) {
			p.Spec.Affinity.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.TopologyKey = "a b"
		}, "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey", field.TypeInvalid},
		{"spread minDomains with ScheduleAnyway", func(p *Pod) {
			p.Spec.TopologySpreadConstraints[0].WhenUnsatisfiable = ScheduleAnyway
			p.Spec.TopologySpreadConstraints[0].MinDomains = ptr(int32(2))
		}, "spec.topologySpreadConstraints[0].minDomains", field.TypeInvalid},
		{"spread nodeTaintsPolicy", func(p *Pod) {
			p.Spec.TopologySpreadConstraints[0].NodeTaintsPolicy = ptr(NodeInclusionPolicy("Maybe"))
		}, "spec.topologySpreadConstraints[0].nodeTaintsPolicy", field.TypeNotSupported},
		{"spread topologyKey syntax", func(p *Pod) { p.Spec.TopologySpreadConstraints[0].TopologyKey = "a b" }, "spec.topologySpreadConstraints[0].topologyKey", field.TypeInvalid},
		{"spread selector", func(p *Pod) {
			p.Spec.TopologySpreadConstraints[0].LabelSelector = &apis.LabelSelector{MatchLabels: map[string]string{"a": "b c"}}
		}, "spec.topologySpreadConstraints[0].labelSelector.matchLabels[a]", field.TypeInvalid},
		{"supplementalGroups", func(p *Pod) { p.Spec.SecurityContext.SupplementalGroups = []int64{-5} }, "spec.securityContext.supplementalGroups[0]", field.TypeInvalid},
		{"sidecar restartPolicy on app container", func(p *Pod) {
			p.Spec.Containers[0].RestartPolicy = ptr(ContainerRestartPolicyAlways)
		}, "spec.containers[0].restartPolicy", field.TypeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			errs := ValidatePod(p)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			fieldtest.ExpectOnly(t, errs, tt.path, tt.typ)
		})
	}
}

func TestValidatePodUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(p *Pod)
		path   string
	}{
		{"image may change", func(p *Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }, ""},
		{"init image may change", func(p *Pod) { p.Spec.InitContainers[0].Image = "busybox:2" }, ""},
		{"toleration may be added", func(p *Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, Toleration{Key: "k", Operator: TolerationOpExists})
		}, ""},
		{"nodeName set once", func(p *Pod) { p.Spec.NodeName = "node-1" }, ""},
		{"activeDeadline set", func(p *Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(60)) }, ""},
		{"labels may change", func(p *Pod) { p.Labels["v"] = "2" }, ""},
		{"status may change", func(p *Pod) { p.Status.Phase = PodRunning }, ""},
		{"toleration removed", func(p *Pod) { p.Spec.Tolerations = nil }, "spec.tolerations[0]"},
		{"container env changed", func(p *Pod) { p.Spec.Containers[0].Env[0].Value = "2" }, "spec"},
		{"restartPolicy changed", func(p *Pod) { p.Spec.RestartPolicy = RestartPolicyNever }, "spec"},
		{"container added", func(p *Pod) { p.Spec.Containers = append(p.Spec.Containers, Container{Name: "b", Image: "b"}) }, "spec"},
		{"scheduling gate added", func(p *Pod) { p.Spec.SchedulingGates = []PodSchedulingGate{{Name: "wait"}} }, "spec.schedulingGates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := validPod()
			p := validPod()
			tt.mutate(p)
			errs := ValidatePodUpdate(p, old)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1, "%v", errs)
			assert.Equal(t, tt.path, errs[0].Field)
		})
	}

	bound := validPod()
	bound.Spec.NodeName = "node-1"
	bound.Spec.ActiveDeadlineSeconds = ptr(int64(60))
	moved := validPod()
	moved.Spec.NodeName = "node-2"
	moved.Spec.ActiveDeadlineSeconds = ptr(int64(30))
	fieldtest.ExpectOnly(t, ValidatePodUpdate(moved, bound), "spec.nodeName", field.TypeInvalid)
	moved.Spec.NodeName = "node-1"
	moved.Spec.ActiveDeadlineSeconds = ptr(int64(90))
	fieldtest.ExpectOnly(t, ValidatePodUpdate(moved, bound), "spec.activeDeadlineSeconds", field.TypeInvalid)
}

func validService() *Service {
	s := &Service{
		ObjectMeta: apis.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []ServicePort{{Name: "http", Port: 80, TargetPort: apis.IntOrStringFromString("http")}, {Name: "https", Port: 443}},
		},
	}
	DefaultService(s)
	return s
}

func TestValidateService(t *testing.T) {
	assert.Empty(t, ValidateService(validService()))
	tests := []struct {
		name   string
		mutate func(s *Service)
		path   string
		typ    field.Type
	}{
		{"name DNS-1035", func(s *Service) { s.Name = "1web" }, "metadata.name", field.TypeInvalid},
		{"type enum", func(s *Service) { s.Spec.Type = "Public" }, "spec.type", field.TypeNotSupported},
		{"ports required", func(s *Service) { s.Spec.Ports = nil }, "spec.ports", field.TypeRequired},
		{"headless without ports", func(s *Service) { s.Spec.Ports = nil; s.Spec.ClusterIP = ClusterIPNone }, "", ""},
		{"port 0", func(s *Service) { s.Spec.Ports[0].Port = 0 }, "spec.ports[0].port", field.TypeInvalid},
		{"port 65536", func(s *Service) {
			s.Spec.Ports[1].Port = 65536
			s.Spec.Ports[1].TargetPort = apis.IntOrStringFromInt(443)
		}, "spec.ports[1].port", field.TypeInvalid},
		{"port name required when many", func(s *Service) { s.Spec.Ports[1].Name = "" }, "spec.ports[1].name", field.TypeRequired},
		{"port name unique", func(s *Service) { s.Spec.Ports[1].Name = "http" }, "spec.ports[1].name", field.TypeDuplicate},
		{"protocol", func(s *Service) { s.Spec.Ports[0].Protocol = "HTTP" }, "spec.ports[0].protocol", field.TypeNotSupported},
		{"targetPort number", func(s *Service) { s.Spec.Ports[1].TargetPort = apis.IntOrStringFromInt(70000) }, "spec.ports[1].targetPort", field.TypeInvalid},
		{"targetPort name", func(s *Service) { s.Spec.Ports[0].TargetPort = apis.IntOrStringFromString("-x") }, "spec.ports[0].targetPort", field.TypeInvalid},
		{"nodePort on ClusterIP", func(s *Service) { s.Spec.Ports[0].NodePort = 30080 }, "spec.ports[0].nodePort", field.TypeForbidden},
		{"nodePort below range", func(s *Service) { s.Spec.Type = ServiceTypeNodePort; s.Spec.Ports[0].NodePort = 29999 }, "spec.ports[0].nodePort", field.TypeInvalid},
		{"nodePort above range", func(s *Service) { s.Spec.Type = ServiceTypeLoadBalancer; s.Spec.Ports[0].NodePort = 32768 }, "spec.ports[0].nodePort", field.TypeInvalid},
		{"nodePort duplicate", func(s *Service) {
			s.Spec.Type = ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
			s.Spec.Ports[1].NodePort = 30080
		}, "spec.ports[1].nodePort", field.TypeDuplicate},
		{"nodePort in range", func(s *Service) { s.Spec.Type = ServiceTypeNodePort; s.Spec.Ports[0].NodePort = 32767 }, "", ""},
		{"clusterIP syntax", func(s *Service) { s.Spec.ClusterIP = "10.0.0.300" }, "spec.clusterIP", field.TypeInvalid},
		{"clusterIPs match", func(s *Service) { s.Spec.ClusterIP = "10.0.0.1"; s.Spec.ClusterIPs = []string{"10.0.0.2"} }, "spec.clusterIPs[0]", field.TypeInvalid},
		{"headless NodePort", func(s *Service) { s.Spec.Type = ServiceTypeNodePort; s.Spec.ClusterIP = ClusterIPNone }, "spec.clusterIP", field.TypeInvalid},
		{"externalName required", func(s *Service) { s.Spec.Type = ServiceTypeExternalName }, "spec.externalName", field.TypeRequired},
		{"externalName syntax", func(s *Service) { s.Spec.Type = ServiceTypeExternalName; s.Spec.ExternalName = "bad_host" }, "spec.externalName", field.TypeInvalid},
		{"externalName with clusterIP", func(s *Service) {
			s.Spec.Type = ServiceTypeExternalName
			s.Spec.ExternalName = "db.example.com"
			s.Spec.ClusterIP = "10.0.0.1"
		}, "spec.clusterIP", field.TypeForbidden},
		{"sessionAffinity enum", func(s *Service) { s.Spec.SessionAffinity = "Cookie" }, "spec.sessionAffinity", field.TypeNotSupported},
		{"sessionAffinity timeout", func(s *Service) {
			s.Spec.SessionAffinity = ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: ptr(int32(86401))}}
		}, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", field.TypeInvalid},
		{"sessionAffinityConfig with None", func(s *Service) {
			s.Spec.SessionAffinityConfig = &SessionAffinityConfig{ClientIP: &ClientIPConfig{TimeoutSeconds: ptr(int32(10))}}
		}, "spec.sessionAffinityConfig", field.TypeForbidden},
		{"externalTrafficPolicy on ClusterIP", func(s *Service) { s.Spec.ExternalTrafficPolicy = ServiceTrafficPolicyLocal }, "spec.externalTrafficPolicy", field.TypeInvalid},
		{"externalTrafficPolicy enum", func(s *Service) { s.Spec.Type = ServiceTypeNodePort; s.Spec.ExternalTrafficPolicy = "Near" }, "spec.externalTrafficPolicy", field.TypeNotSupported},
		{"internalTrafficPolicy enum", func(s *Service) { s.Spec.InternalTrafficPolicy = ptr(ServiceTrafficPolicy("Near")) }, "spec.internalTrafficPolicy", field.TypeNotSupported},
		{"ipFamilies enum", func(s *Service) { s.Spec.IPFamilies = []IPFamily{"IPv5"} }, "spec.ipFamilies[0]", field.TypeNotSupported},
		{"ipFamilies duplicate", func(s *Service) { s.Spec.IPFamilies = []IPFamily{IPv4Protocol, IPv4Protocol} }, "spec.ipFamilies[1]", field.TypeDuplicate},
		{"selector label", func(s *Service) { s.Spec.Selector["app"] = "a b" }, "spec.selector[app]", field.TypeInvalid},
		{"type required", func(s *Service) { s.Spec.Type = "" }, "spec.type", field.TypeRequired},
		{"port name syntax", func(s *Service) { s.Spec.Ports[1].Name = "HTTPS" }, "spec.ports[1].name", field.TypeInvalid},
		{"protocol required", func(s *Service) { s.Spec.Ports[0].Protocol = "" }, "spec.ports[0].protocol", field.TypeRequired},
		{"clusterIPs syntax", func(s *Service) { s.Spec.ClusterIPs = []string{"x"} }, "spec.clusterIPs[0]", field.TypeInvalid},
		{"clusterIPs count", func(s *Service) { s.Spec.ClusterIPs = []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} }, "spec.clusterIPs", field.TypeInvalid},
		{"sessionAffinity required", func(s *Service) { s.Spec.SessionAffinity = "" }, "spec.sessionAffinity", field.TypeRequired},
		{"ClientIP without timeout", func(s *Service) { s.Spec.SessionAffinity = ServiceAffinityClientIP }, "spec.sessionAffinityConfig.clientIP.timeoutSeconds", field.TypeRequired},
		{"ipFamilyPolicy", func(s *Service) { s.Spec.IPFamilyPolicy = ptr(IPFamilyPolicy("Both")) }, "spec.ipFamilyPolicy", field.TypeNotSupported},
		{"externalIPs", func(s *Service) { s.Spec.ExternalIPs = []string{"example.com"} }, "spec.externalIPs[0]", field.TypeInvalid},
		{"externalTrafficPolicy with externalIPs ok", func(s *Service) {
			s.Spec.ExternalIPs = []string{"203.0.113.1"}
			s.Spec.ExternalTrafficPolicy = ServiceTrafficPolicyLocal
		}, "", ""},
		{"loadBalancerSourceRanges", func(s *Service) {
			s.Spec.Type = ServiceTypeLoadBalancer
			s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0"}
		}, "spec.loadBalancerSourceRanges[0]", field.TypeInvalid},
		{"namespace required", func(s *Service) { s.Namespace = "" }, "metadata.namespace", field.TypeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validService()
			tt.mutate(s)
			errs := ValidateService(s)
			if tt.path == "" {
				assert.Empty(t, errs)
				return
			}
			fieldtest.ExpectOnly(t, errs, tt.path, tt.typ)
		})
	}
}

func TestValidateServiceUpdate(t *testing.T) {
	old := validService()
	old.Spec.ClusterIP = "10.96.0.10"
	old.Spec.ClusterIPs = []string{"10.96.0.10"}
	s := validService()
	assert.Empty(t, ValidateServiceUpdate(s, old), "empty clusterIP is filled from the stored object")
	s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
	assert.Empty(t, ValidateServiceUpdate(s, old))
	s.Spec.ClusterIP = "10.96.0.11"
	errs := ValidateServiceUpdate(s, old)
	require.NotEmpty(t, errs)
	assert.Equal(t, "spec.clusterIP", errs[0].Field)
	s.Spec.ClusterIP, s.Spec.ClusterIPs = "", []string{"10.96.0.12"}
	fieldtest.ExpectOnly(t, ValidateServiceUpdate(s, old), "spec.clusterIPs[0]", field.TypeInvalid)
	s.Spec.Type, s.Spec.ClusterIP, s.Spec.ClusterIPs = ServiceTypeExternalName, "", nil
	assert.Empty(t, ValidateServiceUpdate(s, old), "switching to ExternalName releases the IP")
}

func TestValidateOtherCoreKinds(t *testing.T) {
	tests := []struct {
		name string
		errs field.ErrorList
		path string
		typ  field.Type
	}{
		{"node taint effect", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{Taints: []Taint{{Key: "k", Effect: "Evict"}}}}), "spec.taints[0].effect", field.TypeNotSupported},
		{"node taint key", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{Taints: []Taint{{Effect: TaintEffectNoSchedule}}}}), "spec.taints[0].key", field.TypeRequired},
		{"node taint duplicate", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{Taints: []Taint{{Key: "k", Effect: TaintEffectNoSchedule}, {Key: "k", Value: "v", Effect: TaintEffectNoSchedule}}}}), "spec.taints[1]", field.TypeDuplicate},
		{"node podCIDR", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{PodCIDR: "10.0.0.0/33"}}), "spec.podCIDR", field.TypeInvalid},
		{"node namespace forbidden", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1", Namespace: "default"}}), "metadata.namespace", field.TypeForbidden},
		{"namespace name label", ValidateNamespace(&Namespace{ObjectMeta: apis.ObjectMeta{Name: "a.b"}}), "metadata.name", field.TypeInvalid},
		{"namespace finalizer", ValidateNamespace(&Namespace{ObjectMeta: apis.ObjectMeta{Name: "a"}, Spec: NamespaceSpec{Finalizers: []string{"a/b/c"}}}), "spec.finalizers[0]", field.TypeInvalid},
		{"endpoints ip", ValidateEndpoints(&Endpoints{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []EndpointSubset{{Addresses: []EndpointAddress{{IP: "x"}}}}}), "subsets[0].addresses[0].ip", field.TypeInvalid},
		{"endpoints port", ValidateEndpoints(&Endpoints{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []EndpointSubset{{Ports: []EndpointPort{{Port: 0, Protocol: ProtocolTCP}}}}}), "subsets[0].ports[0].port", field.TypeInvalid},
		{"configmap key", ValidateConfigMap(&ConfigMap{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Data: map[string]string{"a/b": "x"}}), "data", field.TypeInvalid},
		{"configmap key in both", ValidateConfigMap(&ConfigMap{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Data: map[string]string{"k": "x"}, BinaryData: map[string][]byte{"k": {1}}}), "binaryData[k]", field.TypeDuplicate},
		{"configmap too big", ValidateConfigMap(&ConfigMap{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Data: map[string]string{"k": strings.Repeat("x", 1<<20+1)}}), "data", field.TypeTooLong},
		{"secret tls keys", ValidateSecret(&Secret{ObjectMeta: apis.ObjectMeta{Name: "s", Namespace: "d"}, SecretType: SecretTypeTLS, Data: map[string][]byte{"tls.crt": {1}}}), "data[tls.key]", field.TypeRequired},
		{"secret key", ValidateSecret(&Secret{ObjectMeta: apis.ObjectMeta{Name: "s", Namespace: "d"}, Data: map[string][]byte{"..": {1}}}), "data", field.TypeInvalid},
		{"event namespace", ValidateEvent(&Event{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "a"}, InvolvedObject: ObjectReference{Kind: "Pod", Name: "p", Namespace: "b"}}), "involvedObject.namespace", field.TypeInvalid},
		{"event type", ValidateEvent(&Event{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "a"}, InvolvedObject: ObjectReference{Kind: "Pod", Name: "p"}, EventType: "Bad"}), "type", field.TypeNotSupported},
		{"event involved name", ValidateEvent(&Event{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "a"}, InvolvedObject: ObjectReference{Kind: "Pod"}}), "involvedObject.name", field.TypeRequired},
		{"pv capacity", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{HostPath: &HostPathVolumeSource{Path: "/d"}}}}), "spec.capacity[storage]", field.TypeRequired},
		{"pv source", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}}}), "spec", field.TypeRequired},
		{"pv access mode", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{"ReadSometimes"}, PersistentVolumeSource: PersistentVolumeSource{HostPath: &HostPathVolumeSource{Path: "/d"}}}}), "spec.accessModes[0]", field.TypeNotSupported},
		{"pvc request", ValidatePersistentVolumeClaim(&PersistentVolumeClaim{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Spec: PersistentVolumeClaimSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}}}), "spec.resources.requests[storage]", field.TypeRequired},
		{"node podCIDRs", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{PodCIDRs: []string{"x"}}}), "spec.podCIDRs[0]", field.TypeInvalid},
		{"node podCIDRs first", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{PodCIDR: "10.0.0.0/24", PodCIDRs: []string{"10.0.1.0/24"}}}), "spec.podCIDRs", field.TypeInvalid},
		{"node taint value", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{Taints: []Taint{{Key: "k", Value: "a b", Effect: TaintEffectNoSchedule}}}}), "spec.taints[0].value", field.TypeInvalid},
		{"node taint effect required", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{Taints: []Taint{{Key: "k"}}}}), "spec.taints[0].effect", field.TypeRequired},
		{"node capacity", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Status: NodeStatus{Capacity: ResourceList{ResourceCPU: resource.MustParse("-1")}}}), "status.capacity[cpu]", field.TypeInvalid},
		{"node allocatable", ValidateNode(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Status: NodeStatus{Allocatable: ResourceList{ResourcePods: resource.MustParse("-1")}}}), "status.allocatable[pods]", field.TypeInvalid},
		{"namespace phase", ValidateNamespace(&Namespace{ObjectMeta: apis.ObjectMeta{Name: "a"}, Status: NamespaceStatus{Phase: "Gone"}}), "status.phase", field.TypeNotSupported},
		{"endpoints hostname", ValidateEndpoints(&Endpoints{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []EndpointSubset{{Addresses: []EndpointAddress{{IP: "10.0.0.1", Hostname: "A"}}}}}), "subsets[0].addresses[0].hostname", field.TypeInvalid},
		{"endpoints nodeName", ValidateEndpoints(&Endpoints{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []EndpointSubset{{NotReadyAddresses: []EndpointAddress{{IP: "10.0.0.1", NodeName: ptr("N")}}}}}), "subsets[0].notReadyAddresses[0].nodeName", field.TypeInvalid},
		{"endpoints port name", ValidateEndpoints(&Endpoints{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []EndpointSubset{{Ports: []EndpointPort{{Name: "a", Port: 1, Protocol: ProtocolTCP}, {Port: 2, Protocol: ProtocolTCP}}}}}), "subsets[0].ports[1].name", field.TypeRequired},
		{"endpoints protocol", ValidateEndpoints(&Endpoints{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []EndpointSubset{{Ports: []EndpointPort{{Port: 1, Protocol: "X"}}}}}), "subsets[0].ports[0].protocol", field.TypeNotSupported},
		{"endpoints protocol required", ValidateEndpoints(&Endpoints{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "d"}, Subsets: []EndpointSubset{{Ports: []EndpointPort{{Port: 1}}}}}), "subsets[0].ports[0].protocol", field.TypeRequired},
		{"configmap binary key", ValidateConfigMap(&ConfigMap{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, BinaryData: map[string][]byte{"..": {1}}}), "binaryData", field.TypeInvalid},
		{"configmap key too long", ValidateConfigMap(&ConfigMap{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Data: map[string]string{strings.Repeat("k", 254): ""}}), "data", field.TypeInvalid},
		{"secret too big", ValidateSecret(&Secret{ObjectMeta: apis.ObjectMeta{Name: "s", Namespace: "d"}, Data: map[string][]byte{"k": make([]byte, 1<<20+1)}}), "data", field.TypeTooLong},
		{"secret dockerconfigjson", ValidateSecret(&Secret{ObjectMeta: apis.ObjectMeta{Name: "s", Namespace: "d"}, SecretType: SecretTypeDockerConfigJSON}), "data[.dockerconfigjson]", field.TypeRequired},
		{"secret dockercfg", ValidateSecret(&Secret{ObjectMeta: apis.ObjectMeta{Name: "s", Namespace: "d"}, SecretType: SecretTypeDockercfg}), "data[.dockercfg]", field.TypeRequired},
		{"secret ssh", ValidateSecret(&Secret{ObjectMeta: apis.ObjectMeta{Name: "s", Namespace: "d"}, SecretType: SecretTypeSSHAuth}), "data[ssh-privatekey]", field.TypeRequired},
		{"secret service account", ValidateSecret(&Secret{ObjectMeta: apis.ObjectMeta{Name: "s", Namespace: "d"}, SecretType: SecretTypeServiceAccountToken}), "metadata.annotations[kubernetes.io/service-account.name]", field.TypeRequired},
		{"event kind", ValidateEvent(&Event{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "a"}, InvolvedObject: ObjectReference{Name: "p"}}), "involvedObject.kind", field.TypeRequired},
		{"event count", ValidateEvent(&Event{ObjectMeta: apis.ObjectMeta{Name: "e", Namespace: "a"}, InvolvedObject: ObjectReference{Kind: "Pod", Name: "p"}, Count: -1}), "count", field.TypeInvalid},
		{"pv reclaim policy", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{HostPath: &HostPathVolumeSource{Path: "/d"}}, PersistentVolumeReclaimPolicy: "Keep"}}), "spec.persistentVolumeReclaimPolicy", field.TypeNotSupported},
		{"pv volume mode", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{HostPath: &HostPathVolumeSource{Path: "/d"}}, VolumeMode: ptr(PersistentVolumeMode("Raw"))}}), "spec.volumeMode", field.TypeNotSupported},
		{"pv two sources", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{HostPath: &HostPathVolumeSource{Path: "/d"}, Local: &LocalVolumeSource{Path: "/e"}}}}), "spec", field.TypeForbidden},
		{"pv hostPath path", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{HostPath: &HostPathVolumeSource{}}}}), "spec.hostPath.path", field.TypeRequired},
		{"pv local path", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{Local: &LocalVolumeSource{}}}}), "spec.local.path", field.TypeRequired},
		{"pv csi", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{CSI: &CSIPersistentVolumeSource{Driver: "d"}}}}), "spec.csi", field.TypeRequired},
		{"pv negative capacity", ValidatePersistentVolume(&PersistentVolume{ObjectMeta: apis.ObjectMeta{Name: "pv"}, Spec: PersistentVolumeSpec{Capacity: ResourceList{ResourceStorage: resource.MustParse("-1Gi")}, AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, PersistentVolumeSource: PersistentVolumeSource{HostPath: &HostPathVolumeSource{Path: "/d"}}}}), "spec.capacity[storage]", field.TypeInvalid},
		{"pvc zero request", ValidatePersistentVolumeClaim(&PersistentVolumeClaim{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Spec: PersistentVolumeClaimSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: resource.MustParse("0")}}}}), "spec.resources.requests[storage]", field.TypeInvalid},
		{"pvc selector", ValidatePersistentVolumeClaim(&PersistentVolumeClaim{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Spec: PersistentVolumeClaimSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: resource.MustParse("1Gi")}}, Selector: &apis.LabelSelector{MatchExpressions: []apis.LabelSelectorRequirement{{Key: "a", Operator: "Is"}}}}}), "spec.selector.matchExpressions[0].operator", field.TypeNotSupported},
		{"pvc volume mode", ValidatePersistentVolumeClaim(&PersistentVolumeClaim{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Spec: PersistentVolumeClaimSpec{AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: resource.MustParse("1Gi")}}, VolumeMode: ptr(PersistentVolumeMode("Raw"))}}), "spec.volumeMode", field.TypeNotSupported},
		{"pvc access modes", ValidatePersistentVolumeClaim(&PersistentVolumeClaim{ObjectMeta: apis.ObjectMeta{Name: "c", Namespace: "d"}, Spec: PersistentVolumeClaimSpec{Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: resource.MustParse("1Gi")}}}}), "spec.accessModes", field.TypeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { fieldtest.ExpectOnly(t, tt.errs, tt.path, tt.typ) })
	}
}

func validRC() *ReplicationController {
	rc := &ReplicationController{
		ObjectMeta: apis.ObjectMeta{Name: "rc", Namespace: "default"},
		Spec: ReplicationControllerSpec{Template: &PodTemplateSpec{
			ObjectMeta: apis.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       PodSpec{Containers: []Container{{Name: "c", Image: "nginx"}}},
		}},
	}
	DefaultReplicationController(rc)
	return rc
}

func TestReplicationController(t *testing.T) {
	rc := validRC()
	assert.Equal(t, map[string]string{"app": "web"}, rc.Spec.Selector, "selector from template labels")
	assert.Equal(t, int32(1), *rc.Spec.Replicas)
	assert.Empty(t, ValidateReplicationController(rc))

	rc.Spec.Replicas = ptr(int32(-1))
	fieldtest.ExpectOnly(t, ValidateReplicationController(rc), "spec.replicas", field.TypeInvalid)
	rc = validRC()
	rc.Spec.Selector = map[string]string{"app": "db"}
	fieldtest.ExpectOnly(t, ValidateReplicationController(rc), "spec.template.metadata.labels", field.TypeInvalid)
	rc = validRC()
	rc.Spec.Template.Spec.RestartPolicy = RestartPolicyNever
	fieldtest.ExpectOnly(t, ValidateReplicationController(rc), "spec.template.spec.restartPolicy", field.TypeNotSupported)
	rc = validRC()
	rc.Spec.Template = nil
	fieldtest.ExpectOnly(t, ValidateReplicationController(rc), "spec.template", field.TypeRequired)
	rc = validRC()
	rc.Spec.MinReadySeconds = -1
	fieldtest.ExpectOnly(t, ValidateReplicationController(rc), "spec.minReadySeconds", field.TypeInvalid)
	rc = validRC()
	rc.Spec.Selector = nil
	fieldtest.ExpectOnly(t, ValidateReplicationController(rc), "spec.selector", field.TypeRequired)
	rc = validRC()
	rc.Spec.Selector = map[string]string{"app": "web", "a b": "c"}
	rc.Spec.Template.Labels["a b"] = "c"
	errs := ValidateReplicationController(rc)
	require.NotEmpty(t, errs)
	assert.Equal(t, "spec.selector", errs[0].Field)
}

func TestImmutableUpdates(t *testing.T) {
	yes := ptr(true)
	old := &ConfigMap{Immutable: yes, Data: map[string]string{"a": "1"}}
	assert.Empty(t, ValidateConfigMapUpdate(&ConfigMap{Immutable: yes, Data: map[string]string{"a": "1"}}, old))
	fieldtest.ExpectOnly(t, ValidateConfigMapUpdate(&ConfigMap{Immutable: yes, Data: map[string]string{"a": "2"}}, old), "data", field.TypeForbidden)
	fieldtest.ExpectOnly(t, ValidateConfigMapUpdate(&ConfigMap{Data: map[string]string{"a": "1"}}, old), "immutable", field.TypeForbidden)
	assert.Empty(t, ValidateConfigMapUpdate(&ConfigMap{Data: map[string]string{"a": "2"}}, &ConfigMap{Data: map[string]string{"a": "1"}}))

	fieldtest.ExpectOnly(t, ValidateSecretUpdate(&Secret{SecretType: SecretTypeTLS}, &Secret{SecretType: SecretTypeOpaque}), "type", field.TypeInvalid)
	fieldtest.ExpectOnly(t, ValidateSecretUpdate(&Secret{Immutable: yes, SecretType: SecretTypeOpaque, Data: map[string][]byte{"a": {2}}}, &Secret{Immutable: yes, SecretType: SecretTypeOpaque, Data: map[string][]byte{"a": {1}}}), "data", field.TypeForbidden)

	fieldtest.ExpectOnly(t, ValidateNodeUpdate(&Node{Spec: NodeSpec{PodCIDR: "10.0.1.0/24"}}, &Node{Spec: NodeSpec{PodCIDR: "10.0.0.0/24"}}), "spec.podCIDR", field.TypeForbidden)
	assert.Empty(t, ValidateNodeUpdate(&Node{Spec: NodeSpec{PodCIDR: "10.0.1.0/24", Unschedulable: true}}, &Node{}))

	pvc := func(size string, vol string) *PersistentVolumeClaim {
		return &PersistentVolumeClaim{Spec: PersistentVolumeClaimSpec{
			AccessModes: []PersistentVolumeAccessMode{ReadWriteOnce}, VolumeName: vol,
			Resources: VolumeResourceRequirements{Requests: ResourceList{ResourceStorage: resource.MustParse(size)}},
		}}
	}
	assert.Empty(t, ValidatePersistentVolumeClaimUpdate(pvc("2Gi", "pv-1"), pvc("1Gi", "")))
	fieldtest.ExpectOnly(t, ValidatePersistentVolumeClaimUpdate(pvc("512Mi", ""), pvc("1Gi", "")), "spec.resources.requests[storage]", field.TypeForbidden)
	fieldtest.ExpectOnly(t, ValidatePersistentVolumeClaimUpdate(pvc("1Gi", "pv-2"), pvc("1Gi", "pv-1")), "spec", field.TypeForbidden)
}

func TestValidateObjectMetaExamples(t *testing.T) {
	// A few names around the DNS limits, for the error text.
	long := strings.Repeat("a", 254)
	errs := ValidateConfigMap(&ConfigMap{ObjectMeta: apis.ObjectMeta{Name: long, Namespace: "d"}})
	require.NotEmpty(t, errs)
	assert.Equal(t, "metadata.name", errs[0].Field)
	assert.Contains(t, errs[0].Error(), "253")
	assert.Equal(t, fmt.Sprintf("metadata.name: Invalid value: %q: %s", "1web", IsDNS1035Label("1web")[0]), ValidateService(&Service{ObjectMeta: apis.ObjectMeta{Name: "1web", Namespace: "d"}, Spec: ServiceSpec{Type: ServiceTypeClusterIP, ClusterIP: ClusterIPNone, SessionAffinity: ServiceAffinityNone}})[0].Error())
}

func TestUpdatesIgnoreSpellingOfEmptiness(t *testing.T) {
	old := validPod()
	p := validPod()
	// A client that builds the object afresh may spell "nothing" as an empty
	// slice or map, and amounts in other units: not a change.
	p.Spec.NodeSelector = map[string]string{}
	p.Spec.ImagePullSecrets = []LocalObjectReference{}
	p.Spec.Containers[0].Resources.Limits[ResourceMemory] = resource.MustParse("536870912") // 512Mi, in another format
	assert.Empty(t, ValidatePodUpdate(p, old))

	yes := ptr(true)
	assert.Empty(t, ValidateConfigMapUpdate(&ConfigMap{Immutable: yes, Data: map[string]string{}}, &ConfigMap{Immutable: yes}))
}
