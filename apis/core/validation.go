package core

import (
	"fmt"
	"net/netip"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
	"github.com/gantry-sdk/gantry/apis/resource"
)

var metadataPath = field.NewPath("metadata")

// Supported values, for NotSupported errors.
var (
	restartPolicies    = []string{string(RestartPolicyAlways), string(RestartPolicyOnFailure), string(RestartPolicyNever)}
	dnsPolicies        = []string{string(DNSClusterFirstWithHostNet), string(DNSClusterFirst), string(DNSDefault), string(DNSNone)}
	pullPolicies       = []string{string(PullAlways), string(PullIfNotPresent), string(PullNever)}
	protocols          = []string{string(ProtocolTCP), string(ProtocolUDP), string(ProtocolSCTP)}
	terminationPolices = []string{string(TerminationMessageReadFile), string(TerminationMessageFallbackToLogsOnError)}
	taintEffects       = []string{string(TaintEffectNoSchedule), string(TaintEffectPreferNoSchedule), string(TaintEffectNoExecute)}
	serviceTypes       = []string{string(ServiceTypeClusterIP), string(ServiceTypeNodePort), string(ServiceTypeLoadBalancer), string(ServiceTypeExternalName)}
	// Fields a container's environment may take from its pod.
	envFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
		"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	envResourceFields = []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"}
)

// NodePort range of the reference cluster (Kubernetes' default --service-node-port-range).
const (
	NodePortMin = 30000
	NodePortMax = 32767
)

func notIn[S ~string](v S, valid []string) bool { return !slices.Contains(valid, string(v)) }

