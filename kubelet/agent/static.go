package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/store"
)

// staticCheckInterval is how often the manifest directory is read (the
// kubelet's fileCheckFrequency).
const staticCheckInterval = 20 * time.Second

// ReadStaticPods decodes the pod manifests (*.yaml, *.yml, *.json) of dir as
// the static pods of node: named <name>-<node>, in namespace default unless
// given, bound to node, marked with the mirror and source annotations. A bad
// manifest fails with an error naming its file.
func ReadStaticPods(dir, node string) ([]*core.Pod, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("agent: static pods: %w", err)
	}
	var pods []*core.Pod
	var errs []error
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || (ext != ".yaml" && ext != ".yml" && ext != ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p, err := DecodeStaticPod(b, node)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.Name(), err))
			continue
		}
		pods = append(pods, p)
	}
	return pods, errors.Join(errs...)
}

// DecodeStaticPod decodes one manifest into the static pod of node.
func DecodeStaticPod(b []byte, node string) (*core.Pod, error) {
	p := &core.Pod{}
	if err := yaml.UnmarshalStrict(b, p); err != nil {
		return nil, fmt.Errorf("%w: static pod: %v", ErrInvalid, err)
	}
	if p.Kind != "" && p.Kind != "Pod" {
		return nil, fmt.Errorf("%w: static pod: kind %q is not Pod", ErrInvalid, p.Kind)
	}
	if p.Name == "" {
		return nil, fmt.Errorf("%w: static pod: metadata.name is required", ErrInvalid)
	}
	if len(p.Spec.Containers) == 0 {
		return nil, fmt.Errorf("%w: static pod %s: spec.containers is required", ErrInvalid, p.Name)
	}
	sum := sha256.Sum256(append(append([]byte{}, b...), node...))
	hash := hex.EncodeToString(sum[:8])
	p.Name = p.Name + "-" + node
	if p.Namespace == "" {
		p.Namespace = "default"
	}
	p.Spec.NodeName = node
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[AnnotationMirror] = hash
	p.Annotations[AnnotationSource] = "file"
	p.UID, p.ResourceVersion = "", ""
	return p, nil
}

func (a *Agent) staticLoop(ctx context.Context) {
	for {
		if err := a.syncStatic(ctx); err != nil && ctx.Err() == nil {
			a.log.Error(err, "static pods")
		}
		if !a.sleep(ctx, staticCheckInterval) {
			return
		}
	}
}

// syncStatic mirrors the manifest directory into the store: a mirror pod per
// manifest (recreated when the manifest changes or the mirror is deleted),
// none for manifests that are gone. The agent then runs mirror pods like any pod.
func (a *Agent) syncStatic(ctx context.Context) error {
	want, readErr := ReadStaticPods(a.opts.StaticPodDir, a.node)
	pods := store.For[*core.Pod](a.s)
	zero := int64(0)
	names := map[apis.Key]bool{}
	for _, p := range want {
		k := apis.KeyOf(p)
		names[k] = true
		cur, err := pods.Get(ctx, k, store.GetOptions{})
		if err == nil && cur.Annotations[AnnotationMirror] == p.Annotations[AnnotationMirror] {
			continue
		}
		if err == nil {
			if _, err := pods.Delete(ctx, k, store.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("agent: replace mirror pod %s: %w", k, err)
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("agent: mirror pod %s: %w", k, err)
		}
		if _, err := pods.Create(ctx, p, store.WriteOptions{}); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("agent: create mirror pod %s: %w", k, err)
		}
	}
	if readErr != nil {
		return readErr // keep mirrors of manifests we could not read
	}
	for _, p := range a.pods.List() {
		if p.Annotations[AnnotationSource] == "file" && p.Annotations[AnnotationMirror] != "" && !names[apis.KeyOf(p)] {
			if _, err := pods.Delete(ctx, apis.KeyOf(p), store.DeleteOptions{}); err != nil && !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("agent: delete mirror pod %s: %w", apis.KeyOf(p), err)
			}
		}
	}
	return nil
}
