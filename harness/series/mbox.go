package series

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kernel-harness/harness/harness/text"
)

// message is one mail of a file, before it is judged a patch.
type message struct {
	raw                        []byte // what git am gets
	subject, from, date, msgID string
	body                       []byte // decoded text
}

// parseFile splits a file into mails: an mbox ("From " lines), a single
// mail starting with its headers, or a patch saved from a web page, whose
// first line is the subject and whose headers are loose lines like
// "From: A <a@b>".
func parseFile(data []byte) ([]message, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	first := firstLine(data)
	switch {
	case strings.HasPrefix(first, "From ") && isHeader(secondLine(data)):
		var msgs []message
		for i, chunk := range splitMbox(data) {
			m, err := parseMessage(chunk)
			if err != nil {
				return nil, fmt.Errorf("message %d: %w", i+1, err)
			}
			msgs = append(msgs, m)
		}
		return msgs, nil
	case strings.HasPrefix(first, "["):
		return []message{parsePage(data)}, nil
	case isHeader(first):
		m, err := parseMessage(data)
		if err != nil {
			return nil, err
		}
		return []message{m}, nil
	}
	return nil, fmt.Errorf("neither an mbox, a mail nor a saved patch (first line %q)", text.Trunc(first, 60))
}

var headerRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*:(\s|$)`)

func isHeader(line string) bool { return headerRE.MatchString(line) }

// splitMbox cuts at "From " lines that start a mail: first in the file or
// after a blank line, and followed by a header. A body line that merely
// begins with "From " (format-patch does not escape them) is not followed
// by a header.
func splitMbox(data []byte) [][]byte {
	lines := bytes.SplitAfter(data, []byte("\n"))
	var chunks [][]byte
	start, off := -1, 0
	for i, l := range lines {
		blankBefore := i == 0 || len(bytes.TrimSpace(lines[i-1])) == 0
		if bytes.HasPrefix(l, []byte("From ")) && blankBefore && i+1 < len(lines) && isHeader(string(lines[i+1])) {
			if start >= 0 {
				chunks = append(chunks, data[start:off])
			}
			start = off
		}
		off += len(l)
	}
	if start >= 0 {
		chunks = append(chunks, data[start:])
	}
	return chunks
}

var words = new(mime.WordDecoder)

func decodeHeader(s string) string {
	if d, err := words.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// parseMessage reads one mail, with or without its mbox "From " line.
func parseMessage(raw []byte) (message, error) {
	rest := raw
	if bytes.HasPrefix(rest, []byte("From ")) {
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rest = rest[i+1:]
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(rest))
	if err != nil {
		return message{}, fmt.Errorf("headers: %w", err)
	}
	m := message{
		raw:     raw,
		subject: decodeHeader(msg.Header.Get("Subject")),
		from:    decodeHeader(msg.Header.Get("From")),
		date:    msg.Header.Get("Date"),
		msgID:   strings.Trim(strings.TrimSpace(msg.Header.Get("Message-ID")), "<>"),
	}
	m.body, err = decodeBody(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return message{}, fmt.Errorf("body of %q: %w", text.Trunc(m.subject, 60), err)
	}
	return m, nil
}

// decodeBody undoes the transfer encoding and, for multipart mails,
// joins the text parts, so the diff can be found and digested whatever
// the mailer did to it.
func decodeBody(ctype, cte string, r io.Reader) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err == nil && strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(r, params["boundary"])
		var out []byte
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, err
			}
			pt := p.Header.Get("Content-Type")
			if pt != "" && !strings.HasPrefix(pt, "text/") && !strings.HasPrefix(pt, "multipart/") {
				continue
			}
			b, err := decodeBody(pt, p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil {
				return nil, err
			}
			out = append(out, b...)
		}
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r) // skips line breaks itself
	}
	return io.ReadAll(r)
}

// parsePage reads a patch saved from a web page: the subject on the first
// line, then loose "From:"/"Date:" lines, then the text. It is rewritten
// as a mail so that git am can read it.
func parsePage(data []byte) message {
	lines := strings.SplitAfter(string(data), "\n")
	m := message{subject: strings.TrimSpace(lines[0])}
	i := 1
	for ; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r\n")
		if !isHeader(l) {
			break
		}
		k, v, _ := strings.Cut(l, ":")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "from":
			m.from = v
		case "date":
			m.date = v
		case "message-id":
			m.msgID = strings.Trim(v, "<>")
		}
	}
	body := strings.Join(lines[i:], "")
	m.body = []byte(body)

	var b strings.Builder
	b.WriteString("From harness Mon Sep 17 00:00:00 2001\n")
	if m.from != "" {
		from := m.from
		if a, err := mail.ParseAddress(from); err == nil {
			from = a.String()
		}
		b.WriteString("From: " + from + "\n")
	}
	// git am wants an RFC 2822 date; the page's own form is dropped when
	// it cannot be read.
	for _, layout := range []string{"2006-01-02 15:04:05", time.RFC1123Z, time.RFC1123} {
		if t, err := time.Parse(layout, m.date); err == nil {
			b.WriteString("Date: " + t.Format(time.RFC1123Z) + "\n")
			break
		}
	}
	if m.msgID != "" {
		b.WriteString("Message-ID: <" + m.msgID + ">\n")
	}
	b.WriteString("Subject: " + mime.QEncoding.Encode("utf-8", m.subject) + "\n")
	b.WriteString("MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
	b.WriteString(body)
	m.raw = []byte(b.String())
	return m
}

// subject is what a patch subject line says.
type subject struct {
	reply         bool
	numbered      bool
	number, total int
	version       int
	tags          []string
	rest          string
}

var (
	replyRE   = regexp.MustCompile(`(?i)^\s*(re|aw)\s*:`)
	numRE     = regexp.MustCompile(`^(\d+)/(\d+)$`)
	versionRE = regexp.MustCompile(`(?i)^(?:patch|rfc)?v(\d+)$`)
)

// parseSubject reads "[RFC PATCH v2 net-next 01/11] tcp: x": every
// bracket group at the start, in any order.
func parseSubject(s string) subject {
	sub := subject{version: 1}
	for replyRE.MatchString(s) {
		sub.reply = true
		s = s[strings.IndexByte(s, ':')+1:]
	}
	s = strings.TrimSpace(s)
	for strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			break
		}
		for _, w := range strings.Fields(s[1:end]) {
			if m := numRE.FindStringSubmatch(w); m != nil {
				sub.number, _ = strconv.Atoi(m[1])
				sub.total, _ = strconv.Atoi(m[2])
				sub.numbered = true
				continue
			}
			if m := versionRE.FindStringSubmatch(w); m != nil {
				sub.version, _ = strconv.Atoi(m[1])
				if v := strings.ToUpper(w); strings.HasPrefix(v, "RFC") {
					sub.tags = append(sub.tags, "RFC")
				}
				continue
			}
			if strings.EqualFold(w, "PATCH") {
				continue
			}
			sub.tags = append(sub.tags, w)
		}
		s = strings.TrimSpace(s[end+1:])
	}
	if sub.version < 1 {
		sub.version = 1
	}
	sub.rest = s
	return sub
}

// hasDiff says whether a body carries a patch: a git diff header, or a
// unified diff's ---/+++ pair.
func hasDiff(body []byte) bool {
	return diffStart(body) >= 0
}

func diffStart(body []byte) int {
	off := 0
	prevMinus := -1
	for _, l := range bytes.SplitAfter(body, []byte("\n")) {
		switch {
		case bytes.HasPrefix(l, []byte("diff --git ")):
			return off
		case bytes.HasPrefix(l, []byte("--- ")):
			prevMinus = off
		case bytes.HasPrefix(l, []byte("+++ ")) && prevMinus >= 0:
			return prevMinus
		default:
			prevMinus = -1
		}
		off += len(l)
	}
	return -1
}

// diffContent is the body from the first diff line to the mail signature
// ("-- " then the git version), with line ends made LF: the part of a
// mail that says what the patch changes.
func diffContent(body []byte) []byte {
	i := diffStart(body)
	if i < 0 {
		return nil
	}
	d := bytes.ReplaceAll(body[i:], []byte("\r\n"), []byte("\n"))
	lines := bytes.SplitAfter(d, []byte("\n"))
	// The signature is the last "-- " line (web pages drop its space)
	// after which nothing looks like diff.
	cut := len(d)
	off := len(d)
	for k := len(lines) - 1; k >= 0; k-- {
		off -= len(lines[k])
		l := bytes.TrimRight(lines[k], "\n")
		if string(l) == "-- " || string(l) == "--" {
			cut = off
			break
		}
		if len(l) > 0 && strings.ContainsRune(" +-@\\", rune(l[0])) || bytes.HasPrefix(l, []byte("diff ")) {
			break
		}
	}
	return bytes.TrimRight(d[:cut], "\n")
}

func firstLine(data []byte) string {
	l, _, _ := bytes.Cut(data, []byte("\n"))
	return strings.TrimRight(string(l), "\r")
}

func secondLine(data []byte) string {
	_, rest, _ := bytes.Cut(data, []byte("\n"))
	return firstLine(rest)
}