// IsDNS1035Label checks an RFC 1035 label: like a DNS-1123 label but starting
// with a letter. Service names are DNS-1035 labels so that they work as
// environment variable prefixes and DNS names.
func IsDNS1035Label(v string) []string {
	var errs []string
	if len(v) > 63 {
		errs = append(errs, "must be no more than 63 characters")
	}
	if !dns1035LabelRe.MatchString(v) {
		errs = append(errs, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123')")
	}
	return errs
}

var (
	dns1035LabelRe = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	configKeyRe    = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
)

func invalidAll(p *field.Path, v any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, m := range msgs {
		errs = append(errs, field.Invalid(p, v, m))
	}
	return errs
}

// ValidatePod checks a pod: metadata, at least one container, and every
// rule of ValidatePodSpec.
func ValidatePod(p *Pod) field.ErrorList {
	errs := apis.ValidateObjectMeta(&p.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	return append(errs, ValidatePodSpec(&p.Spec, field.NewPath("spec"))...)
}

// ValidatePodUpdate enforces that a pod's spec is immutable except for
// container images, activeDeadlineSeconds (set or shortened), added
// tolerations, and nodeName set once (Gantry binds pods with an update, as
// there is no binding subresource).
func ValidatePodUpdate(p, old *Pod) field.ErrorList {
	var errs field.ErrorList
	specPath := field.NewPath("spec")
	if old.Spec.NodeName != "" && p.Spec.NodeName != old.Spec.NodeName {
		errs = append(errs, field.Invalid(specPath.Child("nodeName"), p.Spec.NodeName, "field is immutable once set"))
	}
	if a, b := old.Spec.ActiveDeadlineSeconds, p.Spec.ActiveDeadlineSeconds; a != nil && (b == nil || *b > *a) {
		errs = append(errs, field.Invalid(specPath.Child("activeDeadlineSeconds"), b, "must be less than or equal to the previous value"))
	}
	for i, t := range old.Spec.Tolerations {
		if !slices.ContainsFunc(p.Spec.Tolerations, func(n Toleration) bool { return apis.SemanticEqual(n, t) }) {
			errs = append(errs, field.Forbidden(specPath.Child("tolerations").Index(i), "existing toleration can not be modified or removed"))
		}
	}
	if len(p.Spec.Containers) != len(old.Spec.Containers) || len(p.Spec.InitContainers) != len(old.Spec.InitContainers) {
		return append(errs, field.Forbidden(specPath, "pod updates may not add or remove containers"))
	}
	// Compare the rest with the mutable fields taken from the old spec.
	mutated := p.Spec
	mutated.Containers = slices.Clone(p.Spec.Containers)
	mutated.InitContainers = slices.Clone(p.Spec.InitContainers)
	for i := range mutated.Containers {
		mutated.Containers[i].Image = old.Spec.Containers[i].Image
	}
	for i := range mutated.InitContainers {
		mutated.InitContainers[i].Image = old.Spec.InitContainers[i].Image
	}
	mutated.ActiveDeadlineSeconds = old.Spec.ActiveDeadlineSeconds
	mutated.Tolerations = old.Spec.Tolerations
	mutated.SchedulingGates = old.Spec.SchedulingGates
	mutated.NodeName = old.Spec.NodeName // checked above
	if !apis.SemanticEqual(mutated, old.Spec) {
		errs = append(errs, field.Forbidden(specPath, "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.schedulingGates` and an unset `spec.nodeName`"))
	}
	if len(p.Spec.SchedulingGates) > len(old.Spec.SchedulingGates) {
		errs = append(errs, field.Forbidden(specPath.Child("schedulingGates"), "only deletion is allowed"))
	}
	return errs
}

// ValidatePodTemplateSpec checks a workload's pod template: labels and spec.
func ValidatePodTemplateSpec(t *PodTemplateSpec, path *field.Path) field.ErrorList {
	errs := apis.ValidateLabels(t.Labels, path.Child("metadata", "labels"))
	errs = append(errs, apis.ValidateAnnotations(t.Annotations, path.Child("metadata", "annotations"))...)
	return append(errs, ValidatePodSpec(&t.Spec, path.Child("spec"))...)
}

// ValidatePodSpec checks a pod spec at path.
func ValidatePodSpec(s *PodSpec, path *field.Path) field.ErrorList {
	volumes, errs := validateVolumes(s.Volumes, path.Child("volumes"))
	if len(s.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), "must have at least one container"))
	}
	names := map[string]bool{}
	for i := range s.InitContainers {
		errs = append(errs, validateContainer(&s.InitContainers[i], true, names, volumes, s.HostNetwork, path.Child("initContainers").Index(i))...)
	}
	for i := range s.Containers {
		errs = append(errs, validateContainer(&s.Containers[i], false, names, volumes, s.HostNetwork, path.Child("containers").Index(i))...)
	}
	for i := range s.EphemeralContainers {
		errs = append(errs, validateEphemeralContainer(&s.EphemeralContainers[i], names, volumes, path.Child("ephemeralContainers").Index(i))...)
	}
	if sc := s.SecurityContext; sc != nil {
		sp := path.Child("securityContext")
		for _, id := range []struct {
			name string
			v    *int64
		}{{"runAsUser", sc.RunAsUser}, {"runAsGroup", sc.RunAsGroup}, {"fsGroup", sc.FSGroup}} {
			if id.v != nil {
				errs = append(errs, apis.ValidateNonnegative(*id.v, sp.Child(id.name))...)
			}
		}
		for i, g := range sc.SupplementalGroups {
			errs = append(errs, apis.ValidateNonnegative(g, sp.Child("supplementalGroups").Index(i))...)
		}
	}
	if s.RestartPolicy == "" {
		errs = append(errs, field.Required(path.Child("restartPolicy"), ""))
	} else if notIn(s.RestartPolicy, restartPolicies) {
		errs = append(errs, field.NotSupported(path.Child("restartPolicy"), string(s.RestartPolicy), restartPolicies))
	}
	if s.DNSPolicy != "" && notIn(s.DNSPolicy, dnsPolicies) {
		errs = append(errs, field.NotSupported(path.Child("dnsPolicy"), string(s.DNSPolicy), dnsPolicies))
	}
	if s.DNSPolicy == DNSNone && (s.DNSConfig == nil || len(s.DNSConfig.Nameservers) == 0) {
		errs = append(errs, field.Required(path.Child("dnsConfig", "nameservers"), "must provide at least one DNS nameserver when dnsPolicy is None"))
	}
	if g := s.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		errs = append(errs, field.Invalid(path.Child("terminationGracePeriodSeconds"), *g, "must be greater than or equal to 0"))
	}
	if d := s.ActiveDeadlineSeconds; d != nil && *d < 1 {
		errs = append(errs, field.Invalid(path.Child("activeDeadlineSeconds"), *d, "must be between 1 and 2147483647, inclusive"))
	}
	errs = append(errs, apis.ValidateLabels(s.NodeSelector, path.Child("nodeSelector"))...)
	for _, f := range []struct {
		name, value string
		check       apis.NameFunc
	}{
		{"serviceAccountName", s.ServiceAccountName, apis.IsDNS1123Subdomain},
		{"nodeName", s.NodeName, apis.IsDNS1123Subdomain},
		{"schedulerName", s.SchedulerName, apis.IsDNS1123Subdomain},
		{"priorityClassName", s.PriorityClassName, apis.IsDNS1123Subdomain},
		{"hostname", s.Hostname, apis.IsDNS1123Label},
		{"subdomain", s.Subdomain, apis.IsDNS1123Label},
	} {
		if f.value != "" {
			errs = append(errs, invalidAll(path.Child(f.name), f.value, f.check(f.value))...)
		}
	}
	for i, r := range s.ImagePullSecrets {
		if r.Name == "" {
			errs = append(errs, field.Required(path.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i := range s.Tolerations {
		errs = append(errs, validateToleration(&s.Tolerations[i], path.Child("tolerations").Index(i))...)
	}
	if s.Affinity != nil {
		errs = append(errs, validateAffinity(s.Affinity, path.Child("affinity"))...)
	}
	for i := range s.TopologySpreadConstraints {
		errs = append(errs, validateTopologySpread(&s.TopologySpreadConstraints[i], path.Child("topologySpreadConstraints").Index(i))...)
	}
	if s.PreemptionPolicy != nil && *s.PreemptionPolicy != PreemptLowerPriority && *s.PreemptionPolicy != PreemptNever {
		errs = append(errs, field.NotSupported(path.Child("preemptionPolicy"), string(*s.PreemptionPolicy), []string{string(PreemptLowerPriority), string(PreemptNever)}))
	}
	return errs
}

func validateVolumes(vols []Volume, path *field.Path) (map[string]bool, field.ErrorList) {
	var errs field.ErrorList
	names := make(map[string]bool, len(vols))
	for i := range vols {
		v := &vols[i]
		p := path.Index(i)
		if v.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			errs = append(errs, invalidAll(p.Child("name"), v.Name, apis.IsDNS1123Label(v.Name))...)
			if names[v.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), v.Name))
			}
			names[v.Name] = true
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, p)...)
	}
	return names, errs
}

