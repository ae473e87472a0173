package okta

import (
	"net/http"
	"net/url"
	"strconv"
)

// maxLimit is both the default and the ceiling of limit on the lists served here.
const maxLimit = 200

// listLimit reads ?limit=, clamped to 1..200; absent or unreadable means 200.
func listLimit(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= 0 || n > maxLimit {
		return maxLimit
	}
	return n
}

// paginate returns the page after the cursor (the id of the previous page's last
// item) and whether more follow. Items are in creation order. A cursor this org
// never issued yields an empty page.
func paginate[T any](o *orgState, items []T, seqOf func(T) int64, after string, limit int) ([]T, bool) {
	var from int64
	if after != "" {
		s, ok := o.seqOf[after]
		if !ok {
			return []T{}, false
		}
		from = s
	}
	page := make([]T, 0, min(limit, len(items)))
	for _, it := range items {
		if seqOf(it) <= from {
			continue
		}
		if len(page) == limit {
			return page, true
		}
		page = append(page, it)
	}
	return page, false
}

// setLinks writes Okta's Link headers: self, and next when more follow, keeping
// the request's other parameters.
func (e *Emulator) setLinks(w http.ResponseWriter, r *http.Request, limit int, lastID string, more bool) {
	q := r.URL.Query()
	self := e.opts.BaseURL + r.URL.Path
	if len(q) > 0 {
		self += "?" + q.Encode()
	}
	w.Header().Add("Link", "<"+self+`>; rel="self"`)
	if !more {
		return
	}
	next := url.Values{}
	for k, v := range q {
		next[k] = v
	}
	next.Set("after", lastID)
	next.Set("limit", strconv.Itoa(limit))
	w.Header().Add("Link", "<"+e.opts.BaseURL+r.URL.Path+"?"+next.Encode()+`>; rel="next"`)
}

// lastID is the cursor for the page after page.
func lastID[T any](page []T, id func(T) string) string {
	if len(page) == 0 {
		return ""
	}
	return id(page[len(page)-1])
}
