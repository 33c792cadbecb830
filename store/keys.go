package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gantry-sdk/gantry/apis"
)

// Key layout of the object store in its KV:
//
//	<prefix>/<group>/<resource>/<namespace>/<name>   namespaced kinds
//	<prefix>/<group>/<resource>/<name>               cluster-scoped kinds
//
// <group> is "core" for the core (empty) group; <prefix> is Options.KeyPrefix
// (empty by default). Names and namespaces cannot contain '/' (validation
// refuses them), so a namespace's objects form one contiguous key range.

// coreGroupSegment stands for the empty group in keys.
const coreGroupSegment = "core"

// resourcePrefix returns the prefix of every key of kind k, with a trailing '/'.
func (s *ObjectStore) resourcePrefix(k *apis.KindInfo) string {
	g := k.GVK.Group
	if g == "" {
		g = coreGroupSegment
	}
	return s.keyPrefix + "/" + g + "/" + k.Resource + "/"
}

// listPrefix returns the prefix a List or Watch of kind k in namespace ns
// ranges over ("" for every namespace; ignored for cluster-scoped kinds).
func (s *ObjectStore) listPrefix(k *apis.KindInfo, ns string) string {
	p := s.resourcePrefix(k)
	if k.Namespaced() && ns != "" {
		p += ns + "/"
	}
	return p
}

// objectKey returns the KV key of one object.
func (s *ObjectStore) objectKey(k *apis.KindInfo, key apis.Key) string {
	if k.Namespaced() {
		return s.resourcePrefix(k) + key.Namespace + "/" + key.Name
	}
	return s.resourcePrefix(k) + key.Name
}

// continueToken is what a List's Continue carries: the revision of the first
// page and the last key returned, so that every page reads the same snapshot.
type continueToken struct {
	Version  int    `json:"v"`
	Revision int64  `json:"rv"`
	After    string `json:"after"`
}

const continueTokenVersion = 1

func encodeContinue(rev int64, after string) string {
	b, _ := json.Marshal(continueToken{Version: continueTokenVersion, Revision: rev, After: after}) // cannot fail: plain fields
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContinue parses a token and checks that it belongs to a list of prefix,
// so that a token cannot be used to read another kind or namespace.
func decodeContinue(tok, prefix string) (continueToken, error) {
	var ct continueToken
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return ct, fmt.Errorf("%w: continue token is not base64url: %v", ErrInvalid, err)
	}
	if err := json.Unmarshal(raw, &ct); err != nil {
		return ct, fmt.Errorf("%w: continue token is not valid: %v", ErrInvalid, err)
	}
	switch {
	case ct.Version != continueTokenVersion:
		return ct, fmt.Errorf("%w: continue token has version %d, want %d", ErrInvalid, ct.Version, continueTokenVersion)
	case ct.Revision <= 0:
		return ct, fmt.Errorf("%w: continue token has revision %d", ErrInvalid, ct.Revision)
	case !strings.HasPrefix(ct.After, prefix):
		return ct, fmt.Errorf("%w: continue token is for another list (key %q is not under %q)", ErrInvalid, ct.After, prefix)
	}
	return ct, nil
}