func validateVolumeSource(s *VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	rv := reflect.ValueOf(*s)
	for i := range rv.NumField() {
		if !rv.Field(i).IsNil() {
			n++
		}
	}
	switch {
	case n == 0:
		return field.ErrorList{field.Required(p, "must specify a volume type")}
	case n > 1:
		return field.ErrorList{field.Forbidden(p, "may not specify more than 1 volume type")}
	}
	switch {
	case s.ConfigMap != nil:
		if s.ConfigMap.Name == "" {
			errs = append(errs, field.Required(p.Child("configMap", "name"), ""))
		}
		errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, s.ConfigMap.DefaultMode, p.Child("configMap"))...)
	case s.Secret != nil:
		if s.Secret.SecretName == "" {
			errs = append(errs, field.Required(p.Child("secret", "secretName"), ""))
		}
		errs = append(errs, validateKeyToPaths(s.Secret.Items, s.Secret.DefaultMode, p.Child("secret"))...)
	case s.HostPath != nil:
		if s.HostPath.Path == "" {
			errs = append(errs, field.Required(p.Child("hostPath", "path"), ""))
		}
	case s.PersistentVolumeClaim != nil:
		if s.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(p.Child("persistentVolumeClaim", "claimName"), ""))
		}
	case s.EmptyDir != nil:
		if l := s.EmptyDir.SizeLimit; l != nil && l.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("emptyDir", "sizeLimit"), l.String(), "must be greater than or equal to 0"))
		}
	case s.DownwardAPI != nil:
		for i := range s.DownwardAPI.Items {
			errs = append(errs, validateDownwardAPIFile(&s.DownwardAPI.Items[i], p.Child("downwardAPI", "items").Index(i))...)
		}
	case s.Projected != nil:
		for i, src := range s.Projected.Sources {
			sp := p.Child("projected", "sources").Index(i)
			n := 0
			if src.ConfigMap != nil {
				n++
				errs = append(errs, validateKeyToPaths(src.ConfigMap.Items, nil, sp.Child("configMap"))...)
			}
			if src.Secret != nil {
				n++
				errs = append(errs, validateKeyToPaths(src.Secret.Items, nil, sp.Child("secret"))...)
			}
			if src.DownwardAPI != nil {
				n++
				for j := range src.DownwardAPI.Items {
					errs = append(errs, validateDownwardAPIFile(&src.DownwardAPI.Items[j], sp.Child("downwardAPI", "items").Index(j))...)
				}
			}
			if src.ServiceAccountToken != nil {
				n++
				if src.ServiceAccountToken.Path == "" {
					errs = append(errs, field.Required(sp.Child("serviceAccountToken", "path"), ""))
				}
			}
			if n != 1 {
				errs = append(errs, field.Forbidden(sp, "may not specify more or less than 1 volume type per source"))
			}
		}
	case s.NFS != nil:
		if s.NFS.Server == "" {
			errs = append(errs, field.Required(p.Child("nfs", "server"), ""))
		}
		if !strings.HasPrefix(s.NFS.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("nfs", "path"), s.NFS.Path, "must be an absolute path"))
		}
	case s.CSI != nil:
		if s.CSI.Driver == "" {
			errs = append(errs, field.Required(p.Child("csi", "driver"), ""))
		}
	}
	return errs
}

