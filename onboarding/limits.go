package onboarding

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
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

// A yaml.v3 tree costs up to about 410 bytes (450 with a margin) of heap a value valueBound counts (a
// flow list of one-letter items, the worst shape measured; usual files cost 100 to
// 250). Every tree built at once is kept within wholeBudget of the file: a file read
// whole (anchors, several documents, portals not a block list) or the head of a file
// read in pieces, whose tree is held to the end; and within pieceBudget for a batch
// of portals read alone.
const (
	bytesPerValue = 450
	wholeFactor   = 30        // times the file's size ...
	wholeFixed    = 16 << 20  // ... plus this ...
	wholeCap      = 150 << 20 // ... and never more than this, however large the file
	pieceBudget   = wholeFixed / bytesPerValue
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
// its own copy of what its aliases stand for (measured: 135 to 185 bytes a value; 260 with a margin).
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
