package core

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/resource"
)

func TestImagePullPolicyFor(t *testing.T) {
	tests := []struct {
		image string
		want  PullPolicy
	}{
		{"nginx", PullAlways},
		{"nginx:latest", PullAlways},
		{"nginx:1.27", PullIfNotPresent},
		{"library/nginx", PullAlways},
		{"docker.io/library/nginx:1.27", PullIfNotPresent},
		{"ccr.ccs.tencentyun.com/lisa/go:v1", PullIfNotPresent},
		{"localhost:5000/img", PullAlways},
		{"localhost:5000/img:latest", PullAlways},
		{"localhost:5000/img:v2", PullIfNotPresent},
		{"registry.example.com:443/team/app", PullAlways},
		{"registry.example.com:443/team/app:2024.1", PullIfNotPresent},
		{"nginx@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", PullIfNotPresent},
		{"nginx:latest@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", PullIfNotPresent},
		{"localhost:5000/img@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31", PullIfNotPresent},
		{"[::1]:5000/img", PullAlways},
		{"[::1]:5000/img:v1", PullIfNotPresent},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			assert.Equal(t, tt.want, ImagePullPolicyFor(tt.image))
			c := Container{Name: "c", Image: tt.image}
			DefaultContainer(&c)
			assert.Equal(t, tt.want, c.ImagePullPolicy)
		})
	}
	c := Container{Name: "c", Image: "nginx", ImagePullPolicy: PullNever}
	DefaultContainer(&c)
	assert.Equal(t, PullNever, c.ImagePullPolicy, "an explicit policy stays")
}

func TestDefaultPod(t *testing.T) {
	p := &Pod{Spec: PodSpec{
		Containers: []Container{{
			Name: "c", Image: "nginx:1",
			Ports:          []ContainerPort{{ContainerPort: 80}},
			Resources:      ResourceRequirements{Limits: ResourceList{ResourceCPU: resource.MustParse("1"), ResourceMemory: resource.MustParse("1Gi")}},
			LivenessProbe:  &Probe{ProbeHandler: ProbeHandler{HTTPGet: &HTTPGetAction{Port: apis.IntOrStringFromInt(80)}}},
			ReadinessProbe: &Probe{PeriodSeconds: 3, ProbeHandler: ProbeHandler{TCPSocket: &TCPSocketAction{Port: apis.IntOrStringFromInt(80)}}},
		}},
		Volumes:     []Volume{{Name: "cm", VolumeSource: VolumeSource{ConfigMap: &ConfigMapVolumeSource{LocalObjectReference: LocalObjectReference{Name: "x"}}}}, {Name: "empty"}},
		Tolerations: []Toleration{{Key: "k", Value: "v"}},
	}}
	DefaultPod(p)
	s := p.Spec
	assert.Equal(t, RestartPolicyAlways, s.RestartPolicy)
	assert.Equal(t, DNSClusterFirst, s.DNSPolicy)
	assert.Equal(t, DefaultSchedulerName, s.SchedulerName)
	assert.Equal(t, int64(30), *s.TerminationGracePeriodSeconds)
	assert.NotNil(t, s.SecurityContext)
	c := s.Containers[0]
	assert.Equal(t, "/dev/termination-log", c.TerminationMessagePath)
	assert.Equal(t, TerminationMessageReadFile, c.TerminationMessagePolicy)
	assert.Equal(t, ProtocolTCP, c.Ports[0].Protocol)
	assert.Equal(t, "1", c.Resources.Requests.Cpu().String(), "requests default to limits")
	assert.Equal(t, "1Gi", c.Resources.Requests.Memory().String())
	lp := c.LivenessProbe
	assert.Equal(t, []int32{1, 10, 1, 3}, []int32{lp.TimeoutSeconds, lp.PeriodSeconds, lp.SuccessThreshold, lp.FailureThreshold})
	assert.Equal(t, "/", lp.HTTPGet.Path)
	assert.Equal(t, URISchemeHTTP, lp.HTTPGet.Scheme)
	assert.Equal(t, int32(3), c.ReadinessProbe.PeriodSeconds, "explicit timing stays")
	assert.Equal(t, int32(0o644), *s.Volumes[0].ConfigMap.DefaultMode)
	assert.NotNil(t, s.Volumes[1].EmptyDir, "a volume with no source is an emptyDir")
	assert.Equal(t, TolerationOpEqual, s.Tolerations[0].Operator)
	assert.Equal(t, PodPending, p.Status.Phase)
	assert.Equal(t, PodQOSGuaranteed, p.Status.QOSClass)

	// Defaulting twice changes nothing more.
	again := *p
	DefaultPod(&again)
	assert.Equal(t, p, &again)

	hn := &Pod{Spec: PodSpec{HostNetwork: true, Containers: []Container{{Name: "c", Image: "x", Ports: []ContainerPort{{ContainerPort: 9100}}}}}}
	DefaultPod(hn)
	assert.Equal(t, int32(9100), hn.Spec.Containers[0].Ports[0].HostPort)
	assert.Empty(t, ValidatePodSpec(&hn.Spec, nil))
}

