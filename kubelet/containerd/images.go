package containerd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/gantry-sdk/gantry/kubelet"
)

// imageInfo is what containers need of an image, read once per image digest.
type imageInfo struct {
	name    string // the name it was resolved by
	id      string // the config digest, the image ID as CRI reports it
	chainID string // parent of the containers' snapshots
	config  ocispec.ImageConfig
	size    int64
}

func (r *Runtime) info(ctx context.Context, img images.Image) (imageInfo, error) {
	r.mu.Lock()
	info, ok := r.images[img.Target.Digest.String()]
	r.mu.Unlock()
	if ok {
		info.name = img.Name
		return info, nil
	}
	cs := r.c.ContentStore()
	platform := platforms.Default()
	manifest, err := images.Manifest(ctx, cs, img.Target, platform)
	if err != nil {
		return info, r.wrap("image manifest", img.Name, err)
	}
	blob, err := content.ReadBlob(ctx, cs, manifest.Config)
	if err != nil {
		return info, r.wrap("image config", img.Name, err)
	}
	var cfg ocispec.Image
	if err := json.Unmarshal(blob, &cfg); err != nil {
		return info, fmt.Errorf("containerd: image %s: config: %w", img.Name, err)
	}
	info = imageInfo{
		id: manifest.Config.Digest.String(), chainID: identity.ChainID(cfg.RootFS.DiffIDs).String(),
		config: cfg.Config, size: manifest.Config.Size,
	}
	for _, l := range manifest.Layers {
		info.size += l.Size
	}
	r.mu.Lock()
	r.images[img.Target.Digest.String()] = info
	r.mu.Unlock()
	info.name = img.Name
	return info, nil
}

// resolveImage finds an image by name or by ID (config digest).
func (r *Runtime) resolveImage(ctx context.Context, ref string) (imageInfo, error) {
	ctx = r.nsCtx(ctx)
	img, err := r.c.ImageService().Get(ctx, ref)
	if err == nil {
		return r.info(ctx, img)
	}
	if !errdefs.IsNotFound(err) {
		return imageInfo{}, r.wrap("image", ref, err)
	}
	if strings.HasPrefix(ref, "sha256:") {
		all, err := r.c.ImageService().List(ctx)
		if err != nil {
			return imageInfo{}, r.wrap("list images", "", err)
		}
		for _, img := range all {
			if info, err := r.info(ctx, img); err == nil && info.id == ref {
				return info, nil
			}
		}
	}
	return imageInfo{}, fmt.Errorf("containerd: image %s: %w", ref, kubelet.ErrNotFound)
}

// PullImage implements kubelet.Images.
func (r *Runtime) PullImage(ctx context.Context, ref string) (string, error) {
	if ref == "" {
		return "", fmt.Errorf("%w: pull image: reference is empty", kubelet.ErrInvalid)
	}
	ctx = r.nsCtx(ctx)
	img, err := r.c.Pull(ctx, ref, client.WithPullUnpack, client.WithPullSnapshotter(r.snapshotter))
	if err != nil {
		return "", r.wrap("pull image", ref, err)
	}
	info, err := r.info(ctx, img.Metadata())
	if err != nil {
		return "", err
	}
	return info.id, nil
}

// ImportImage implements kubelet.Images: containerd's importer, then an unpack
// into the snapshotter so that the first container does not pay for it.
func (r *Runtime) ImportImage(ctx context.Context, archive io.Reader) ([]kubelet.Image, error) {
	ctx = r.nsCtx(ctx)
	imgs, err := r.c.Import(ctx, archive)
	if err != nil {
		return nil, fmt.Errorf("containerd: import: %w: %w", kubelet.ErrInvalid, err)
	}
	if len(imgs) == 0 {
		return nil, fmt.Errorf("containerd: import: %w: the archive names no image", kubelet.ErrInvalid)
	}
	out := make([]kubelet.Image, 0, len(imgs))
	for _, img := range imgs {
		if err := client.NewImage(r.c, img).Unpack(ctx, r.snapshotter); err != nil {
			return nil, r.wrap("unpack image", img.Name, err)
		}
		info, err := r.info(ctx, img)
		if err != nil {
			return nil, err
		}
		out = append(out, kubelet.Image{ID: info.id, Names: []string{img.Name}, Size: uint64(info.size), User: info.config.User, Pinned: pinned(img)})
	}
	return out, nil
}

// pinned reads the label containerd's CRI plugin pins images with (its
// sandbox image), so that images shared with it are kept alike.
func pinned(img images.Image) bool {
	return img.Labels["io.cri-containerd.pinned"] == "pinned"
}

// ImageStatus implements kubelet.Images.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (kubelet.Image, error) {
	info, err := r.resolveImage(ctx, ref)
	if err != nil {
		return kubelet.Image{}, err
	}
	all, err := r.ListImages(ctx)
	if err != nil {
		return kubelet.Image{}, err
	}
	for _, img := range all {
		if img.ID == info.id {
			return img, nil
		}
	}
	return kubelet.Image{}, fmt.Errorf("containerd: image %s: %w", ref, kubelet.ErrNotFound)
}

// ListImages implements kubelet.Images: one entry per image ID with all its names.
func (r *Runtime) ListImages(ctx context.Context) ([]kubelet.Image, error) {
	ctx = r.nsCtx(ctx)
	all, err := r.c.ImageService().List(ctx)
	if err != nil {
		return nil, r.wrap("list images", "", err)
	}
	var out []kubelet.Image
	byID := map[string]int{}
	for _, img := range all {
		info, err := r.info(ctx, img)
		if err != nil {
			continue // an image whose content is incomplete (a pull in progress)
		}
		if i, ok := byID[info.id]; ok {
			out[i].Names = append(out[i].Names, img.Name)
			out[i].Pinned = out[i].Pinned || pinned(img)
			continue
		}
		byID[info.id] = len(out)
		out = append(out, kubelet.Image{ID: info.id, Names: []string{img.Name}, Size: uint64(info.size), User: info.config.User, Pinned: pinned(img)})
	}
	return out, nil
}

// RemoveImage implements kubelet.Images: a name removes that name, an ID every
// name of the image.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	ctx = r.nsCtx(ctx)
	names := []string{ref}
	if strings.HasPrefix(ref, "sha256:") {
		img, err := r.ImageStatus(ctx, ref)
		if errors.Is(err, kubelet.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		names = img.Names
	}
	for _, n := range names {
		if err := r.c.ImageService().Delete(ctx, n); err != nil && !errdefs.IsNotFound(err) {
			return r.wrap("remove image", n, err)
		}
	}
	return nil
}
