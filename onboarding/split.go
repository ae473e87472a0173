package onboarding

import (
	"bytes"
	"errors"
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/dcrflow/dcrflow"
)

// yaml.v3 builds a tree of about 200 bytes a value, 40 to 60 times the size of a
// usual file. A file of the usual shape (a block mapping whose `portals:` is a block
// list) is therefore read in pieces: the file without its portals (the head, which
// holds `defaults:`), then each portal on its own, whose tree is dropped once the
// portal is read. Memory is then what the portals read hold, a small multiple of the
// file. A file of any other shape, or one whose pieces do not read cleanly (a syntax
// error, an alias: anything whose meaning could depend on what surrounds it), is read
// whole, as before, so every message stays the same.

// layout is where a file's portals are.
type layout struct {
	head        []byte // the file with the portals' lines left empty (lines keep their numbers)
	portalsLine int    // the line of `portals:`
	items       []span
	maps        int  // items that look like mappings on their first line: the portals to expect
	flow        bool // the items are those of a flow list (splitflow.go)
}

// span is one item of the portals' list: its bytes and its first line (a file has at
// most 32 MiB; 12 bytes an item, as hostile items may be of 4 bytes).
type span struct {
	start, end, line int32
}

// findPortals finds the items of the file's `portals:` list, written as a block list
// under a `portals:` at the start of a line. It reports false for any other shape, and
// for a file with anchors, aliases or directives: those are read whole. A document
// marker (`---`, `...`) at the start of a line ends the list; the documents before and
// after it are the head's, read and checked as in a file read whole.
func findPortals(raw []byte) (layout, bool) {
	if l, ok := findBlockPortals(raw); ok {
		return l, true
	}
	return findFlowPortals(raw)
}

// findBlockPortals is findPortals for a block list.
func findBlockPortals(raw []byte) (layout, bool) {
	var l layout
	if mayHoldAnchors(raw) || bareCR(raw) {
		return l, false
	}
	regionStart, regionEnd := -1, len(raw) // the items' bytes
	indent := -1                           // the items' indentation
	line := 0
	for off := 0; off < len(raw); {
		line++
		end := bytes.IndexByte(raw[off:], '\n')
		next := len(raw)
		if end < 0 {
			end = len(raw)
		} else {
			end += off
			next = end + 1
		}
		text := bytes.TrimSuffix(raw[off:end], []byte("\r"))
		if bytes.HasPrefix(text, []byte("%")) {
			return l, false
		}
		if isPortalsKey(text) {
			if l.portalsLine != 0 {
				return l, false // given twice: read whole, as the walk reports it
			}
			l.portalsLine = line
			off = next
			continue
		}
		if l.portalsLine == 0 || regionEnd < len(raw) {
			off = next
			continue
		}
		// Under `portals:`, until the next key at the start of a line.
		n := 0
		for n < len(text) && text[n] == ' ' {
			n++
		}
		rest := text[n:]
		item := len(rest) > 0 && rest[0] == '-' && (len(rest) == 1 || rest[1] == ' ')
		switch {
		case len(rest) == 0 || rest[0] == '#':
			// blank or a comment: goes with the item before
		case n == 0 && !item:
			regionEnd = off // the next top-level key
		case indent < 0 && item:
			indent, regionStart = n, off
			l.items = append(l.items, span{start: int32(off), line: int32(line)})
			l.maps += one(looksLikeMapping(rest))
		case indent < 0:
			return l, false // not a block list
		case n == indent && item:
			l.items = append(l.items, span{start: int32(off), line: int32(line)})
			l.maps += one(looksLikeMapping(rest))
		case n <= indent:
			return l, false
		}
		off = next
	}
	if len(l.items) == 0 {
		return l, false
	}
	for i := range l.items {
		if i+1 < len(l.items) {
			l.items[i].end = l.items[i+1].start
		} else {
			l.items[i].end = int32(regionEnd)
		}
	}
	lines := bytes.Count(raw[regionStart:regionEnd], []byte("\n"))
	l.head = make([]byte, 0, regionStart+lines+len(raw)-regionEnd)
	l.head = append(l.head, raw[:regionStart]...)
	l.head = append(l.head, bytes.Repeat([]byte("\n"), lines)...)
	l.head = append(l.head, raw[regionEnd:]...)
	return l, true
}

