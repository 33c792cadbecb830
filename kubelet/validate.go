package kubelet

import "fmt"

// Validate checks the fields every runtime needs, naming the first bad one.
func (c SandboxConfig) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: sandbox name is empty", ErrInvalid)
	case c.Namespace == "":
		return fmt.Errorf("%w: sandbox %q: namespace is empty", ErrInvalid, c.Name)
	case c.UID == "":
		return fmt.Errorf("%w: sandbox %q: uid is empty", ErrInvalid, c.Name)
	}
	return nil
}

// Validate checks the fields every runtime needs, naming the first bad one.
func (c ContainerConfig) Validate() error {
	switch {
	case c.Name == "":
		return fmt.Errorf("%w: container name is empty", ErrInvalid)
	case c.Image == "":
		return fmt.Errorf("%w: container %q: image is empty", ErrInvalid, c.Name)
	case c.Resources.OOMScoreAdj < 0:
		return fmt.Errorf("%w: container %q: resources.oomScoreAdj %d is negative", ErrInvalid, c.Name, c.Resources.OOMScoreAdj)
	case c.Resources.MemoryLimit < 0:
		return fmt.Errorf("%w: container %q: resources.memoryLimit %d is negative", ErrInvalid, c.Name, c.Resources.MemoryLimit)
	case c.Resources.CPUShares < 0, c.Resources.CPUQuota < 0, c.Resources.CPUPeriod < 0:
		return fmt.Errorf("%w: container %q: resources.cpu* is negative", ErrInvalid, c.Name)
	}
	for i, m := range c.Mounts {
		if m.ContainerPath == "" || m.HostPath == "" {
			return fmt.Errorf("%w: container %q: mounts[%d]: containerPath and hostPath are required", ErrInvalid, c.Name, i)
		}
	}
	return nil
}
