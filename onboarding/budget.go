package onboarding

// Budgets of what reading a file may cost, in proportion to its size: the heap's peak
// stays within wholeFactor times the file plus wholeFixed, and within wholeCap
// whatever the file, for every shape of file the reader accepts to parse. Each budget
// is checked before the memory it bounds is taken, and its refusal says what to
// change.

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"
)

// A yaml.v3 tree costs up to about 410 bytes of heap a value valueBound counts (a
// flow list of one-letter items, the worst shape measured; usual files cost 100 to
// 250), and a long comment a few copies of itself: 500 with a margin. Every tree
// built at once is kept within wholeBudget of the file: a file read whole (anchors,
// directives, portals not a list of mappings) or the head of a file read in pieces,
// whose tree is held to the end; and within pieceBudget for a portal read alone
// (batchBudget for several).
const (
	bytesPerValue = 500
	wholeFactor   = 30        // times the file's size ...
	wholeFixed    = 16 << 20  // ... plus this ...
	wholeCap      = 150 << 20 // ... and never more than this, however large the file
	pieceBudget   = wholeFixed / bytesPerValue
	// Several portals are read at once within a quarter of that: the portals read
	// keep about 900 bytes each (their specs), which the rest pays for.
	batchBudget = pieceBudget / 4
)

// wholeBudget is the most values (as valueBound counts them) a tree read at once from
// a file of size bytes may hold.
func wholeBudget(size int) int {
	return min(wholeFactor*size+wholeFixed, wholeCap) / bytesPerValue
}

// tooManyToReadWhole refuses a file read whole whose tree could cost more than
// wholeBudget, before yaml.v3 builds it. Where most of the values are in one field of
// a portal (labels, scopes, ...), the problem names that field, its line and portal.
func (p *parser) tooManyToReadWhole(raw []byte) bool {
	values, budget := valueBound(raw), wholeBudget(len(raw))
	if values <= budget {
		return false
	}
	at := crowded(raw)
	if fix, ok := crowdedFix[at.key]; ok {
		field := at.key
		if at.inDefaults {
			field = "defaults." + field
		}
		p.add(at.line, at.portal, field, "holds up to %d values (keys, items and their values), too many to read; %s", values, fix)
		return true
	}
	where := ""
	if at.line > 0 {
		where = fmt.Sprintf(", most of them from line %d", at.line)
	}
	p.add(0, "", "", "holds up to %d values (keys, items and their values)%s; a file read whole (one with anchors (&name, *name) or `%%` directives, portals not written as a list of mappings under `portals:`, a portal too large to read alone, or more than that besides its portals) may hold %d in %s: write the portals as a block list (`- name: ...`) without anchors, or split them into several files",
		values, where, budget, approxSize(len(raw)))
	return true
}

// bytesPerExpanded is what a value an alias expands to costs: each portal read keeps
// its own copy of what its aliases stand for (measured: 135 to 185 bytes a value; 260
// with a margin).
const bytesPerExpanded = 260

// aliasesTooCostly refuses a file whose aliases expand to more values than its budget
// leaves beside its tree (root, of nodes values): a small file of many aliases would
// otherwise cost hundreds of times its size.
func (p *parser) aliasesTooCostly(raw []byte, root *yaml.Node, expanded int) bool {
	if expanded == 0 {
		return false
	}
	promise := min(wholeFactor*len(raw)+wholeFixed, wholeCap)
	left := max(promise-nodes(root)*bytesPerValue, 0) / bytesPerExpanded
	if expanded <= left {
		return false
	}
	p.add(0, "", "", "the file's aliases (*name) expand to %d values, more than the %d a file of %s may add to its own; write the portals without anchors and aliases (the file is then read a few portals at a time), or split them into several files",
		expanded, left, approxSize(len(raw)))
	return true
}

// nodes is how many values the tree under n holds, aliases not expanded.
func nodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += nodes(k)
	}
	return c
}

// A portal with labels of its own gets a copy of the defaults' labels beside them
// (about 70 bytes a label; 120 with a margin): a short line a portal can thus cost
// kilobytes. What the copies may take is what the budget of the file leaves beside
// the portals read (at most 24 times the file, measured).
const (
	bytesPerCopy  = 120
	portalsFactor = 24
)

// copyBudget is how many of the defaults' labels a file of size bytes may copy into
// its portals.
func copyBudget(size int) int {
	return max(min(wholeFactor*size+wholeFixed, wholeCap)-portalsFactor*size, 0) / bytesPerCopy
}

// tooManyCopies refuses, at the portal where it happens, copying the defaults' labels
// past copyBudget (mergeLabels stops copying then).
func (p *parser) tooManyCopies(d labelMap, r rawPortal, who string) {
	if p.copied <= copyBudget(p.size) || p.copyRefused {
		return
	}
	p.copyRefused = true
	p.add(firstNonZero(r.labels.line, r.line), who, "labels", "the defaults' %d labels go into every portal with labels of its own, %d copies up to here, more than the %d a file of %s may hold; keep fewer labels in defaults, or split the portals into several files",
		len(d.items), p.copied, copyBudget(p.size), approxSize(p.size))
}

