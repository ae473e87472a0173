// Command sandbox serves the Okta and Konnect emulators on loopback until stopped.
//
//	sandbox -okta-addr 127.0.0.1:8180 -konnect-addr 127.0.0.1:8181 [-fixture file.json] [-urls-file urls.json]
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dcrflow/dcrflow/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}

func run() error {
	oktaAddr := flag.String("okta-addr", "127.0.0.1:8180", "listen address of the Okta org (port 0 picks a free one)")
	konnectAddr := flag.String("konnect-addr", "127.0.0.1:8181", "listen address of the Konnect region")
	fixturePath := flag.String("fixture", "", "JSON fixture (default: the built-in one)")
	urlsFile := flag.String("urls-file", "", "write {\"okta_url\",\"konnect_url\"} here once listening")
	flag.Parse()

	fx := sandbox.DefaultFixture()
	if *fixturePath != "" {
		var err error
		if fx, err = sandbox.LoadFixture(*fixturePath); err != nil {
			return err
		}
	}
	sb, err := sandbox.Start(sandbox.Options{OktaAddr: *oktaAddr, KonnectAddr: *konnectAddr, Fixture: fx})
	if err != nil {
		return err
	}
	defer sb.Close()
	if *urlsFile != "" {
		b, _ := json.Marshal(map[string]string{"okta_url": sb.OktaURL(), "konnect_url": sb.KonnectURL()})
		if err := os.WriteFile(*urlsFile, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("sandbox ready: okta %s konnect %s (control API at <either>/_sandbox/)\n", sb.OktaURL(), sb.KonnectURL())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return sb.Close()
}
