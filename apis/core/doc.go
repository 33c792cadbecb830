// Package core holds the core/v1 kinds (apiVersion "v1"): Pod, Node,
// Namespace, Service, Endpoints, ConfigMap, Secret, Event, PersistentVolume,
// PersistentVolumeClaim, ReplicationController and ServiceAccount, with their
// defaulting, validation and field selectors. JSON names are Kubernetes', so
// manifests and `kubectl -o yaml` output decode unchanged.
//
// Two Go field names differ from Kubernetes': Secret.SecretType and
// Event.EventType (both `type` in JSON), because a field named Type would
// hide the Type method that makes a kind an apis.Object.
//
// # Usage
//
//	s := apis.NewScheme()
//	if err := core.AddToScheme(s); err != nil { ... }
//
//	pod := &core.Pod{
//		ObjectMeta: apis.ObjectMeta{Name: "web", Namespace: "default"},
//		Spec: core.PodSpec{Containers: []core.Container{{Name: "web", Image: "nginx:1.27"}}},
//	}
//	core.DefaultPod(pod)               // restartPolicy Always, imagePullPolicy IfNotPresent...
//	if errs := core.ValidatePod(pod); len(errs) > 0 {
//		return errs.Err()              // e.g. spec.containers[0].image: Required value
//	}
//
// Workload packages reuse DefaultPodSpec, ValidatePodTemplateSpec and
// ValidateTemplateRestartPolicy for their pod templates. ImagePullPolicyFor
// and QOSClassOf expose the rules the kubelet and scheduler share.
package core