func validateKeyToPaths(items []KeyToPath, mode *int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		errs = append(errs, field.Invalid(p.Child("defaultMode"), *mode, "must be a number between 0 and 0777 (octal), both inclusive"))
	}
	for i, it := range items {
		ip := p.Child("items").Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(ip.Child("key"), ""))
		}
		errs = append(errs, validateRelativePath(it.Path, ip.Child("path"))...)
		if it.Mode != nil && (*it.Mode < 0 || *it.Mode > 0o777) {
			errs = append(errs, field.Invalid(ip.Child("mode"), *it.Mode, "must be a number between 0 and 0777 (octal), both inclusive"))
		}
	}
	return errs
}

func validateRelativePath(path string, p *field.Path) field.ErrorList {
	switch {
	case path == "":
		return field.ErrorList{field.Required(p, "")}
	case strings.HasPrefix(path, "/"):
		return field.ErrorList{field.Invalid(p, path, "must be a relative path")}
	case slices.Contains(strings.Split(path, "/"), ".."):
		return field.ErrorList{field.Invalid(p, path, "must not contain '..'")}
	}
	return nil
}

func validateDownwardAPIFile(f *DownwardAPIVolumeFile, p *field.Path) field.ErrorList {
	errs := validateRelativePath(f.Path, p.Child("path"))
	switch {
	case f.FieldRef != nil && f.ResourceFieldRef != nil:
		errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
	case f.FieldRef != nil:
		errs = append(errs, validateFieldRef(f.FieldRef, p.Child("fieldRef"))...)
	case f.ResourceFieldRef != nil:
		errs = append(errs, validateResourceFieldRef(f.ResourceFieldRef, p.Child("resourceFieldRef"))...)
	default:
		errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
	}
	return errs
}

func validateFieldRef(f *ObjectFieldSelector, p *field.Path) field.ErrorList {
	if f.FieldPath == "" {
		return field.ErrorList{field.Required(p.Child("fieldPath"), "")}
	}
	base := f.FieldPath
	// metadata.labels['key'] and metadata.annotations['key'] select one entry.
	if i := strings.IndexByte(base, '['); i > 0 && (strings.HasPrefix(base, "metadata.labels[") || strings.HasPrefix(base, "metadata.annotations[")) {
		base = base[:i]
	}
	if notIn(base, envFieldPaths) {
		return field.ErrorList{field.NotSupported(p.Child("fieldPath"), f.FieldPath, envFieldPaths)}
	}
	return nil
}

func validateResourceFieldRef(f *ResourceFieldSelector, p *field.Path) field.ErrorList {
	if f.Resource == "" {
		return field.ErrorList{field.Required(p.Child("resource"), "")}
	}
	if notIn(f.Resource, envResourceFields) {
		return field.ErrorList{field.NotSupported(p.Child("resource"), f.Resource, envResourceFields)}
	}
	if f.Divisor.Sign() < 0 {
		return field.ErrorList{field.Invalid(p.Child("divisor"), f.Divisor.String(), "must be greater than or equal to 0")}
	}
	return nil
}

