package doctor

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	tlog "go.temporal.io/sdk/log"

	"github.com/dcrflow/dcrflow/clients/konnect"
	"github.com/dcrflow/dcrflow/clients/okta"
	"github.com/dcrflow/dcrflow/config"
	"github.com/dcrflow/dcrflow/internal/wiring"
	"github.com/dcrflow/dcrflow/launcher"
)

// FromConfig builds doctor's dependencies from the worker's configuration: the
// same clients as a worker (with Headroom's observers), and a Temporal check that
// dials and describes the namespace. Portals are left to the caller.
func FromConfig(cfg config.Worker, logger tlog.Logger) (Deps, error) {
	h := NewHeadroom()
	oc := cfg.Okta.ClientConfig()
	oc.HTTPClient, oc.Observer = &http.Client{}, h.ObserveOkta
	o, err := okta.New(oc)
	if err != nil {
		return Deps{}, fmt.Errorf("okta settings: %w", err)
	}
	k, err := konnect.New(konnect.Config{Region: cfg.Konnect.Region, BaseURL: cfg.Konnect.BaseURL, Token: cfg.Konnect.Token, Observer: h.ObserveKonnect})
	if err != nil {
		return Deps{}, fmt.Errorf("konnect settings: %w", err)
	}
	region := cfg.Konnect.Region
	if region == "" {
		region = k.BaseURL()
	}
	t := cfg.Temporal
	return Deps{Okta: o, DCRTokens: cfg.DCRTokens, Konnect: k, Region: region, KonnectRPM: cfg.RateLimits.KonnectRPM, Headroom: h,
		Temporal: func(ctx context.Context) (string, error) {
			ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			c, err := wiring.DialTemporal(ctx, t, logger, cfg.Codec.PayloadCodec())
			if err != nil {
				return "", fmt.Errorf("cannot reach Temporal at %s: %v", t.Address, err)
			}
			defer c.Close()
			ns, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: t.Namespace})
			if err != nil {
				return "", fmt.Errorf("namespace %q at %s: %v", t.Namespace, t.Address, err)
			}
			return fmt.Sprintf("namespace %s (%s) at %s, task queue %s", t.Namespace, ns.GetNamespaceInfo().GetState(), t.Address, t.TaskQueue), nil
		},
		TokenAges: TokenAgeDeps{MaxDays: cfg.Rotation.MaxTokenAgeDays, Ages: func(ctx context.Context, names []string) ([]launcher.TokenAge, error) {
			ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			c, err := wiring.DialTemporal(ctx, t, logger, cfg.Codec.PayloadCodec())
			if err != nil {
				return nil, err
			}
			defer c.Close()
			return launcher.TokenAges(ctx, c, names)
		}}}, nil
}
