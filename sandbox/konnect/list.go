package konnect

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Paging bounds. Konnect documents no maximum page size; the sandbox refuses more
// than 100 so that a client relying on larger pages is caught early.
const (
	defaultPageSize = 10
	maxPageSize     = 100
)

type fieldKind int

const (
	kindString fieldKind = iota // ops eq, oeq, neq, contains, ocontains, or a bare value
	kindUUID                    // ops eq, oeq, neq, or a bare value
	kindBool                    // a bare true/false only
)

var opsByKind = map[fieldKind][]string{
	kindString: {"contains", "eq", "neq", "ocontains", "oeq"},
	kindUUID:   {"eq", "neq", "oeq"},
}

// filterField reads one filterable field; ok=false means the value is null.
type filterField[T any] struct {
	kind fieldKind
	get  func(T) (string, bool)
}

// listSpec describes what a collection can be filtered and sorted by.
type listSpec[T any] struct {
	filters map[string]filterField[T]
	labels  func(T) map[string]string // non-nil: filter[labels.<key>] is accepted
	sorts   map[string]func(T) string
}

var filterKey = regexp.MustCompile(`^filter\[([^\[\]]+)\](?:\[([^\[\]]+)\])?$`)

func queryParam(field, rule, reason string) InvalidParameter {
	return InvalidParameter{Field: field, Rule: rule, Source: "query", Reason: reason}
}

// page reads page[size] and page[number] (1-based).
func page(q url.Values) (number, size int, params []InvalidParameter) {
	number, size = 1, defaultPageSize
	read := func(key string, dst *int, max int) {
		raw := q.Get(key)
		if raw == "" {
			return
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			params = append(params, queryParam(key, "is_number", `"`+key+`" must be a number`))
			return
		}
		if n < 1 {
			one := 1
			params = append(params, InvalidParameter{Field: key, Rule: "min", Minimum: &one, Source: "query", Reason: `"` + key + `" must be at least 1`})
			return
		}
		if max > 0 && n > max {
			params = append(params, InvalidParameter{Field: key, Rule: "max", Maximum: &max, Source: "query", Reason: `"` + key + `" must be at most ` + strconv.Itoa(max)})
			return
		}
		*dst = n
	}
	read("page[size]", &size, maxPageSize)
	read("page[number]", &number, 0)
	return number, size, params
}