// approxSize writes a file's size for a message: 1.2 MB, 640 KB.
func approxSize(n int) string {
	if n >= 1e6 {
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%d KB", max(n/1000, 1))
}

// crowdedFix says, for a field of a portal that may be found to hold most of a file's
// values, how many it may hold.
var crowdedFix = map[string]string{
	"labels":       "Konnect allows at most 50 labels per resource (47 besides dcrflow's own): keep those you need and remove the rest",
	"scopes":       "a Konnect auth strategy holds at most 50 scopes: keep those you need and remove the rest",
	"apis":         "no portal needs this many APIs: list each API once, and split the portal into several if it must publish more",
	"auth_methods": "there are a handful of auth methods (client_credentials, bearer, session): list each once",
}

// spot is where most of a file's values are, as crowded finds it.
type spot struct {
	line       int
	key        string // the field on that line, when it is one of the onboarding file
	portal     string // the name of the portal it is in, when written `- name: x`
	inDefaults bool
}

// crowded finds the innermost block of lines (a line and those indented below it)
// that holds more than half of raw's values, as valueBound counts them line by line.
// It is a hint for a message, read from the text alone (a value over several lines
// counts where its lines are).
func crowded(raw []byte) spot {
	type block struct {
		depth, values int
		spot
	}
	var (
		stack []block
		total int
		at    spot
		found bool
	)
	closeTo := func(depth int) { // close the blocks at depth or deeper
		for len(stack) > 0 && stack[len(stack)-1].depth >= depth {
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !found && 2*top.values > total {
				at, found = top.spot, true
			}
			if len(stack) > 0 {
				stack[len(stack)-1].values += top.values
			}
		}
	}
	// First pass: the total, so that the blocks can be compared with it as they close.
	forLines(raw, func(_ int, text []byte) { total += lineValues(text) })
	forLines(raw, func(n int, text []byte) {
		body := bytes.TrimLeft(text, " ")
		if len(body) == 0 || body[0] == '#' {
			return
		}
		// An item `- ` sits below a key at its own indentation: `portals:\n- a`.
		depth := 2 * (len(text) - len(body))
		item := body[0] == '-' && (len(body) == 1 || blank(body[1]))
		if item {
			depth++
			body = bytes.TrimLeft(body[1:], " ")
		}
		closeTo(depth)
		b := block{depth: depth, values: lineValues(text), spot: spot{line: n, key: fieldKey(body)}}
		if len(stack) > 0 {
			up := stack[len(stack)-1].spot
			b.portal, b.inDefaults = up.portal, up.inDefaults || up.key == "defaults" && !item
			if name, ok := bytes.CutPrefix(body, []byte("name: ")); ok && item && up.key == "portals" && plainName.Match(name) {
				b.portal = string(name) // an item of `portals:` written `- name: x`
			}
		}
		stack = append(stack, b)
	})
	closeTo(-1)
	return at
}

// plainName is a portal's name as crowded takes it from a line: plain text alone.
var plainName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// forLines calls fn with each line of raw (without its break) and its number.
func forLines(raw []byte, fn func(n int, text []byte)) {
	for n := 1; len(raw) > 0; n++ {
		text, rest, _ := bytes.Cut(raw, []byte("\n"))
		fn(n, bytes.TrimSuffix(text, []byte("\r")))
		raw = rest
	}
}

// lineValues is valueBound of one line, without what valueBound counts for any text.
func lineValues(text []byte) int { return valueBound(text) - valueBound(nil) }

// fieldKey is the key a line starts with (`labels:`, `labels: {...}`) when it is a
// field of the onboarding file, else "" (nothing else of the file is echoed).
func fieldKey(body []byte) string {
	k, _, ok := bytes.Cut(body, []byte(":"))
	if !ok {
		return ""
	}
	for _, fields := range [][]string{topFields, defaultsFields, portalFields} {
		if i := slices.Index(fields, string(k)); i >= 0 {
			return fields[i]
		}
	}
	return ""
}

// bytesPerPortal is what a portal read keeps (its spec, its lines; measured: about
// 700 bytes for an empty one): a file of empty portals, `- {}`, would cost 150 times
// its size. A valid portal takes 20 bytes or more of the file (a name and a scope).
const bytesPerPortal = 800

// portalBudget is how many portals a file of size bytes may list.
func portalBudget(size int) int {
	return min(wholeFactor*size+wholeFixed, wholeCap) / bytesPerPortal
}

// tooManyPortals refuses a file that lists more portals than portalBudget, before any
// is read.
func (p *parser) tooManyPortals(n int) bool {
	if n <= portalBudget(p.size) {
		return false
	}
	p.add(0, "", "portals", "lists %d portals in %s, more than the %d a file of its size may hold (a portal takes about 800 bytes to check, and a valid one needs at least a name and a scope); give each portal its name and scopes, or split the portals into several files",
		n, approxSize(p.size), portalBudget(p.size))
	return true
}
