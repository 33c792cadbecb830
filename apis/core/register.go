package core

import (
	"strconv"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/field"
)

// GroupVersion is the core API group, version v1 (apiVersion "v1").
var GroupVersion = apis.GroupVersion{Version: "v1"}

// AddToScheme registers the core/v1 kinds with their resource names, short
// names, scope, defaulting, validation and selectable fields.
func AddToScheme(s *apis.Scheme) error {
	gv := GroupVersion
	regs := []func() error{
		func() error {
			return apis.Register[Pod](s, apis.Kind[*Pod]{
				GroupVersionKind: gv.WithKind("Pod"), Resource: "pods", ShortNames: []string{"po"},
				Default: DefaultPod, Validate: ValidatePod, ValidateUpdate: ValidatePodUpdate,
				Fields: podFields,
			})
		},
		func() error {
			return apis.Register[Node](s, apis.Kind[*Node]{
				GroupVersionKind: gv.WithKind("Node"), Resource: "nodes", ShortNames: []string{"no"}, Scope: apis.ClusterScoped,
				Default: DefaultNode, Validate: ValidateNode, ValidateUpdate: ValidateNodeUpdate,
				Fields: func(n *Node) map[string]string {
					return map[string]string{"spec.unschedulable": strconv.FormatBool(n.Spec.Unschedulable)}
				},
			})
		},
		func() error {
			return apis.Register[Namespace](s, apis.Kind[*Namespace]{
				GroupVersionKind: gv.WithKind("Namespace"), Resource: "namespaces", ShortNames: []string{"ns"}, Scope: apis.ClusterScoped,
				Default: DefaultNamespace, Validate: ValidateNamespace,
				Fields: func(n *Namespace) map[string]string {
					return map[string]string{"status.phase": string(n.Status.Phase)}
				},
			})
		},
		func() error {
			return apis.Register[Service](s, apis.Kind[*Service]{
				GroupVersionKind: gv.WithKind("Service"), Resource: "services", ShortNames: []string{"svc"},
				Default: DefaultService, Validate: ValidateService, ValidateUpdate: ValidateServiceUpdate,
				Fields: func(v *Service) map[string]string {
					return map[string]string{"spec.type": string(v.Spec.Type), "spec.clusterIP": v.Spec.ClusterIP}
				},
			})
		},
		func() error {
			return apis.Register[Endpoints](s, apis.Kind[*Endpoints]{
				GroupVersionKind: gv.WithKind("Endpoints"), Resource: "endpoints", ShortNames: []string{"ep"},
				Default: DefaultEndpoints, Validate: ValidateEndpoints,
			})
		},
		func() error {
			return apis.Register[ConfigMap](s, apis.Kind[*ConfigMap]{
				GroupVersionKind: gv.WithKind("ConfigMap"), Resource: "configmaps", ShortNames: []string{"cm"},
				Validate: ValidateConfigMap, ValidateUpdate: ValidateConfigMapUpdate,
			})
		},
		func() error {
			return apis.Register[Secret](s, apis.Kind[*Secret]{
				GroupVersionKind: gv.WithKind("Secret"), Resource: "secrets",
				Default: DefaultSecret, Validate: ValidateSecret, ValidateUpdate: ValidateSecretUpdate,
				Fields: func(v *Secret) map[string]string { return map[string]string{"type": string(v.SecretType)} },
			})
		},
		func() error {
			return apis.Register[Event](s, apis.Kind[*Event]{
				GroupVersionKind: gv.WithKind("Event"), Resource: "events", ShortNames: []string{"ev"},
				Validate: ValidateEvent, Fields: eventFields,
			})
		},
		func() error {
			return apis.Register[PersistentVolume](s, apis.Kind[*PersistentVolume]{
				GroupVersionKind: gv.WithKind("PersistentVolume"), Resource: "persistentvolumes", ShortNames: []string{"pv"}, Scope: apis.ClusterScoped,
				Default: DefaultPersistentVolume, Validate: ValidatePersistentVolume,
			})
		},
		func() error {
			return apis.Register[PersistentVolumeClaim](s, apis.Kind[*PersistentVolumeClaim]{
				GroupVersionKind: gv.WithKind("PersistentVolumeClaim"), Resource: "persistentvolumeclaims", ShortNames: []string{"pvc"},
				Default: DefaultPersistentVolumeClaim, Validate: ValidatePersistentVolumeClaim, ValidateUpdate: ValidatePersistentVolumeClaimUpdate,
			})
		},
		func() error {
			return apis.Register[ReplicationController](s, apis.Kind[*ReplicationController]{
				GroupVersionKind: gv.WithKind("ReplicationController"), Resource: "replicationcontrollers", ShortNames: []string{"rc"},
				Default: DefaultReplicationController, Validate: ValidateReplicationController,
				Fields: func(rc *ReplicationController) map[string]string {
					return map[string]string{"status.replicas": strconv.Itoa(int(rc.Status.Replicas))}
				},
			})
		},
		func() error {
			return apis.Register[ServiceAccount](s, apis.Kind[*ServiceAccount]{
				GroupVersionKind: gv.WithKind("ServiceAccount"), Resource: "serviceaccounts", ShortNames: []string{"sa"},
				Validate: func(sa *ServiceAccount) field.ErrorList {
					return apis.ValidateObjectMeta(&sa.ObjectMeta, true, apis.IsDNS1123Subdomain, metadataPath)
				},
			})
		},
	}
	for _, r := range regs {
		if err := r(); err != nil {
			return err
		}
	}
	return nil
}

// podFields are the pod fields Kubernetes lets field selectors name.
func podFields(p *Pod) map[string]string {
	return map[string]string{
		"spec.nodeName":            p.Spec.NodeName,
		"spec.restartPolicy":       string(p.Spec.RestartPolicy),
		"spec.schedulerName":       p.Spec.SchedulerName,
		"spec.serviceAccountName":  p.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(p.Spec.HostNetwork),
		"status.phase":             string(p.Status.Phase),
		"status.podIP":             p.Status.PodIP,
		"status.nominatedNodeName": p.Status.NominatedNodeName,
	}
}

// eventFields are the event fields Kubernetes lets field selectors name.
func eventFields(e *Event) map[string]string {
	source := e.Source.Component
	if source == "" {
		source = e.ReportingController
	}
	return map[string]string{
		"involvedObject.kind":            e.InvolvedObject.Kind,
		"involvedObject.namespace":       e.InvolvedObject.Namespace,
		"involvedObject.name":            e.InvolvedObject.Name,
		"involvedObject.uid":             e.InvolvedObject.UID,
		"involvedObject.apiVersion":      e.InvolvedObject.APIVersion,
		"involvedObject.resourceVersion": e.InvolvedObject.ResourceVersion,
		"involvedObject.fieldPath":       e.InvolvedObject.FieldPath,
		"reason":                         e.Reason,
		"reportingComponent":             e.ReportingController,
		"source":                         source,
		"type":                           e.EventType,
	}
}
