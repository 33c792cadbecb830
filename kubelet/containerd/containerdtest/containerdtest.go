// Package containerdtest runs kubelet/containerd Runtimes against the private
// containerd of kubelet/cri/critest: same daemon, same CNI bridge and IP range,
// its own containerd namespace, state directory and runc root under the Env's
// directory (removed by Env.Stop).
//
// # Usage
//
//	env, err := critest.Start(ctx, critest.Options{})
//	critest.Require(t, err)
//	rt, err := containerdtest.Dial(ctx, env, containerd.Options{})
//	defer rt.Close()
package containerdtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/gantry-sdk/gantry/kubelet"
	"github.com/gantry-sdk/gantry/kubelet/containerd"
	"github.com/gantry-sdk/gantry/kubelet/cri/critest"
)

// Namespace is the containerd namespace of the test Runtimes.
const Namespace = "gantry-native"

// Network returns the Env's CNI network (the bridge and host-local range the
// CRI plugin of the same daemon uses).
func Network(env *critest.Env) (containerd.Network, error) {
	b, err := os.ReadFile(filepath.Join(env.Dir, "cni/net.d/10-gantry.conflist"))
	if err != nil {
		return containerd.Network{}, fmt.Errorf("containerdtest: %w", err)
	}
	return containerd.Network{ConfList: b}, nil
}

// Dial returns a Runtime on env's daemon with the test images imported. Zero
// fields of o are filled for the Env.
func Dial(ctx context.Context, env *critest.Env, o containerd.Options) (*containerd.Runtime, error) {
	n, err := Network(env)
	if err != nil {
		return nil, err
	}
	if o.Namespace == "" {
		o.Namespace = Namespace
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(env.Dir, "native", o.Namespace)
	}
	if o.CgroupParent == "" {
		o.CgroupParent = env.CgroupParent
	}
	if o.RuncRoot == "" {
		o.RuncRoot = filepath.Join(env.Dir, "runc-native")
	}
	rt, err := containerd.Dial(ctx, env.Socket, n, o)
	if err != nil {
		return nil, err
	}
	if _, err := rt.ImageStatus(ctx, critest.BusyboxImage); errors.Is(err, kubelet.ErrNotFound) {
		if _, err := rt.ImportImage(ctx, bytes.NewReader(env.ImageArchive())); err != nil {
			rt.Close()
			return nil, err
		}
	}
	return rt, nil
}

// RemoveAll stops and removes every sandbox of the Runtime's namespace.
func RemoveAll(ctx context.Context, rt kubelet.Runtime) error {
	return critest.RemoveSandboxes(ctx, rt)
}

// DeriveImage stores a copy of the image base under name with the config's
// USER set to user (the same layers, already unpacked): test images for the
// image-user rules without building an archive.
func DeriveImage(ctx context.Context, rt *containerd.Runtime, base, name, user string) error {
	c := rt.Client()
	ctx = namespaces.WithNamespace(ctx, rt.Namespace())
	img, err := c.ImageService().Get(ctx, base)
	if err != nil {
		return fmt.Errorf("containerdtest: derive %s: %w", name, err)
	}
	// The new blobs stay under a lease until the image references them.
	ctx, done, err := c.WithLease(ctx)
	if err != nil {
		return fmt.Errorf("containerdtest: derive %s: %w", name, err)
	}
	defer done(context.WithoutCancel(ctx))
	cs := c.ContentStore()
	manifest, err := images.Manifest(ctx, cs, img.Target, platforms.Default())
	if err != nil {
		return fmt.Errorf("containerdtest: derive %s: %w", name, err)
	}
	blob, err := content.ReadBlob(ctx, cs, manifest.Config)
	if err != nil {
		return fmt.Errorf("containerdtest: derive %s: %w", name, err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(blob, &cfg); err != nil {
		return fmt.Errorf("containerdtest: derive %s: %w", name, err)
	}
	inner, _ := cfg["config"].(map[string]any)
	if inner == nil {
		inner = map[string]any{}
	}
	inner["User"] = user
	cfg["config"] = inner
	put := func(mediaType string, v any, labels map[string]string) (ocispec.Descriptor, error) {
		b, err := json.Marshal(v)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		desc := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(b), Size: int64(len(b))}
		return desc, content.WriteBlob(ctx, cs, desc.Digest.String(), bytes.NewReader(b), desc, content.WithLabels(labels))
	}
	cfgDesc, err := put(manifest.Config.MediaType, cfg, nil)
	if err != nil {
		return fmt.Errorf("containerdtest: derive %s: config: %w", name, err)
	}
	manifest.Config = cfgDesc
	// The garbage collector keeps what the manifest's labels reference.
	labels := map[string]string{"containerd.io/gc.ref.content.config": cfgDesc.Digest.String()}
	for i, l := range manifest.Layers {
		labels[fmt.Sprintf("containerd.io/gc.ref.content.l.%d", i)] = l.Digest.String()
	}
	mDesc, err := put(ocispec.MediaTypeImageManifest, manifest, labels)
	if err != nil {
		return fmt.Errorf("containerdtest: derive %s: manifest: %w", name, err)
	}
	rec := images.Image{Name: name, Target: mDesc}
	if _, err := c.ImageService().Create(ctx, rec); errdefs.IsAlreadyExists(err) {
		_, err = c.ImageService().Update(ctx, rec)
	} else if err != nil {
		return fmt.Errorf("containerdtest: derive %s: %w", name, err)
	}
	return err
}
