package agent

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/kubelet"
)

// LogsHandler serves container logs at
// /containerLogs/{namespace}/{pod}/{container}?follow=true&previous=true,
// the path the API server proxies "kubectl logs" to: the lines of the
// current (or previous) attempt, without the CRI prefix; follow streams new
// lines until the container exits or the client goes.
func (a *Agent) LogsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", a.serveLogs)
	return mux
}

func (a *Agent) serveLogs(w http.ResponseWriter, r *http.Request) {
	key := apis.Key{Namespace: r.PathValue("namespace"), Name: r.PathValue("pod")}
	name := r.PathValue("container")
	q := r.URL.Query()
	follow, previous := q.Get("follow") == "true", q.Get("previous") == "true"
	// The runtime, not the agent's memory, says which attempts exist: no
	// shared state with the pod workers, and it works right after a restart.
	cs, err := a.rt.ListContainers(r.Context(), kubelet.ContainerFilter{Labels: map[string]string{
		LabelNode: a.node, kubelet.LabelPodNamespace: key.Namespace, kubelet.LabelPodName: key.Name,
		kubelet.LabelContainerName: name,
	}})
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	slices.SortFunc(cs, func(x, y kubelet.ContainerStatus) int { return cmp.Compare(y.Attempt, x.Attempt) })
	var id string
	if n := 0; len(cs) > 0 {
		if previous {
			n = 1
		}
		if n < len(cs) {
			id = cs[n].ID
		}
	}
	if id == "" {
		http.Error(w, fmt.Sprintf("container %q in pod %s: no logs (previous=%v)", name, key, previous), http.StatusNotFound)
		return
	}
	s, err := a.rt.ContainerStatus(r.Context(), id)
	if err != nil || s.LogPath == "" {
		http.Error(w, fmt.Sprintf("container %q in pod %s: no log file", name, key), http.StatusNotFound)
		return
	}
	f, err := os.Open(s.LogPath)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.copyLogs(r.Context(), w, f, id, follow && !previous); err != nil && !errors.Is(err, context.Canceled) {
		a.log.Error(err, "logs", "pod", key, "container", name)
	}
}

// copyLogs writes the content of CRI log lines; with follow it polls for more
// until the container has exited and everything is read.
func (a *Agent) copyLogs(ctx context.Context, w io.Writer, f *os.File, id string, follow bool) error {
	br := bufio.NewReader(f)
	var partial []byte
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			partial = append(partial, line...)
			ll, perr := kubelet.ParseLogLine([]byte(strings.TrimSuffix(string(partial), "\n")))
			partial = partial[:0]
			if perr == nil {
				if _, werr := w.Write(ll.Content); werr != nil {
					return werr
				}
				if !ll.Partial {
					if _, werr := w.Write([]byte{'\n'}); werr != nil {
						return werr
					}
				}
			}
			continue
		}
		partial = append(partial, line...)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if !follow {
			return nil
		}
		flush()
		if s, err := a.rt.ContainerStatus(ctx, id); err != nil || s.State == kubelet.ContainerExited {
			// One more pass picks up the last lines written before the exit.
			follow = false
			continue
		}
		if !a.sleep(ctx, 200*time.Millisecond) {
			return ctx.Err()
		}
	}
}