func validateContainer(c *Container, init bool, names, volumes map[string]bool, hostNetwork bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, invalidAll(p.Child("name"), c.Name, apis.IsDNS1123Label(c.Name))...)
		if names[c.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		}
		names[c.Name] = true
	}
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	if c.ImagePullPolicy != "" && notIn(c.ImagePullPolicy, pullPolicies) {
		errs = append(errs, field.NotSupported(p.Child("imagePullPolicy"), string(c.ImagePullPolicy), pullPolicies))
	}
	if c.TerminationMessagePolicy != "" && notIn(c.TerminationMessagePolicy, terminationPolices) {
		errs = append(errs, field.NotSupported(p.Child("terminationMessagePolicy"), string(c.TerminationMessagePolicy), terminationPolices))
	}
	if c.RestartPolicy != nil {
		if !init {
			errs = append(errs, field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		} else if *c.RestartPolicy != ContainerRestartPolicyAlways {
			errs = append(errs, field.NotSupported(p.Child("restartPolicy"), string(*c.RestartPolicy), []string{string(ContainerRestartPolicyAlways)}))
		}
	}
	portNames := map[string]bool{}
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		if port.Name != "" {
			errs = append(errs, invalidAll(pp.Child("name"), port.Name, apis.IsValidPortName(port.Name))...)
			if portNames[port.Name] {
				errs = append(errs, field.Duplicate(pp.Child("name"), port.Name))
			}
			portNames[port.Name] = true
		}
		errs = append(errs, invalidAll(pp.Child("containerPort"), port.ContainerPort, apis.IsValidPortNum(int(port.ContainerPort)))...)
		if port.HostPort != 0 {
			errs = append(errs, invalidAll(pp.Child("hostPort"), port.HostPort, apis.IsValidPortNum(int(port.HostPort)))...)
			if hostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must match `hostPort` when `hostNetwork` is true"))
			}
		}
		if port.Protocol == "" {
			errs = append(errs, field.Required(pp.Child("protocol"), ""))
		} else if notIn(port.Protocol, protocols) {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), string(port.Protocol), protocols))
		}
		if port.HostIP != "" {
			if _, err := netip.ParseAddr(port.HostIP); err != nil {
				errs = append(errs, field.Invalid(pp.Child("hostIP"), port.HostIP, "must be a valid IP address"))
			}
		}
	}
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	for i, e := range c.EnvFrom {
		ep := p.Child("envFrom").Index(i)
		switch {
		case e.ConfigMapRef != nil && e.SecretRef != nil:
			errs = append(errs, field.Invalid(ep, "", "may not have more than one field specified at a time"))
		case e.ConfigMapRef != nil:
			if e.ConfigMapRef.Name == "" {
				errs = append(errs, field.Required(ep.Child("configMapRef", "name"), ""))
			}
		case e.SecretRef != nil:
			if e.SecretRef.Name == "" {
				errs = append(errs, field.Required(ep.Child("secretRef", "name"), ""))
			}
		default:
			errs = append(errs, field.Invalid(ep, "", "must specify one of: `configMapRef` or `secretRef`"))
		}
	}
	errs = append(errs, ValidateResourceRequirements(&c.Resources, p.Child("resources"))...)
	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), ""))
		} else if !volumes[m.Name] {
			errs = append(errs, field.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(mp.Child("mountPath"), ""))
		} else if mountPaths[m.MountPath] {
			errs = append(errs, field.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if m.SubPath != "" {
			if strings.HasPrefix(m.SubPath, "/") || slices.Contains(strings.Split(m.SubPath, "/"), "..") {
				errs = append(errs, field.Invalid(mp.Child("subPath"), m.SubPath, "must be a relative path without '..'"))
			}
		}
	}
	probes := []struct {
		name     string
		probe    *Probe
		liveness bool
	}{{"livenessProbe", c.LivenessProbe, true}, {"readinessProbe", c.ReadinessProbe, false}, {"startupProbe", c.StartupProbe, true}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init && (c.RestartPolicy == nil || *c.RestartPolicy != ContainerRestartPolicyAlways) {
			errs = append(errs, field.Forbidden(p.Child(pr.name), "may not be set for init containers without restartPolicy=Always"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, pr.liveness, p.Child(pr.name))...)
	}
	if c.Lifecycle != nil {
		for _, h := range []struct {
			name    string
			handler *LifecycleHandler
		}{{"postStart", c.Lifecycle.PostStart}, {"preStop", c.Lifecycle.PreStop}} {
			if h.handler != nil {
				errs = append(errs, validateLifecycleHandler(h.handler, p.Child("lifecycle", h.name))...)
			}
		}
	}
	return errs
}

// validateEphemeralContainer checks a debugging container: a Container
// without ports, probes, lifecycle or resources, whose name is unique in the pod.
func validateEphemeralContainer(e *EphemeralContainer, names, volumes map[string]bool, p *field.Path) field.ErrorList {
	c := e.Container
	var errs field.ErrorList
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"ports", len(c.Ports) > 0}, {"livenessProbe", c.LivenessProbe != nil}, {"readinessProbe", c.ReadinessProbe != nil},
		{"startupProbe", c.StartupProbe != nil}, {"lifecycle", c.Lifecycle != nil},
		{"resources", len(c.Resources.Limits)+len(c.Resources.Requests) > 0},
	} {
		if f.set {
			errs = append(errs, field.Forbidden(p.Child(f.name), "cannot be set for an Ephemeral Container"))
		}
	}
	c.Ports, c.LivenessProbe, c.ReadinessProbe, c.StartupProbe, c.Lifecycle = nil, nil, nil, nil, nil
	c.Resources = ResourceRequirements{}
	return append(errs, validateContainer(&c, false, names, volumes, false, p)...)
}

