package apis_test

import (
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
)

// Website is a user-defined kind: a plain struct, no generated code.
type Website struct {
	apis.TypeMeta   `json:",inline"`
	apis.ObjectMeta `json:"metadata"`
	Spec            WebsiteSpec   `json:"spec"`
	Status          WebsiteStatus `json:"status,omitzero"`
}

type WebsiteSpec struct {
	Domain   string `json:"domain"`
	Replicas int32  `json:"replicas,omitempty"`
}

type WebsiteStatus struct {
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
}

func ExampleCodec() {
	scheme := apis.NewScheme()
	apis.MustRegister[Website](scheme, apis.Kind[*Website]{
		GroupVersionKind: apis.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Website"},
	})
	codec := apis.Codec{Scheme: scheme}

	objs, warnings, err := codec.DecodeAll([]byte(`
apiVersion: example.com/v1
kind: Website
metadata:
  name: blog
spec:
  domain: blog.example.com
  replicaz: 3
---
apiVersion: example.com/v1
kind: Webside
metadata:
  name: typo
`))
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	fmt.Println("error:", err)
	fmt.Println(objs[0].(*Website).Spec.Domain)

	out, _ := codec.EncodeYAML(&Website{ObjectMeta: apis.ObjectMeta{Name: "shop"}, Spec: WebsiteSpec{Domain: "shop.example.com"}})
	fmt.Print(string(out))
	// Output:
	// warning: document[0] (line 2): unknown field "spec.replicaz"
	// error: apis: document[1] (line 10, example.com/v1, Kind=Webside): apis: unknown kind: example.com/v1, Kind=Webside
	// blog.example.com
	// apiVersion: example.com/v1
	// kind: Website
	// metadata:
	//   name: shop
	// spec:
	//   domain: shop.example.com
}
