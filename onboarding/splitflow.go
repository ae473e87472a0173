package onboarding

import "bytes"

// A file whose portals are a flow list, `portals: [{name: a, ...}, ...]` (and a JSON
// file, `{"portals": [...]}`), is read in pieces too: its items are found by their
// commas, outside quotes, comments and nested brackets, and each batch of them is read
// as a flow list of its own. As for a block list, anything whose meaning could depend
// on what surrounds an item (an anchor, a directive, a piece that does not read
// alone) makes the file read whole.

// findFlowPortals finds the items of the file's `portals: [...]` list, written as the
// value of the only `portals` key, on the key's line, each item a mapping `{...}`. It
// reports false for any other shape. The head keeps the file's bytes around the list, the list blanked out.
func findFlowPortals(raw []byte) (layout, bool) {
	var l layout
	if mayHoldAnchors(raw) || bareCR(raw) || len(raw) > 0 && raw[0] == '%' || bytes.Contains(raw, []byte("\n%")) {
		return l, false
	}
	var (
		line, depth = 1, 0
		keys        int  // `portals` keys seen
		listAt      = -1 // the list's '[' once found (or due at)
		listDepth   int  // depth outside the list
		listEnd     = -1 // its ']'
		itemStart   = -1 // the item being read
		itemLine    int
		lineStart   = 0
		inList      = func() bool { return listAt >= 0 && listEnd < 0 && depth == listDepth+1 }
		startItem   = func(i int) {
			if inList() && itemStart < 0 {
				itemStart, itemLine = i, line
			}
		}
	)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		atTokenStart := i == 0 || blank(raw[i-1]) || bytes.IndexByte([]byte("[{,"), raw[i-1]) >= 0
		switch {
		case c == '\n':
			line++
			lineStart = i + 1
		case c == '#' && (i == 0 || blank(raw[i-1])):
			if end := bytes.IndexByte(raw[i:], '\n'); end >= 0 {
				i += end - 1
			} else {
				i = len(raw)
			}
		case (c == '"' || c == '\'') && (atTokenStart || raw[i-1] == ':' && depth > 0):
			end := quoteEnd(raw, i)
			if end < 0 {
				return l, false
			}
			startItem(i)
			if string(raw[i+1:end]) == "portals" {
				keys++
				if due, ok := flowListAfterKey(raw, end+1, true); ok && (depth == 1 || depth == 0 && i == lineStart) {
					listAt, listDepth = due, depth
				}
			}
			line += bytes.Count(raw[i:end], []byte("\n"))
			if nl := bytes.LastIndexByte(raw[i:end], '\n'); nl >= 0 {
				lineStart = i + nl + 1
			}
			i = end
		case c == '[' || c == '{':
			if i == listAt {
				if depth != listDepth {
					return l, false
				}
			} else {
				startItem(i)
			}
			depth++
		case c == ']' || c == '}':
			if depth == listDepth+1 && listAt >= 0 && listEnd < 0 {
				if c != ']' {
					return l, false
				}
				if itemStart >= 0 && !l.add(raw, itemStart, i, itemLine) {
					return layout{}, false
				}
				listEnd = i
			}
			depth--
			if depth < 0 {
				return l, false
			}
		case c == ',':
			if inList() {
				if itemStart < 0 {
					return l, false // an empty item: YAML refuses it, as reading whole says
				}
				if !l.add(raw, itemStart, i, itemLine) {
					return layout{}, false
				}
				itemStart = -1
			}
		case !blank(c):
			startItem(i)
			if atTokenStart && bytes.HasPrefix(raw[i:], []byte("portals")) {
				if after := raw[i+len("portals"):]; len(after) > 0 && (after[0] == ':' || after[0] == ' ') {
					keys++
					if due, ok := flowListAfterKey(raw, i+len("portals"), false); ok && (depth == 1 || depth == 0 && i == lineStart) {
						listAt, listDepth = due, depth
					}
				}
			}
			// The rest of a plain token: up to a blank or a flow indicator.
			for i+1 < len(raw) && !blank(raw[i+1]) && bytes.IndexByte([]byte("[]{},#\"'"), raw[i+1]) < 0 {
				i++
			}
		}
	}
	if keys != 1 || listEnd < 0 || depth != 0 || len(l.items) == 0 {
		return layout{}, false
	}
	l.portalsLine = int(bytes.Count(raw[:listAt], []byte("\n"))) + 1
	l.flow = true
	l.head = bytes.Clone(raw)
	for i := listAt; i <= listEnd; i++ {
		if l.head[i] != '\n' {
			l.head[i] = ' '
		}
	}
	return l, true
}

// add adds the item raw[start:end] of a flow list, when it is a mapping `{...}`, a
// portal as written: a file with other items is read whole, as a flow list of a few
// bytes an item is refused whole for what it would cost.
func (l *layout) add(raw []byte, start, end, line int) bool {
	if raw[start] != '{' {
		return false
	}
	l.items = append(l.items, span{start: int32(start), end: int32(end), line: int32(line)})
	l.maps++
	return true
}

// flowListAfterKey says where a `[` is due after a key ending before at: a ':' (right
// after a quoted key; after a blank for a plain one), spaces, then '['.
func flowListAfterKey(raw []byte, at int, quoted bool) (int, bool) {
	for at < len(raw) && raw[at] == ' ' {
		at++
	}
	if at >= len(raw) || raw[at] != ':' {
		return 0, false
	}
	at++
	if !quoted && (at >= len(raw) || raw[at] != ' ') {
		return 0, false
	}
	for at < len(raw) && raw[at] == ' ' {
		at++
	}
	if at >= len(raw) || raw[at] != '[' {
		return 0, false
	}
	return at, true
}

// quoteEnd is the offset of the quote that closes the quoted scalar opened at start,
// or -1: `\` escapes in a double-quoted one, `”` is a quote in a single-quoted one.
func quoteEnd(raw []byte, start int) int {
	q := raw[start]
	for i := start + 1; i < len(raw); i++ {
		switch {
		case q == '"' && raw[i] == '\\':
			i++
		case raw[i] == q && q == '\'' && i+1 < len(raw) && raw[i+1] == '\'':
			i++
		case raw[i] == q:
			return i
		}
	}
	return -1
}
