package core

import (
	"strings"

	"github.com/gantry-sdk/gantry/apis"
)

// Defaults Kubernetes applies, and so Gantry does.
const (
	DefaultTerminationGracePeriodSeconds int64 = 30
	defaultProbeTimeoutSeconds                 = 1
	defaultProbePeriodSeconds                  = 10
	defaultProbeSuccessThreshold               = 1
	defaultProbeFailureThreshold               = 3
	// defaultVolumeMode is 0644, the file mode of projected keys.
	defaultVolumeMode int32 = 0o644
)

// ImagePullPolicyFor returns the pull policy an image gets when its container
// names none: a digest (`@sha256:...`) pins the content, so IfNotPresent; no
// tag or `:latest` may move, so Always; any other tag, IfNotPresent. A
// registry port (`host:5000/img`) is not a tag.
func ImagePullPolicyFor(image string) PullPolicy {
	if strings.Contains(image, "@") {
		return PullIfNotPresent
	}
	// The tag, if any, follows the last ':' after the last '/'.
	name := image[strings.LastIndexByte(image, '/')+1:]
	i := strings.LastIndexByte(name, ':')
	if i < 0 || name[i+1:] == "latest" {
		return PullAlways
	}
	return PullIfNotPresent
}

// DefaultPod fills the unset fields of a pod as the API server does: spec
// defaults (DefaultPodSpec), phase Pending and the QoS class.
func DefaultPod(p *Pod) {
	DefaultPodSpec(&p.Spec)
	if p.Status.Phase == "" {
		p.Status.Phase = PodPending
	}
	if p.Status.QOSClass == "" {
		p.Status.QOSClass = QOSClassOf(&p.Spec)
	}
}

// DefaultPodSpec fills unset fields of a pod spec (also the spec of every
// workload's pod template): restartPolicy Always, dnsPolicy ClusterFirst,
// schedulerName default-scheduler, terminationGracePeriodSeconds 30, an empty
// securityContext, and the container, probe, port and volume defaults.
func DefaultPodSpec(s *PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = DNSClusterFirst
	}
	if s.SchedulerName == "" {
		s.SchedulerName = DefaultSchedulerName
	}
	if s.TerminationGracePeriodSeconds == nil {
		g := DefaultTerminationGracePeriodSeconds
		s.TerminationGracePeriodSeconds = &g
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &PodSecurityContext{}
	}
	if s.DeprecatedServiceAccount != "" && s.ServiceAccountName == "" {
		s.ServiceAccountName = s.DeprecatedServiceAccount
	}
	if s.HostNetwork {
		// Host-network pods listen on the node's ports.
		for _, cs := range [][]Container{s.InitContainers, s.Containers} {
			for i := range cs {
				for j := range cs[i].Ports {
					if cs[i].Ports[j].HostPort == 0 {
						cs[i].Ports[j].HostPort = cs[i].Ports[j].ContainerPort
					}
				}
			}
		}
	}
	for i := range s.InitContainers {
		DefaultContainer(&s.InitContainers[i])
	}
	for i := range s.Containers {
		DefaultContainer(&s.Containers[i])
	}
	for i := range s.EphemeralContainers {
		DefaultContainer(&s.EphemeralContainers[i].Container)
	}
	for i := range s.Volumes {
		defaultVolume(&s.Volumes[i])
	}
	for i := range s.Tolerations {
		if s.Tolerations[i].Operator == "" {
			s.Tolerations[i].Operator = TolerationOpEqual
		}
	}
	for i := range s.TopologySpreadConstraints {
		c := &s.TopologySpreadConstraints[i]
		if c.WhenUnsatisfiable == "" {
			c.WhenUnsatisfiable = DoNotSchedule
		}
	}
}

