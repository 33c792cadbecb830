package core

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
)

// ValidateNode checks a node's name, taints and pod CIDRs.
func ValidateNode(n *Node) field.ErrorList {
	errs := apis.ValidateObjectMeta(&n.ObjectMeta, false, apis.IsDNS1123Subdomain, metadataPath)
	sp := field.NewPath("spec")
	seen := map[string]bool{}
	for i, t := range n.Spec.Taints {
		p := sp.Child("taints").Index(i)
		if t.Key == "" {
			errs = append(errs, field.Required(p.Child("key"), ""))
		} else {
			errs = append(errs, invalidAll(p.Child("key"), t.Key, apis.IsQualifiedName(t.Key))...)
		}
		errs = append(errs, invalidAll(p.Child("value"), t.Value, apis.IsValidLabelValue(t.Value))...)
		if t.Effect == "" {
			errs = append(errs, field.Required(p.Child("effect"), ""))
		} else if notIn(t.Effect, taintEffects) {
			errs = append(errs, field.NotSupported(p.Child("effect"), string(t.Effect), taintEffects))
		}
		id := t.Key + ":" + string(t.Effect)
		if seen[id] {
			errs = append(errs, field.Duplicate(p, id))
		}
		seen[id] = true
	}
	if n.Spec.PodCIDR != "" {
		if _, err := netip.ParsePrefix(n.Spec.PodCIDR); err != nil {
			errs = append(errs, field.Invalid(sp.Child("podCIDR"), n.Spec.PodCIDR, "must be a valid CIDR"))
		}
	}
	for i, c := range n.Spec.PodCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, field.Invalid(sp.Child("podCIDRs").Index(i), c, "must be a valid CIDR"))
		}
	}
	if len(n.Spec.PodCIDRs) > 0 && n.Spec.PodCIDR != "" && n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
		errs = append(errs, field.Invalid(sp.Child("podCIDRs"), n.Spec.PodCIDRs[0], "the first entry must match `podCIDR`"))
	}
	for name, q := range n.Status.Capacity {
		errs = append(errs, quantityNonNegative(q, field.NewPath("status", "capacity").Key(string(name)))...)
	}
	for name, q := range n.Status.Allocatable {
		errs = append(errs, quantityNonNegative(q, field.NewPath("status", "allocatable").Key(string(name)))...)
	}
	return errs
}

