package onboarding

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/dcrflow/dcrflow/internal/readfile"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// Bounds on what a file may cost. A file is read through readfile.Onboarding (a
// regular file of at most 32 MiB); before yaml.v3 builds its tree (about 300 bytes a
// value), the values the file can hold are counted from its bytes, so that memory
// stays bounded whatever the file holds; aliases are counted by what they expand to
// before the tree is walked.
const (
	maxValues   = 1_000_000 // YAML values (nodes) a file may hold, as estimated by valueBound
	maxExpanded = 1_000_000 // values aliases may expand to, in all
	maxProblems = 1000
	maxMerge    = 8 // nested `<<:` merges
)

// tooLarge refuses raw beyond the size limit of an onboarding file (Parse may be
// handed bytes that Load did not read).
func (p *parser) tooLarge(raw []byte) bool {
	if int64(len(raw)) <= readfile.Onboarding.Limit {
		return false
	}
	p.add(0, "", "", "larger than %s, the limit for %s; %s", readfile.Size(readfile.Onboarding.Limit), readfile.Onboarding.What, readfile.Onboarding.Fix)
	return true
}

// invisibles refuses, with their lines, characters that cannot be seen or that change
// how the text around them reads: bidi controls, zero-width characters, NEL and the
// Unicode line separators (which YAML takes for line breaks or folds into spaces). A
// byte-order mark is allowed at the very start. Invalid UTF-8 is left to yaml.v3.
func (p *parser) invisibles(raw []byte) bool {
	found := false
	line := 1
	for i := 0; i < len(raw); {
		c := raw[i]
		if c < utf8.RuneSelf {
			if c == '\n' {
				line++
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		if textsafe.IsInvisible(r) && !(r == 0xFEFF && i == 0) {
			p.add(line, "", "", "holds %s, an invisible character that can make text read differently from what it is (or that YAML takes for a line break); remove it: retype the line if you cannot see it", textsafe.RuneName(r))
			found = true
		}
		i += n
	}
	return found
}

// valueBound is an upper bound of the values (nodes, documents included) yaml.v3 makes
// of raw, counted from its bytes alone, without parsing: a scalar or an alias starts a
// run of non-blank bytes or a token inside one (after a flow indicator, a quote, an
// anchor), and every collection, document and implicit null needs an indicator. Each
// byte is charged what it may cost at most, wherever it stands (in a comment or a
// quoted string it is charged all the same), so no file can be cheaper to count than
// to build. FuzzValueBound checks the bound against yaml.v3; for usual files it is
// about twice the true count.
func valueBound(raw []byte) int {
	n := 2
	tokStart := byte(0) // the first byte of the token being read
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if blank(c) {
			continue
		}
		next := byte(' ')
		if i+1 < len(raw) {
			next = raw[i+1]
		}
		runStart := i == 0 || blank(raw[i-1])
		if runStart {
			tokStart = c
			indicator := (c == '-' || c == '?' || c == ':') && blank(next)
			if !indicator {
				n++ // a scalar or an alias
			}
			if (i == 0 || raw[i-1] == '\n' || raw[i-1] == '\r') && (bytes.HasPrefix(raw[i:], []byte("---")) || bytes.HasPrefix(raw[i:], []byte("..."))) {
				n++ // a document
			}
		}
		midRun := !blank(next) // a token may start right after this byte
		switch c {
		case '-':
			if runStart && blank(next) {
				n += 2 // a sequence, a null item
			}
		case '?':
			n += 3 + one(midRun) // a mapping, a null key and value; a token after
		case ':':
			prev := byte(' ')
			if i > 0 {
				prev = raw[i-1]
			}
			atTokenStart := runStart || strings.IndexByte(",?[]{}\"'", prev) >= 0
			if !blank(next) && strings.IndexByte(",?[]{}", next) < 0 && !atTokenStart && tokStart != '&' && tokStart != '*' {
				break // inside a plain scalar: payments:read
			}
			n++ // a mapping
			if atTokenStart {
				n++ // a null key
			}
			if midRun || restOfLineEmpty(raw[i+1:]) {
				n++ // a null value, or a value right after
			}
		case ',':
			n += 1 + one(midRun) // a null value in a flow mapping; a token after
			tokStart = next
		case '[':
			n += 1 + one(midRun)
			tokStart = next
		case '{':
			n += 2 + one(midRun)
			tokStart = next
		case ']', '}':
			tokStart = next
		}
	}
	return n
}

func one(b bool) int {
	if b {
		return 1
	}
	return 0
}

// restOfLineEmpty says nothing but blanks or a comment follows on the line.
func restOfLineEmpty(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t':
			continue
		case '\n', '\r', '#':
			return true
		}
		return false
	}
	return true
}

func blank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// tooManyValues refuses a file whose values could exceed maxValues.
func (p *parser) tooManyValues(raw []byte) bool {
	if valueBound(raw) <= maxValues {
		return false
	}
	p.add(0, "", "", "holds more than %d values (keys, items and their values); split the portals into several files", maxValues)
	return true
}

// expansion is how many values the aliases in the tree under n expand to, stopping
// once past maxExpanded. size memoises the size of each anchored value.
func expansion(n *yaml.Node, size map[*yaml.Node]int) int {
	total := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if total > maxExpanded {
			return
		}
		if n.Kind == yaml.AliasNode {
			if n.Alias != nil {
				total += subtree(n.Alias, size)
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return total
}

// subtree is the number of values under n, aliases expanded, saturating past
// maxExpanded.
func subtree(n *yaml.Node, size map[*yaml.Node]int) int {
	if s, ok := size[n]; ok {
		return s
	}
	size[n] = maxExpanded + 1 // a value that holds itself counts as too many
	s := 1
	for _, c := range n.Content {
		if c.Kind == yaml.AliasNode {
			if c.Alias != nil {
				s += subtree(c.Alias, size)
			}
		} else {
			s += subtree(c, size)
		}
		if s > maxExpanded {
			s = maxExpanded + 1
			break
		}
	}
	size[n] = s
	return s
}
