package onboarding

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dcrflow/dcrflow"
)

// The onboarding file is read as a yaml.Node tree and walked by hand rather than
// decoded into structs: every value keeps its line, a wrong type is one problem among
// the others instead of the end of the decoding, and messages speak YAML (a list, a
// mapping, text), never Go types.

// text is a scalar as written: its value, its line, and whether its key was present.
type text struct {
	val  string
	line int
	set  bool
	bad  bool // its type was wrong, already reported
}

// flag is a boolean as written.
type flag struct {
	val  bool
	line int
	set  bool
	bad  bool
}

// textList is a list of scalars, e.g. auth_methods.
type textList struct {
	items []text
	line  int
	set   bool
}

// label is one entry of a `labels:` mapping.
type label struct {
	key, val string
	line     int
	bad      bool // the value's type was wrong, already reported
}

// labelMap is a `labels:` mapping as written, in file order.
type labelMap struct {
	items []label
	line  int
	set   bool
}

type rawDefaults struct {
	authServer, claim, dcrToken, onFailure, visibility text
	accessPolicy, validateVia                          text
	authMethods                                        textList
	validate, autoApprove                              flag
	labels                                             labelMap
}

type rawPortal struct {
	line                                       int
	name, portal, authServer, claim, onFailure text
	scopes                                     []rawScope
	scopesBad                                  bool // the list or one of its scopes was refused already
	scopesLine                                 int
	provider                                   *rawProvider
	strategy                                   *rawStrategy
	apis                                       []rawAPI
	validate                                   flag
	validateVia, accessPolicy                  text
	owner                                      *rawOwner
	labels                                     labelMap
}

// rawOwner is `validation_owner: {type: developer, id: ...}`.
type rawOwner struct {
	line    int
	typ, id text
}

type rawScope struct {
	name, description text
}

type rawProvider struct {
	line           int
	name, dcrToken text
}

type rawStrategy struct {
	line              int
	name, displayName text
	authMethods       textList
}

type rawAPI struct {
	line            int
	api, visibility text
	autoApprove     flag
}

type rawFile struct {
	defaults rawDefaults
	portals  []rawPortal
}

// Fields known at each level, in the order the README documents them.
var (
	topFields      = []string{"defaults", "portals"}
	defaultsFields = []string{"auth_server", "claim", "dcr_token", "auth_methods", "visibility", "auto_approve", "access_policy", "validate", "on_failure", "labels"}
	portalFields   = []string{"name", "portal", "auth_server", "scopes", "claim", "dcr_provider", "auth_strategy", "apis", "access_policy", "validate", "validation_owner", "on_failure", "labels"}
	ownerFields    = []string{"type", "id"}
	scopeFields    = []string{"name", "description"}
	providerFields = []string{"name", "dcr_token"}
	strategyFields = []string{"name", "display_name", "auth_methods"}
	apiFields      = []string{"api", "visibility", "auto_approve"}
)

// problem is one thing wrong in the file.
type problem struct {
	line   int
	portal string
	field  string
	msg    string
}

// parser reads the node tree and checks the portals; both add problems.
type parser struct {
	fname   string
	probs   []problem
	dropped int // problems beyond maxProblems

	// A file read in pieces (split.go): its portals' items, read a batch at a time,
	// each portal checked once read. The checks' problems go to later, as if every
	// portal had been read before any was checked.
	items    *layout
	raw      []byte
	whole    bool // the items did not read alone: read the file whole
	checking bool // problems go to later
	later    []problem
	dropLate int
	specs    []dcrflow.PortalSpec // the portals, checked

	size           int // the file's, for the budgets that depend on it
	copied         int // the defaults' labels copied into portals with labels of their own
	copyRefused    bool
	defaultKeys    map[string]string // the defaults' label keys by their folded form
	defaultLabels  map[string]string // the defaults' labels, shared by the portals without labels
	defaultMethods []string          // the defaults' auth methods, shared likewise
	tokenIn        string            // the last DCR token name normalised (tokenName) ...
	tokenOut       string            // ... and its normal form
}