// predicates turns the filter[...] parameters into tests; all must hold.
func (s listSpec[T]) predicates(q url.Values) ([]func(T) bool, []InvalidParameter) {
	var preds []func(T) bool
	var params []InvalidParameter
	keys := make([]string, 0, len(q))
	for k := range q {
		if strings.HasPrefix(k, "filter") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, key := range keys {
		m := filterKey.FindStringSubmatch(key)
		if m == nil {
			params = append(params, queryParam(key, "invalid", "is not a valid filter; use filter[field] or filter[field][op]"))
			continue
		}
		name, op, value := m[1], m[2], q.Get(key)
		f, ok := s.field(name)
		if !ok {
			params = append(params, choice(key, "query", s.fieldNames()...))
			continue
		}
		p, bad := f.predicate(key, op, value)
		if bad != nil {
			params = append(params, *bad)
			continue
		}
		preds = append(preds, p)
	}
	return preds, params
}

func (s listSpec[T]) field(name string) (filterField[T], bool) {
	if f, ok := s.filters[name]; ok {
		return f, true
	}
	if key, ok := strings.CutPrefix(name, "labels."); ok && s.labels != nil && key != "" {
		return filterField[T]{kind: kindString, get: func(t T) (string, bool) {
			v, ok := s.labels(t)[key]
			return v, ok
		}}, true
	}
	return filterField[T]{}, false
}

func (s listSpec[T]) fieldNames() []string {
	names := make([]string, 0, len(s.filters)+1)
	for n := range s.filters {
		names = append(names, n)
	}
	if s.labels != nil {
		names = append(names, "labels.<key>")
	}
	sort.Strings(names)
	return names
}

func (f filterField[T]) predicate(key, op, value string) (func(T) bool, *InvalidParameter) {
	if f.kind == kindBool {
		if op != "" {
			p := queryParam(key, "invalid", "boolean filters take no operator")
			return nil, &p
		}
		want, err := strconv.ParseBool(value)
		if err != nil {
			p := queryParam(key, "is_boolean", "must be true or false")
			return nil, &p
		}
		return func(t T) bool { v, ok := f.get(t); return ok && v == strconv.FormatBool(want) }, nil
	}
	if op == "" {
		op = "eq"
	}
	allowed := opsByKind[f.kind]
	if i := sort.SearchStrings(allowed, op); i == len(allowed) || allowed[i] != op {
		p := choice(key, "query", allowed...)
		return nil, &p
	}
	list := strings.Split(value, ",")
	lower := strings.ToLower(value)
	return func(t T) bool {
		v, ok := f.get(t)
		switch op {
		case "neq":
			return !ok || v != value
		case "eq":
			return ok && v == value
		case "oeq":
			for _, x := range list {
				if ok && v == x {
					return true
				}
			}
			return false
		case "contains": // case-insensitive, as a search box is
			return ok && strings.Contains(strings.ToLower(v), lower)
		default: // ocontains
			for _, x := range list {
				if ok && strings.Contains(strings.ToLower(v), strings.ToLower(x)) {
					return true
				}
			}
			return false
		}
	}, nil
}

// ordering reads sort=field[ desc],... ; nil means creation order.
func (s listSpec[T]) ordering(q url.Values) (func(a, b T) int, []InvalidParameter) {
	raw := strings.TrimSpace(q.Get("sort"))
	if raw == "" {
		return nil, nil
	}
	type key struct {
		get  func(T) string
		desc bool
	}
	var keys []key
	for _, part := range strings.Split(raw, ",") {
		name, dir, _ := strings.Cut(strings.TrimSpace(part), " ")
		get, ok := s.sorts[name]
		dir = strings.TrimSpace(dir)
		if !ok || (dir != "" && dir != "asc" && dir != "desc") {
			names := make([]string, 0, len(s.sorts))
			for n := range s.sorts {
				names = append(names, n)
			}
			sort.Strings(names)
			return nil, []InvalidParameter{choice("sort", "query", names...)}
		}
		keys = append(keys, key{get, dir == "desc"})
	}
	return func(a, b T) int {
		for _, k := range keys {
			c := strings.Compare(k.get(a), k.get(b))
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}, nil
}

type pageMeta struct {
	Number int `json:"number"`
	Size   int `json:"size"`
	Total  int `json:"total"`
}

type listBody[T any] struct {
	Data []T `json:"data"`
	Meta struct {
		Page pageMeta `json:"page"`
	} `json:"meta"`
}

// serveList filters, sorts and pages items (given in creation order) and writes the
// list answer, or the 400 for bad query parameters.
func serveList[T any](w http.ResponseWriter, r *http.Request, items []T, spec listSpec[T]) {
	q := r.URL.Query()
	number, size, params := page(q)
	preds, fparams := spec.predicates(q)
	cmp, sparams := spec.ordering(q)
	params = append(append(params, fparams...), sparams...)
	if len(params) > 0 {
		writeInvalid(w, params)
		return
	}
	kept := items[:0:0]
	for _, it := range items {
		match := true
		for _, p := range preds {
			if !p(it) {
				match = false
				break
			}
		}
		if match {
			kept = append(kept, it)
		}
	}
	if cmp != nil {
		sort.SliceStable(kept, func(i, j int) bool { return cmp(kept[i], kept[j]) < 0 })
	}
	var body listBody[T]
	body.Meta.Page = pageMeta{Number: number, Size: size, Total: len(kept)}
	body.Data = []T{}
	if pages := (len(kept) + size - 1) / size; number <= pages { // compared first: no overflow
		start := (number - 1) * size
		body.Data = kept[start:min(start+size, len(kept))]
	}
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, http.StatusInternalServerError, "could not encode the answer", nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
