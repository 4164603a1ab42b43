package run

import "github.com/kernel-harness/harness/harness/boot"

// Backends, as --backend names them.
const (
	BackendQEMU = boot.BackendQEMU
	BackendVNG  = boot.BackendVNG
	BackendAuto = boot.BackendAuto
)

// chooseBackend is the backend a run boots on, chosen before anything is
// built or booted so that a missing vng is said at once.
func chooseBackend(asked string) (name, why string, err error) {
	return boot.ChooseBackend(asked)
}
