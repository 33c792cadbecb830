package endpointslice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-logr/logr"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/apis/discovery"
	"github.com/gantry-sdk/gantry/informer"
	"github.com/gantry-sdk/gantry/reconcile"
	"github.com/gantry-sdk/gantry/store"
)

// MaxEndpointsPerSlice bounds a slice, as Kubernetes' controller does by default.
const MaxEndpointsPerSlice = 100

// ManagedBy is the value of the endpointslice.kubernetes.io/managed-by label
// on the slices this controller manages; it never touches others.
const ManagedBy = "endpointslice-controller.gantry.dev"

// ControllerName names the reconcile.Controller (logs, metrics).
const ControllerName = "endpointslice"

var serviceGVK = core.GroupVersion.WithKind("Service")

const serviceIndex = "endpointslice-service" // slices by "namespace/service"

// Options tune the controller. The zero value works.
type Options struct {
	Logger  logr.Logger
	Metrics *reconcile.Metrics
	// Workers reconcile Services concurrently; 0 means 2.
	Workers int
	// MaxEndpointsPerSlice: 0 means MaxEndpointsPerSlice.
	MaxEndpointsPerSlice int
}

// Controller keeps EndpointSlices in line with Services and pods.
type Controller struct {
	services *informer.Informer[*core.Service]
	pods     *informer.Informer[*core.Pod]
	slices   *informer.Informer[*discovery.EndpointSlice]
	sliceAPI store.Typed[*discovery.EndpointSlice]
	max      int
	c        *reconcile.Controller
}

