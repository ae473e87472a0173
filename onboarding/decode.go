package onboarding

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

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

// Bounds on pathological files: aliases may make a small file expand a lot, and a
// broken generated file may hold thousands of problems.
const (
	maxVisits   = 1_000_000
	maxProblems = 1000
	maxMerge    = 8 // nested `<<:` merges
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
	visits  int
	blown   bool // aliases expanded past maxVisits: the walk is cut short, and quiet
}

func (p *parser) add(line int, portal, field, format string, args ...any) {
	if p.blown {
		return
	}
	if len(p.probs) >= maxProblems {
		p.dropped++
		return
	}
	p.probs = append(p.probs, problem{line: line, portal: portal, field: field, msg: fmt.Sprintf(format, args...)})
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

// readDoc parses raw into one YAML document; false when it could not (a problem says why).
func (p *parser) readDoc(raw []byte) (root *yaml.Node, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var doc yaml.Node
	err := decodeNode(dec, &doc)
	switch {
	case errors.Is(err, io.EOF):
		p.add(0, "", "", "the file is empty; list the portals to onboard under `portals:` (see examples/portals.yaml)")
		return nil, false
	case err != nil:
		p.yamlError(raw, err)
		return nil, false
	}
	var next yaml.Node
	switch err := decodeNode(dec, &next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.yamlError(raw, err)
		return nil, false
	case len(next.Content) > 0 && !isNull(next.Content[0]):
		p.add(next.Content[0].Line, "", "", "a second YAML document (after `---`); put every portal in one document, under one `portals:`")
	}
	if len(doc.Content) == 0 {
		p.add(0, "", "", "the file is empty; list the portals to onboard under `portals:` (see examples/portals.yaml)")
		return nil, false
	}
	return doc.Content[0], true
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

func lineHasTab(raw []byte, line int) bool {
	lines := bytes.Split(raw, []byte("\n"))
	for _, l := range []int{line - 1, line - 2} {
		if l >= 0 && l < len(lines) && bytes.ContainsRune(lines[l], '\t') {
			return true
		}
	}
	return false
}

// resolve follows an alias to its anchored node and counts the visit.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	p.visits++
	if p.visits > maxVisits && !p.blown {
		p.add(0, "", "", "the file's aliases (*name) expand to more than %d values; write the values out instead of nesting aliases", maxVisits)
		p.blown = true
	}
	if n == nil || n.Kind == yaml.AliasNode || p.blown {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "is X, expected Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "empty"
		case "!!int", "!!float":
			return "a number (" + clip(n.Value) + ")"
		case "!!bool":
			return "true/false (" + clip(n.Value) + ")"
		default:
			return "text (" + quote(n.Value) + ")"
		}
	}
	return "an unreadable value"
}

// entry is one key and value of a mapping, merges (`<<: *anchor`) applied.
type entry struct {
	key  string
	k, v *yaml.Node
}

// entries lists a mapping's keys, refusing non-text keys and keys given twice. Keys
// merged in with `<<:` give way to the mapping's own.
func (p *parser) entries(n *yaml.Node, portal, field string, depth int) []entry {
	var own, merged []entry
	firstAt := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := p.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.add(k.Line, portal, field, "a key is %s; keys are plain names such as `name`", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, p.merge(v, portal, field, depth)...)
			continue
		}
		if at, dup := firstAt[k.Value]; dup {
			p.add(k.Line, portal, join(field, k.Value), "given twice (first at line %d); keep one", at)
			continue
		}
		firstAt[k.Value] = k.Line
		own = append(own, entry{key: k.Value, k: k, v: v})
	}
	for _, e := range merged {
		if _, dup := firstAt[e.key]; !dup {
			firstAt[e.key] = e.k.Line
			own = append(own, e)
		}
	}
	return own
}

// merge reads the value of a `<<:` key: a mapping or a list of mappings, earlier ones winning.
func (p *parser) merge(v *yaml.Node, portal, field string, depth int) []entry {
	if depth >= maxMerge {
		p.add(v.Line, portal, join(field, "<<"), "merges nest more than %d deep; write the values out", maxMerge)
		return nil
	}
	v = p.resolve(v)
	var maps []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		maps = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, c := range v.Content {
			maps = append(maps, p.resolve(c))
		}
	default:
		maps = []*yaml.Node{v}
	}
	var out []entry
	seen := map[string]bool{}
	for _, m := range maps {
		if m.Kind != yaml.MappingNode {
			p.add(m.Line, portal, join(field, "<<"), "merges %s; `<<:` takes a mapping, e.g. `<<: *common`", describe(m))
			continue
		}
		for _, e := range p.entries(m, portal, field, depth+1) {
			if !seen[e.key] {
				seen[e.key] = true
				out = append(out, e)
			}
		}
	}
	return out
}

