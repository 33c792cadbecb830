package containerd

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gantry-sdk/gantry/kubelet"
)

var testDB = userDB{
	passwd: []byte("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"),
	group:  []byte("root:x:0:\napp:x:1000:\nwheel:x:10:app,root\ndocker:x:999:app\nnogroup:x:65534:\n"),
}

func TestResolveUser(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		imageUser string
		sc        kubelet.SecurityContext
		want      specs.User
		readsDB   bool
		err       string
	}{
		{want: specs.User{AdditionalGids: []uint32{0}}},
		{imageUser: "0", want: specs.User{AdditionalGids: []uint32{0}}},
		{imageUser: "root", readsDB: true, want: specs.User{AdditionalGids: []uint32{0, 10}}},
		{imageUser: "app", readsDB: true, want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 10, 999}}},
		{imageUser: "1000", readsDB: true, want: specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{1000, 10, 999}}},
		{imageUser: "1000:5", readsDB: true, want: specs.User{UID: 1000, GID: 5, AdditionalGids: []uint32{5, 10, 999}}},
		{imageUser: "app:nogroup", readsDB: true, want: specs.User{UID: 1000, GID: 65534, AdditionalGids: []uint32{65534, 10, 999}}},
		{imageUser: "4242", readsDB: true, want: specs.User{UID: 4242, AdditionalGids: []uint32{0}}},
		{imageUser: "app", sc: kubelet.SecurityContext{RunAsUser: i64(0)}, want: specs.User{AdditionalGids: []uint32{0}}},
		{imageUser: "app", sc: kubelet.SecurityContext{RunAsGroup: i64(7)}, readsDB: true, want: specs.User{UID: 1000, GID: 7, AdditionalGids: []uint32{7, 10, 999}}},
		{sc: kubelet.SecurityContext{RunAsUser: i64(5), RunAsGroup: i64(6), SupplementalGroups: []int64{6, 8}}, readsDB: true, want: specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{6, 8}}},
		{imageUser: "ghost", readsDB: true, err: `user "ghost" is not in the image's /etc/passwd`},
		{imageUser: "app:ghosts", readsDB: true, err: `group "ghosts" is not in the image's /etc/group`},
	} {
		t.Run(tc.imageUser, func(t *testing.T) {
			read := false
			u, err := resolveUser(tc.imageUser, tc.sc, func() (userDB, error) { read = true; return testDB, nil })
			assert.Equal(t, tc.readsDB, read, "reads the image's files")
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, u)
		})
	}
	_, err := resolveUser("app", kubelet.SecurityContext{}, func() (userDB, error) { return userDB{}, errors.New("mount failed") })
	require.ErrorIs(t, err, errUserDB)
}

// FuzzResolveUser: whatever an image says (USER, /etc/passwd, /etc/group),
// resolution returns an error or IDs runc accepts, never panics, and lists
// the primary group among the groups.
func FuzzResolveUser(f *testing.F) {
	f.Add("app:wheel", string(testDB.passwd), string(testDB.group), int64(-1), int64(-1))
	f.Add("1000", "x:x:-5:-7::/:/bin/sh\n", "g:x:-1:x\n", int64(3), int64(-1))
	f.Add("nobody", "nobody:x:4294967295:4294967295:::\n", "", int64(-1), int64(9))
	f.Fuzz(func(t *testing.T, imageUser, passwd, group string, runAsUser, runAsGroup int64) {
		var sc kubelet.SecurityContext
		if runAsUser >= 0 && runAsUser <= kubelet.MaxID {
			sc.RunAsUser = &runAsUser
		}
		if runAsGroup >= 0 && runAsGroup <= kubelet.MaxID {
			sc.RunAsGroup = &runAsGroup
		}
		u, err := resolveUser(imageUser, sc, func() (userDB, error) { return userDB{passwd: []byte(passwd), group: []byte(group)}, nil })
		if err != nil {
			if strings.TrimSpace(err.Error()) == "" {
				t.Fatal("empty error")
			}
			return
		}
		const maxInt32 = 1<<31 - 1
		if u.UID > maxInt32 || u.GID > maxInt32 {
			t.Fatalf("IDs %d:%d beyond runc's range", u.UID, u.GID)
		}
		for _, g := range u.AdditionalGids {
			if g > maxInt32 {
				t.Fatalf("group %d beyond runc's range", g)
			}
		}
		found := false
		for _, g := range u.AdditionalGids {
			found = found || g == u.GID
		}
		if !found {
			t.Fatalf("primary group %d not in %v", u.GID, u.AdditionalGids)
		}
	})
}
