package serviceip_test

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/controllers/serviceip"
	"github.com/gantry-sdk/gantry/store"
	"github.com/gantry-sdk/gantry/store/memory"
)

func Example() {
	ctx := context.Background()
	kv := memory.New(memory.Options{})
	defer kv.Close()
	scheme := apis.NewScheme()
	_ = core.AddToScheme(scheme)
	alloc, _ := serviceip.New(kv, serviceip.Options{CIDR: netip.MustParsePrefix("10.96.0.0/24")})
	s, _ := store.New(kv, scheme, store.Options{Mutating: []store.Admitter{alloc}})
	services := store.For[*core.Service](s)

	web := &core.Service{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "web"}}
	web.Spec.ClusterIP = "10.96.0.10"
	web.Spec.Type = core.ServiceTypeNodePort
	web.Spec.Ports = []core.ServicePort{{Port: 80, NodePort: 30080}}
	web, err := services.Create(ctx, web, store.WriteOptions{})
	fmt.Println(web.Spec.ClusterIP, web.Spec.Ports[0].NodePort, err)

	clash := &core.Service{ObjectMeta: apis.ObjectMeta{Namespace: "default", Name: "clash"}}
	clash.Spec.ClusterIP = "10.96.0.10"
	clash.Spec.Ports = []core.ServicePort{{Port: 80}}
	_, err = services.Create(ctx, clash, store.WriteOptions{})
	fmt.Println(store.FieldErrors(err)[0].Field)
	// Output:
	// 10.96.0.10 30080 <nil>
	// spec.clusterIP
}