// New builds the controller on the factory's shared informers (Services,
// Pods, EndpointSlices); start the factory and call Run.
func New(s store.Store, f *informer.Factory, opts Options) (*Controller, error) {
	c := &Controller{
		services: informer.Shared[*core.Service](f),
		pods:     informer.Shared[*core.Pod](f),
		slices:   informer.Shared[*discovery.EndpointSlice](f),
		sliceAPI: store.For[*discovery.EndpointSlice](s),
		max:      cmp.Or(opts.MaxEndpointsPerSlice, MaxEndpointsPerSlice),
	}
	if err := c.slices.AddIndex(informer.Index[*discovery.EndpointSlice]{Name: serviceIndex, Func: func(es *discovery.EndpointSlice) []string {
		if name, ok := es.Labels[discovery.LabelServiceName]; ok && es.Labels[discovery.LabelManagedBy] == ManagedBy {
			return []string{es.Namespace + "/" + name}
		}
		return nil
	}}); err != nil {
		return nil, fmt.Errorf("endpointslice: index slices: %w", err)
	}
	c.c = reconcile.NewController(ControllerName, c, reconcile.Options{
		Workers: cmp.Or(opts.Workers, 2), Logger: opts.Logger, Metrics: opts.Metrics,
	})
	err := c.c.Watch(
		reconcile.For(c.services),
		reconcile.Watches(c.pods, c.servicesOf),
		reconcile.Watches(c.slices, func(es *discovery.EndpointSlice) []apis.Key {
			if name, ok := es.Labels[discovery.LabelServiceName]; ok && es.Labels[discovery.LabelManagedBy] == ManagedBy {
				return []apis.Key{{Namespace: es.Namespace, Name: name}}
			}
			return nil
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("endpointslice: %w", err)
	}
	return c, nil
}

// Run reconciles until ctx ends (after the informers have synced).
func (c *Controller) Run(ctx context.Context) error { return c.c.Run(ctx) }

// servicesOf maps a pod to the Services in its namespace that select it.
func (c *Controller) servicesOf(p *core.Pod) []apis.Key {
	var keys []apis.Key
	for _, s := range c.services.ListNamespace(p.Namespace) {
		if selects(s, p) {
			keys = append(keys, apis.KeyOf(s))
		}
	}
	return keys
}

func selects(s *core.Service, p *core.Pod) bool {
	if len(s.Spec.Selector) == 0 {
		return false
	}
	for k, v := range s.Spec.Selector {
		if got, ok := p.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Reconcile brings one Service's slices to the wanted state.
func (c *Controller) Reconcile(ctx context.Context, key apis.Key) (reconcile.Result, error) {
	have, err := c.slices.ByIndex(serviceIndex, key.Namespace+"/"+key.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	svc, ok := c.services.Get(key)
	var want map[string]*discovery.EndpointSlice
	if ok && len(svc.Spec.Selector) > 0 && svc.Spec.Type != core.ServiceTypeExternalName {
		want = c.desired(svc, c.pods.ListNamespace(key.Namespace))
	}
	var errs []error
	for _, es := range have {
		if _, keep := want[es.Name]; keep {
			continue
		}
		_, err := c.sliceAPI.Delete(ctx, apis.KeyOf(es), store.DeleteOptions{UID: es.UID})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	byName := map[string]*discovery.EndpointSlice{}
	for _, es := range have {
		byName[es.Name] = es
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		w := want[name]
		cur, exists := byName[name]
		if !exists {
			if _, err := c.sliceAPI.Create(ctx, w, store.WriteOptions{}); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if sameSlice(cur, w) {
			continue
		}
		upd := apis.DeepCopy(cur)
		upd.Labels, upd.OwnerReferences = w.Labels, w.OwnerReferences
		upd.AddressType, upd.Endpoints, upd.Ports = w.AddressType, w.Endpoints, w.Ports
		if _, err := c.sliceAPI.Update(ctx, upd, store.WriteOptions{}); err != nil {
			errs = append(errs, err)
		}
	}
	// Conflicts and AlreadyExists come from a cache behind the store: the
	// retry sees the newer state.
	return reconcile.Result{}, errors.Join(errs...)
}

func sameSlice(cur, w *discovery.EndpointSlice) bool {
	return cur.AddressType == w.AddressType &&
		reflect.DeepEqual(cur.Endpoints, w.Endpoints) && reflect.DeepEqual(cur.Ports, w.Ports) &&
		reflect.DeepEqual(cur.Labels, w.Labels) && reflect.DeepEqual(cur.OwnerReferences, w.OwnerReferences)
}

// desired computes the wanted slices of svc from the pods of its namespace.
func (c *Controller) desired(svc *core.Service, pods []*core.Pod) map[string]*discovery.EndpointSlice {
	type group struct {
		ports     []discovery.EndpointPort
		endpoints []discovery.Endpoint
	}
	groups := map[string]*group{}
	slices.SortFunc(pods, func(a, b *core.Pod) int { return strings.Compare(a.Name, b.Name) })
	for _, p := range pods {
		if !selects(svc, p) || core.IsPodTerminal(p) {
			continue
		}
		ip, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil || !ip.Is4() {
			continue
		}
		ports := resolvePorts(svc, p)
		pk := portsKey(ports)
		g := groups[pk]
		if g == nil {
			g = &group{ports: ports}
			groups[pk] = g
		}
		g.endpoints = append(g.endpoints, endpointOf(svc, p, ip))
	}
	ctrl, block := true, true
	owner := apis.OwnerReference{APIVersion: serviceGVK.GroupVersion().String(), Kind: serviceGVK.Kind, Name: svc.Name, UID: svc.UID,
		Controller: &ctrl, BlockOwnerDeletion: &block}
	out := map[string]*discovery.EndpointSlice{}
	mk := func(name string, ports []discovery.EndpointPort, eps []discovery.Endpoint) {
		es := &discovery.EndpointSlice{
			ObjectMeta: apis.ObjectMeta{
				Namespace: svc.Namespace, Name: name,
				Labels:          map[string]string{discovery.LabelServiceName: svc.Name, discovery.LabelManagedBy: ManagedBy},
				OwnerReferences: []apis.OwnerReference{owner},
			},
			AddressType: discovery.AddressTypeIPv4,
			Endpoints:   eps,
			Ports:       ports,
		}
		es.APIVersion, es.Kind = "discovery.k8s.io/v1", "EndpointSlice"
		discovery.DefaultEndpointSlice(es)
		out[name] = es
	}
	if len(groups) == 0 {
		// An empty slice says "no endpoints" (rather than "not computed yet").
		mk(sliceName(svc.Name, portsKey(resolvePorts(svc, nil)), 0), resolvePorts(svc, nil), []discovery.Endpoint{})
		return out
	}
	for pk, g := range groups {
		for i := 0; i < len(g.endpoints); i += c.max {
			mk(sliceName(svc.Name, pk, i/c.max), g.ports, g.endpoints[i:min(i+c.max, len(g.endpoints))])
		}
	}
	return out
}

func endpointOf(svc *core.Service, p *core.Pod, ip netip.Addr) discovery.Endpoint {
	podReady := core.IsPodReady(p)
	terminating := p.DeletionTimestamp != nil
	ready := (podReady && !terminating) || svc.Spec.PublishNotReadyAddresses
	serving := podReady || svc.Spec.PublishNotReadyAddresses
	ep := discovery.Endpoint{
		Addresses:  []string{ip.String()},
		Conditions: discovery.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &core.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
	}
	if p.Spec.NodeName != "" {
		n := p.Spec.NodeName
		ep.NodeName = &n
	}
	return ep
}

// resolvePorts maps the Service's ports to the pod's: a numeric targetPort
// as is, a named one through the pod's container ports of that protocol; a
// name the pod does not have leaves the port out for this pod. p nil resolves
// numeric ports only.
func resolvePorts(svc *core.Service, p *core.Pod) []discovery.EndpointPort {
	out := []discovery.EndpointPort{}
	for _, sp := range svc.Spec.Ports {
		proto := cmp.Or(sp.Protocol, core.ProtocolTCP)
		var num int32
		switch {
		case sp.TargetPort.Type == apis.TypeString:
			if p == nil {
				continue
			}
			num = namedPort(p, sp.TargetPort.StrVal, proto)
		case sp.TargetPort.IntVal != 0:
			num = sp.TargetPort.IntVal
		default:
			num = sp.Port
		}
		if num == 0 {
			continue
		}
		name := sp.Name
		out = append(out, discovery.EndpointPort{Name: &name, Protocol: &proto, Port: &num, AppProtocol: sp.AppProtocol})
	}
	return out
}

func namedPort(p *core.Pod, name string, proto core.Protocol) int32 {
	for _, c := range p.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Name == name && cmp.Or(cp.Protocol, core.ProtocolTCP) == proto {
				return cp.ContainerPort
			}
		}
	}
	return 0
}

func portsKey(ports []discovery.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		b.WriteString(*p.Name)
		b.WriteByte('/')
		b.WriteString(string(*p.Protocol))
		b.WriteByte('/')
		b.WriteString(strconv.Itoa(int(*p.Port)))
		b.WriteByte(',')
	}
	return b.String()
}

func sliceName(svc, portsKey string, n int) string {
	h := fnv.New32a()
	h.Write([]byte(portsKey))
	return fmt.Sprintf("%s-%08x-%d", svc, h.Sum32(), n)
}
