package containerd

import (
	"strconv"
	"strings"
	"time"
)

// Everything the Runtime knows about a pod lives in the labels of containerd
// container records (mutable, so a hand-out from the pool or a stop is one
// update): an agent that restarted finds its pods again from them alone. The
// caller's labels and annotations are kept under prefixes so that they never
// collide with the Runtime's own keys.
const (
	keyPrefix        = "gantry.dev/"
	keyKind          = keyPrefix + "kind"
	keyOwner         = keyPrefix + "pool-owner"
	keyName          = keyPrefix + "name"
	keyNamespace     = keyPrefix + "namespace"
	keyUID           = keyPrefix + "uid"
	keyAttempt       = keyPrefix + "attempt"
	keyState         = keyPrefix + "state"
	keyIP            = keyPrefix + "ip"
	keyNetns         = keyPrefix + "netns"
	keyPodDir        = keyPrefix + "pod-dir"
	keyPrivileged    = keyPrefix + "privileged"
	keyHostname      = keyPrefix + "hostname"
	keyLogDirectory  = keyPrefix + "log-directory"
	keyCgroupParent  = keyPrefix + "cgroup-parent"
	keyCreated       = keyPrefix + "created"
	keySandbox       = keyPrefix + "sandbox"
	keyImage         = keyPrefix + "image"
	keyImageID       = keyPrefix + "image-id"
	keyLogPath       = keyPrefix + "log-path"
	keyStarted       = keyPrefix + "started"
	keyOOM           = keyPrefix + "oom"
	keyCgroup        = keyPrefix + "cgroup"
	userLabelPrefix  = "label/"
	annotationPrefix = "annotation/"

	kindPool      = "pool"
	kindSandbox   = "sandbox"
	kindContainer = "container"
	kindHolder    = "shim-holder"

	stateReady    = "ready"
	stateNotReady = "notready"
)

// encodeUser stores the caller's labels and annotations into the record's labels.
func encodeUser(dst, labels, annotations map[string]string) {
	for k, v := range labels {
		dst[userLabelPrefix+k] = v
	}
	for k, v := range annotations {
		dst[annotationPrefix+k] = v
	}
}

// decodeUser returns the caller's labels and annotations from a record's labels.
func decodeUser(src map[string]string) (labels, annotations map[string]string) {
	labels, annotations = map[string]string{}, map[string]string{}
	for k, v := range src {
		if l, ok := strings.CutPrefix(k, userLabelPrefix); ok {
			labels[l] = v
		} else if a, ok := strings.CutPrefix(k, annotationPrefix); ok {
			annotations[a] = v
		}
	}
	return labels, annotations
}

func formatTime(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) }

func parseTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func parseAttempt(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}