// DefaultContainer fills unset fields of a container: imagePullPolicy from
// the image, termination message path and policy, port protocols, probe
// timings, and requests equal to limits where only limits are given.
func DefaultContainer(c *Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = ImagePullPolicyFor(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = DefaultTerminationMessagePath
	}
	if c.TerminationMessagePolicy == "" {
		c.TerminationMessagePolicy = TerminationMessageReadFile
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = ProtocolTCP
		}
	}
	for _, p := range []*Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p != nil {
			defaultProbe(p)
		}
	}
	if c.Lifecycle != nil {
		for _, h := range []*LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
			if h != nil && h.HTTPGet != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.APIVersion == "" {
			e.ValueFrom.FieldRef.APIVersion = "v1"
		}
	}
	// A limit with no request requests the limit.
	for name, limit := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = ResourceList{}
			}
			c.Resources.Requests[name] = limit
		}
	}
}

func defaultProbe(p *Probe) {
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = defaultProbeTimeoutSeconds
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = defaultProbePeriodSeconds
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = defaultProbeSuccessThreshold
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = defaultProbeFailureThreshold
	}
	if p.HTTPGet != nil {
		defaultHTTPGet(p.HTTPGet)
	}
}

func defaultHTTPGet(h *HTTPGetAction) {
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = URISchemeHTTP
	}
}

func defaultVolume(v *Volume) {
	s := &v.VolumeSource
	if *s == (VolumeSource{}) {
		s.EmptyDir = &EmptyDirVolumeSource{}
	}
	mode := defaultVolumeMode
	switch {
	case s.ConfigMap != nil && s.ConfigMap.DefaultMode == nil:
		s.ConfigMap.DefaultMode = &mode
	case s.Secret != nil && s.Secret.DefaultMode == nil:
		s.Secret.DefaultMode = &mode
	case s.DownwardAPI != nil && s.DownwardAPI.DefaultMode == nil:
		s.DownwardAPI.DefaultMode = &mode
	case s.Projected != nil && s.Projected.DefaultMode == nil:
		s.Projected.DefaultMode = &mode
	case s.HostPath != nil && s.HostPath.Type == nil:
		t := HostPathUnset
		s.HostPath.Type = &t
	}
}

// QOSClassOf computes a pod's QoS class from its containers' resources:
// Guaranteed when every container has cpu and memory limits equal to its
// requests, BestEffort when none has any request or limit, else Burstable.
func QOSClassOf(s *PodSpec) PodQOSClass {
	hasAny, guaranteed := false, true
	for _, cs := range [][]Container{s.InitContainers, s.Containers} {
		for i := range cs {
			r := &cs[i].Resources
			for _, name := range []ResourceName{ResourceCPU, ResourceMemory} {
				req, hasReq := r.Requests[name]
				lim, hasLim := r.Limits[name]
				if (hasReq && !req.IsZero()) || (hasLim && !lim.IsZero()) {
					hasAny = true
				}
				if !hasLim || lim.IsZero() || (hasReq && req.Cmp(lim) != 0) {
					guaranteed = false
				}
			}
		}
	}
	switch {
	case !hasAny:
		return PodQOSBestEffort
	case guaranteed:
		return PodQOSGuaranteed
	}
	return PodQOSBurstable
}

// DefaultNode copies capacity into allocatable when the kubelet reports only capacity.
func DefaultNode(n *Node) {
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = make(ResourceList, len(n.Status.Capacity))
		for k, v := range n.Status.Capacity {
			n.Status.Allocatable[k] = v
		}
	}
}

// DefaultNamespace sets the phase Active.
func DefaultNamespace(n *Namespace) {
	if n.Status.Phase == "" {
		n.Status.Phase = NamespaceActive
	}
}

