package onboarding

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Syntax errors of yaml.v3, told in the file's terms.

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError reports a syntax error of yaml.v3 with its line. yaml.v3 leaves the line
// out when it is the first, and for bad characters; those are located here.
func (p *parser) yamlError(raw []byte, err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		switch {
		case strings.Contains(msg, "UTF-8"):
			line = lineOf(raw, badUTF8(raw))
			msg += " (save the file as UTF-8)"
		case strings.Contains(msg, "control characters"):
			line = lineOf(raw, controlChar(raw))
			msg += " (remove it, or write it as an escape such as \"\\t\" inside double quotes)"
		}
	}
	fix := "check the indentation and the quoting on this line and the one before"
	if lineHasTab(raw, line) && strings.Contains(msg, "cannot start any token") {
		fix = "YAML cannot indent with tabs; indent with spaces"
	}
	p.add(line, "", "", "not valid YAML: %s; %s", msg, fix)
}

func lineOf(raw []byte, off int) int {
	if off < 0 {
		return 0
	}
	return bytes.Count(raw[:off], []byte("\n")) + 1
}

func badUTF8(raw []byte) int {
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

func controlChar(raw []byte) int {
	for i, r := range string(raw) {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return i
		}
	}
	return -1
}

// lineHasTab says line (1-based) or the one before it holds a tab. It walks to them
// without splitting the file: a file may hold millions of lines.
func lineHasTab(raw []byte, line int) bool {
	rest := raw
	for n := 1; n <= line; n++ {
		l, after, found := bytes.Cut(rest, []byte("\n"))
		if n >= line-1 && bytes.IndexByte(l, '\t') >= 0 {
			return true
		}
		if !found {
			return false
		}
		rest = after
	}
	return false
}
