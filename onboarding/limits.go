package onboarding

import (
	"bytes"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

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
// of raw, counted from its bytes alone: every scalar or alias starts a run of
// non-blank bytes or follows a flow indicator, and every collection and implicit null
// needs an indicator. It never counts fewer than yaml.v3 makes (FuzzValueBound
// checks), and for usual files about twice as many.
func valueBound(raw []byte) int {
	n := 2
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if blank(c) {
			continue
		}
		runStart := i == 0 || blank(raw[i-1])
		if runStart {
			n++
			lineStart := i == 0 || raw[i-1] == '\n' || raw[i-1] == '\r'
			if lineStart && (bytes.HasPrefix(raw[i:], []byte("---")) || bytes.HasPrefix(raw[i:], []byte("..."))) {
				n++ // a document
			}
		}
		switch c {
		case ',', '[':
			n += 2
		case '{', '?', ':':
			n += 3
		case ']', '}':
			n++
		case '-':
			if runStart {
				n += 2
			}
		}
	}
	return n
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
