package critest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"sort"
	"strings"
	"time"
)

// Image describes one image of an archive written by WriteOCIArchive.
type Image struct {
	// Name is the full reference, e.g. "gantry.local/busybox:test".
	Name       string
	Entrypoint []string
	Cmd        []string
	Env        []string
	// User is the image's USER ("1000", "1000:1000", "nobody"); empty is root.
	User string
}

// Layer is a gzip-compressed tar layer with its digests.
type Layer struct {
	Gzip   []byte
	DiffID string // sha256 of the uncompressed tar
}

// BusyboxLayer builds a root file system layer from a static busybox binary:
// /bin/busybox, a symlink per applet (sh, sleep, httpd, nc...), and the
// directories a container expects.
func BusyboxLayer(busybox string) (Layer, error) {
	bin, err := os.ReadFile(busybox)
	if err != nil {
		return Layer{}, fmt.Errorf("critest: busybox layer: %w", err)
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return Layer{}, fmt.Errorf("critest: busybox --list: %w", err)
	}
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	mtime := time.Unix(0, 0)
	for _, d := range []struct {
		name string
		mode int64
	}{{"bin", 0o755}, {"dev", 0o755}, {"etc", 0o755}, {"proc", 0o755}, {"sys", 0o755}, {"root", 0o700}, {"tmp", 0o1777}, {"var", 0o755}, {"var/www", 0o755}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name + "/", Mode: d.mode, ModTime: mtime}); err != nil {
			return Layer{}, err
		}
	}
	files := []struct {
		name string
		mode int64
		data []byte
	}{
		{"bin/busybox", 0o755, bin},
		{"etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")},
		{"etc/group", 0o644, []byte("root:x:0:\nnogroup:x:65534:\n")},
		{"var/www/index.html", 0o644, []byte("gantry\n")},
	}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: mtime}); err != nil {
			return Layer{}, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return Layer{}, err
		}
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.ContainsAny(applet, "/[") {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox", Mode: 0o777, ModTime: mtime}); err != nil {
			return Layer{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Layer{}, err
	}
	return gzipLayer(raw.Bytes())
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// WriteOCIArchive writes an OCI image-layout tar (oci-layout, index.json,
// blobs/sha256/*) holding one single-layer linux/amd64 image per entry of images,
// all on the same layer. Each index entry carries the image's name in the
// annotations containerd's importer reads.
func WriteOCIArchive(w io.Writer, layer Layer, images ...Image) error {
	tw := tar.NewWriter(w)
	blobs := map[string]bool{}
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	blob := func(data []byte) (string, error) {
		d := digest(data)
		if blobs[d] {
			return d, nil
		}
		blobs[d] = true
		return d, put(path.Join("blobs/sha256", strings.TrimPrefix(d, "sha256:")), data)
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	layerDigest, err := blob(layer.Gzip)
	if err != nil {
		return err
	}
	var index struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []descriptor `json:"manifests"`
	}
	index.SchemaVersion, index.MediaType = 2, "application/vnd.oci.image.index.v1+json"
	for _, img := range images {
		env := img.Env
		if len(env) == 0 {
			env = []string{"PATH=/bin"}
		}
		config := map[string]any{"Env": env, "Entrypoint": img.Entrypoint, "Cmd": img.Cmd, "WorkingDir": "/"}
		if img.User != "" {
			config["User"] = img.User
		}
		cfg, err := json.Marshal(map[string]any{
			"architecture": "amd64",
			"os":           "linux",
			"config":       config,
			"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{layer.DiffID}},
		})
		if err != nil {
			return err
		}
		cfgDigest, err := blob(cfg)
		if err != nil {
			return err
		}
		manifest, err := json.Marshal(map[string]any{
			"schemaVersion": 2,
			"mediaType":     "application/vnd.oci.image.manifest.v1+json",
			"config":        descriptor{MediaType: "application/vnd.oci.image.config.v1+json", Digest: cfgDigest, Size: int64(len(cfg))},
			"layers":        []descriptor{{MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Digest: layerDigest, Size: int64(len(layer.Gzip))}},
		})
		if err != nil {
			return err
		}
		mDigest, err := blob(manifest)
		if err != nil {
			return err
		}
		index.Manifests = append(index.Manifests, descriptor{
			MediaType: "application/vnd.oci.image.manifest.v1+json",
			Digest:    mDigest,
			Size:      int64(len(manifest)),
			Platform:  &platform{Architecture: "amd64", OS: "linux"},
			Annotations: map[string]string{
				"io.containerd.image.name": img.Name,
			},
		})
	}
	idx, err := json.Marshal(index)
	if err != nil {
		return err
	}
	if err := put("index.json", idx); err != nil {
		return err
	}
	return tw.Close()
}

// FileLayer builds a layer holding the given regular files (path -> content).
func FileLayer(files map[string][]byte) (Layer, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: n, Mode: 0o644, Size: int64(len(files[n])), ModTime: time.Unix(0, 0)}); err != nil {
			return Layer{}, err
		}
		if _, err := tw.Write(files[n]); err != nil {
			return Layer{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Layer{}, err
	}
	return gzipLayer(raw.Bytes())
}

func gzipLayer(raw []byte) (Layer, error) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if _, err := zw.Write(raw); err != nil {
		return Layer{}, err
	}
	if err := zw.Close(); err != nil {
		return Layer{}, err
	}
	return Layer{Gzip: gz.Bytes(), DiffID: digest(raw)}, nil
}
