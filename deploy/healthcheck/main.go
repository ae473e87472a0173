// Command healthcheck is the health probe of dcrflow's distroless images, which have no
// shell, curl or wget: it GETs every URL and exits 0 when each answers 2xx within the
// timeout, 1 otherwise (saying why on stderr), 2 on bad usage.
//
//	healthcheck [-timeout 3s] http://127.0.0.1:8181/_sandbox/health [URL...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", 3*time.Second, "for all the URLs together")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "healthcheck: give at least one URL")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	for _, u := range fs.Args() {
		if err := probe(ctx, u); err != nil {
			fmt.Fprintf(stderr, "healthcheck: %s: %v\n", u, err)
			return 1
		}
	}
	return 0
}

func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return errors.New(resp.Status)
	}
	return nil
}
