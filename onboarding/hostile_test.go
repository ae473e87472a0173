package onboarding

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dcrflow/dcrflow/internal/costtest"
)

// Tokens as a careless user pastes them (made up, of the real shapes).
const (
	kpatToken = "kpat_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefgh"
	spatToken = "spat_ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210zyxwvuts"
	oktaToken = "00AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"
	jwtToken  = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
)

// hostileFiles are files a careless or hostile user may hand the starter. Each is
// refused with exactly the problems listed (whole lines; n in all), within a bound
// on time and on the heap measured while it is read, and without echoing a secret
// or more than a clipped piece of any value.
var hostileFiles = []struct {
	name   string
	gen    func() string
	n      int
	want   []string
	secret string // must not appear in the error
	maxMB  uint64 // heap bound, MiB (default 64)
	big    bool   // a file of megabytes: 10 s rather than 2
}{
	// Memory and time are bounded by the input.
	{name: "50 MB of plain values", big: true, gen: func() string { return "portals:\n" + strings.Repeat("- a\n", 50<<20/4) }, n: 1, want: []string{
		"f.yaml: larger than 32 MiB, the limit for an onboarding file; split the portals into several files"}, maxMB: 128},
	{name: "10 MB of plain values", big: true, gen: func() string { return "portals:\n" + strings.Repeat("- a\n", 10<<20/4) }, n: 1, want: []string{
		"f.yaml: holds more than 1000000 values (keys, items and their values); split the portals into several files"}},
	{name: "a flow list of a million values", big: true, gen: func() string { return "portals: [" + strings.Repeat("a,", 1_000_000) + "]\n" }, n: 1, want: []string{
		"f.yaml: holds more than 1000000 values (keys, items and their values); split the portals into several files"}},
	// Shapes of a few values a byte, whose tree would cost 150 to 350 times the file:
	// refused from their text, before yaml.v3 builds anything.
	{name: "a flow list of 1 MB", big: true, maxMB: 16, gen: func() string { return "portals: [" + strings.Repeat("a,", 499_000) + "]\n" }, n: 1, want: []string{
		"f.yaml: holds up to 998007 values (keys, items and their values), most of them from line 1; a file read whole (one with anchors (&name, *name) or `%` directives, portals not written as a list of mappings under `portals:`, a portal too large to read alone, or more than that besides its portals) may hold 93435 in 998 KB: write the portals as a block list (`- name: ...`) without anchors, or split them into several files"}},
	{name: "a portal of 330,000 labels", big: true, maxMB: 16, gen: func() string { return string(blockLabels(330_000)) }, n: 1, want: []string{
		`f.yaml:4: portal "a": labels: holds up to 990018 values (keys, items and their values), too many to read; Konnect allows at most 50 labels per resource (47 besides dcrflow's own): keep those you need and remove the rest`}},
	{name: "a portal of 490,000 scopes", big: true, maxMB: 16, gen: func() string {
		return "portals:\n  - name: a\n    scopes: [" + strings.Repeat("x,", 490_000) + "]\n  - name: b\n    scopes: [x]\n"
	}, n: 1, want: []string{
		`f.yaml:3: portal "a": scopes: holds up to 980025 values (keys, items and their values), too many to read; a Konnect auth strategy holds at most 50 scopes: keep those you need and remove the rest`}},
	{name: "defaults of 240,000 labels", big: true, maxMB: 16, gen: func() string {
		return "defaults:\n  labels: {" + strings.Repeat("k: v,", 240_000) + "}\nportals:\n  - name: a\n    scopes: [x]\n"
	}, n: 1, want: []string{
		`f.yaml:2: defaults.labels: holds up to 960024 values (keys, items and their values), too many to read; Konnect allows at most 50 labels per resource (47 besides dcrflow's own): keep those you need and remove the rest`}},
	{name: "20,000 valid portals sharing labels through an alias", big: true, maxMB: 16, gen: func() string { return string(anchorFleet(20_000)) }, n: 1, want: []string{
		"f.yaml: holds up to 320018 values (keys, items and their values), most of them from line 3; a file read whole (one with anchors (&name, *name) or `%` directives, portals not written as a list of mappings under `portals:`, a portal too large to read alone, or more than that besides its portals) may hold 130490 in 1.6 MB: write the portals as a block list (`- name: ...`) without anchors, or split them into several files"}},
	{name: "250,000 empty documents", big: true, maxMB: 16, gen: func() string { return "portals:\n  - name: a\n    scopes: [x]\n" + strings.Repeat("---\n", 250_000) }, n: 1, want: []string{
		"f.yaml: holds up to 500015 values (keys, items and their values); a file read whole (one with anchors (&name, *name) or `%` directives, portals not written as a list of mappings under `portals:`, a portal too large to read alone, or more than that besides its portals) may hold 93556 in 1.0 MB: write the portals as a block list (`- name: ...`) without anchors, or split them into several files"}},
	{name: "a second document of a flow list of 1 MB", big: true, maxMB: 16, gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n---\n[" + strings.Repeat("a,", 490_000) + "]\n"
	}, n: 1, want: []string{
		"f.yaml: holds up to 980020 values (keys, items and their values), most of them from line 5; a file read whole (one with anchors (&name, *name) or `%` directives, portals not written as a list of mappings under `portals:`, a portal too large to read alone, or more than that besides its portals) may hold 92357 in 980 KB: write the portals as a block list (`- name: ...`) without anchors, or split them into several files"}},
	{name: "a portal of 40,000 labels in a fleet", big: true, maxMB: 16, gen: func() string {
		return string(fleetFile(1000)) + "  - name: big\n    scopes: [x]\n    labels: {" + strings.Repeat("k: v, ", 40_000) + "}\n" + string(fleetFile(1000)[len("defaults:\n  auth_server: default\n  labels: {env: prod}\nportals:\n"):])
	}, n: 1, want: []string{
		`f.yaml:4007: portal "big": labels: holds up to 232035 values (keys, items and their values), too many to read; Konnect allows at most 50 labels per resource (47 besides dcrflow's own): keep those you need and remove the rest`}},
	{name: "1,500 portals sharing 47 labels through an alias", gen: func() string { return string(sharedLabels(1500)) }, n: 1, want: []string{
		"f.yaml: the file's aliases (*name) expand to 142500 values, more than the 48616 a file of 63 KB may add to its own; write the portals without anchors and aliases (the file is then read a few portals at a time), or split them into several files"}},
	{name: "10,000 portals with a label beside the defaults' 46", big: true, gen: func() string { return string(defaultsFanOut(10_000)) }, n: 1, want: []string{
		`f.yaml:10785: portal "p3593": labels: the defaults' 46 labels go into every portal with labels of its own, 165324 copies up to here, more than the 165278 a file of 509 KB may hold; keep fewer labels in defaults, or split the portals into several files`}},
	{name: "defaults of 600 auth methods before 20,000 portals", big: true, gen: func() string {
		return "defaults:\n  auth_methods: [" + strings.Repeat("bearer, ", 600) + "]\n" + string(fleetFile(20_000)[len("defaults:\n  auth_server: default\n  labels: {env: prod}\n"):])
	}, n: 599, want: []string{ // every portal shares one list of the defaults' (each had its own: 246 MiB)
		`f.yaml:2: defaults.auth_methods: "bearer" is listed twice (first at line 2); keep one`}},
	{name: "160,000 empty portals", big: true, maxMB: 16, gen: func() string { return "portals:\n" + strings.Repeat("- {}\n", 160_000) }, n: 1, want: []string{
		"f.yaml: portals: lists 160000 portals in 800 KB, more than the 50971 a file of its size may hold (a portal takes about 800 bytes to check, and a valid one needs at least a name and a scope); give each portal its name and scopes, or split the portals into several files"}},
	{name: "190,000 empty portals in a flow list", big: true, maxMB: 16, gen: func() string { return "portals: [" + strings.Repeat("{},", 190_000) + "]\n" }, n: 1, want: []string{
		"f.yaml: portals: lists 190000 portals in 570 KB, more than the 42346 a file of its size may hold (a portal takes about 800 bytes to check, and a valid one needs at least a name and a scope); give each portal its name and scopes, or split the portals into several files"}},
	{name: "a Konnect portal name of 100 KB in capitals with 10,000 APIs", gen: func() string {
		var b strings.Builder
		b.WriteString("portals:\n  - name: a\n    portal: " + strings.Repeat("A", 100_000) + "\n    scopes: [x]\n    apis: [")
		for i := range 10_000 {
			fmt.Fprintf(&b, "a%d,", i)
		}
		return b.String() + "]\n"
	}, n: 1, maxMB: 32, want: []string{ // the name was folded once an API: 1 GiB
		`f.yaml:3: portal "a": portal: "` + strings.Repeat("A", 60) + `…" is 100000 characters long; a Konnect portal name has at most 255, shorten it`}},
	{name: "nested empty lists", gen: func() string { return "portals: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n" }, n: 1, want: []string{
		"f.yaml:1: portals: an entry is a list, expected a portal (a mapping); write each portal as a mapping: `- name: payments` with its fields below"}},
	{name: "30 MB of blank lines, then a tab", big: true, gen: func() string { return strings.Repeat("\n", 30<<20) + "portals:\n\t- name: a\n" }, n: 1, want: []string{
		"f.yaml:31457282: not valid YAML: found character that cannot start any token; YAML cannot indent with tabs; indent with spaces"}, maxMB: 128},
	{name: "an alias bomb", gen: aliasBomb, n: 1, want: []string{
		"f.yaml: the file's aliases (*name) expand to more than 1000000 values; write the values out instead of nesting aliases"}},
	{name: "20 unknown keys of 1 MB each", big: true, gen: func() string {
		var b strings.Builder
		b.WriteString("portals:\n  - name: a\n    scopes: [x]\n")
		for i := range 20 {
			fmt.Fprintf(&b, "    ? %c%s\n    : x\n", 'a'+i, strings.Repeat("k", 1<<20)) // a simple key has at most 1024
		}
		return b.String()
	}, n: 20, want: []string{
		`f.yaml:4: portal "a": a` + strings.Repeat("k", 59) + "…: unknown field; a portal's fields are name, portal, auth_server, scopes, claim, dcr_provider, auth_strategy, apis, access_policy, validate, validation_owner, on_failure, labels: use one of them or remove this one",
		`f.yaml:42: portal "a": t` + strings.Repeat("k", 59) + "…: unknown field; a portal's fields are name, portal, auth_server, scopes, claim, dcr_provider, auth_strategy, apis, access_policy, validate, validation_owner, on_failure, labels: use one of them or remove this one",
	}},
	{name: "a name of 1 MB", big: true, gen: func() string { return "portals:\n  - name: " + strings.Repeat("N", 1<<20) + "\n    scopes: [x]\n" }, n: 1, want: []string{
		`f.yaml:2: portal "` + strings.Repeat("N", 60) + `…": name: "` + strings.Repeat("N", 60) + `…": use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit), e.g. "` + strings.Repeat("n", 60) + `…"`}},
	{name: "a label key of 1 MB", big: true, gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    labels:\n      ? " + strings.Repeat("k", 1<<20) + "\n      : v\n"
	}, n: 1, want: []string{
		`f.yaml:5: portal "a": labels.` + strings.Repeat("k", 60) + "…: the key is 1048576 characters long; Konnect allows 1 to 63, shorten it"}},
	{name: "a third YAML document", gen: func() string { return "portals:\n" + ok + "---\n---\nportals:\n  - name: b\n" }, n: 1, want: []string{
		"f.yaml:6: a third YAML document (after `---`); put every portal in one document, under one `portals:`"}},
	{name: "second and fourth YAML documents", gen: func() string { return "portals:\n" + ok + "--- a\n--- ~\n--- [b]\n" }, n: 2, want: []string{
		"f.yaml:4: a second YAML document (after `---`); put every portal in one document, under one `portals:`",
		"f.yaml:6: a fourth YAML document (after `---`); put every portal in one document, under one `portals:`"}},

	// Secrets: refused wherever they are pasted, never echoed.
	{name: "a Konnect token as the portal's name", gen: func() string { return "portals:\n  - name: " + kpatToken + "\n    scopes: [x]\n" }, n: 1, secret: kpatToken, want: []string{
		`f.yaml:2: portal "kpat_Ab…": name: holds what looks like a Konnect access token (kpat_Ab…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},
	{name: "a Konnect system token as a label value", gen: func() string { return "defaults:\n  labels: {team: " + spatToken + "}\nportals:\n" + ok }, n: 1, secret: spatToken, want: []string{
		`f.yaml:2: defaults.labels.team: holds what looks like a Konnect access token (spat_Zy…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},
	{name: "an Okta token as the auth server", gen: func() string { return "portals:\n  - name: a\n    auth_server: " + oktaToken + "\n    scopes: [x]\n" }, n: 1, secret: oktaToken, want: []string{
		`f.yaml:3: portal "a": auth_server: holds what looks like an Okta API token (00AbCdE…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},
	{name: "a JWT in a display name", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    auth_strategy: {display_name: \"Okta " + jwtToken + "\"}\n"
	}, n: 1, secret: jwtToken, want: []string{
		`f.yaml:4: portal "a": auth_strategy.display_name: holds what looks like a JWT (eyJhbGc…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},
	{name: "an SSWS header in a scope's description", gen: func() string {
		return "portals:\n  - name: a\n    scopes:\n      - {name: x, description: \"SSWS " + oktaToken + "\"}\n"
	}, n: 1, secret: oktaToken, want: []string{
		`f.yaml:4: portal "a": scopes.description: holds what looks like an SSWS authorization (00AbCdE…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},
	{name: "a URL with a password as the Konnect portal", gen: func() string {
		return "portals:\n  - name: a\n    portal: https://bob:hunter2-secret@konnect.example.com/p\n    scopes: [x]\n"
	}, n: 1, secret: "hunter2", want: []string{
		`f.yaml:3: portal "a": portal: holds what looks like a password in a URL (https://bob:…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},
	{name: "a Konnect token as a DCR token name", gen: func() string { return "defaults: {dcr_token: " + kpatToken + "}\nportals:\n" + ok }, n: 1, secret: kpatToken, want: []string{
		`f.yaml:1: defaults.dcr_token: holds a Konnect access token itself (kpat_Ab…); the file names the DCR token (e.g. default) and only the worker holds its value (dcr_tokens.<name> or DCRFLOW_DCR_TOKEN_<NAME>): remove the token from this file and revoke it`}},
	{name: "a token as a key", gen: func() string { return "portals:\n  - name: a\n    scopes: [x]\n    " + kpatToken + ": x\n" }, n: 1, secret: kpatToken, want: []string{
		`f.yaml:4: portal "a": (a key): holds what looks like a Konnect access token (kpat_Ab…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},
	{name: "a token where true or false belongs", gen: func() string { return "portals:\n  - name: a\n    scopes: [x]\n    validate: " + kpatToken + "\n" }, n: 1, secret: kpatToken, want: []string{
		"f.yaml:4: portal \"a\": validate: is text (\"kpat_Ab…\"), expected true, false, okta or konnect; write `validate: true` (dcrflow registers a test client itself), `validate: konnect` (also through a Konnect application) or `validate: false`, without quotes"}},
	{name: "a token as a validation owner", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    validate: konnect\n    validation_owner: {type: team, id: " + kpatToken + "}\n"
	}, n: 1, secret: kpatToken, want: []string{
		`f.yaml:5: portal "a": validation_owner.id: holds what looks like a Konnect access token (kpat_Ab…); tokens and passwords never go in the onboarding file (it ends up in workflow histories and on Konnect): remove it, and revoke it`}},

	// Invisible and confusable text.
	{name: "a bidi override in a name", gen: func() string { return "portals:\n  - name: a\n    portal: \"shop\u202egnp.exe\"\n    scopes: [x]\n" }, n: 1, want: []string{
		"f.yaml:3: holds U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible character that can make text read differently from what it is (or that YAML takes for a line break); remove it: retype the line if you cannot see it"}},
	{name: "a zero-width space and a bidi isolate", gen: func() string { return "portals:\n  - name: a\n    scopes: [x\u200b]\n    labels: {team: \u2066b}\n" }, n: 2, want: []string{
		"f.yaml:3: holds U+200B (ZERO WIDTH SPACE), an invisible character that can make text read differently from what it is (or that YAML takes for a line break); remove it: retype the line if you cannot see it",
		"f.yaml:4: holds U+2066 (LEFT-TO-RIGHT ISOLATE), an invisible character that can make text read differently from what it is (or that YAML takes for a line break); remove it: retype the line if you cannot see it"}},
	{name: "a line separator in a name", gen: func() string { return "portals:\n  - name: a\n    portal: shop\u2028x\n    scopes: [x]\n" }, n: 1, want: []string{
		"f.yaml:3: holds U+2028 (LINE SEPARATOR), an invisible character that can make text read differently from what it is (or that YAML takes for a line break); remove it: retype the line if you cannot see it"}},
	{name: "NEL, which YAML folds into a space", gen: func() string {
		return "portals:\n  - name: a\n    auth_strategy: {display_name: Okta\u0085DCR}\n    scopes: [x]\n"
	}, n: 1, want: []string{
		"f.yaml:3: holds U+0085 (NEXT LINE), an invisible character that can make text read differently from what it is (or that YAML takes for a line break); remove it: retype the line if you cannot see it"}},
	{name: "a byte-order mark inside the file", gen: func() string { return "portals:\n  - name: a\n    scopes: [x]\n    claim: app\ufeffid\n" }, n: 1, want: []string{
		"f.yaml:4: holds U+FEFF (ZERO WIDTH NO-BREAK SPACE (byte-order mark)), an invisible character that can make text read differently from what it is (or that YAML takes for a line break); remove it: retype the line if you cannot see it"}},
	{name: "an invisible character written as an escape", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    auth_strategy: {display_name: \"Okta\\u200bDCR\"}\n"
	}, n: 1, want: []string{
		`f.yaml:4: portal "a": auth_strategy.display_name: "Okta\u200bDCR" holds U+200B (ZERO WIDTH SPACE), an invisible character that can make a name read differently from what it is; remove it`}},
	{name: "DCR providers differing only by case", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    dcr_provider: {name: Shared}\n  - name: b\n    scopes: [x]\n    dcr_provider: {name: shared}\n"
	}, n: 1, want: []string{
		`f.yaml:7: portal "b": dcr_provider.name: "shared" is the DCR provider "Shared" of portal "a" (line 2) written differently; Konnect may take them for one: write the name the same way in both`}},
	{name: "auth strategies differing only by Unicode form", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    auth_strategy: {name: Zo\u00eb}\n  - name: b\n    scopes: [x]\n    auth_strategy: {name: Zoe\u0308}\n"
	}, n: 1, want: []string{
		`f.yaml:7: portal "b": auth_strategy.name: "Zoe\u0308" is the auth strategy "Zo\u00eb" of portal "a" (line 2) written differently; Konnect may take them for one: write the name the same way in both`}},
	{name: "full-width letters in a provider name", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    dcr_provider: {name: shared}\n  - name: b\n    scopes: [x]\n    dcr_provider: {name: ｓｈａｒｅｄ}\n"
	}, n: 1, want: []string{
		`f.yaml:7: portal "b": dcr_provider.name: "ｓｈａｒｅｄ" is the DCR provider "shared" of portal "a" (line 2) written differently; Konnect may take them for one: write the name the same way in both`}},
	{name: "Konnect portals differing only by case", gen: func() string {
		return "portals:\n  - name: a\n    portal: Shop\n    scopes: [x]\n  - name: b\n    portal: shop\n    scopes: [x]\n"
	}, n: 1, want: []string{
		`f.yaml:6: portal "b": portal: "shop" is the Konnect portal "Shop" of portal "a" (line 3) written differently; Konnect may take them for one: write the name the same way in both`}},
	{name: "APIs differing only by case in one portal", gen: func() string { return "portals:\n  - name: a\n    scopes: [x]\n    apis: [Orders, orders]\n" }, n: 1, want: []string{
		`f.yaml:4: portal "a": apis: "orders" is "Orders" (line 4) written differently; Konnect may take them for one API: list each API once per portal`}},
	{name: "APIs differing only by case across portals", gen: func() string {
		return "portals:\n  - name: a\n    portal: shop\n    scopes: [x]\n    apis: [orders]\n  - name: b\n    portal: shop\n    scopes: [y]\n    apis: [ORDERS]\n"
	}, n: 1, want: []string{
		`f.yaml:9: portal "b": apis: "ORDERS" is the API "orders" of portal "a" (line 5) written differently; Konnect may take them for one: write the name the same way in both`}},
	{name: "label keys differing only by case", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    labels:\n      team: a\n      Team: b\n"
	}, n: 1, want: []string{
		`f.yaml:6: portal "a": labels.Team: is the label "team" (line 5) written differently; Konnect may take them for one key: keep one spelling`}},
	{name: "a portal's label key and the defaults' differing by case", gen: func() string {
		return "defaults:\n  labels: {Team: a}\nportals:\n  - name: a\n    scopes: [x]\n    labels: {team: b}\n"
	}, n: 1, want: []string{
		`f.yaml:6: portal "a": labels.team: is the defaults' label "Team" written differently; Konnect may take them for one key: write it as in the defaults`}},

	// Reserved names whatever their case; label keys character by character.
	{name: "reserved claims and scopes in other letters", gen: func() string {
		return "defaults: {claim: SUB}\nportals:\n  - name: a\n    scopes: [OpenID, Profile, OKTA.users.read, x]\n"
	}, n: 4, want: []string{
		`f.yaml:1: defaults.claim: "SUB" differs only in case from "sub", a claim Okta sets itself; choose another name such as client_id`,
		"f.yaml:4: portal \"a\": scopes: `openid` (as \"OpenID\": a name differing only in case may be taken for it) cannot be requested with client_credentials; use a custom scope such as \"a:read\"",
		"f.yaml:4: portal \"a\": scopes: `profile` (as \"Profile\": a name differing only in case may be taken for it) is an OpenID Connect scope about a user, which client_credentials cannot request; use a custom scope such as \"a:read\"",
		`f.yaml:4: portal "a": scopes: "OKTA.users.read" is not a valid Okta scope name (printable ASCII without spaces, quotes or backslashes; not okta.*, okta:* or *)`}},
	{name: "dcrflow's own label in other letters", gen: func() string { return "portals:\n  - name: a\n    scopes: [x]\n    labels: {Managed-By: me}\n" }, n: 1, want: []string{
		`f.yaml:4: portal "a": labels.Managed-By: dcrflow sets this label itself on what it creates (managed-by, dcrflow-portal, dcrflow-run) (as "Managed-By": a name differing only in case may be taken for it); choose another key`}},
	{name: "label keys with characters Konnect refuses", gen: func() string {
		return "portals:\n  - name: a\n    scopes: [x]\n    labels:\n      team name: a\n      tëam: b\n      -x: c\n      cost/center: d\n"
	}, n: 4, want: []string{
		`f.yaml:5: portal "a": labels: the key "team name" is not a valid label key; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit), e.g. "team-name"`,
		`f.yaml:6: portal "a": labels: the key "tëam" is not a valid label key; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit), e.g. "t-am"`,
		`f.yaml:7: portal "a": labels: the key "-x" is not a valid label key; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit), e.g. "x"`,
		`f.yaml:8: portal "a": labels: the key "cost/center" is not a valid label key; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit), e.g. "cost-center"`}},
}

// aliasBomb is the billion laughs: nine aliases of nine aliases, nine deep.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("x0: &x0 [a, a, a, a, a, a, a, a, a]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "x%d: &x%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*x%d, ", i-1), 9), ", "))
	}
	b.WriteString("portals: [*x8]\n")
	return b.String()
}

func TestParse_RefusesHostileFiles(t *testing.T) {
	if len(hostileFiles) < 38 {
		t.Fatalf("only %d hostile files", len(hostileFiles))
	}
	for _, c := range hostileFiles {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(c.gen())
			maxMB := c.maxMB
			if maxMB == 0 {
				maxMB = 64
			}
			var err error
			maxTime := 2 * time.Second
			if c.big {
				maxTime = 10 * time.Second
			}
			cost := costtest.Within(t, maxTime, maxMB<<20, func() { _, err = Parse("f.yaml", raw) })
			t.Logf("%d bytes: %v, heap peak %.1f MiB", len(raw), cost.Time, cost.MB())
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v; want an *Error", err)
			}
			for _, w := range c.want {
				if !slices.Contains(e.Problems, w) {
					t.Errorf("no problem is\n  %s\nin:\n%.3000v", w, err)
				}
			}
			if len(e.Problems) != c.n {
				t.Errorf("%d problems, want %d:\n%.3000v", len(e.Problems), c.n, err)
			}
			if msg := err.Error(); len(msg) > 64<<10 || c.secret != "" && strings.Contains(msg, c.secret) {
				t.Errorf("the error is %d bytes long or echoes the secret: %.3000s", len(msg), msg)
			}
		})
	}
}

// blockLabels is a portal with n labels, one a line.
func blockLabels(n int) []byte {
	var b strings.Builder
	b.WriteString("portals:\n  - name: a\n    scopes: [x]\n    labels:\n")
	for i := range n {
		fmt.Fprintf(&b, "      k%d: v\n", i)
	}
	return []byte(b.String())
}

// anchorFleet is a valid file of n portals that share their labels through an alias
// and anchor their scopes: it is read whole.
func anchorFleet(n int) []byte {
	var b strings.Builder
	b.WriteString("defaults:\n  claim: app_id\nportals:\n  - name: p0\n    scopes: [p0:read]\n    labels: &team {team: payments, env: prod}\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "  - name: p%d\n    scopes: &s%d [p%d:read, p%d:write]\n    labels: *team\n", i, i, i, i)
	}
	return []byte(b.String())
}
