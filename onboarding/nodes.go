package onboarding

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dcrflow/dcrflow"
	"github.com/dcrflow/dcrflow/internal/textsafe"
)

// resolve follows an alias to its anchored node. What aliases expand to is bounded
// before the walk (expansion), so every visit is affordable.
func (p *parser) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
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
		if !p.harmless(k.Value, k.Line, portal, join(field, "(a key)")) {
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

// join names a field under another; a key from the file is clipped (and a secret in
// it hidden), for the field is part of every message about it.
func join(field, key string) string {
	key = clip(key)
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
	case !p.harmless(n.Value, n.Line, portal, field):
	default:
		t.val = n.Value
		return t
	}
	t.bad = true
	return t
}

// harmless refuses a value that holds a secret (it would end up in workflow
// histories, logs and Konnect labels) or an invisible character, without echoing the
// secret; it reports whether the value is neither.
func (p *parser) harmless(v string, line int, portal, field string) bool {
	if sec, found := textsafe.FindSecret(v); found {
		if lastPart(field) == "dcr_token" {
			p.add(line, portal, field, "holds %s itself (%s); the file names the DCR token (e.g. default) and only the worker holds its value (dcr_tokens.<name> or DCRFLOW_DCR_TOKEN_<NAME>): remove the token from this file and revoke it", sec.Kind, sec.Shown(v))
		} else {
			p.add(line, portal, field, "holds what looks like %s (%s); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it", sec.Kind, sec.Shown(v))
		}
		return false
	}
	if r, _, found := textsafe.Invisible(v); found {
		p.add(line, portal, field, "%s holds %s, an invisible character that can make a name read differently from what it is; remove it", quote(v), textsafe.RuneName(r))
		return false
	}
	return true
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
