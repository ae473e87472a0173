// Command dcrflow (built from this package: go build -o dcrflow ./starter) onboards
// Kong Konnect Dev Portals to Okta DCR through Temporal: it reads an onboarding file,
// checks it fully, and starts, plans, watches or offboards its portals' workflows,
// which a dcrflow worker runs.
//
//	dcrflow onboard  -f portals.yaml [--wait] [--portal a,b] [--max-concurrent 10]
//	dcrflow plan     -f portals.yaml [--portal a] [--detailed-exitcode]
//	dcrflow offboard -f portals.yaml [--portal a] [--wait]
//	dcrflow status   -f portals.yaml | --portal a,b
//	dcrflow decide   retry|abandon --portal a [--wait]
//	dcrflow version | completion bash|zsh|fish|powershell
//
// Every command takes -o text|json, the Temporal connection (--address, --namespace,
// --profile, TEMPORAL_* and the Temporal CLI's temporal.toml beneath dcrflow's own
// --config and DCRFLOW_* settings). Exit codes: 0 done, 1 something failed, 2 bad
// usage or input, 3 plan --detailed-exitcode found changes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
