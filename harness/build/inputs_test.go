package build

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/artifact"
	"github.com/kernel-harness/harness/harness/report"
	"github.com/kernel-harness/harness/harness/series"
)

func loadSeries(t *testing.T, mbox string) *series.Series {
	t.Helper()
	s, err := series.Load(context.Background(), mbox, "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestInputsKey: every input that decides a build changes the key that
// lets a run skip the checkout; the same inputs give the same key.
func TestInputsKey(t *testing.T) {
	ctx := context.Background()
	mbox := "../series/testdata/single.mbox"
	raw, err := os.ReadFile(mbox)
	if err != nil {
		t.Fatal(err)
	}
	// One byte of the patch's diff changed.
	i := strings.Index(string(raw), "\n+")
	if i < 0 {
		t.Fatal("no added line in the test patch")
	}
	changed := filepath.Join(t.TempDir(), "changed.mbox")
	edited := append([]byte{}, raw...)
	edited[i+2] ^= 1
	os.WriteFile(changed, edited, 0o644)
	frag := filepath.Join(t.TempDir(), "my.config")
	os.WriteFile(frag, []byte("CONFIG_FOO=y\n"), 0o644)

	s := loadSeries(t, mbox)
	base := strings.Repeat("a", 40)
	o := Options{Profile: "minimal", Configs: []string{frag}, Items: []string{"CONFIG_BAR=y"}}
	key := func(base string, s *series.Series, o Options) string {
		t.Helper()
		k, err := inputsKey(ctx, base, s, o)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	want := key(base, s, o)
	if again := key(base, loadSeries(t, mbox), o); again != want {
		t.Errorf("same inputs, two keys: %s %s", want, again)
	}
	other := o
	other.Configs = []string{frag}
	fragCopy := filepath.Join(t.TempDir(), "elsewhere.config")
	os.WriteFile(fragCopy, []byte("CONFIG_FOO=y\n"), 0o644)
	other.Configs = []string{fragCopy}
	if k := key(base, s, other); k != want {
		t.Errorf("the same fragment in another place changed the key")
	}
	for name, k := range map[string]string{
		"base":    key(strings.Repeat("b", 40), s, o),
		"patch":   key(base, loadSeries(t, changed), o),
		"profile": key(base, s, Options{Profile: "debug", Configs: o.Configs, Items: o.Items}),
		"item":    key(base, s, Options{Profile: "minimal", Configs: o.Configs, Items: []string{"CONFIG_BAR=n"}}),
		"no item": key(base, s, Options{Profile: "minimal", Configs: o.Configs}),
	} {
		if k == want {
			t.Errorf("%s changed, key did not", name)
		}
	}
	os.WriteFile(frag, []byte("CONFIG_FOO=n\n"), 0o644)
	if k := key(base, s, o); k == want {
		t.Errorf("fragment content changed, key did not")
	}
	os.Remove(frag)
	if _, err := inputsKey(ctx, base, s, o); err == nil {
		t.Errorf("a missing fragment gave a key")
	}
}

func TestIndex(t *testing.T) {
	c, err := artifact.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := readIndex(c, "nothing"); ok {
		t.Fatal("empty index hit")
	}
	e := indexEntry{Key: artifact.Key{Base: "abc", Config: "cfg"}, Build: report.Build{Base: "abc", BaseSubject: "Linux 6.12"}}
	if err := writeIndex(c, "k1", e); err != nil {
		t.Fatal(err)
	}
	got, ok := readIndex(c, "k1")
	if !ok || got.Key != e.Key || got.Build.BaseSubject != "Linux 6.12" {
		t.Errorf("read back %+v %v", got, ok)
	}
	os.WriteFile(indexPath(c, "bad"), []byte("{"), 0o644)
	if _, ok := readIndex(c, "bad"); ok {
		t.Errorf("a torn entry was taken")
	}
}

func TestBuildFolder(t *testing.T) {
	o := Options{Profile: "minimal"}
	base, series := buildFolder(o, false), buildFolder(o, true)
	if base == series || !strings.HasPrefix(base, "base-") || !strings.HasPrefix(series, "series-") {
		t.Errorf("base %s, series %s: want a folder per side", base, series)
	}
	if buildFolder(Options{Profile: "debug"}, true) == series {
		t.Errorf("profiles share a folder")
	}
	if buildFolder(o, true) != series {
		t.Errorf("not stable")
	}
}