// fields walks a mapping: unknown keys are refused (with the closest known one),
// known ones handed to fn.
func (p *parser) fields(n *yaml.Node, portal, field, what string, known []string, fn func(key string, v *yaml.Node)) {
	for _, e := range p.entries(n, portal, field, 0) {
		if !slices.Contains(known, e.key) {
			p.unknown(e.k, portal, field, what, e.key, known)
			continue
		}
		fn(e.key, e.v)
	}
}

func (p *parser) unknown(k *yaml.Node, portal, field, what, key string, known []string) {
	hint := ""
	if s := closest(key, known); s != "" {
		hint = fmt.Sprintf(" (did you mean `%s`?)", s)
	}
	p.add(k.Line, portal, join(field, key), "unknown field%s; %s fields are %s: use one of them or remove this one", hint, what, strings.Join(known, ", "))
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// str reads a scalar as text. Numbers, booleans and dates are taken as written (an
// API id may look like a number); null, lists and mappings are refused.
func (p *parser) str(n *yaml.Node, portal, field, want string) text {
	n = p.resolve(n)
	t := text{line: n.Line, set: true}
	switch {
	case n.Kind != yaml.ScalarNode:
		p.add(n.Line, portal, field, "is %s, expected %s", describe(n), want)
	case isNull(n):
		p.add(n.Line, portal, field, "has no value; write %s, or leave the field out", want)
	case n.ShortTag() == "!!binary" || (n.Tag != "" && !strings.HasPrefix(n.Tag, "!!")):
		p.add(n.Line, portal, field, "has the YAML tag %s; write %s without a tag", clip(n.Tag), want)
	default:
		t.val = n.Value
		return t
	}
	t.bad = true
	return t
}

var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

// boolean reads true or false (and, as yaml.v3 does, unquoted yes/no/on/off).
func (p *parser) boolean(n *yaml.Node, portal, field string) flag {
	n = p.resolve(n)
	f := flag{line: n.Line, set: true}
	if n.Kind == yaml.ScalarNode {
		if n.ShortTag() == "!!bool" {
			if v, err := strconv.ParseBool(n.Value); err == nil {
				f.val = v
				return f
			}
		}
		if v, ok := yaml11Bools[n.Value]; ok && n.Style == 0 && n.ShortTag() == "!!str" {
			f.val = v
			return f
		}
	}
	why := "is " + describe(n)
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		why += " in quotes"
	}
	p.add(n.Line, portal, field, "%s, expected true or false; write `%s: true` or `%s: false` (no quotes)", why, lastPart(field), lastPart(field))
	f.bad = true
	return f
}

// validation reads `validate`: true or false, or how to validate (okta, konnect).
func (p *parser) validation(n *yaml.Node, portal, field string) (flag, text) {
	r := p.resolve(n)
	if r.Kind == yaml.ScalarNode && r.Style == 0 && r.ShortTag() == "!!str" && (r.Value == dcrflow.ValidateViaOkta || r.Value == dcrflow.ValidateViaKonnect) {
		return flag{val: true, line: r.Line, set: true}, text{val: r.Value, line: r.Line, set: true}
	}
	if r.Kind == yaml.ScalarNode && r.ShortTag() == "!!str" && !isNull(r) {
		if _, ok := yaml11Bools[r.Value]; !ok || r.Style != 0 {
			why := "is " + describe(r)
			if r.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
				why += " in quotes"
			}
			p.add(r.Line, portal, field, "%s, expected true, false, okta or konnect; write `%s: true` (dcrflow registers a test client itself), `%s: konnect` (also through a Konnect application) or `%s: false`, without quotes",
				why, lastPart(field), lastPart(field), lastPart(field))
			return flag{line: r.Line, set: true, bad: true}, text{}
		}
	}
	return p.boolean(n, portal, field), text{}
}

func lastPart(field string) string { return field[strings.LastIndex(field, ".")+1:] }