// ValidateNodeUpdate keeps podCIDR(s) and providerID once set.
func ValidateNodeUpdate(n, old *Node) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if old.Spec.PodCIDR != "" && n.Spec.PodCIDR != old.Spec.PodCIDR {
		errs = append(errs, field.Forbidden(sp.Child("podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if len(old.Spec.PodCIDRs) > 0 && !apis.SemanticEqual(n.Spec.PodCIDRs, old.Spec.PodCIDRs) {
		errs = append(errs, field.Forbidden(sp.Child("podCIDRs"), "node updates may not change podCIDRs except from \"\" to valid"))
	}
	if old.Spec.ProviderID != "" && n.Spec.ProviderID != old.Spec.ProviderID {
		errs = append(errs, field.Forbidden(sp.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

// ValidateNamespace checks a namespace: a DNS-1123 label name and qualified
// finalizer names.
func ValidateNamespace(n *Namespace) field.ErrorList {
	errs := apis.ValidateObjectMeta(&n.ObjectMeta, false, apis.IsDNS1123Label, metadataPath)
	for i, f := range n.Spec.Finalizers {
		errs = append(errs, invalidAll(field.NewPath("spec", "finalizers").Index(i), f, apis.IsQualifiedName(f))...)
	}
	if ph := n.Status.Phase; ph != "" && ph != NamespaceActive && ph != NamespaceTerminating {
		errs = append(errs, field.NotSupported(field.NewPath("status", "phase"), string(ph), []string{string(NamespaceActive), string(NamespaceTerminating)}))
	}
	return errs
}

// ValidateService checks a Service: a DNS-1035 name, the type, ports
// (1-65535, names, protocols, targetPort), nodePorts in 30000-32767 and only
// where the type allows them, cluster IPs, external name, session affinity
// and traffic policies.
func ValidateService(s *Service) field.ErrorList {
	errs := apis.ValidateObjectMeta(&s.ObjectMeta, true, IsDNS1035Label, metadataPath)
	sp := field.NewPath("spec")
	spec := &s.Spec
	if spec.Type == "" {
		errs = append(errs, field.Required(sp.Child("type"), ""))
	} else if notIn(spec.Type, serviceTypes) {
		errs = append(errs, field.NotSupported(sp.Child("type"), string(spec.Type), serviceTypes))
	}
	headless := spec.ClusterIP == ClusterIPNone
	switch {
	case spec.Type == ServiceTypeExternalName:
		if spec.ExternalName == "" {
			errs = append(errs, field.Required(sp.Child("externalName"), ""))
		} else {
			name := strings.TrimSuffix(spec.ExternalName, ".")
			errs = append(errs, invalidAll(sp.Child("externalName"), spec.ExternalName, apis.IsDNS1123Subdomain(name))...)
		}
		if spec.ClusterIP != "" {
			errs = append(errs, field.Forbidden(sp.Child("clusterIP"), "may not be set for ExternalName services"))
		}
	case len(spec.Ports) == 0 && !headless:
		errs = append(errs, field.Required(sp.Child("ports"), ""))
	}
	if spec.ClusterIP != "" && !headless {
		if _, err := netip.ParseAddr(spec.ClusterIP); err != nil {
			errs = append(errs, field.Invalid(sp.Child("clusterIP"), spec.ClusterIP, "must be empty, 'None', or a valid IP address"))
		}
	}
	for i, ip := range spec.ClusterIPs {
		p := sp.Child("clusterIPs").Index(i)
		if i == 0 && spec.ClusterIP != "" && ip != spec.ClusterIP {
			errs = append(errs, field.Invalid(p, ip, "must match `clusterIP`"))
		}
		if ip != ClusterIPNone {
			if _, err := netip.ParseAddr(ip); err != nil {
				errs = append(errs, field.Invalid(p, ip, "must be 'None' or a valid IP address"))
			}
		}
	}
	if len(spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(sp.Child("clusterIPs"), spec.ClusterIPs, "may specify no more than one IP for each IP family"))
	}
	if headless && (spec.Type == ServiceTypeNodePort || spec.Type == ServiceTypeLoadBalancer) {
		errs = append(errs, field.Invalid(sp.Child("clusterIP"), spec.ClusterIP, "may not be set to 'None' for "+string(spec.Type)+" services"))
	}
	portNames := map[string]bool{}
	nodePorts := map[string]bool{}
	for i := range spec.Ports {
		port := &spec.Ports[i]
		p := sp.Child("ports").Index(i)
		if len(spec.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		if port.Name != "" {
			errs = append(errs, invalidAll(p.Child("name"), port.Name, apis.IsDNS1123Label(port.Name))...)
			if portNames[port.Name] {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			portNames[port.Name] = true
		}
		errs = append(errs, invalidAll(p.Child("port"), port.Port, apis.IsValidPortNum(int(port.Port)))...)
		if port.Protocol == "" {
			errs = append(errs, field.Required(p.Child("protocol"), ""))
		} else if notIn(port.Protocol, protocols) {
			errs = append(errs, field.NotSupported(p.Child("protocol"), string(port.Protocol), protocols))
		}
		if !port.TargetPort.IsZero() || port.TargetPort.Type == apis.TypeString {
			errs = append(errs, validatePortRef(port.TargetPort, p.Child("targetPort"))...)
		}
		if port.NodePort != 0 {
			switch spec.Type {
			case ServiceTypeNodePort, ServiceTypeLoadBalancer:
				if port.NodePort < NodePortMin || port.NodePort > NodePortMax {
					errs = append(errs, field.Invalid(p.Child("nodePort"), port.NodePort, "provided port is not in the valid range. The range of valid ports is 30000-32767"))
				}
				key := string(port.Protocol) + "/" + itoa(port.NodePort)
				if nodePorts[key] {
					errs = append(errs, field.Duplicate(p.Child("nodePort"), port.NodePort))
				}
				nodePorts[key] = true
			default:
				errs = append(errs, field.Forbidden(p.Child("nodePort"), "may not be used when `type` is '"+string(spec.Type)+"'"))
			}
		}
	}
	errs = append(errs, apis.ValidateLabels(spec.Selector, sp.Child("selector"))...)
	switch spec.SessionAffinity {
	case ServiceAffinityNone:
		if spec.SessionAffinityConfig != nil && spec.SessionAffinityConfig.ClientIP != nil {
			errs = append(errs, field.Forbidden(sp.Child("sessionAffinityConfig"), "must not be set when session affinity is None"))
		}
	case ServiceAffinityClientIP:
		if c := spec.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			errs = append(errs, field.Required(sp.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), ""))
		} else if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > 86400 {
			errs = append(errs, field.Invalid(sp.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t, "must be greater than 0 and less than 86400"))
		}
	case "":
		errs = append(errs, field.Required(sp.Child("sessionAffinity"), ""))
	default:
		errs = append(errs, field.NotSupported(sp.Child("sessionAffinity"), string(spec.SessionAffinity), []string{"ClientIP", "None"}))
	}
	policies := []string{string(ServiceTrafficPolicyCluster), string(ServiceTrafficPolicyLocal)}
	if etp := spec.ExternalTrafficPolicy; etp != "" {
		if notIn(etp, policies) {
			errs = append(errs, field.NotSupported(sp.Child("externalTrafficPolicy"), string(etp), policies))
		} else if spec.Type != ServiceTypeNodePort && spec.Type != ServiceTypeLoadBalancer && len(spec.ExternalIPs) == 0 {
			errs = append(errs, field.Invalid(sp.Child("externalTrafficPolicy"), string(etp), "may only be set for externally-accessible services"))
		}
	}
	if itp := spec.InternalTrafficPolicy; itp != nil && notIn(*itp, policies) {
		errs = append(errs, field.NotSupported(sp.Child("internalTrafficPolicy"), string(*itp), policies))
	}
	families := map[IPFamily]bool{}
	for i, f := range spec.IPFamilies {
		p := sp.Child("ipFamilies").Index(i)
		if f != IPv4Protocol && f != IPv6Protocol {
			errs = append(errs, field.NotSupported(p, string(f), []string{"IPv4", "IPv6"}))
		} else if families[f] {
			errs = append(errs, field.Duplicate(p, string(f)))
		}
		families[f] = true
	}
	if pol := spec.IPFamilyPolicy; pol != nil {
		valid := []string{string(IPFamilyPolicySingleStack), string(IPFamilyPolicyPreferDualStack), string(IPFamilyPolicyRequireDualStack)}
		if notIn(*pol, valid) {
			errs = append(errs, field.NotSupported(sp.Child("ipFamilyPolicy"), string(*pol), valid))
		}
	}
	for i, ip := range spec.ExternalIPs {
		if _, err := netip.ParseAddr(ip); err != nil {
			errs = append(errs, field.Invalid(sp.Child("externalIPs").Index(i), ip, "must be a valid IP address"))
		}
	}
	for i, r := range spec.LoadBalancerSourceRanges {
		if _, err := netip.ParsePrefix(strings.TrimSpace(r)); err != nil {
			errs = append(errs, field.Invalid(sp.Child("loadBalancerSourceRanges").Index(i), r, "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24"))
		}
	}
	return errs
}

func itoa(v int32) string { return strconv.Itoa(int(v)) }

// ValidateServiceUpdate keeps clusterIP(s) once allocated (an update that
// leaves them empty is for the allocator to fill in from the stored object),
// unless the Service becomes ExternalName, which has none.
func ValidateServiceUpdate(s, old *Service) field.ErrorList {
	var errs field.ErrorList
	if s.Spec.Type == ServiceTypeExternalName {
		return nil
	}
	sp := field.NewPath("spec")
	if old.Spec.ClusterIP != "" && s.Spec.ClusterIP != "" && s.Spec.ClusterIP != old.Spec.ClusterIP {
		errs = append(errs, field.Invalid(sp.Child("clusterIP"), s.Spec.ClusterIP, "field is immutable"))
	}
	if len(old.Spec.ClusterIPs) > 0 && len(s.Spec.ClusterIPs) > 0 && s.Spec.ClusterIPs[0] != old.Spec.ClusterIPs[0] {
		errs = append(errs, field.Invalid(sp.Child("clusterIPs").Index(0), s.Spec.ClusterIPs[0], "may not change once set"))
	}
	return errs
}

// ValidateEndpoints checks addresses and ports.
func ValidateEndpoints(e *Endpoints) field.ErrorList {
	errs := apis.ValidateObjectMeta(&e.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	for i, ss := range e.Subsets {
		p := field.NewPath("subsets").Index(i)
		for j, a := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(a, p.Child("addresses").Index(j))...)
		}
		for j, a := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(a, p.Child("notReadyAddresses").Index(j))...)
		}
		for j, port := range ss.Ports {
			pp := p.Child("ports").Index(j)
			if len(ss.Ports) > 1 && port.Name == "" {
				errs = append(errs, field.Required(pp.Child("name"), ""))
			}
			errs = append(errs, invalidAll(pp.Child("port"), port.Port, apis.IsValidPortNum(int(port.Port)))...)
			if port.Protocol == "" {
				errs = append(errs, field.Required(pp.Child("protocol"), ""))
			} else if notIn(port.Protocol, protocols) {
				errs = append(errs, field.NotSupported(pp.Child("protocol"), string(port.Protocol), protocols))
			}
		}
	}
	return errs
}

func validateEndpointAddress(a EndpointAddress, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if _, err := netip.ParseAddr(a.IP); err != nil {
		errs = append(errs, field.Invalid(p.Child("ip"), a.IP, "must be a valid IP address"))
	}
	if a.Hostname != "" {
		errs = append(errs, invalidAll(p.Child("hostname"), a.Hostname, apis.IsDNS1123Label(a.Hostname))...)
	}
	if a.NodeName != nil {
		errs = append(errs, invalidAll(p.Child("nodeName"), *a.NodeName, apis.IsDNS1123Subdomain(*a.NodeName))...)
	}
	return errs
}

// maxConfigSize bounds the data of a ConfigMap or Secret (1 MiB).
const maxConfigSize = 1 << 20

func validateConfigKeys(keys []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range keys {
		switch {
		case len(k) > 253:
			errs = append(errs, field.Invalid(p, k, "must be no more than 253 characters"))
		case !configKeyRe.MatchString(k):
			errs = append(errs, field.Invalid(p, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name')"))
		case k == "." || k == "..":
			errs = append(errs, field.Invalid(p, k, "must not be '.' or '..'"))
		}
	}
	return errs
}

// ValidateConfigMap checks keys (config key syntax, not in both data and
// binaryData) and the 1 MiB size limit.
func ValidateConfigMap(c *ConfigMap) field.ErrorList {
	errs := apis.ValidateObjectMeta(&c.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	size := 0
	var keys []string
	for k, v := range c.Data {
		keys = append(keys, k)
		size += len(v)
	}
	errs = append(errs, validateConfigKeys(sortStrings(keys), field.NewPath("data"))...)
	keys = keys[:0]
	for k, v := range c.BinaryData {
		keys = append(keys, k)
		size += len(v)
		if _, dup := c.Data[k]; dup {
			errs = append(errs, field.Duplicate(field.NewPath("binaryData").Key(k), k))
		}
	}
	errs = append(errs, validateConfigKeys(sortStrings(keys), field.NewPath("binaryData"))...)
	if size > maxConfigSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxConfigSize))
	}
	return errs
}

// ValidateConfigMapUpdate forbids changes to an immutable ConfigMap.
func ValidateConfigMapUpdate(c, old *ConfigMap) field.ErrorList {
	if old.Immutable == nil || !*old.Immutable {
		return nil
	}
	var errs field.ErrorList
	if c.Immutable == nil || !*c.Immutable {
		errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
	}
	if !apis.SemanticEqual(c.Data, old.Data) {
		errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
	}
	if !apis.SemanticEqual(c.BinaryData, old.BinaryData) {
		errs = append(errs, field.Forbidden(field.NewPath("binaryData"), "field is immutable when `immutable` is set"))
	}
	return errs
}

// ValidateSecret checks keys, size, and the keys each type requires.
func ValidateSecret(s *Secret) field.ErrorList {
	errs := apis.ValidateObjectMeta(&s.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	size := 0
	var keys []string
	for k, v := range s.Data {
		keys = append(keys, k)
		size += len(v)
	}
	errs = append(errs, validateConfigKeys(sortStrings(keys), field.NewPath("data"))...)
	if size > maxConfigSize {
		errs = append(errs, field.TooLong(field.NewPath("data"), "", maxConfigSize))
	}
	require := func(keys ...string) {
		for _, k := range keys {
			if _, ok := s.Data[k]; !ok {
				if _, ok := s.StringData[k]; !ok {
					errs = append(errs, field.Required(field.NewPath("data").Key(k), ""))
				}
			}
		}
	}
	switch s.SecretType {
	case SecretTypeTLS:
		require("tls.crt", "tls.key")
	case SecretTypeDockerConfigJSON:
		require(".dockerconfigjson")
	case SecretTypeDockercfg:
		require(".dockercfg")
	case SecretTypeSSHAuth:
		require("ssh-privatekey")
	case SecretTypeServiceAccountToken:
		if s.Annotations["kubernetes.io/service-account.name"] == "" {
			errs = append(errs, field.Required(metadataPath.Child("annotations").Key("kubernetes.io/service-account.name"), ""))
		}
	}
	return errs
}

// ValidateSecretUpdate keeps the type, and everything of an immutable Secret.
func ValidateSecretUpdate(s, old *Secret) field.ErrorList {
	var errs field.ErrorList
	if s.SecretType != old.SecretType {
		errs = append(errs, field.Invalid(field.NewPath("type"), string(s.SecretType), "field is immutable"))
	}
	if old.Immutable != nil && *old.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !apis.SemanticEqual(s.Data, old.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

// ValidateEvent checks that an event names its object, in its own namespace,
// with a known type.
func ValidateEvent(e *Event) field.ErrorList {
	errs := apis.ValidateObjectMeta(&e.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	io := field.NewPath("involvedObject")
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, field.Required(io.Child("kind"), ""))
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, field.Required(io.Child("name"), ""))
	}
	if ns := e.InvolvedObject.Namespace; ns != "" && ns != e.Namespace {
		errs = append(errs, field.Invalid(io.Child("namespace"), ns, "does not match event.namespace"))
	}
	if e.EventType != "" && e.EventType != EventTypeNormal && e.EventType != EventTypeWarning {
		errs = append(errs, field.NotSupported(field.NewPath("type"), e.EventType, []string{EventTypeNormal, EventTypeWarning}))
	}
	if e.Count < 0 {
		errs = append(errs, field.Invalid(field.NewPath("count"), e.Count, "must be greater than or equal to 0"))
	}
	return errs
}

var accessModes = []string{string(ReadWriteOnce), string(ReadOnlyMany), string(ReadWriteMany), string(ReadWriteOncePod)}

func validateAccessModes(modes []PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "at least 1 access mode is required")}
	}
	var errs field.ErrorList
	for i, m := range modes {
		if notIn(m, accessModes) {
			errs = append(errs, field.NotSupported(p.Index(i), string(m), accessModes))
		}
	}
	return errs
}

