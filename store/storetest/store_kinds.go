package storetest

import (
	"errors"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/field"
)

// The kinds the Store suite writes. They are user-defined kinds, registered
// as plain Go structs, so the suite depends on no built-in group but Namespace.

// TestGroup is the API group of the suite's kinds.
const TestGroup = "test.gantry.dev"

// WidgetGVK and GadgetGVK name the suite's kinds.
var (
	WidgetGVK    = apis.GroupVersionKind{Group: TestGroup, Version: "v1", Kind: "Widget"}
	GadgetGVK    = apis.GroupVersionKind{Group: TestGroup, Version: "v1", Kind: "Gadget"}
	NamespaceGVK = apis.GroupVersionKind{Version: "v1", Kind: "Namespace"}
)

// Widget is a namespaced kind with a spec, a status subresource, defaulting,
// validation, an immutable field and selectable fields.
type Widget struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            WidgetSpec   `json:"spec"`
	Status          WidgetStatus `json:"status,omitzero"`
}

// WidgetSpec is the desired state of a Widget.
type WidgetSpec struct {
	// Class is immutable once set.
	Class string `json:"class,omitempty"`
	// Color defaults to DefaultColor.
	Color string `json:"color,omitempty"`
	// Replicas must not be negative.
	Replicas int32 `json:"replicas"`
	// NodeName is selectable as spec.nodeName.
	NodeName string `json:"nodeName,omitempty"`
	// Payload makes objects as large as a test needs.
	Payload string `json:"payload,omitempty"`
}

// WidgetStatus is the observed state of a Widget.
type WidgetStatus struct {
	// Phase is selectable as status.phase.
	Phase              string `json:"phase,omitempty"`
	ObservedGeneration int64  `json:"observedGeneration,omitempty"`
}

// DefaultColor is what Widget defaulting sets.
const DefaultColor = "blue"

// Gadget is a cluster-scoped kind without a status.
type Gadget struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            GadgetSpec `json:"spec"`
}

// GadgetSpec is the desired state of a Gadget.
type GadgetSpec struct {
	Size int `json:"size"`
}

// AddToScheme registers Widget, Gadget and, unless the scheme has it already,
// core.Namespace.
func AddToScheme(s *apis.Scheme) error {
	err := apis.Register[Widget](s, apis.Kind[*Widget]{
		GroupVersionKind: WidgetGVK,
		ShortNames:       []string{"wd"},
		Default: func(w *Widget) {
			if w.Spec.Color == "" {
				w.Spec.Color = DefaultColor
			}
		},
		Validate: func(w *Widget) field.ErrorList {
			errs := apis.ValidateObjectMeta(&w.ObjectMeta, true, apis.IsDNS1123Subdomain, field.NewPath("metadata"))
			if w.Spec.Replicas < 0 {
				errs = append(errs, field.Invalid(field.NewPath("spec", "replicas"), w.Spec.Replicas, "must be greater than or equal to 0"))
			}
			return errs
		},
		ValidateUpdate: func(w, old *Widget) field.ErrorList {
			if old.Spec.Class != "" && w.Spec.Class != old.Spec.Class {
				return field.ErrorList{field.Invalid(field.NewPath("spec", "class"), w.Spec.Class, "field is immutable")}
			}
			return nil
		},
		Fields: func(w *Widget) map[string]string {
			return map[string]string{"spec.nodeName": w.Spec.NodeName, "status.phase": w.Status.Phase}
		},
	})
	if err != nil {
		return err
	}
	if err := apis.Register[Gadget](s, apis.Kind[*Gadget]{GroupVersionKind: GadgetGVK, Scope: apis.ClusterScoped}); err != nil {
		return err
	}
	if _, err := s.Lookup(NamespaceGVK); errors.Is(err, apis.ErrUnknownKind) {
		return apis.Register[core.Namespace](s, apis.Kind[*core.Namespace]{
			GroupVersionKind: NamespaceGVK,
			NameRule:         apis.IsDNS1123Label, // a namespace is a segment of its objects' keys
			ShortNames:       []string{"ns"},
			Scope:            apis.ClusterScoped,
			Default: func(ns *core.Namespace) {
				if ns.Status.Phase == "" {
					ns.Status.Phase = core.NamespaceActive
				}
			},
			Fields: func(ns *core.Namespace) map[string]string {
				return map[string]string{"status.phase": string(ns.Status.Phase)}
			},
		})
	}
	return nil
}

// NewScheme returns a scheme with the suite's kinds.
func NewScheme() *apis.Scheme {
	s := apis.NewScheme()
	if err := AddToScheme(s); err != nil {
		panic(err) // a fresh scheme cannot hold a duplicate: a bug in this file
	}
	return s
}
