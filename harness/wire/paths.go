package wire

// Where host and guest meet: the files the host puts in the initramfs and
// the port the agent answers on. Both sides name them from here only.
const (
	// AgentMarker is a file of every initramfs the harness writes: the
	// binary at /init is the guest agent only where it finds it, never for
	// being PID 1 alone (in a container the harness is PID 1 too, and a
	// command).
	AgentMarker = "/harness-agent"
	// PlanPath holds the scenario plan (scenario.Plan, as JSON).
	PlanPath = "/harness/plan.json"
	// BPFObjectPath holds a BPF object of the user's (--bpf-object,
	// --bpf-source); when it is there it replaces the harness's own.
	BPFObjectPath = "/harness/bpf/object.o"
	// SelftestsPlanPath holds a SelftestsPlan (harness selftests); when it
	// is there the agent runs the tree's test_progs in place of scenarios.
	SelftestsPlanPath = "/harness/selftests.json"
	// SelftestsDir holds test_progs and the files it opens.
	SelftestsDir = "/harness/selftests"
	// EventsPort is the name of the virtio-serial port events travel on.
	EventsPort = "harness.events"
)

// SelftestsPlan says how to run test_progs in the guest.
type SelftestsPlan struct {
	// Dir holds test_progs and the files it opens, under the files root.
	Dir string `json:"dir"`
	// Args are test_progs' arguments, -J FILE excepted (the agent adds it).
	Args     []string `json:"args"`
	TimeoutS int      `json:"timeout_s"`
}