// seq returns a list's items, or reports the wrong type; null is an empty list.
func (p *parser) seq(n *yaml.Node, portal, field, want string) ([]*yaml.Node, bool) {
	n = p.resolve(n)
	switch {
	case n.Kind == yaml.SequenceNode:
		return n.Content, true
	case isNull(n):
		return nil, true
	}
	p.add(n.Line, portal, field, "is %s, expected %s", describe(n), want)
	return nil, false
}

// mapping resolves n and checks it is a mapping (null counts as an empty one).
func (p *parser) mapping(n *yaml.Node, portal, field, want string) (*yaml.Node, bool) {
	n = p.resolve(n)
	switch {
	case n.Kind == yaml.MappingNode:
		return n, true
	case isNull(n):
		return &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}, true
	}
	p.add(n.Line, portal, field, "is %s, expected %s", describe(n), want)
	return nil, false
}

func (p *parser) strList(n *yaml.Node, portal, field, want, item string) textList {
	items, ok := p.seq(n, portal, field, want)
	l := textList{line: p.resolve(n).Line, set: ok}
	for _, it := range items {
		l.items = append(l.items, p.str(it, portal, field, item))
	}
	return l
}

func (p *parser) labels(n *yaml.Node, portal, field string) labelMap {
	m, ok := p.mapping(n, portal, field, "a mapping of labels, e.g. `labels: {team: payments, env: prod}`")
	if !ok {
		return labelMap{line: n.Line, set: true}
	}
	lm := labelMap{line: m.Line, set: true}
	for _, e := range p.entries(m, portal, field, 0) {
		t := p.str(e.v, portal, join(field, e.key), "a label value (1 to 63 letters, digits, '-', '_' or '.')")
		lm.items = append(lm.items, label{key: e.key, val: t.val, line: e.k.Line, bad: t.bad})
	}
	return lm
}

// file walks the whole document.
func (p *parser) file(root *yaml.Node) (rawFile, bool) {
	var f rawFile
	root = p.resolve(root)
	if root.Kind != yaml.MappingNode {
		fix := "start the file with `portals:` followed by the list of portals"
		if root.Kind == yaml.SequenceNode {
			fix = "put this list under `portals:`"
		}
		p.add(root.Line, "", "", "the file is %s, expected a mapping with `portals:` (and optionally `defaults:`); %s", describe(root), fix)
		return f, false
	}
	var portals *yaml.Node
	p.fields(root, "", "", "the file's", topFields, func(key string, v *yaml.Node) {
		switch key {
		case "defaults":
			f.defaults = p.defaults(v)
		case "portals":
			portals = v
		}
	})
	if portals == nil {
		p.add(root.Line, "", "portals", "missing; list the portals to onboard under `portals:` (see examples/portals.yaml)")
		return f, false
	}
	items, ok := p.seq(portals, "", "portals", "a list of portals; write each as `- name: ...` under `portals:`")
	if !ok {
		return f, false
	}
	if len(items) == 0 {
		p.add(p.resolve(portals).Line, "", "portals", "the file lists no portal; add at least one under `portals:`")
		return f, false
	}
	for _, it := range items {
		if pt, ok := p.portal(it); ok {
			f.portals = append(f.portals, pt)
		}
	}
	return f, true
}

func (p *parser) defaults(n *yaml.Node) rawDefaults {
	var d rawDefaults
	m, ok := p.mapping(n, "", "defaults", "a mapping of default settings, e.g. `defaults: {auth_server: default}`")
	if !ok {
		return d
	}
	p.fields(m, "", "defaults", "`defaults:`'s", defaultsFields, func(key string, v *yaml.Node) {
		f := "defaults." + key
		switch key {
		case "auth_server":
			d.authServer = p.str(v, "", f, "the Okta authorization server's id or name")
		case "claim":
			d.claim = p.str(v, "", f, "a claim name such as client_id")
		case "dcr_token":
			d.dcrToken = p.str(v, "", f, "the NAME of a DCR token the worker holds, e.g. default")
		case "auth_methods":
			d.authMethods = p.strList(v, "", f, "a list of auth methods, e.g. [client_credentials, bearer]", "an auth method")
		case "visibility":
			d.visibility = p.str(v, "", f, "public or private")
		case "auto_approve":
			d.autoApprove = p.boolean(v, "", f)
		case "validate":
			d.validate, d.validateVia = p.validation(v, "", f)
		case "access_policy":
			d.accessPolicy = p.str(v, "", f, "check or ensure")
		case "on_failure":
			d.onFailure = p.str(v, "", f, "compensate or hold")
		case "labels":
			d.labels = p.labels(v, "", f)
		}
	})
	return d
}