func TestQOSClassOf(t *testing.T) {
	rl := func(cpu, mem string) ResourceList {
		l := ResourceList{}
		if cpu != "" {
			l[ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			l[ResourceMemory] = resource.MustParse(mem)
		}
		return l
	}
	tests := []struct {
		name     string
		req, lim ResourceList
		want     PodQOSClass
	}{
		{"nothing", nil, nil, PodQOSBestEffort},
		{"equal", rl("1", "1Gi"), rl("1", "1Gi"), PodQOSGuaranteed},
		{"equal in other units", rl("1000m", "1024Mi"), rl("1", "1Gi"), PodQOSGuaranteed},
		{"requests only", rl("100m", ""), nil, PodQOSBurstable},
		{"cpu limit only", nil, rl("1", ""), PodQOSBurstable},
		{"request below limit", rl("500m", "1Gi"), rl("1", "1Gi"), PodQOSBurstable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &PodSpec{Containers: []Container{{Resources: ResourceRequirements{Requests: tt.req, Limits: tt.lim}}}}
			assert.Equal(t, tt.want, QOSClassOf(s))
		})
	}
}

func TestDefaultService(t *testing.T) {
	s := &Service{Spec: ServiceSpec{Ports: []ServicePort{{Port: 8080}, {Port: 53, Protocol: ProtocolUDP, TargetPort: apis.IntOrStringFromString("dns")}}}}
	DefaultService(s)
	assert.Equal(t, ServiceTypeClusterIP, s.Spec.Type)
	assert.Equal(t, ServiceAffinityNone, s.Spec.SessionAffinity)
	assert.Equal(t, ProtocolTCP, s.Spec.Ports[0].Protocol)
	assert.Equal(t, apis.IntOrStringFromInt(8080), s.Spec.Ports[0].TargetPort)
	assert.Equal(t, apis.IntOrStringFromString("dns"), s.Spec.Ports[1].TargetPort)
	assert.Equal(t, ServiceTrafficPolicyCluster, *s.Spec.InternalTrafficPolicy)
	assert.Empty(t, s.Spec.ExternalTrafficPolicy, "only externally reachable services get one")

	np := &Service{Spec: ServiceSpec{Type: ServiceTypeNodePort, SessionAffinity: ServiceAffinityClientIP}}
	DefaultService(np)
	assert.Equal(t, ServiceTrafficPolicyCluster, np.Spec.ExternalTrafficPolicy)
	assert.Equal(t, int32(10800), *np.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds)
}

func TestDefaultOtherKinds(t *testing.T) {
	sec := &Secret{StringData: map[string]string{"user": "admin"}, Data: map[string][]byte{"pw": []byte("x")}}
	DefaultSecret(sec)
	assert.Equal(t, SecretTypeOpaque, sec.SecretType)
	assert.Equal(t, map[string][]byte{"user": []byte("admin"), "pw": []byte("x")}, sec.Data)
	assert.Nil(t, sec.StringData)

	ns := &Namespace{}
	DefaultNamespace(ns)
	assert.Equal(t, NamespaceActive, ns.Status.Phase)

	n := &Node{Status: NodeStatus{Capacity: ResourceList{ResourceCPU: resource.MustParse("4")}}}
	DefaultNode(n)
	assert.Equal(t, "4", n.Status.Allocatable.Cpu().String())

	pv := &PersistentVolume{}
	DefaultPersistentVolume(pv)
	assert.Equal(t, PersistentVolumeReclaimRetain, pv.Spec.PersistentVolumeReclaimPolicy)
	assert.Equal(t, PersistentVolumeFilesystem, *pv.Spec.VolumeMode)
	assert.Equal(t, VolumePending, pv.Status.Phase)

	pvc := &PersistentVolumeClaim{}
	DefaultPersistentVolumeClaim(pvc)
	assert.Equal(t, ClaimPending, pvc.Status.Phase)

	ep := &Endpoints{Subsets: []EndpointSubset{{Ports: []EndpointPort{{Port: 80}}}}}
	DefaultEndpoints(ep)
	assert.Equal(t, ProtocolTCP, ep.Subsets[0].Ports[0].Protocol)
}

