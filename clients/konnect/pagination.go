package konnect

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// pageSize is the largest page the sandbox and Konnect's examples use.
const pageSize = 100

type pageOf[T any] struct {
	Data []T `json:"data"`
	Meta struct {
		Page struct {
			Number float64 `json:"number"`
			Size   float64 `json:"size"`
			Total  float64 `json:"total"`
		} `json:"page"`
	} `json:"meta"`
}

// listAll follows page[number] from 1 until meta.page.total items are read (or a
// page comes back empty).
func listAll[T any](ctx context.Context, c *Client, op, path string, query url.Values) ([]T, error) {
	var all []T
	err := eachPage(ctx, c, op, path, query, func(page []T) error {
		all = append(all, page...)
		return nil
	})
	return all, err
}

// eachPage hands fn each page of a list, in order, as it arrives: a caller can
// heartbeat between pages, and stop early by returning an error. There is no fixed
// page cap: the list ends at the total its first page announced (or an empty page);
// a server whose pages run past that total by more than a page gives an answer that
// is not usable (ErrBadAnswer), never an endless loop.
func eachPage[T any](ctx context.Context, c *Client, op, path string, query url.Values, fn func([]T) error) error {
	read, maxPages := 0, 0
	for n := 1; ; n++ {
		if maxPages > 0 && n > maxPages {
			return &Error{Op: op, StatusCode: 200, Err: fmt.Errorf("page %d goes past the %d pages of the total its first page announced: %w", n, maxPages-1, ErrBadAnswer)}
		}
		q := url.Values{}
		for k, v := range query {
			q[k] = v
		}
		q.Set("page[size]", strconv.Itoa(pageSize))
		q.Set("page[number]", strconv.Itoa(n))
		var p pageOf[T]
		if err := c.do(ctx, call{op: op, method: "GET", path: path, query: q, out: &p}); err != nil {
			return err
		}
		if n == 1 {
			maxPages = int(p.Meta.Page.Total)/pageSize + 2 // the pages of the total, and one for items added meanwhile
		}
		read += len(p.Data)
		if err := fn(p.Data); err != nil {
			return err
		}
		if len(p.Data) == 0 || read >= int(p.Meta.Page.Total) {
			return nil
		}
	}
}

// findOne lists by exact name (filter[name][eq]) and keeps exact matches only:
// nil when none, ErrAmbiguous when several.
func findOne[T any](ctx context.Context, c *Client, op, path, kind, name string, nameOf func(T) string) (*T, error) {
	items, err := listAll[T](ctx, c, op, path, url.Values{"filter[name][eq]": {name}})
	if err != nil {
		return nil, err
	}
	var found []T
	for _, it := range items {
		if nameOf(it) == name { // the server's match is not trusted to be exact
			found = append(found, it)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return &found[0], nil
	default:
		return nil, fmt.Errorf("konnect: %s: %d %ss named %q: %w", op, len(found), kind, name, ErrAmbiguous)
	}
}

// resolve tries nameOrID as an id when it looks like a UUID, then as a name.
func resolve[T any](ctx context.Context, kind, nameOrID string,
	get func(context.Context, string) (*T, error), find func(context.Context, string) (*T, error)) (*T, error) {
	if looksLikeUUID(nameOrID) {
		t, err := get(ctx, nameOrID)
		if err == nil {
			return t, nil
		}
		if !IsNotFound(err) {
			return nil, err
		}
	}
	t, err := find(ctx, nameOrID)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("konnect: no %s with id or name %q: %w", kind, nameOrID, ErrNotFound)
	}
	return t, nil
}

func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
				return false
			}
		}
	}
	return true
}