// portalLabel finds what to call a portal in messages before reading it: its name,
// else its Konnect portal.
func (p *parser) portalLabel(m *yaml.Node) string {
	var name, portal string
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			continue
		}
		switch k.Value {
		case "name":
			name = v.Value
		case "portal":
			portal = v.Value
		}
	}
	return first(name, portal)
}

func (p *parser) portal(n *yaml.Node) (rawPortal, bool) {
	m := p.resolve(n)
	if m.Kind != yaml.MappingNode {
		fix := "write each portal as a mapping: `- name: payments` with its fields below"
		if m.Kind == yaml.ScalarNode && !isNull(m) {
			fix = fmt.Sprintf("write `- name: %s` and its `scopes:` below", clip(m.Value))
		}
		p.add(m.Line, "", "portals", "an entry is %s, expected a portal (a mapping); %s", describe(m), fix)
		return rawPortal{}, false
	}
	pt := rawPortal{line: m.Line}
	who := p.portalLabel(m)
	p.fields(m, who, "", "a portal's", portalFields, func(key string, v *yaml.Node) {
		switch key {
		case "name":
			pt.name = p.str(v, who, key, "the portal's key: lowercase letters, digits and '-'")
		case "portal":
			pt.portal = p.str(v, who, key, "the Konnect portal's name or id")
		case "auth_server":
			pt.authServer = p.str(v, who, key, "the Okta authorization server's id or name")
		case "claim":
			pt.claim = p.str(v, who, key, "a claim name such as client_id")
		case "on_failure":
			pt.onFailure = p.str(v, who, key, "compensate or hold")
		case "validate":
			pt.validate, pt.validateVia = p.validation(v, who, key)
		case "access_policy":
			pt.accessPolicy = p.str(v, who, key, "check or ensure")
		case "validation_owner":
			if om, ok := p.mapping(v, who, key, "a mapping, e.g. `validation_owner: {type: developer, id: <uuid>}`"); ok {
				ow := rawOwner{line: om.Line}
				p.fields(om, who, key, "validation_owner's", ownerFields, func(k string, v *yaml.Node) {
					switch k {
					case "type":
						ow.typ = p.str(v, who, "validation_owner.type", "developer or team")
					case "id":
						ow.id = p.str(v, who, "validation_owner.id", "the id (a UUID) of a developer or team of the portal")
					}
				})
				pt.owner = &ow
			}
		case "labels":
			pt.labels = p.labels(v, who, key)
		case "scopes":
			pt.scopesLine = p.resolve(v).Line
			items, ok := p.seq(v, who, key, "a list of scopes; write `scopes: [payments:read]` or one `- name` per line")
			pt.scopesBad = !ok
			for _, it := range items {
				if sc, ok := p.scope(it, who); ok {
					pt.scopes = append(pt.scopes, sc)
				} else {
					pt.scopesBad = true
				}
			}
		case "apis":
			items, _ := p.seq(v, who, key, "a list of APIs; write `apis: [payments-api]` or `apis: [{api: payments-api, visibility: public}]`")
			for _, it := range items {
				if a, ok := p.api(it, who); ok {
					pt.apis = append(pt.apis, a)
				}
			}
		case "dcr_provider":
			if pm, ok := p.mapping(v, who, key, "a mapping, e.g. `dcr_provider: {name: dcrflow-payments, dcr_token: default}`"); ok {
				pv := rawProvider{line: pm.Line}
				p.fields(pm, who, key, "dcr_provider's", providerFields, func(k string, v *yaml.Node) {
					switch k {
					case "name":
						pv.name = p.str(v, who, "dcr_provider.name", "the Konnect DCR provider's name")
					case "dcr_token":
						pv.dcrToken = p.str(v, who, "dcr_provider.dcr_token", "the NAME of a DCR token the worker holds, e.g. default")
					}
				})
				pt.provider = &pv
			}
		case "auth_strategy":
			if sm, ok := p.mapping(v, who, key, "a mapping, e.g. `auth_strategy: {name: dcrflow-payments, auth_methods: [client_credentials]}`"); ok {
				st := rawStrategy{line: sm.Line}
				p.fields(sm, who, key, "auth_strategy's", strategyFields, func(k string, v *yaml.Node) {
					switch k {
					case "name":
						st.name = p.str(v, who, "auth_strategy.name", "the Konnect auth strategy's name")
					case "display_name":
						st.displayName = p.str(v, who, "auth_strategy.display_name", "the name developers see in the portal")
					case "auth_methods":
						st.authMethods = p.strList(v, who, "auth_strategy.auth_methods", "a list of auth methods, e.g. [client_credentials, bearer]", "an auth method")
					}
				})
				pt.strategy = &st
			}
		}
	})
	return pt, true
}

