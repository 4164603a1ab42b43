package run

import (
	"strings"
	"testing"

	"github.com/kernel-harness/harness/harness/build"
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
		{name: "--profile wins", o: Options{Backend: BackendVNG, Out: "/tmp/o", Build: buildTree("debug")}, profile: "debug"},
		{name: "a space in --out under vng", o: Options{Backend: BackendVNG, Out: "/tmp/my out"}, err: `--out "/tmp/my out": vng splits paths`},
		{name: "a space in --out is fine under qemu", o: Options{Backend: BackendQEMU, Out: "/tmp/my out"}},
		{name: "a space in --kernel under vng", o: Options{Backend: BackendVNG, Out: "/tmp/o", Kernel: "/k/my bzImage"}, err: "--kernel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := vngDefaults(&tt.o, tt.o.Backend)
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
