package apis

import (
	"bytes"
	"time"
)

// TypeMeta names the kind of an object: `apiVersion` and `kind`, inlined in JSON.
type TypeMeta struct {
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
}

// Type returns the TypeMeta itself; promoted, it makes every kind satisfy Object.
func (t *TypeMeta) Type() *TypeMeta { return t }

// GroupVersionKind parses APIVersion and Kind.
func (t *TypeMeta) GroupVersionKind() GroupVersionKind {
	gv := ParseGroupVersion(t.APIVersion)
	return GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: t.Kind}
}

// SetGroupVersionKind writes APIVersion and Kind.
func (t *TypeMeta) SetGroupVersionKind(gvk GroupVersionKind) {
	t.APIVersion = gvk.GroupVersion().String()
	t.Kind = gvk.Kind
}

// ObjectMeta is the `metadata` of every stored object. The store sets UID,
// ResourceVersion, Generation, CreationTimestamp and DeletionTimestamp; clients
// set the rest.
type ObjectMeta struct {
	Name                       string            `json:"name,omitempty"`
	GenerateName               string            `json:"generateName,omitempty"`
	Namespace                  string            `json:"namespace,omitempty"`
	UID                        string            `json:"uid,omitempty"`
	ResourceVersion            string            `json:"resourceVersion,omitempty"`
	Generation                 int64             `json:"generation,omitempty"`
	CreationTimestamp          Time              `json:"creationTimestamp,omitzero"`
	DeletionTimestamp          *Time             `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *int64            `json:"deletionGracePeriodSeconds,omitempty"`
	Labels                     map[string]string `json:"labels,omitempty"`
	Annotations                map[string]string `json:"annotations,omitempty"`
	OwnerReferences            []OwnerReference  `json:"ownerReferences,omitempty"`
	Finalizers                 []string          `json:"finalizers,omitempty"`
	// ManagedFields is kept as read from manifests (kubectl -o yaml output carries it);
	// Gantry does not compute server-side-apply ownership.
	ManagedFields []ManagedFieldsEntry `json:"managedFields,omitempty"`
}

// Meta returns the ObjectMeta itself; promoted, it makes every kind satisfy Object.
func (m *ObjectMeta) Meta() *ObjectMeta { return m }

// Key returns the object's namespace and name.
func (m *ObjectMeta) Key() Key { return Key{Namespace: m.Namespace, Name: m.Name} }

// ManagedFieldsEntry records which manager last set which fields.
type ManagedFieldsEntry struct {
	Manager     string   `json:"manager,omitempty"`
	Operation   string   `json:"operation,omitempty"`
	APIVersion  string   `json:"apiVersion,omitempty"`
	Time        *Time    `json:"time,omitempty"`
	FieldsType  string   `json:"fieldsType,omitempty"`
	FieldsV1    *RawJSON `json:"fieldsV1,omitempty"`
	Subresource string   `json:"subresource,omitempty"`
}

// RawJSON holds a JSON value verbatim.
type RawJSON []byte

// MarshalJSON returns the raw bytes (or null).
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r) == 0 {
		return []byte("null"), nil
	}
	return r, nil
}

// UnmarshalJSON keeps a copy of the bytes.
func (r *RawJSON) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*r = nil
		return nil
	}
	*r = append((*r)[:0], b...)
	return nil
}

// ListMeta is the `metadata` of a list.
type ListMeta struct {
	ResourceVersion    string `json:"resourceVersion,omitempty"`
	Continue           string `json:"continue,omitempty"`
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

// OwnerReference points from a dependent object to its owner; the garbage
// collector deletes dependents whose owners are gone.
type OwnerReference struct {
	APIVersion         string `json:"apiVersion"`
	Kind               string `json:"kind"`
	Name               string `json:"name"`
	UID                string `json:"uid"`
	Controller         *bool  `json:"controller,omitempty"`
	BlockOwnerDeletion *bool  `json:"blockOwnerDeletion,omitempty"`
}

// ConditionStatus is "True", "False" or "Unknown".
type ConditionStatus string

// The condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// Condition is the generic shape of a status condition (metav1.Condition).
// Kinds with historical condition shapes (PodCondition, DeploymentCondition)
// define their own.
type Condition struct {
	Type               string          `json:"type"`
	Status             ConditionStatus `json:"status"`
	ObservedGeneration int64           `json:"observedGeneration,omitempty"`
	LastTransitionTime Time            `json:"lastTransitionTime,omitzero"`
	Reason             string          `json:"reason,omitempty"`
	Message            string          `json:"message,omitempty"`
}

// LabelSelector selects objects by labels: every matchLabels pair and every
// matchExpressions requirement must hold. See package labels to evaluate it.
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one set-based requirement.
type LabelSelectorRequirement struct {
	Key      string                `json:"key"`
	Operator LabelSelectorOperator `json:"operator"`
	Values   []string              `json:"values,omitempty"`
}

// LabelSelectorOperator is In, NotIn, Exists or DoesNotExist.
type LabelSelectorOperator string

// The selector operators.
const (
	LabelSelectorOpIn           LabelSelectorOperator = "In"
	LabelSelectorOpNotIn        LabelSelectorOperator = "NotIn"
	LabelSelectorOpExists       LabelSelectorOperator = "Exists"
	LabelSelectorOpDoesNotExist LabelSelectorOperator = "DoesNotExist"
)

// Time is a timestamp that marshals as RFC 3339 in UTC with second precision,
// and as null (or not at all, with omitzero) when zero.
type Time struct{ time.Time }

// NewTime wraps t.
func NewTime(t time.Time) Time { return Time{t} }

// MarshalJSON renders RFC 3339 or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(time.RFC3339)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, time.RFC3339)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts RFC 3339 (with or without fractions) or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		t.Time = time.Time{}
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return &time.ParseError{Layout: time.RFC3339, Value: string(b), Message: ": not a quoted timestamp"}
	}
	pt, err := time.Parse(time.RFC3339, string(b[1:len(b)-1]))
	if err != nil {
		return err
	}
	t.Time = pt.Local()
	return nil
}

// MicroTime is a timestamp with microsecond precision (Lease renewTime, Event eventTime).
type MicroTime struct{ time.Time }

// The layout Kubernetes uses for MicroTime.
const microTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// MarshalJSON renders RFC 3339 with microseconds, or null.
func (t MicroTime) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	b := make([]byte, 0, len(microTimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, microTimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts RFC 3339 with any fraction, or null.
func (t *MicroTime) UnmarshalJSON(b []byte) error {
	var tt Time
	if err := tt.UnmarshalJSON(b); err != nil {
		return err
	}
	t.Time = tt.Time
	return nil
}

// Duration is a time.Duration that marshals as a Go duration string ("1m30s").
type Duration struct{ time.Duration }

// MarshalJSON renders the duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.Duration.String() + `"`), nil
}

// UnmarshalJSON parses a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return &time.ParseError{Value: string(b), Message: ": duration must be a quoted string"}
	}
	v, err := time.ParseDuration(string(b[1 : len(b)-1]))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}