func validateEnv(env []EnvVar, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		p := path.Index(i)
		if e.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else if strings.ContainsRune(e.Name, '=') {
			errs = append(errs, field.Invalid(p.Child("name"), e.Name, "a valid environment variable name must consist only of printable ASCII characters other than '='"))
		} else {
			for _, r := range e.Name {
				if r < ' ' || r > '~' {
					errs = append(errs, field.Invalid(p.Child("name"), e.Name, "a valid environment variable name must consist only of printable ASCII characters other than '='"))
					break
				}
			}
		}
		if e.ValueFrom == nil {
			continue
		}
		vp := p.Child("valueFrom")
		if e.Value != "" {
			errs = append(errs, field.Invalid(vp, "", "may not be specified when `value` is not empty"))
		}
		n := 0
		if r := e.ValueFrom.FieldRef; r != nil {
			n++
			errs = append(errs, validateFieldRef(r, vp.Child("fieldRef"))...)
		}
		if r := e.ValueFrom.ResourceFieldRef; r != nil {
			n++
			errs = append(errs, validateResourceFieldRef(r, vp.Child("resourceFieldRef"))...)
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			n++
			if r.Name == "" {
				errs = append(errs, field.Required(vp.Child("configMapKeyRef", "name"), ""))
			}
			if r.Key == "" {
				errs = append(errs, field.Required(vp.Child("configMapKeyRef", "key"), ""))
			}
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			n++
			if r.Name == "" {
				errs = append(errs, field.Required(vp.Child("secretKeyRef", "name"), ""))
			}
			if r.Key == "" {
				errs = append(errs, field.Required(vp.Child("secretKeyRef", "key"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, field.Invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
		case n > 1:
			errs = append(errs, field.Invalid(vp, "", "may not have more than one field specified at a time"))
		}
	}
	return errs
}

// ValidateResourceRequirements checks that amounts are non-negative, names
// are qualified, and every request is at most its limit.
func ValidateResourceRequirements(r *ResourceRequirements, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	check := func(l ResourceList, p *field.Path) {
		for _, name := range sortedResourceNames(l) {
			q := l[name]
			errs = append(errs, invalidAll(p, string(name), apis.IsQualifiedName(string(name)))...)
			if q.Sign() < 0 {
				errs = append(errs, field.Invalid(p.Key(string(name)), q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	check(r.Limits, path.Child("limits"))
	check(r.Requests, path.Child("requests"))
	for _, name := range sortedResourceNames(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, field.Invalid(path.Child("requests").Key(string(name)), req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, lim.String())))
		}
	}
	return errs
}

func sortedResourceNames(l ResourceList) []ResourceName {
	names := make([]ResourceName, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func validatePortRef(port apis.IntOrString, p *field.Path) field.ErrorList {
	if port.Type == apis.TypeInt {
		return invalidAll(p, port.IntVal, apis.IsValidPortNum(int(port.IntVal)))
	}
	return invalidAll(p, port.StrVal, apis.IsValidPortName(port.StrVal))
}

func validateHandler(exec *ExecAction, get *HTTPGetAction, tcp *TCPSocketAction, grpc *GRPCAction, sleep *SleepAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if exec != nil {
		n++
		if len(exec.Command) == 0 {
			errs = append(errs, field.Required(p.Child("exec", "command"), ""))
		}
	}
	if get != nil {
		n++
		errs = append(errs, validatePortRef(get.Port, p.Child("httpGet", "port"))...)
		if get.Scheme != "" && get.Scheme != URISchemeHTTP && get.Scheme != URISchemeHTTPS {
			errs = append(errs, field.NotSupported(p.Child("httpGet", "scheme"), string(get.Scheme), []string{"HTTP", "HTTPS"}))
		}
		for i, h := range get.HTTPHeaders {
			if h.Name == "" {
				errs = append(errs, field.Required(p.Child("httpGet", "httpHeaders").Index(i).Child("name"), ""))
			}
		}
	}
	if tcp != nil {
		n++
		errs = append(errs, validatePortRef(tcp.Port, p.Child("tcpSocket", "port"))...)
	}
	if grpc != nil {
		n++
		errs = append(errs, invalidAll(p.Child("grpc", "port"), grpc.Port, apis.IsValidPortNum(int(grpc.Port)))...)
	}
	if sleep != nil {
		n++
		if sleep.Seconds < 0 {
			errs = append(errs, field.Invalid(p.Child("sleep", "seconds"), sleep.Seconds, "must be greater than or equal to 0"))
		}
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(p, "must specify a handler type"))
	case n > 1:
		errs = append(errs, field.Forbidden(p, "may not specify more than 1 handler type"))
	}
	return errs
}

func validateProbe(pr *Probe, liveness bool, p *field.Path) field.ErrorList {
	h := &pr.ProbeHandler
	errs := validateHandler(h.Exec, h.HTTPGet, h.TCPSocket, h.GRPC, nil, p)
	for _, f := range []struct {
		name string
		v    int32
	}{{"initialDelaySeconds", pr.InitialDelaySeconds}, {"timeoutSeconds", pr.TimeoutSeconds}, {"periodSeconds", pr.PeriodSeconds}, {"successThreshold", pr.SuccessThreshold}, {"failureThreshold", pr.FailureThreshold}} {
		errs = append(errs, apis.ValidateNonnegative(f.v, p.Child(f.name))...)
	}
	if liveness && pr.SuccessThreshold > 1 {
		errs = append(errs, field.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil && *g <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
	}
	return errs
}

func validateLifecycleHandler(h *LifecycleHandler, p *field.Path) field.ErrorList {
	return validateHandler(h.Exec, h.HTTPGet, h.TCPSocket, nil, h.Sleep, p)
}

func validateToleration(t *Toleration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if t.Key != "" {
		errs = append(errs, invalidAll(p.Child("key"), t.Key, apis.IsQualifiedName(t.Key))...)
	}
	switch t.Operator {
	case TolerationOpEqual, "":
		if t.Key == "" {
			errs = append(errs, field.Invalid(p.Child("operator"), string(t.Operator), "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		errs = append(errs, invalidAll(p.Child("value"), t.Value, apis.IsValidLabelValue(t.Value))...)
	case TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, field.Invalid(p.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), string(t.Operator), []string{"Equal", "Exists"}))
	}
	if t.Effect != "" && notIn(t.Effect, taintEffects) {
		errs = append(errs, field.NotSupported(p.Child("effect"), string(t.Effect), taintEffects))
	}
	if t.TolerationSeconds != nil && t.Effect != TaintEffectNoExecute {
		errs = append(errs, field.Invalid(p.Child("effect"), string(t.Effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	return errs
}

func validateNodeSelectorTerm(t *NodeSelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, r := range t.MatchExpressions {
		errs = append(errs, validateNodeSelectorRequirement(r, true, p.Child("matchExpressions").Index(i))...)
	}
	for i, r := range t.MatchFields {
		rp := p.Child("matchFields").Index(i)
		if r.Key != "metadata.name" {
			errs = append(errs, field.NotSupported(rp.Child("key"), r.Key, []string{"metadata.name"}))
		}
		if r.Operator != NodeSelectorOpIn && r.Operator != NodeSelectorOpNotIn {
			errs = append(errs, field.NotSupported(rp.Child("operator"), string(r.Operator), []string{"In", "NotIn"}))
		} else if len(r.Values) != 1 {
			errs = append(errs, field.Required(rp.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	}
	return errs
}

func validateNodeSelectorRequirement(r NodeSelectorRequirement, label bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch r.Operator {
	case NodeSelectorOpIn, NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			errs = append(errs, field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case NodeSelectorOpExists, NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			errs = append(errs, field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case NodeSelectorOpGt, NodeSelectorOpLt:
		if len(r.Values) != 1 {
			errs = append(errs, field.Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			errs = append(errs, field.Invalid(p.Child("values").Index(0), r.Values[0], "must be an integer when `operator` is 'Lt' or 'Gt'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), string(r.Operator), []string{"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"}))
	}
	if label {
		errs = append(errs, invalidAll(p.Child("key"), r.Key, apis.IsQualifiedName(r.Key))...)
	}
	return errs
}

func validateAffinity(a *Affinity, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if na := a.NodeAffinity; na != nil {
		np := p.Child("nodeAffinity")
		if req := na.RequiredDuringSchedulingIgnoredDuringExecution; req != nil {
			rp := np.Child("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
			if len(req.NodeSelectorTerms) == 0 {
				errs = append(errs, field.Required(rp, "must have at least one node selector term"))
			}
			for i := range req.NodeSelectorTerms {
				errs = append(errs, validateNodeSelectorTerm(&req.NodeSelectorTerms[i], rp.Index(i))...)
			}
		}
		for i, pref := range na.PreferredDuringSchedulingIgnoredDuringExecution {
			pp := np.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pref.Weight, pp.Child("weight"))...)
			errs = append(errs, validateNodeSelectorTerm(&pref.Preference, pp.Child("preference"))...)
		}
	}
	podTerms := func(req []PodAffinityTerm, pref []WeightedPodAffinityTerm, pp *field.Path) {
		for i := range req {
			errs = append(errs, validatePodAffinityTerm(&req[i], pp.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
		}
		for i := range pref {
			wp := pp.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
			errs = append(errs, validateWeight(pref[i].Weight, wp.Child("weight"))...)
			errs = append(errs, validatePodAffinityTerm(&pref[i].PodAffinityTerm, wp.Child("podAffinityTerm"))...)
		}
	}
	if pa := a.PodAffinity; pa != nil {
		podTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAffinity"))
	}
	if pa := a.PodAntiAffinity; pa != nil {
		podTerms(pa.RequiredDuringSchedulingIgnoredDuringExecution, pa.PreferredDuringSchedulingIgnoredDuringExecution, p.Child("podAntiAffinity"))
	}
	return errs
}

func validateWeight(w int32, p *field.Path) field.ErrorList {
	if w < 1 || w > 100 {
		return field.ErrorList{field.Invalid(p, w, "must be in the range 1-100")}
	}
	return nil
}

func validatePodAffinityTerm(t *PodAffinityTerm, p *field.Path) field.ErrorList {
	errs := apis.ValidateLabelSelector(t.LabelSelector, p.Child("labelSelector"))
	errs = append(errs, apis.ValidateLabelSelector(t.NamespaceSelector, p.Child("namespaceSelector"))...)
	for i, ns := range t.Namespaces {
		errs = append(errs, invalidAll(p.Child("namespaces").Index(i), ns, apis.IsDNS1123Label(ns))...)
	}
	if t.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, invalidAll(p.Child("topologyKey"), t.TopologyKey, apis.IsQualifiedName(t.TopologyKey))...)
	}
	return errs
}

func validateTopologySpread(c *TopologySpreadConstraint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.MaxSkew <= 0 {
		errs = append(errs, field.Invalid(p.Child("maxSkew"), c.MaxSkew, "must be greater than zero"))
	}
	if c.TopologyKey == "" {
		errs = append(errs, field.Required(p.Child("topologyKey"), "can not be empty"))
	} else {
		errs = append(errs, invalidAll(p.Child("topologyKey"), c.TopologyKey, apis.IsQualifiedName(c.TopologyKey))...)
	}
	if c.WhenUnsatisfiable != DoNotSchedule && c.WhenUnsatisfiable != ScheduleAnyway {
		errs = append(errs, field.NotSupported(p.Child("whenUnsatisfiable"), string(c.WhenUnsatisfiable), []string{string(DoNotSchedule), string(ScheduleAnyway)}))
	}
	if m := c.MinDomains; m != nil {
		if *m <= 0 {
			errs = append(errs, field.Invalid(p.Child("minDomains"), *m, "must be greater than 0"))
		} else if c.WhenUnsatisfiable != DoNotSchedule {
			errs = append(errs, field.Invalid(p.Child("minDomains"), *m, "can only use minDomains if whenUnsatisfiable=DoNotSchedule"))
		}
	}
	for _, pol := range []struct {
		name string
		v    *NodeInclusionPolicy
	}{{"nodeAffinityPolicy", c.NodeAffinityPolicy}, {"nodeTaintsPolicy", c.NodeTaintsPolicy}} {
		if pol.v != nil && *pol.v != NodeInclusionPolicyHonor && *pol.v != NodeInclusionPolicyIgnore {
			errs = append(errs, field.NotSupported(p.Child(pol.name), string(*pol.v), []string{"Honor", "Ignore"}))
		}
	}
	return append(errs, apis.ValidateLabelSelector(c.LabelSelector, p.Child("labelSelector"))...)
}

// quantityNonNegative is a shared check for storage amounts.
func quantityNonNegative(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than or equal to 0")}
	}
	return nil
}
