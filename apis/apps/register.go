package apps

import (
	"strconv"

	"github.com/gantry-sdk/gantry/apis"
)

// GroupVersion is apps/v1.
var GroupVersion = apis.GroupVersion{Group: "apps", Version: "v1"}

// AddToScheme registers the apps/v1 kinds.
func AddToScheme(s *apis.Scheme) error {
	gv := GroupVersion
	if err := apis.Register[Deployment](s, apis.Kind[*Deployment]{
		GroupVersionKind: gv.WithKind("Deployment"), Resource: "deployments", ShortNames: []string{"deploy"},
		Default: DefaultDeployment, Validate: ValidateDeployment, ValidateUpdate: ValidateDeploymentUpdate,
	}); err != nil {
		return err
	}
	if err := apis.Register[ReplicaSet](s, apis.Kind[*ReplicaSet]{
		GroupVersionKind: gv.WithKind("ReplicaSet"), Resource: "replicasets", ShortNames: []string{"rs"},
		Default: DefaultReplicaSet, Validate: ValidateReplicaSet, ValidateUpdate: ValidateReplicaSetUpdate,
		Fields: func(rs *ReplicaSet) map[string]string {
			return map[string]string{"status.replicas": strconv.Itoa(int(rs.Status.Replicas))}
		},
	}); err != nil {
		return err
	}
	if err := apis.Register[StatefulSet](s, apis.Kind[*StatefulSet]{
		GroupVersionKind: gv.WithKind("StatefulSet"), Resource: "statefulsets", ShortNames: []string{"sts"},
		Default: DefaultStatefulSet, Validate: ValidateStatefulSet, ValidateUpdate: ValidateStatefulSetUpdate,
	}); err != nil {
		return err
	}
	if err := apis.Register[DaemonSet](s, apis.Kind[*DaemonSet]{
		GroupVersionKind: gv.WithKind("DaemonSet"), Resource: "daemonsets", ShortNames: []string{"ds"},
		Default: DefaultDaemonSet, Validate: ValidateDaemonSet, ValidateUpdate: ValidateDaemonSetUpdate,
	}); err != nil {
		return err
	}
	return apis.Register[ControllerRevision](s, apis.Kind[*ControllerRevision]{
		GroupVersionKind: gv.WithKind("ControllerRevision"), Resource: "controllerrevisions",
		Validate: ValidateControllerRevision, ValidateUpdate: ValidateControllerRevisionUpdate,
	})
}