// ValidatePersistentVolume checks capacity, access modes, exactly one source
// and the reclaim policy.
func ValidatePersistentVolume(pv *PersistentVolume) field.ErrorList {
	errs := apis.ValidateObjectMeta(&pv.ObjectMeta, false, apis.IsDNS1123Subdomain, metadataPath)
	sp := field.NewPath("spec")
	if q, ok := pv.Spec.Capacity[ResourceStorage]; !ok {
		errs = append(errs, field.Required(sp.Child("capacity").Key(string(ResourceStorage)), ""))
	} else {
		errs = append(errs, quantityNonNegative(q, sp.Child("capacity").Key(string(ResourceStorage)))...)
	}
	errs = append(errs, validateAccessModes(pv.Spec.AccessModes, sp.Child("accessModes"))...)
	src := pv.Spec.PersistentVolumeSource
	n := 0
	for _, set := range []bool{src.HostPath != nil, src.NFS != nil, src.Local != nil, src.CSI != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(sp, "must specify a volume type"))
	case n > 1:
		errs = append(errs, field.Forbidden(sp, "may not specify more than 1 volume type"))
	case src.HostPath != nil && src.HostPath.Path == "":
		errs = append(errs, field.Required(sp.Child("hostPath", "path"), ""))
	case src.Local != nil && src.Local.Path == "":
		errs = append(errs, field.Required(sp.Child("local", "path"), ""))
	case src.CSI != nil && (src.CSI.Driver == "" || src.CSI.VolumeHandle == ""):
		errs = append(errs, field.Required(sp.Child("csi"), "driver and volumeHandle are required"))
	}
	policies := []string{string(PersistentVolumeReclaimRetain), string(PersistentVolumeReclaimDelete), string(PersistentVolumeReclaimRecycle)}
	if rp := pv.Spec.PersistentVolumeReclaimPolicy; rp != "" && notIn(rp, policies) {
		errs = append(errs, field.NotSupported(sp.Child("persistentVolumeReclaimPolicy"), string(rp), policies))
	}
	if m := pv.Spec.VolumeMode; m != nil && *m != PersistentVolumeBlock && *m != PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(sp.Child("volumeMode"), string(*m), []string{"Block", "Filesystem"}))
	}
	return errs
}