// scope reads a bare name or {name, description}.
func (p *parser) scope(n *yaml.Node, who string) (rawScope, bool) {
	m := p.resolve(n)
	var sc rawScope
	switch m.Kind {
	case yaml.ScalarNode:
		sc.name = p.str(m, who, "scopes", "a scope name such as payments:read")
		return sc, true
	case yaml.MappingNode:
		es := p.entries(m, who, "scopes", 0)
		if len(es) == 1 && m.Style&yaml.FlowStyle == 0 && looksLikeScope(es[0].key) && p.resolve(es[0].v).Kind == yaml.ScalarNode {
			// `- payments: read` is a mapping; the space after ':' is the usual slip.
			e := es[0]
			p.add(e.k.Line, who, "scopes", "%s is a mapping because of the space after ':'; write the scope as %s, or as {name: ..., description: ...}",
				quote(e.key+": "+p.resolve(e.v).Value), quote(e.key+":"+p.resolve(e.v).Value))
			return sc, false
		}
		for _, e := range es {
			switch e.key {
			case "name":
				sc.name = p.str(e.v, who, "scopes.name", "a scope name such as payments:read")
			case "description":
				sc.description = p.str(e.v, who, "scopes.description", "a description")
			default:
				p.unknown(e.k, who, "scopes", "a scope's", e.key, scopeFields)
			}
		}
		if !sc.name.set {
			p.add(m.Line, who, "scopes", "a scope has no `name`; write {name: payments:read, description: ...}")
			return sc, false
		}
		return sc, true
	}
	p.add(m.Line, who, "scopes", "an entry is %s, expected a scope name or {name, description}", describe(m))
	return sc, false
}

// looksLikeScope tells `- payments: read` (a scope with a stray space) from a
// misspelt field such as `- descr: x`.
func looksLikeScope(key string) bool {
	if closest(key, scopeFields) != "" {
		return false
	}
	for _, f := range scopeFields {
		if strings.HasPrefix(f, key) {
			return false
		}
	}
	return true
}

// api reads a bare name/id or {api, visibility, auto_approve}.
func (p *parser) api(n *yaml.Node, who string) (rawAPI, bool) {
	m := p.resolve(n)
	a := rawAPI{line: m.Line}
	switch m.Kind {
	case yaml.ScalarNode:
		a.api = p.str(m, who, "apis", "the Konnect API's name or id")
		return a, true
	case yaml.MappingNode:
		p.fields(m, who, "apis", "an API entry's", apiFields, func(k string, v *yaml.Node) {
			switch k {
			case "api":
				a.api = p.str(v, who, "apis.api", "the Konnect API's name or id")
			case "visibility":
				a.visibility = p.str(v, who, "apis.visibility", "public or private")
			case "auto_approve":
				a.autoApprove = p.boolean(v, who, "apis.auto_approve")
			}
		})
		if !a.api.set {
			p.add(m.Line, who, "apis", "an API entry has no `api` (the Konnect API's name or id); write {api: payments-api, ...}")
			return a, false
		}
		return a, true
	}
	p.add(m.Line, who, "apis", "an entry is %s, expected an API name or {api, visibility, auto_approve}", describe(m))
	return a, false
}

// closest returns the known name nearest to s (edit distance at most 2), or "".
func closest(s string, known []string) string {
	if len(s) > 64 {
		return ""
	}
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(s), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// quote quotes a value for a message, shortened when long.
func quote(s string) string {
	return strconv.Quote(clip(s))
}

func clip(s string) string {
	const max = 60
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max]) + "…"
}
