package storage

import (
	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
)

// StorageClass describes a kind of storage that claims can ask for by name.
// Cluster-scoped.
type StorageClass struct {
	apis.TypeMeta        `json:",inline"`
	apis.ObjectMeta      `json:"metadata"`
	Provisioner          string                              `json:"provisioner"`
	Parameters           map[string]string                   `json:"parameters,omitempty"`
	ReclaimPolicy        *core.PersistentVolumeReclaimPolicy `json:"reclaimPolicy,omitempty"`
	MountOptions         []string                            `json:"mountOptions,omitempty"`
	AllowVolumeExpansion *bool                               `json:"allowVolumeExpansion,omitempty"`
	VolumeBindingMode    *VolumeBindingMode                  `json:"volumeBindingMode,omitempty"`
	AllowedTopologies    []core.TopologySelectorTerm         `json:"allowedTopologies,omitempty"`
}

// VolumeBindingMode is Immediate or WaitForFirstConsumer.
type VolumeBindingMode string

// The binding modes.
const (
	VolumeBindingImmediate            VolumeBindingMode = "Immediate"
	VolumeBindingWaitForFirstConsumer VolumeBindingMode = "WaitForFirstConsumer"
)

// AnnotationIsDefaultStorageClass marks the class used by claims that name none.
const AnnotationIsDefaultStorageClass = "storageclass.kubernetes.io/is-default-class"
