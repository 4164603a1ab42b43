package artifact

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestKeyIsStableAndDistinct(t *testing.T) {
	a := Key{Base: "abc", Series: "s1", Config: "c1", Fragments: "f1"}
	if a.String() != (Key{Base: "abc", Series: "s1", Config: "c1", Fragments: "f1"}).String() {
		t.Fatal("same key, different names")
	}
	for _, b := range []Key{
		{Base: "abd", Series: "s1", Config: "c1", Fragments: "f1"},
		{Base: "abc", Series: "s2", Config: "c1", Fragments: "f1"},
		{Base: "abc", Series: "s1", Config: "c2", Fragments: "f1"},
		{Base: "abc", Series: "s1", Config: "c1", Fragments: "f2"},
	} {
		if a.String() == b.String() {
			t.Errorf("%+v and %+v share a name", a, b)
		}
	}
}

func TestPutGetListPrune(t *testing.T) {
	c, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	img := filepath.Join(src, "bzImage")
	os.WriteFile(img, []byte("kernel"), 0o644)
	config := filepath.Join(src, ".config")
	os.WriteFile(config, []byte("CONFIG_VIRTIO_MMIO=y\n"), 0o644)
	mods := filepath.Join(src, "mods")
	os.MkdirAll(filepath.Join(mods, "kernel", "net"), 0o755)
	os.WriteFile(filepath.Join(mods, "modules.dep"), []byte("kernel/net/tun.ko:\n"), 0o644)
	os.WriteFile(filepath.Join(mods, "kernel", "net", "tun.ko"), []byte("ko"), 0o644)

	k1 := Key{Base: "1"}
	if _, ok := c.Get(k1); ok {
		t.Fatal("empty cache hit")
	}
	e, err := c.Put(Entry{Key: k1, Release: "6.12.0"}, img, config, mods)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k1)
	if !ok || got.Release != "6.12.0" || got.Modules() == "" {
		t.Fatalf("get: %+v %v", got, ok)
	}
	if b, _ := os.ReadFile(got.Image()); string(b) != "kernel" {
		t.Fatalf("image content %q", b)
	}
	// The config stays beside the image, where the machine choice looks.
	if b, _ := os.ReadFile(filepath.Join(got.Dir, "config")); string(b) != "CONFIG_VIRTIO_MMIO=y\n" {
		t.Fatalf("config content %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(got.Modules(), "kernel", "net", "tun.ko")); string(b) != "ko" {
		t.Fatalf("module content %q", b)
	}
	if e.Dir != got.Dir {
		t.Fatalf("dirs %s %s", e.Dir, got.Dir)
	}

	for i, base := range []string{"2", "3"} {
		if _, err := c.Put(Entry{Key: Key{Base: base}}, img, "", ""); err != nil {
			t.Fatal(err)
		}
		// Distinct use times, newest last.
		old := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(filepath.Join(c.Dir, Key{Base: base}.String(), "entry.json"), old, old)
	}
	list, _ := c.List()
	if len(list) != 3 || list[0].Key.Base != "1" {
		t.Fatalf("list %+v", list)
	}
	removed, err := c.Prune(1)
	if err != nil || len(removed) != 2 {
		t.Fatalf("prune removed %d: %v", len(removed), err)
	}
	if _, ok := c.Get(k1); !ok {
		t.Fatal("prune removed the most recently used entry")
	}
	if _, ok := c.Get(Key{Base: "2"}); ok {
		t.Fatal("prune kept an old entry")
	}
}
