package series

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	tmpdirs "github.com/kernel-harness/harness/harness/cleanup"
)

// Bounds of the commands this package runs. A checkout of a kernel tree
// writes ~90k files; the rest are quick.
const (
	gitTimeout         = 2 * time.Minute
	checkoutTimeout    = 15 * time.Minute
	amTimeout          = 5 * time.Minute
	formatPatchTimeout = 5 * time.Minute
	b4Timeout          = 5 * time.Minute
)

// gitEnv is the environment of every git command: English messages (the
// am output is parsed), no GIT_DIR and friends from a calling hook that
// would point -C elsewhere, and an identity for machines without one.
func gitEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_PREFIX", "LC_ALL", "LANGUAGE":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "LC_ALL=C", "GIT_TERMINAL_PROMPT=0")
	for k, v := range map[string]string{
		"GIT_COMMITTER_NAME":  "harness",
		"GIT_COMMITTER_EMAIL": "harness@localhost",
		"GIT_AUTHOR_NAME":     "harness",
		"GIT_AUTHOR_EMAIL":    "harness@localhost",
	} {
		if os.Getenv(k) == "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// gitArgs are put before every subcommand so the user's config does not
// change what is applied or how: their hooks do not run in the harness's
// worktree, commit.gpgSign does not ask for a passphrase, rerere does not
// resolve conflicts from memory, apply.whitespace=error|fix neither
// refuses nor rewrites a patch, and mailinfo.scissors does not cut a
// commit message.
var gitArgs = []string{
	"-c", "core.hooksPath=/dev/null",
	"-c", "commit.gpgSign=false",
	"-c", "rerere.enabled=false",
	"-c", "apply.whitespace=warn",
	"-c", "mailinfo.scissors=false",
}

// git runs git -C dir args with a deadline and returns its stdout. The
// error carries stderr.
func git(ctx context.Context, timeout time.Duration, dir string, stdin []byte, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	err := runGit(ctx, timeout, dir, stdin, &stdout, &stderr, args...)
	if err != nil {
		return stdout.String(), fmt.Errorf("%w: %s", err, lastLines(stderr.String(), 3))
	}
	return stdout.String(), nil
}

// gitOutput runs git like git but returns stdout and stderr together, as a
// user would see them.
func gitOutput(ctx context.Context, timeout time.Duration, dir string, stdin []byte, args ...string) (string, error) {
	var out bytes.Buffer
	err := runGit(ctx, timeout, dir, stdin, &out, &out, args...)
	return out.String(), err
}

func runGit(ctx context.Context, timeout time.Duration, dir string, stdin []byte, stdout, stderr *bytes.Buffer, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	full := append(append([]string{"-C", dir}, gitArgs...), args...)
	cmd := exec.CommandContext(ctx, "git", full...)
	cmd.Env = gitEnv()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	// Children that keep the pipes open must not hold Wait past the deadline.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	name := "git " + args[0]
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out after %s: %w", name, timeout, context.DeadlineExceeded)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", name, ctx.Err())
	}
	return fmt.Errorf("%s: %w", name, err)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "; ")
}

// CheckLore refuses, before any work, a --series lore:ID without an id
// or without b4 to fetch it.
func CheckLore(id string) error {
	if strings.Trim(strings.TrimSpace(id), "<>") == "" {
		return errors.New("lore: needs a message id, as in lore:<message-id>")
	}
	if _, err := exec.LookPath("b4"); err != nil {
		return errNoB4
	}
	return nil
}

// loadLore fetches a thread with b4, which picks the newest version and
// writes it as one .mbx.
func loadLore(ctx context.Context, id string) ([]message, error) {
	if err := CheckLore(id); err != nil {
		return nil, err
	}
	id = strings.Trim(strings.TrimSpace(id), "<>")
	b4, _ := exec.LookPath("b4")
	tmp, remove, err := tmpdirs.TempDir("harness-b4-")
	if err != nil {
		return nil, err
	}
	defer remove()
	ctx, cancel := context.WithTimeout(ctx, b4Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, b4, "am", "-o", tmp, id)
	cmd.Dir = tmp
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("b4 am %s: timed out after %s", id, b4Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("b4 am %s: %w: %s", id, err, lastLines(string(out), 3))
	}
	mbx, _ := filepath.Glob(filepath.Join(tmp, "*.mbx"))
	if len(mbx) == 0 {
		return nil, fmt.Errorf("b4 am %s wrote no .mbx: %s", id, lastLines(string(out), 3))
	}
	return loadFile(mbx[0])
}
