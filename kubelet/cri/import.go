package cri

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/gantry-sdk/gantry/kubelet"
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
		names, err := kubelet.ImageArchiveNames(pr)
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
