package kubelet

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
)

// ErrBadImageArchive: an image archive is neither an OCI image layout nor a
// docker save tar, or names no image.
var ErrBadImageArchive = errors.New("kubelet: bad image archive")

// ImageArchiveNames finds the image names of an OCI image layout (index.json
// annotations) or docker save (manifest.json RepoTags) tar.
func ImageArchiveNames(r io.Reader) ([]string, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no index.json or manifest.json", ErrBadImageArchive)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadImageArchive, err)
		}
		switch path.Clean(h.Name) {
		case "index.json":
			var idx struct {
				Manifests []struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"manifests"`
			}
			if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(&idx); err != nil {
				return nil, fmt.Errorf("%w: index.json: %v", ErrBadImageArchive, err)
			}
			var names []string
			for i, m := range idx.Manifests {
				n := m.Annotations["io.containerd.image.name"]
				if n == "" {
					n = m.Annotations["org.opencontainers.image.ref.name"]
				}
				if n == "" {
					return nil, fmt.Errorf("%w: index.json: manifests[%d] has no image name annotation", ErrBadImageArchive, i)
				}
				names = append(names, n)
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("%w: index.json lists no manifest", ErrBadImageArchive)
			}
			return names, nil
		case "manifest.json":
			var ms []struct{ RepoTags []string }
			if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(&ms); err != nil {
				return nil, fmt.Errorf("%w: manifest.json: %v", ErrBadImageArchive, err)
			}
			var names []string
			for _, m := range ms {
				names = append(names, m.RepoTags...)
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("%w: manifest.json names no tag", ErrBadImageArchive)
			}
			return names, nil
		}
	}
}
