package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/mount"
	"github.com/containerd/containerd/v2/pkg/cap"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/moby/sys/user"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/gantry-sdk/gantry/kubelet"
)

// securityOpts turns a container's security context into spec options, the
// way containerd's CRI plugin does. They apply after the mounts.
func (r *Runtime) securityOpts(ctx context.Context, img imageInfo, cfg kubelet.ContainerConfig) ([]oci.SpecOpts, error) {
	sc := cfg.Security
	if err := validateSecurity(cfg.Name, sc); err != nil {
		return nil, err
	}
	proc, err := r.processUser(ctx, img, cfg.Name, sc)
	if err != nil {
		return nil, err
	}
	opts := []oci.SpecOpts{func(_ context.Context, _ oci.Client, _ *containers.Container, s *oci.Spec) error {
		s.Process.User = proc
		// Kubernetes' default is allowPrivilegeEscalation: true, containerd's
		// default spec the opposite (CRI clears it the same way).
		s.Process.NoNewPrivileges = sc.NoNewPrivileges
		return nil
	}}
	if sc.Privileged {
		// CRI: every capability of this process's bounding set, the host's
		// devices, no masked or read-only paths, writable sysfs and cgroupfs.
		opts = append(opts, oci.WithPrivileged, oci.WithHostDevices, oci.WithAllDevicesAllowed)
	} else {
		opts = append(opts, capabilityOpts(sc)...)
	}
	if sc.ReadOnlyRootFilesystem {
		opts = append(opts, oci.WithRootFSReadonly())
	}
	return opts, nil
}

// validateSecurity checks what kubelet.SecurityContext.Validate leaves to the
// runtime: runc takes user and group IDs up to MaxInt32 only.
func validateSecurity(name string, sc kubelet.SecurityContext) error {
	ids := []struct {
		field string
		v     *int64
	}{{"runAsUser", sc.RunAsUser}, {"runAsGroup", sc.RunAsGroup}}
	for i := range sc.SupplementalGroups {
		ids = append(ids, struct {
			field string
			v     *int64
		}{fmt.Sprintf("supplementalGroups[%d]", i), &sc.SupplementalGroups[i]})
	}
	for _, id := range ids {
		if id.v != nil && (*id.v < 0 || *id.v > math.MaxInt32) {
			return fmt.Errorf("%w: container %q: security.%s %d is out of range [0, %d]", kubelet.ErrInvalid, name, id.field, *id.v, math.MaxInt32)
		}
	}
	return nil
}

// capName maps a Kubernetes capability name ("NET_ADMIN") to the OCI one
// ("CAP_NET_ADMIN").
func capName(c string) string { return "CAP_" + c }

// capabilityOpts applies CapAdd and CapDrop to the default set as CRI does:
// "ALL" first (add all, then drop all), then the single names.
func capabilityOpts(sc kubelet.SecurityContext) []oci.SpecOpts {
	var opts []oci.SpecOpts
	var add, drop []string
	for _, c := range sc.CapAdd {
		if c == "ALL" {
			// As CRI: every capability this process holds (a machine's
			// bounding set may lack some, which runc could not grant).
			if all, err := cap.Current(); err == nil {
				opts = append(opts, oci.WithCapabilities(all))
			}
			continue
		}
		add = append(add, capName(c))
	}
	for _, c := range sc.CapDrop {
		if c == "ALL" {
			opts = append(opts, oci.WithCapabilities(nil))
			continue
		}
		drop = append(drop, capName(c))
	}
	if len(add) > 0 {
		opts = append(opts, oci.WithAddedCapabilities(add))
	}
	if len(drop) > 0 {
		opts = append(opts, oci.WithDroppedCapabilities(drop))
	}
	return opts
}

// processUser resolves the process's user and groups (see resolveUser),
// reading the image's user database only when resolveUser needs it.
func (r *Runtime) processUser(ctx context.Context, img imageInfo, name string, sc kubelet.SecurityContext) (specs.User, error) {
	u, err := resolveUser(img.config.User, sc, func() (userDB, error) { return r.userDB(ctx, img) })
	if err != nil && !errors.Is(err, errUserDB) {
		return u, fmt.Errorf("%w: container %q: %w", kubelet.ErrInvalid, name, err)
	}
	return u, err
}

// errUserDB marks a failure to read the image's user database (not the
// caller's fault).
var errUserDB = errors.New("containerd: image user database")