func (p *parser) add(line int, portal, field, format string, args ...any) {
	list, dropped := &p.probs, &p.dropped
	if p.checking {
		list, dropped = &p.later, &p.dropLate
	}
	if len(*list) >= maxProblems {
		*dropped++
		return
	}
	*list = append(*list, problem{line: line, portal: portal, field: field, msg: fmt.Sprintf(format, args...)})
}

// settle puts the checks' problems after the others, keeping the first maxProblems
// of all, as add does.
func (p *parser) settle() {
	p.dropped += p.dropLate
	if n := len(p.probs) + len(p.later) - maxProblems; n > 0 {
		p.dropped += n
		p.later = p.later[:len(p.later)-n]
	}
	p.probs = append(p.probs, p.later...)
	p.later, p.dropLate = nil, 0
}

// messages renders the problems, sorted by line (stable: walk order within a line).
func (p *parser) messages() []string {
	slices.SortStableFunc(p.probs, func(a, b problem) int { return a.line - b.line })
	out := make([]string, 0, len(p.probs)+1)
	for _, pr := range p.probs {
		var b strings.Builder
		b.WriteString(p.fname)
		if pr.line > 0 {
			b.WriteString(":" + strconv.Itoa(pr.line))
		}
		if pr.portal != "" {
			b.WriteString(": portal " + quote(pr.portal))
		}
		if pr.field != "" {
			b.WriteString(": " + pr.field)
		}
		b.WriteString(": " + pr.msg)
		out = append(out, b.String())
	}
	if p.dropped > 0 {
		out = append(out, fmt.Sprintf("%s: %d more problem(s) not shown; fix the ones above and run again", p.fname, p.dropped))
	}
	return out
}

// affordable checks what the file may cost (limits.go) before it is parsed.
func (p *parser) affordable(raw []byte) bool {
	return !p.tooLarge(raw) && !p.invisibles(raw) && !p.tooManyValues(raw)
}

// parseWhole reads the file as one tree and checks it.
func (p *parser) parseWhole(raw []byte) []dcrflow.PortalSpec {
	if p.tooManyToReadWhole(raw) {
		return nil
	}
	if root, ok := p.readDoc(raw); ok {
		if f, ok := p.file(root); ok {
			return p.check(f)
		}
	}
	return nil
}

// readDoc parses raw into its first YAML document; false when it could not (a
// problem says why). What the file may cost is checked first (limits.go); a later
// document that holds anything is refused, however many come before it.
func (p *parser) readDoc(raw []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for n := 1; ; n++ {
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		switch {
		case errors.Is(err, io.EOF):
			if root == nil {
				p.add(0, "", "", "the file is empty; list the portals to onboard under `portals:` (see examples/portals.yaml)")
				return nil, false
			}
			size := expansion(root, map[*yaml.Node]int{})
			if size > maxExpanded {
				p.add(0, "", "", "the file's aliases (*name) expand to more than %d values; write the values out instead of nesting aliases", maxExpanded)
				return nil, false
			}
			if p.aliasesTooCostly(raw, root, size) {
				return nil, false
			}
			return root, true
		case err != nil:
			p.yamlError(raw, err)
			return nil, false
		case n == 1:
			if len(doc.Content) == 0 {
				p.add(0, "", "", "the file is empty; list the portals to onboard under `portals:` (see examples/portals.yaml)")
				return nil, false
			}
			root = doc.Content[0]
		case len(doc.Content) > 0 && !isNull(doc.Content[0]):
			p.add(doc.Content[0].Line, "", "", "a %s YAML document (after `---`); put every portal in one document, under one `portals:`", ordinal(n))
		}
	}
}

func ordinal(n int) string {
	switch n {
	case 2:
		return "second"
	case 3:
		return "third"
	case 4:
		return "fourth"
	}
	return strconv.Itoa(n) + "th"
}

// decodeNode runs yaml.v3, turning a panic of the library into an error: a bad file
// must never crash the starter.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return dec.Decode(n)
}
