package activities

import (
	"context"
	"sync"

	"github.com/dcrflow/dcrflow/usage"
)

// joinAll joins several resources of one domain at once (join each): one round trip
// to the record's workflows instead of one after the other.
func (a *Activities) joinAll(ctx context.Context, domain string, keys []usage.Key, portal string) error {
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = a.join(ctx, domain, k, portal)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
