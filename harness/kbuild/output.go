package kbuild

import (
	"regexp"
	"strings"
)

var (
	// objectLine is kbuild's short form of a step that makes a file:
	// "  CC      init/main.o", "  CC [M]  net/foo.o", "  LD      vmlinux.o".
	objectLine = regexp.MustCompile(`^\s+(CC|CXX|AS|CPP|LD|AR|HOSTCC|HOSTCXX|HOSTLD|BTF|BTFIDS|OBJCOPY|LDS|GEN|MODPOST|KSYMS|SORTTAB|STRIP|SIGN|INSTALL|DEPMOD|SYSHDR|SYSTBL|WRAP|UPD|RELOCS|MKPIGGY|ZOFFSET|VOFFSET|VDSO2C|BUILD|GZIP|XZKERN|ZSTD22|LZ4|LZO|LZMA|BZIP2|CHKSHA1|POLICY|MKCAP|CPUSTR|NM|HDRINST|PAHOLE|ASN\.1|CERT|EXTRACT_CERTS|MKELF|EXPORTS|TOUCH|COPY|IPE_POL|CALL|DESCEND|LINK|SYNC|GENSEED|SHIPPED|PERLASM|MKREG|HYPERCAP|VDSO|DTC)\s`)

	// compiledLine is a C or assembly file compiled to an object: what
	// "objects compiled" means when comparing configs. objtool and
	// resolve_btfids print CC too and count, as every BTF build makes
	// them; HOSTCC lines (fixdep, kconfig) and asm-offsets' .s do not.
	compiledLine = regexp.MustCompile(`^\s+(?:CC|AS)(?: \[M\])?\s+\S+\.o$`)

	// gccError is a compiler or assembler error at file:line[:col].
	gccError = regexp.MustCompile(`^(\S+):(\d+):(?:(\d+):)? (?:fatal )?(?:error|Error): `)
	// ldLine is a message of the linker, whatever its path or prefix.
	ldLine = regexp.MustCompile(`^(?:\S*/)?(?:[\w.+-]+-)?ld(?:\.bfd|\.gold|\.lld)?: (.*)$`)
	// inFunction is the linker's context line for the messages after it.
	inFunction = regexp.MustCompile("in function [`'](.+)':$")
	// otherError is an error that is not at a file:line: modpost, BTF,
	// a tool saying "error: ...".
	otherError = regexp.MustCompile(`^(?:ERROR: |error: |FAILED|Failed |\S+: error: )`)
	// makeError is make giving up on a target.
	makeError = regexp.MustCompile(`^(?:g?make)(?:\[\d+\])?: \*\*\* `)
)

// scan reads kbuild output a line at a time: it counts the steps and the
// compiled objects, and keeps the first error.
type scan struct {
	steps    int    // every kbuild step line: compile, archive, link, generate
	compiled int    // the CC and AS lines among them
	first    string // a compiler or linker error
	other    string // an error of another tool
	make     string // make's own *** line
	inFunc   string // the linker's last "in function" context
}

func (s *scan) line(l string) {
	l = strings.TrimRight(l, " \t\r")
	if objectLine.MatchString(l) {
		s.steps++
		if compiledLine.MatchString(l) {
			s.compiled++
		}
		return
	}
	if s.first != "" {
		return
	}
	if m := ldLine.FindStringSubmatch(l); m != nil {
		if f := inFunction.FindStringSubmatch(m[1]); f != nil {
			s.inFunc = f[1]
			return
		}
		if !strings.HasPrefix(m[1], "warning:") {
			s.first = strings.TrimSpace(l)
		}
		return
	}
	if strings.Contains(l, "undefined reference to") {
		s.first = strings.TrimSpace(l)
		if s.inFunc != "" {
			s.first += " (in function " + s.inFunc + ")"
		}
		return
	}
	if gccError.MatchString(l) {
		s.first = l
		return
	}
	if s.other == "" && otherError.MatchString(l) {
		s.other = strings.TrimSpace(l)
	}
	if s.make == "" && makeError.MatchString(l) {
		s.make = strings.TrimSpace(l)
	}
}

// firstError is the most telling error seen: the first compiler or linker
// error, else the first error of another tool, else make's own.
func (s *scan) firstError() string {
	switch {
	case s.first != "":
		return s.first
	case s.other != "":
		return s.other
	}
	return s.make
}

// countSteps counts the kbuild steps of a transcript and, among them,
// the objects compiled.
func countSteps(transcript string) (steps, compiled int) {
	var s scan
	for _, l := range strings.Split(transcript, "\n") {
		s.line(l)
	}
	return s.steps, s.compiled
}

// firstError finds the first compiler or linker error of a transcript.
func firstError(transcript string) string {
	var s scan
	for _, l := range strings.Split(transcript, "\n") {
		s.line(l)
	}
	return s.firstError()
}
