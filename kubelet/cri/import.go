package cri

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"strings"
)

// ContainerdImporter imports image archives into containerd with its own
// importer, the `ctr images import` command that ships with the daemon, into the
// namespace the CRI plugin serves (k8s.io). See the package doc for why this path
// rather than containerd's Go client.
type ContainerdImporter struct {
	// Address is containerd's gRPC socket (required).
	Address string
	// Namespace defaults to "k8s.io", the CRI plugin's.
	Namespace string
	// Ctr is the ctr binary; empty means "ctr" on PATH.
	Ctr string
}

// ErrBadArchive: an image archive is neither an OCI image layout nor a docker
// save tar, or names no image.
var ErrBadArchive = errors.New("cri: bad image archive")

// Import implements Importer. It reads the image names from the archive as it
// streams it into ctr.
func (c ContainerdImporter) Import(ctx context.Context, archive io.Reader) ([]string, error) {
	if c.Address == "" {
		return nil, fmt.Errorf("cri: containerd importer: address is empty")
	}
	ns, bin := c.Namespace, c.Ctr
	if ns == "" {
		ns = "k8s.io"
	}
	if bin == "" {
		bin = "ctr"
	}
	pr, pw := io.Pipe()
	namesCh := make(chan namesResult, 1)
	go func() {
		names, err := archiveNames(pr)
		// Drain so that ctr never blocks on the tee.
		_, _ = io.Copy(io.Discard, pr)
		namesCh <- namesResult{names, err}
	}()
	cmd := exec.CommandContext(ctx, bin, "--address", c.Address, "--namespace", ns,
		"images", "import", "-")
	cmd.Stdin = io.TeeReader(archive, pw)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	// ctr may stop reading early on error: finish feeding the name reader.
	if runErr != nil {
		pw.CloseWithError(runErr)
	} else {
		_, _ = io.Copy(pw, archive)
		pw.Close()
	}
	res := <-namesCh
	if runErr != nil {
		return nil, fmt.Errorf("cri: ctr images import: %w: %s", runErr, strings.TrimSpace(out.String()))
	}
	if res.err != nil {
		return nil, res.err
	}
	return res.names, nil
}

type namesResult struct {
	names []string
	err   error
}

// archiveNames finds the image names of an OCI image layout (index.json
// annotations) or docker save (manifest.json RepoTags) tar.
func archiveNames(r io.Reader) ([]string, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: no index.json or manifest.json", ErrBadArchive)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadArchive, err)
		}
		switch path.Clean(h.Name) {
		case "index.json":
			var idx struct {
				Manifests []struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"manifests"`
			}
			if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(&idx); err != nil {
				return nil, fmt.Errorf("%w: index.json: %v", ErrBadArchive, err)
			}
			var names []string
			for i, m := range idx.Manifests {
				n := m.Annotations["io.containerd.image.name"]
				if n == "" {
					n = m.Annotations["org.opencontainers.image.ref.name"]
				}
				if n == "" {
					return nil, fmt.Errorf("%w: index.json: manifests[%d] has no image name annotation", ErrBadArchive, i)
				}
				names = append(names, n)
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("%w: index.json lists no manifest", ErrBadArchive)
			}
			return names, nil
		case "manifest.json":
			var ms []struct{ RepoTags []string }
			if err := json.NewDecoder(io.LimitReader(tr, 16<<20)).Decode(&ms); err != nil {
				return nil, fmt.Errorf("%w: manifest.json: %v", ErrBadArchive, err)
			}
			var names []string
			for _, m := range ms {
				names = append(names, m.RepoTags...)
			}
			if len(names) == 0 {
				return nil, fmt.Errorf("%w: manifest.json names no tag", ErrBadArchive)
			}
			return names, nil
		}
	}
}
