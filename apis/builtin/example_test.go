package builtin_test

import (
	"errors"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
)

func ExampleNewScheme() {
	s, err := builtin.NewScheme()
	if err != nil {
		panic(err)
	}
	manifest := []byte(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: Bad_Name, namespace: default}
spec:
  replicas: -1
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers: [{name: c, image: nginx}]
`)
	var tm apis.TypeMeta
	if err := yaml.Unmarshal(manifest, &tm); err != nil {
		panic(err)
	}
	k, err := s.Lookup(tm.GroupVersionKind())
	if err != nil {
		panic(err)
	}
	obj := k.New()
	if err := yaml.UnmarshalStrict(manifest, obj); err != nil {
		panic(err)
	}
	k.Default(obj)
	for _, e := range k.Validate(obj) {
		fmt.Println(e.Field)
	}

	_, err = s.Lookup(apis.GroupVersionKind{Version: "v1", Kind: "Widget"})
	fmt.Println(errors.Is(err, apis.ErrUnknownKind))
	// Output:
	// metadata.name
	// spec.replicas
	// spec.template.metadata.labels
	// true
}
