package builtin_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/gantry-sdk/gantry/apis"
	"github.com/gantry-sdk/gantry/apis/builtin"
)

// FuzzDecodeDefaultValidate feeds arbitrary documents through decode,
// defaulting and validation of whatever kind they name: nothing may panic,
// defaulting is idempotent, and encoding is stable.
func FuzzDecodeDefaultValidate(f *testing.F) {
	for _, dir := range []string{"manifests", "roundtrip"} {
		files, _ := filepath.Glob(filepath.Join("..", "testdata", dir, "*.yaml"))
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			for _, doc := range splitDocuments(b) {
				f.Add(doc)
			}
		}
	}
	s, err := builtin.NewScheme()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		var tm apis.TypeMeta
		if yaml.Unmarshal(doc, &tm) != nil {
			return
		}
		k, err := s.Lookup(tm.GroupVersionKind())
		if err != nil {
			return
		}
		obj := k.New()
		if yaml.Unmarshal(doc, obj) != nil {
			return
		}
		k.Default(obj)
		once, err := json.Marshal(obj)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		k.Default(obj)
		twice, _ := json.Marshal(obj)
		if !bytes.Equal(once, twice) {
			t.Fatalf("defaulting is not idempotent:\n%s\n%s", once, twice)
		}
		_ = k.Validate(obj)
		_ = k.ValidateUpdate(obj, obj)
		_ = k.Fields(obj)
		back := k.New()
		if err := json.Unmarshal(once, back); err != nil {
			t.Fatalf("re-decode of %s: %v", once, err)
		}
		again, _ := json.Marshal(back)
		if !bytes.Equal(once, again) {
			t.Fatalf("encoding is not stable:\n%s\n%s", once, again)
		}
	})
}