// resolveUser resolves a process's user and groups as containerd's CRI
// plugin does: RunAsUser/RunAsGroup over the image's USER ("uid", "uid:gid",
// "name", "name:group"); names and the primary group of a uid from the image's
// /etc/passwd and /etc/group; then the groups that list the user, and the
// SupplementalGroups. loadDB is called only when a file must be read: root
// without a group (the default) reads none and runs as 0:0 with no additional
// groups from the image, which spares a mount of the image on the hot path.
func resolveUser(imageUser string, sc kubelet.SecurityContext, loadDB func() (userDB, error)) (u specs.User, err error) {
	userPart, groupPart, _ := strings.Cut(imageUser, ":")
	if sc.RunAsUser != nil {
		userPart, groupPart = strconv.FormatInt(*sc.RunAsUser, 10), ""
	}
	if sc.RunAsGroup != nil {
		groupPart = strconv.FormatInt(*sc.RunAsGroup, 10)
	}
	uid, uidErr := parseID(userPart)
	gid, gidErr := parseID(groupPart)
	var db userDB
	if userPart != "" && (uidErr != nil || uid != 0) || groupPart != "" && gidErr != nil {
		if db, err = loadDB(); err != nil {
			return u, fmt.Errorf("%w: %w", errUserDB, err)
		}
	}
	username := ""
	switch {
	case userPart == "":
	case uidErr == nil:
		if e, ok := db.userByID(uid); ok {
			username = e.Name
			if groupPart == "" {
				gid, gidErr = uint32(e.Gid), nil
			}
		}
	default:
		e, ok := db.userByName(userPart)
		if !ok {
			return u, fmt.Errorf("user %q is not in the image's /etc/passwd", userPart)
		}
		uid, username = uint32(e.Uid), e.Name
		if groupPart == "" {
			gid, gidErr = uint32(e.Gid), nil
		}
	}
	switch {
	case groupPart != "" && gidErr != nil:
		g, ok := db.groupByName(groupPart)
		if !ok {
			return u, fmt.Errorf("group %q is not in the image's /etc/group", groupPart)
		}
		gid = uint32(g.Gid)
	case gidErr != nil:
		gid = 0
	}
	if uid > math.MaxInt32 || gid > math.MaxInt32 {
		return u, fmt.Errorf("user %d:%d: runc takes IDs up to %d", uid, gid, math.MaxInt32)
	}
	u = specs.User{UID: uid, GID: gid}
	if username != "" {
		u.AdditionalGids = db.memberOf(username)
	}
	for _, g := range sc.SupplementalGroups {
		u.AdditionalGids = append(u.AdditionalGids, uint32(g))
	}
	// runc sets the groups to exactly this list: the primary group belongs in it.
	if !slices.Contains(u.AdditionalGids, gid) {
		u.AdditionalGids = append([]uint32{gid}, u.AdditionalGids...)
	}
	return u, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n > math.MaxInt32 {
		return 0, errors.New("not a numeric id")
	}
	return uint32(n), nil
}

// userDB is an image's /etc/passwd and /etc/group (either may be empty).
type userDB struct {
	passwd, group []byte
}

func (db userDB) userByID(uid uint32) (user.User, bool) {
	us, _ := user.ParsePasswdFilter(bytes.NewReader(db.passwd), func(u user.User) bool { return u.Uid == int(uid) })
	if len(us) == 0 {
		return user.User{}, false
	}
	return us[0], true
}

func (db userDB) userByName(name string) (user.User, bool) {
	us, _ := user.ParsePasswdFilter(bytes.NewReader(db.passwd), func(u user.User) bool { return u.Name == name })
	if len(us) == 0 {
		return user.User{}, false
	}
	return us[0], true
}

func (db userDB) groupByName(name string) (user.Group, bool) {
	gs, _ := user.ParseGroupFilter(bytes.NewReader(db.group), func(g user.Group) bool { return g.Name == name })
	if len(gs) == 0 {
		return user.Group{}, false
	}
	return gs[0], true
}

// memberOf lists the groups whose member list names the user.
func (db userDB) memberOf(name string) []uint32 {
	gs, _ := user.ParseGroupFilter(bytes.NewReader(db.group), func(g user.Group) bool {
		return g.Name != name && slices.Contains(g.List, name)
	})
	out := make([]uint32, 0, len(gs))
	for _, g := range gs {
		if g.Gid >= 0 && g.Gid <= math.MaxInt32 {
			out = append(out, uint32(g.Gid))
		}
	}
	return out
}

// userDB reads the image's /etc/passwd and /etc/group from a read-only view
// of its root file system, once per image.
func (r *Runtime) userDB(ctx context.Context, img imageInfo) (userDB, error) {
	r.mu.Lock()
	db, ok := r.userDBs[img.id]
	r.mu.Unlock()
	if ok {
		return db, nil
	}
	lctx, done, err := r.c.WithLease(ctx)
	if err != nil {
		return db, r.wrap("image users: lease", img.name, err)
	}
	defer done(context.WithoutCancel(ctx))
	key := "users-" + randomID()
	sn := r.c.SnapshotService(r.snapshotter)
	mounts, err := sn.View(lctx, key, img.chainID)
	if err != nil {
		return db, r.wrap("image users: view", img.name, err)
	}
	defer sn.Remove(context.WithoutCancel(lctx), key)
	err = mount.WithReadonlyTempMount(lctx, mounts, func(root string) error {
		rt, err := os.OpenRoot(root)
		if err != nil {
			return err
		}
		defer rt.Close()
		// OpenRoot keeps symlinks inside the image's root.
		if db.passwd, err = fs.ReadFile(rt.FS(), "etc/passwd"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if db.group, err = fs.ReadFile(rt.FS(), "etc/group"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
	if err != nil {
		return db, fmt.Errorf("containerd: image %s: users: %w", img.name, err)
	}
	r.mu.Lock()
	r.userDBs[img.id] = db
	r.mu.Unlock()
	return db, nil
}