// DefaultService fills unset fields of a Service: type ClusterIP,
// sessionAffinity None (ClientIP gets a 3-hour timeout), port protocol TCP,
// targetPort = port, and traffic policies Cluster.
func DefaultService(s *Service) {
	sp := &s.Spec
	if sp.Type == "" {
		sp.Type = ServiceTypeClusterIP
	}
	if sp.SessionAffinity == "" {
		sp.SessionAffinity = ServiceAffinityNone
	}
	if sp.SessionAffinity == ServiceAffinityClientIP {
		if sp.SessionAffinityConfig == nil {
			sp.SessionAffinityConfig = &SessionAffinityConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP == nil {
			sp.SessionAffinityConfig.ClientIP = &ClientIPConfig{}
		}
		if sp.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil {
			t := DefaultClientIPServiceAffinitySeconds
			sp.SessionAffinityConfig.ClientIP.TimeoutSeconds = &t
		}
	}
	for i := range sp.Ports {
		p := &sp.Ports[i]
		if p.Protocol == "" {
			p.Protocol = ProtocolTCP
		}
		if p.TargetPort.IsZero() {
			p.TargetPort = apis.IntOrStringFromInt(int(p.Port))
		}
	}
	if (sp.Type == ServiceTypeNodePort || sp.Type == ServiceTypeLoadBalancer) && sp.ExternalTrafficPolicy == "" {
		sp.ExternalTrafficPolicy = ServiceTrafficPolicyCluster
	}
	if sp.Type != ServiceTypeExternalName && sp.InternalTrafficPolicy == nil {
		p := ServiceTrafficPolicyCluster
		sp.InternalTrafficPolicy = &p
	}
	if sp.Type == ServiceTypeLoadBalancer && sp.AllocateLoadBalancerNodePorts == nil {
		t := true
		sp.AllocateLoadBalancerNodePorts = &t
	}
}

// DefaultEndpoints sets port protocols to TCP.
func DefaultEndpoints(e *Endpoints) {
	for i := range e.Subsets {
		for j := range e.Subsets[i].Ports {
			if e.Subsets[i].Ports[j].Protocol == "" {
				e.Subsets[i].Ports[j].Protocol = ProtocolTCP
			}
		}
	}
}

// DefaultSecret sets type Opaque and moves stringData into data (stringData
// is write-only, as in Kubernetes).
func DefaultSecret(s *Secret) {
	if s.SecretType == "" {
		s.SecretType = SecretTypeOpaque
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
}

// DefaultPersistentVolume sets reclaim policy Retain, volume mode Filesystem
// and phase Pending.
func DefaultPersistentVolume(pv *PersistentVolume) {
	if pv.Spec.PersistentVolumeReclaimPolicy == "" {
		pv.Spec.PersistentVolumeReclaimPolicy = PersistentVolumeReclaimRetain
	}
	if pv.Spec.VolumeMode == nil {
		m := PersistentVolumeFilesystem
		pv.Spec.VolumeMode = &m
	}
	if pv.Status.Phase == "" {
		pv.Status.Phase = VolumePending
	}
}

// DefaultPersistentVolumeClaim sets volume mode Filesystem and phase Pending.
func DefaultPersistentVolumeClaim(pvc *PersistentVolumeClaim) {
	DefaultPersistentVolumeClaimSpec(&pvc.Spec)
	if pvc.Status.Phase == "" {
		pvc.Status.Phase = ClaimPending
	}
}

// DefaultPersistentVolumeClaimSpec sets volume mode Filesystem.
func DefaultPersistentVolumeClaimSpec(s *PersistentVolumeClaimSpec) {
	if s.VolumeMode == nil {
		m := PersistentVolumeFilesystem
		s.VolumeMode = &m
	}
}

// DefaultReplicationController sets replicas 1 and, as Kubernetes does,
// derives an unset selector and unset labels from the template's labels.
func DefaultReplicationController(rc *ReplicationController) {
	if rc.Spec.Replicas == nil {
		one := int32(1)
		rc.Spec.Replicas = &one
	}
	if t := rc.Spec.Template; t != nil {
		if len(rc.Spec.Selector) == 0 && len(t.Labels) > 0 {
			rc.Spec.Selector = copyMap(t.Labels)
		}
		if len(rc.Labels) == 0 && len(t.Labels) > 0 {
			rc.Labels = copyMap(t.Labels)
		}
		DefaultPodSpec(&t.Spec)
	}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
