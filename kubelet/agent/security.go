package agent

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gantry-sdk/gantry/apis/core"
	"github.com/gantry-sdk/gantry/kubelet"
)

// containerSecurity merges the pod's and the container's security contexts
// as the kubelet does: the container's runAsUser and runAsGroup win over the
// pod's; the groups are the pod's fsGroup then its supplementalGroups;
// capabilities, privileged, readOnlyRootFilesystem and
// allowPrivilegeEscalation are the container's. Capability names are
// normalised to upper case without the CAP_ prefix (containerd accepts both
// spellings, and users write both).
func containerSecurity(pod *core.Pod, c *core.Container) kubelet.SecurityContext {
	var out kubelet.SecurityContext
	if ps := pod.Spec.SecurityContext; ps != nil {
		out.RunAsUser, out.RunAsGroup = clone(ps.RunAsUser), clone(ps.RunAsGroup)
		if ps.FSGroup != nil {
			out.SupplementalGroups = append(out.SupplementalGroups, *ps.FSGroup)
		}
		for _, g := range ps.SupplementalGroups {
			if !slices.Contains(out.SupplementalGroups, g) {
				out.SupplementalGroups = append(out.SupplementalGroups, g)
			}
		}
	}
	cs := c.SecurityContext
	if cs == nil {
		return out
	}
	if cs.RunAsUser != nil {
		out.RunAsUser = clone(cs.RunAsUser)
	}
	if cs.RunAsGroup != nil {
		out.RunAsGroup = clone(cs.RunAsGroup)
	}
	if caps := cs.Capabilities; caps != nil {
		out.CapAdd, out.CapDrop = capabilityNames(caps.Add), capabilityNames(caps.Drop)
	}
	out.Privileged = isTrue(cs.Privileged)
	out.ReadOnlyRootFilesystem = isTrue(cs.ReadOnlyRootFilesystem)
	out.NoNewPrivileges = cs.AllowPrivilegeEscalation != nil && !*cs.AllowPrivilegeEscalation
	return out
}

func clone(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func capabilityNames(in []string) []string {
	var out []string
	for _, c := range in {
		out = append(out, strings.TrimPrefix(strings.ToUpper(c), "CAP_"))
	}
	return out
}

// podPrivileged reports whether any container of the pod is privileged: its
// sandbox must be then.
func podPrivileged(pod *core.Pod) bool {
	for _, cs := range [][]core.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range cs {
			if sc := cs[i].SecurityContext; sc != nil && isTrue(sc.Privileged) {
				return true
			}
		}
	}
	return false
}

// runAsNonRoot is the container's runAsNonRoot, else the pod's.
func runAsNonRoot(pod *core.Pod, c *core.Container) bool {
	if cs := c.SecurityContext; cs != nil && cs.RunAsNonRoot != nil {
		return *cs.RunAsNonRoot
	}
	ps := pod.Spec.SecurityContext
	return ps != nil && isTrue(ps.RunAsNonRoot)
}

// verifyNonRoot checks runAsNonRoot as the kubelet does, before the
// container is created: against runAsUser when set, else the image's user,
// which must be numeric to be verified ("" and "root" are root). It returns
// the kubelet's message for a container that would run as root, "" when it
// may run.
func verifyNonRoot(pod *core.Pod, c *core.Container, runAsUser *int64, imageUser string) string {
	if runAsUser != nil {
		if *runAsUser == 0 {
			return fmt.Sprintf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", podRef(pod), c.Name)
		}
		return ""
	}
	user, _, _ := strings.Cut(imageUser, ":")
	if user == "" || user == "root" {
		return fmt.Sprintf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podRef(pod), c.Name)
	}
	uid, err := strconv.ParseUint(user, 10, 32)
	if err != nil {
		return fmt.Sprintf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", user, podRef(pod), c.Name)
	}
	if uid == 0 {
		return fmt.Sprintf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podRef(pod), c.Name)
	}
	return ""
}

// applyFSGroup gives an emptyDir volume to the pod's fsGroup, as the kubelet
// does: the group owns the directory, and the setgid bit passes it on to
// what is created inside. ConfigMap, Secret and downward API files are
// world-readable (0644) already, so they are left as they are.
func applyFSGroup(pod *core.Pod, dir string) error {
	ps := pod.Spec.SecurityContext
	if ps == nil || ps.FSGroup == nil {
		return nil
	}
	if err := os.Lchown(dir, -1, int(*ps.FSGroup)); err != nil {
		return err
	}
	return os.Chmod(dir, 0o777|os.ModeSetgid)
}