func TestTolerations(t *testing.T) {
	taint := &Taint{Key: TaintNodeNotReady, Effect: TaintEffectNoExecute}
	tests := []struct {
		tol  Toleration
		want bool
	}{
		{Toleration{Operator: TolerationOpExists}, true},
		{Toleration{Key: TaintNodeNotReady, Operator: TolerationOpExists}, true},
		{Toleration{Key: TaintNodeNotReady, Operator: TolerationOpExists, Effect: TaintEffectNoSchedule}, false},
		{Toleration{Key: TaintNodeNotReady, Operator: TolerationOpEqual}, true},
		{Toleration{Key: TaintNodeNotReady, Value: "x"}, false},
		{Toleration{Key: "other", Operator: TolerationOpExists}, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.tol.ToleratesTaint(taint), "%+v", tt.tol)
	}
	assert.Equal(t, "node.kubernetes.io/not-ready:NoExecute", taint.ToString())
	assert.True(t, taint.MatchTaint(&Taint{Key: TaintNodeNotReady, Value: "v", Effect: TaintEffectNoExecute}))
}

func TestFieldSelectors(t *testing.T) {
	s := apis.NewScheme()
	require.NoError(t, AddToScheme(s))
	k, err := apis.KindFor[*Pod](s)
	require.NoError(t, err)
	p := validPod()
	p.Spec.NodeName, p.Status.Phase, p.Status.PodIP = "n1", PodRunning, "10.0.0.5"
	f := k.Fields(p)
	for field, want := range map[string]string{
		"metadata.name": "web-0", "metadata.namespace": "default", "spec.nodeName": "n1", "spec.restartPolicy": "Always",
		"spec.schedulerName": "default-scheduler", "spec.serviceAccountName": "", "status.phase": "Running", "status.podIP": "10.0.0.5",
	} {
		v, ok := f[field]
		assert.True(t, ok, field)
		assert.Equal(t, want, v, field)
	}

	k, err = apis.KindFor[*Event](s)
	require.NoError(t, err)
	f = k.Fields(&Event{
		ObjectMeta:     apis.ObjectMeta{Name: "e", Namespace: "ns"},
		InvolvedObject: ObjectReference{Kind: "Pod", Namespace: "ns", Name: "p", UID: "u1"},
		Reason:         "Scheduled", EventType: EventTypeNormal, Source: EventSource{Component: "default-scheduler"},
	})
	assert.Equal(t, "Pod", f["involvedObject.kind"])
	assert.Equal(t, "ns", f["involvedObject.namespace"])
	assert.Equal(t, "p", f["involvedObject.name"])
	assert.Equal(t, "u1", f["involvedObject.uid"])
	assert.Equal(t, "Scheduled", f["reason"])
	assert.Equal(t, "Normal", f["type"])
	assert.Equal(t, "default-scheduler", f["source"])

	k, _ = apis.KindFor[*Node](s)
	assert.Equal(t, map[string]string{"metadata.name": "n1", "spec.unschedulable": "true"}, k.Fields(&Node{ObjectMeta: apis.ObjectMeta{Name: "n1"}, Spec: NodeSpec{Unschedulable: true}}))
	k, _ = apis.KindFor[*Secret](s)
	assert.Equal(t, "kubernetes.io/tls", k.Fields(&Secret{SecretType: SecretTypeTLS})["type"])
	k, _ = apis.KindFor[*Namespace](s)
	assert.Equal(t, "Terminating", k.Fields(&Namespace{Status: NamespaceStatus{Phase: NamespaceTerminating}})["status.phase"])
}
