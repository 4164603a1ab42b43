package run

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/build"
	"github.com/kernel-harness/harness/internal/testutil"
)

func TestVNGDefaults(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		profile string
		err     string
	}{
		{name: "a tree under vng gets the vng profile", o: Options{Backend: BackendVNG, Out: "/tmp/o", Build: buildTree("")}, profile: "vng"},
		{name: "a tree under qemu gets minimal", o: Options{Backend: BackendQEMU, Out: "/tmp/o", Build: buildTree("")}, profile: "minimal"},
		{name: "--profile wins", o: Options{Backend: BackendQEMU, Out: "/tmp/o", Build: buildTree("debug")}, profile: "debug"},
		{name: "a profile vng cannot boot is refused under vng", o: Options{Backend: BackendVNG, Out: "/tmp/o", Build: buildTree("minimal")},
			err: "--profile minimal builds a kernel vng cannot boot: its fragments do not set CONFIG_PCI, CONFIG_VIRTIO_PCI, CONFIG_NET_9P"},
		{name: "unless --config-item adds what vng needs", o: Options{Backend: BackendVNG, Out: "/tmp/o", Build: build.Options{Tree: "/t", Profile: "debug",
			Items: []string{"CONFIG_PCI=y", "CONFIG_VIRTIO_PCI=y", "CONFIG_NET_9P=y", "CONFIG_NET_9P_VIRTIO=y", "CONFIG_9P_FS=y", "CONFIG_BINFMT_SCRIPT=y", "CONFIG_OVERLAY_FS=y", "CONFIG_UNIX98_PTYS=y", "CONFIG_FHANDLE=y", "CONFIG_INOTIFY_USER=y"}}}, profile: "debug"},
		{name: "a space in --out under vng", o: Options{Backend: BackendVNG, Out: "/tmp/my out"}, err: `--out "/tmp/my out": vng splits paths`},
		{name: "a space in --out is fine under qemu", o: Options{Backend: BackendQEMU, Out: "/tmp/my out"}},
		{name: "a space in --kernel under vng", o: Options{Backend: BackendVNG, Out: "/tmp/o", Kernel: "/k/my bzImage"}, err: "--kernel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vngDefaults(&tt.o, tt.o.Backend, false)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("want error %q, got %v", tt.err, err)
				}
				return
			}
			if err != nil || tt.o.Build.Profile != tt.profile {
				t.Fatalf("profile %q, %v; want %q", tt.o.Build.Profile, err, tt.profile)
			}
		})
	}
}

func buildTree(profile string) build.Options { return build.Options{Tree: "/t", Profile: profile} }

// harness selftests builds the selftests profile, and under vng the
// selftests profile with what vng needs; a tree's fragment comes from
// the tree.
func TestVNGDefaultsSelftests(t *testing.T) {
	tree := t.TempDir()
	testutil.WriteFile(t, filepath.Join(tree, "tools/testing/selftests/bpf/config"), []byte("CONFIG_BPF_SYSCALL=y\n"))
	for backend, want := range map[string]string{BackendQEMU: "selftests", BackendVNG: "selftests-vng"} {
		o := Options{Backend: backend, Out: "/tmp/o", Build: build.Options{Tree: tree}}
		if err := vngDefaults(&o, backend, true); err != nil || o.Build.Profile != want {
			t.Errorf("%s: profile %q, %v; want %q", backend, o.Build.Profile, err, want)
		}
	}
	o := Options{Backend: BackendVNG, Out: "/tmp/o", Build: build.Options{Tree: tree, Profile: "selftests"}}
	if err := vngDefaults(&o, BackendVNG, true); err == nil || !strings.Contains(err.Error(), "use --profile vng (--profile selftests-vng for harness selftests)") {
		t.Errorf("the selftests profile under vng: %v, want it refused naming selftests-vng", err)
	}
}
