package okta

import (
	"context"
	"fmt"
	"net/url"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// pageSize is Okta's largest page.
const pageSize = 200

func firstPage(q string) *query.Params { return &query.Params{Q: q, Limit: pageSize} }

// allPages follows Link rel="next" from a first page to the last.
func allPages[T any](ctx context.Context, items []*T, resp *oktasdk.Response, err error) ([]*T, *oktasdk.Response, error) {
	seen := map[string]bool{}
	for err == nil && resp != nil && resp.HasNextPage() {
		if seen[resp.NextPage] {
			return nil, resp, fmt.Errorf("pagination: the next link repeats: %w", ErrBadAnswer)
		}
		seen[resp.NextPage] = true
		var page []*T
		resp, err = resp.Next(ctx, &page)
		items = append(items, page...)
	}
	return items, resp, err
}

// segment escapes an id for use as one path segment.
func segment(id string) string { return url.PathEscape(id) }
