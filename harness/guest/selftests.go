package guest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/testprogsout"
	"github.com/kernel-harness/harness/harness/wire"
)

// readSelftests reads the selftests plan; ok is false when there is none.
func readSelftests(files string) (p wire.SelftestsPlan, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(files, wire.SelftestsPlanPath))
	if errors.Is(err, os.ErrNotExist) {
		return p, false, nil
	}
	if err != nil {
		return p, true, err
	}
	return p, true, json.Unmarshal(b, &p)
}

// runSelftests runs test_progs, sends each line it prints as a log event
// (which also tells the host it is alive), then its whole output and -J
// file in one wire.TestProgs.
func (a *agent) runSelftests(p wire.SelftestsPlan) error {
	dir := filepath.Join(a.files, p.Dir)
	// The tests serve on 127.0.0.1 in the root namespace; an initramfs
	// boot leaves lo down.
	if err := linkUp("lo", 0); err != nil {
		a.emit(wire.Event{Kind: wire.Log, Message: err.Error()})
	}
	jsonFile := filepath.Join(os.TempDir(), "test_progs.json")
	os.Remove(jsonFile)
	timeout := time.Duration(p.TimeoutS) * time.Second
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	args := append(append([]string{}, p.Args...), "-J", jsonFile)
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "test_progs"), args...)
	cmd.Dir = dir // tests open their .bpf.o files by relative path
	// PID 1 has no PATH; system("ip ...") in the tests needs one.
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		pw.Close()
		pr.Close()
		return fmt.Errorf("start test_progs: %w", err)
	}
	pw.Close()
	var out strings.Builder
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		a.emit(wire.Event{Kind: wire.Log, Name: "test_progs", Message: line})
	}
	io.Copy(io.Discard, pr)
	pr.Close()
	werr := cmd.Wait()
	res := testprogsout.Output{Stdout: out.String(), Exit: "exit status 0"}
	if werr != nil {
		res.Exit = werr.Error()
		if ctx.Err() != nil {
			res.Exit = fmt.Sprintf("killed after %v: %v", timeout, werr)
		}
	}
	if b, err := os.ReadFile(jsonFile); err == nil {
		res.JSON = string(b)
	}
	msg, err := json.Marshal(res)
	if err != nil {
		return err
	}
	e := wire.Event{Kind: wire.TestProgs, OK: werr == nil, Message: string(msg)}
	a.emit(e)
	return nil
}