// mayHoldAnchors says whether raw may hold an anchor (&name) or an alias (*name): a
// '&' or '*' where a node may start (after a blank, at the start, or after one of
// `[{,:`) and before a name. Text such as "R&D" or "Payments & Billing" holds none.
// A file with anchors is read whole, where aliases are counted by what they expand
// to; a piece holding an alias this missed is read whole all the same (batch).
func mayHoldAnchors(raw []byte) bool {
	for i, c := range raw {
		if c != '&' && c != '*' || i+1 < len(raw) && blank(raw[i+1]) {
			continue
		}
		if i == 0 || blank(raw[i-1]) || bytes.IndexByte([]byte("[{,:"), raw[i-1]) >= 0 {
			return true
		}
	}
	return false
}

// bareCR says whether raw holds a carriage return without a line feed after it,
// which YAML takes for a line break (the other breaks YAML knows, NEL and the Unicode
// separators, are refused before: invisibles).
func bareCR(raw []byte) bool {
	for i := bytes.IndexByte(raw, '\r'); i >= 0; {
		if i+1 == len(raw) || raw[i+1] != '\n' {
			return true
		}
		next := bytes.IndexByte(raw[i+1:], '\r')
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// isPortalsKey says whether a line is `portals:` alone (a comment may follow).
func isPortalsKey(text []byte) bool {
	rest, ok := bytes.CutPrefix(text, []byte("portals:"))
	if !ok {
		return false
	}
	rest = bytes.TrimLeft(rest, " ")
	return len(rest) == 0 || rest[0] == '#' && len(rest) < len(text)-len("portals:")
}

// looksLikeMapping says whether an item's first line (from its '-') may start a
// mapping, a portal: `- name: a`, `- {name: a}`.
func looksLikeMapping(item []byte) bool {
	return bytes.Contains(item, []byte(": ")) || bytes.HasSuffix(item, []byte(":")) || bytes.HasPrefix(bytes.TrimLeft(item[1:], " "), []byte("{"))
}

// errWhole says the file must be read whole after all.
var errWhole = errors.New("read the file whole")

// parseSplit reads a file of the usual shape in pieces (see layout). It reports false
// when the file must be read whole; nothing is then recorded in p.
func (p *parser) parseSplit(raw []byte) ([]dcrflow.PortalSpec, bool) {
	l, ok := findPortals(raw)
	if !ok {
		return nil, false
	}
	if valueBound(l.head) > wholeBudget(len(raw)) {
		return nil, false // the head alone is too large a tree: read whole, which says so
	}
	q := &parser{fname: p.fname, items: &l, raw: raw, size: len(raw)}
	root, ok := q.readDoc(l.head)
	if !ok || !q.portalsAt(root, l.portalsLine) {
		return nil, false
	}
	if _, ok := q.file(root); q.whole || !ok {
		return nil, false
	}
	q.settle()
	p.probs, p.dropped = q.probs, q.dropped
	return q.specs, true
}

// portalsAt says whether the head's `portals:` is the one found at line and has no
// value there (its items are read one by one).
func (p *parser) portalsAt(root *yaml.Node, line int) bool {
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k := root.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "portals" {
			return k.Line == line && isNull(root.Content[i+1])
		}
	}
	return false
}

// batchBytes is about how much of the portals' list is parsed at once: enough to
// spread yaml.v3's set-up over many portals, little enough that the tree of one
// batch (about 50 times its size) stays a few MiB.
const batchBytes = 64 << 10

// batch reads items (consecutive items of the portals' list) on their own, their
// lines numbered as in the file. An error (they are not valid YAML alone) means the
// file is read whole.
func (p *parser) batch(items []span) ([]*yaml.Node, error) {
	var doc yaml.Node
	text := p.raw[items[0].start:items[len(items)-1].end]
	if p.items.flow {
		text = append(append(append(make([]byte, 0, len(text)+2), '['), text...), ']')
	}
	if err := unmarshalNode(text, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode || len(doc.Content[0].Content) != len(items) {
		return nil, errWhole
	}
	if bytes.ContainsAny(text, "&*") && expansion(&doc, map[*yaml.Node]int{}) > 0 {
		return nil, errWhole // an alias mayHoldAnchors did not see: read whole, where it is counted
	}
	seq := doc.Content[0].Content
	for i, n := range seq {
		if n.Line != int(items[i].line-items[0].line+1) {
			return nil, errWhole
		}
		shiftLines(n, int(items[0].line-1))
	}
	return seq, nil
}

func shiftLines(n *yaml.Node, by int) {
	n.Line += by
	for _, c := range n.Content {
		shiftLines(c, by)
	}
}

// unmarshalNode runs yaml.v3 on one piece, turning a panic of the library into an
// error.
func unmarshalNode(b []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Unmarshal(b, n)
}