// ValidatePersistentVolumeClaim checks the claim's metadata and spec.
func ValidatePersistentVolumeClaim(pvc *PersistentVolumeClaim) field.ErrorList {
	errs := apis.ValidateObjectMeta(&pvc.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	return append(errs, ValidatePersistentVolumeClaimSpec(&pvc.Spec, field.NewPath("spec"))...)
}

// ValidatePersistentVolumeClaimSpec checks access modes, the storage request
// (required, positive) and the selector.
func ValidatePersistentVolumeClaimSpec(s *PersistentVolumeClaimSpec, sp *field.Path) field.ErrorList {
	errs := validateAccessModes(s.AccessModes, sp.Child("accessModes"))
	rp := sp.Child("resources", "requests").Key(string(ResourceStorage))
	if q, ok := s.Resources.Requests[ResourceStorage]; !ok {
		errs = append(errs, field.Required(rp, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(rp, q.String(), "must be greater than zero"))
	}
	errs = append(errs, apis.ValidateLabelSelector(s.Selector, sp.Child("selector"))...)
	if m := s.VolumeMode; m != nil && *m != PersistentVolumeBlock && *m != PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(sp.Child("volumeMode"), string(*m), []string{"Block", "Filesystem"}))
	}
	return errs
}

// ValidatePersistentVolumeClaimUpdate keeps the spec except a larger storage
// request and a volumeName set once (by the binder).
func ValidatePersistentVolumeClaimUpdate(pvc, old *PersistentVolumeClaim) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	mutated := pvc.Spec
	mutated.Resources = old.Spec.Resources
	if old.Spec.VolumeName == "" {
		mutated.VolumeName = ""
	}
	if !apis.SemanticEqual(mutated, old.Spec) {
		errs = append(errs, field.Forbidden(sp, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	newQ, oldQ := pvc.Spec.Resources.Requests[ResourceStorage], old.Spec.Resources.Requests[ResourceStorage]
	if newQ.Cmp(oldQ) < 0 {
		errs = append(errs, field.Forbidden(sp.Child("resources", "requests").Key(string(ResourceStorage)), "field can not be less than previous value"))
	}
	return errs
}

// ValidateReplicationController checks replicas, a non-empty selector that
// the template's labels match, and the template (restartPolicy Always).
func ValidateReplicationController(rc *ReplicationController) field.ErrorList {
	errs := apis.ValidateObjectMeta(&rc.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
	sp := field.NewPath("spec")
	if r := rc.Spec.Replicas; r != nil {
		errs = append(errs, apis.ValidateNonnegative(*r, sp.Child("replicas"))...)
	}
	errs = append(errs, apis.ValidateNonnegative(rc.Spec.MinReadySeconds, sp.Child("minReadySeconds"))...)
	if len(rc.Spec.Selector) == 0 {
		errs = append(errs, field.Required(sp.Child("selector"), ""))
	} else {
		errs = append(errs, apis.ValidateLabels(rc.Spec.Selector, sp.Child("selector"))...)
	}
	t := rc.Spec.Template
	if t == nil {
		return append(errs, field.Required(sp.Child("template"), ""))
	}
	tp := sp.Child("template")
	for k, v := range rc.Spec.Selector {
		if t.Labels[k] != v {
			errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
			break
		}
	}
	errs = append(errs, ValidatePodTemplateSpec(t, tp)...)
	errs = append(errs, ValidateTemplateRestartPolicy(&t.Spec, tp.Child("spec"), RestartPolicyAlways)...)
	return errs
}

// ValidateTemplateRestartPolicy checks that a workload template uses one of
// the restart policies its controller supports.
func ValidateTemplateRestartPolicy(s *PodSpec, p *field.Path, allowed ...RestartPolicy) field.ErrorList {
	for _, a := range allowed {
		if s.RestartPolicy == a {
			return nil
		}
	}
	valid := make([]string, len(allowed))
	for i, a := range allowed {
		valid[i] = string(a)
	}
	return field.ErrorList{field.NotSupported(p.Child("restartPolicy"), string(s.RestartPolicy), valid)}
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
