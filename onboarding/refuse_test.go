package onboarding

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// ok is a valid portal entry to pad files whose point is elsewhere.
const ok = "  - name: ok\n    scopes: [ok:read]\n"

// brokenFiles are onboarding files that must be refused. want lists, for each problem,
// the exact text its line must contain (file:line, portal, field, and the fix), and
// n is how many problems the file has: every one is reported, nothing else.
var brokenFiles = []struct {
	name string
	doc  string
	n    int
	want []string
}{
	// The file as a whole.
	{"empty", "", 1, []string{
		"f.yaml: the file is empty; list the portals to onboard under `portals:` (see examples/portals.yaml)"}},
	{"comments only", "# portals to come\n\n", 1, []string{
		"f.yaml: the file is empty; list the portals to onboard under `portals:`"}},
	{"not YAML", "portals: [payments\n", 1, []string{
		"f.yaml:1: not valid YAML: did not find expected ',' or ']'; check the indentation and the quoting on this line and the one before"}},
	{"not YAML further down", "portals:\n  - name: a\n    scopes: [x]\n    claim: a: b\n", 1, []string{
		"f.yaml:4: not valid YAML: mapping values are not allowed in this context; check the indentation"}},
	{"tab indentation", "portals:\n\t- name: a\n", 1, []string{
		"f.yaml:2: not valid YAML: found character that cannot start any token; YAML cannot indent with tabs; indent with spaces"}},
	{"control character", "portals:\n  - name: a\x07\n", 1, []string{
		"f.yaml:2: not valid YAML: control characters are not allowed (remove it, or write it as an escape"}},
	{"a list at the top", "- name: a\n  scopes: [x]\n", 1, []string{
		"f.yaml:1: the file is a list, expected a mapping with `portals:` (and optionally `defaults:`); put this list under `portals:`"}},
	{"text at the top", "payments\n", 1, []string{
		"f.yaml:1: the file is text (\"payments\"), expected a mapping with `portals:` (and optionally `defaults:`); start the file with `portals:`"}},
	{"no portals", "defaults: {claim: app_id}\n", 1, []string{
		"f.yaml:1: portals: missing; list the portals to onboard under `portals:`"}},
	{"portals is a mapping", "portals:\n  payments: {scopes: [x]}\n", 1, []string{
		"f.yaml:2: portals: is a mapping, expected a list of portals; write each as `- name: ...` under `portals:`"}},
	{"portals is empty", "portals: []\n", 1, []string{
		"f.yaml:1: portals: the file lists no portal; add at least one under `portals:`"}},
	{"a portal is a bare name", "portals:\n  - payments\n" + ok, 1, []string{
		"f.yaml:2: portals: an entry is text (\"payments\"), expected a portal (a mapping); write `- name: payments` and its `scopes:` below"}},
	{"two YAML documents", "portals:\n" + ok + "---\nportals:\n  - name: b\n", 1, []string{
		"f.yaml:5: a second YAML document (after `---`); put every portal in one document, under one `portals:`"}},

	// Unknown and repeated fields, at every level.
	{"unknown fields everywhere", `portal: []
defaults: {visiblity: public}
portals:
  - name: a
    scope: [x]
    scopes: [{name: x, descr: y}]
    dcr_provider: {token: t}
    auth_strategy: {methods: [bearer]}
    apis: [{api: x, visible: public}]
`, 7, []string{
		"f.yaml:1: portal: unknown field (did you mean `portals`?); the file's fields are defaults, portals: use one of them or remove this one",
		"f.yaml:2: defaults.visiblity: unknown field (did you mean `visibility`?); `defaults:`'s fields are",
		`f.yaml:5: portal "a": scope: unknown field (did you mean ` + "`scopes`" + `?); a portal's fields are name, portal, auth_server, scopes, claim, dcr_provider, auth_strategy, apis, access_policy, validate, validation_owner, on_failure, labels`,
		`f.yaml:6: portal "a": scopes.descr: unknown field; a scope's fields are name, description: use one of them or remove this one`,
		`f.yaml:7: portal "a": dcr_provider.token: unknown field; dcr_provider's fields are name, dcr_token`,
		`f.yaml:8: portal "a": auth_strategy.methods: unknown field; auth_strategy's fields are name, display_name, auth_methods`,
		`f.yaml:9: portal "a": apis.visible: unknown field; an API entry's fields are api, visibility, auto_approve`,
	}},
	{"a field given twice", "portals:\n  - name: a\n    scopes: [x]\n    name: b\n", 1, []string{
		`f.yaml:4: portal "b": name: given twice (first at line 2); keep one`}},

	// Wrong types: reported with the file and line, in YAML words, beside the other problems.
	{"wrong types in a portal", `portals:
  - name: a
    scopes: 5
    validate: "yes please"
    apis: {x: 1}
    on_failure: pause
`, 4, []string{
		`f.yaml:3: portal "a": scopes: is a number (5), expected a list of scopes; write ` + "`scopes: [payments:read]`" + ` or one ` + "`- name`" + ` per line`,
		`f.yaml:4: portal "a": validate: is text ("yes please") in quotes, expected true, false, okta or konnect; write ` + "`validate: true` (dcrflow registers a test client itself), `validate: konnect` (also through a Konnect application) or `validate: false`" + `, without quotes`,
		`f.yaml:5: portal "a": apis: is a mapping, expected a list of APIs; write ` + "`apis: [payments-api]`",
		`f.yaml:6: portal "a": on_failure: "pause": use compensate (undo at once) or hold`,
	}},
	{"wrong types in defaults", `defaults:
  auto_approve: maybe
  auth_methods: bearer
  labels: [team]
  claim: [a, b]
portals:
` + ok, 4, []string{
		"f.yaml:2: defaults.auto_approve: is text (\"maybe\"), expected true or false; write `auto_approve: true` or `auto_approve: false`",
		"f.yaml:3: defaults.auth_methods: is text (\"bearer\"), expected a list of auth methods, e.g. [client_credentials, bearer]",
		"f.yaml:4: defaults.labels: is a list, expected a mapping of labels, e.g. `labels: {team: payments, env: prod}`",
		"f.yaml:5: defaults.claim: is a list, expected a claim name such as client_id",
	}},
	{"wrong types in nested fields", `portals:
  - name: a
    scopes: [[x], {name: {y: 1}}]
    dcr_provider: okta-sandbox
    auth_strategy: {display_name: [x], auth_methods: [{m: 1}]}
    apis: [{api: x, auto_approve: "true"}, 7, [y]]
`, 7, []string{
		`f.yaml:3: portal "a": scopes: an entry is a list, expected a scope name or {name, description}`,
		`f.yaml:3: portal "a": scopes.name: is a mapping, expected a scope name such as payments:read`,
		`f.yaml:4: portal "a": dcr_provider: is text ("okta-sandbox"), expected a mapping, e.g. ` + "`dcr_provider: {name: dcrflow-payments, dcr_token: default}`",
		`f.yaml:5: portal "a": auth_strategy.display_name: is a list, expected the name developers see in the portal`,
		`f.yaml:5: portal "a": auth_strategy.auth_methods: is a mapping, expected an auth method`,
		`f.yaml:6: portal "a": apis.auto_approve: is text ("true") in quotes, expected true or false; write ` + "`auto_approve: true`",
		`f.yaml:6: portal "a": apis: an entry is a list, expected an API name or {api, visibility, auto_approve}`,
	}},
	{"a field without a value", "portals:\n  - name: a\n    scopes: [x]\n    auth_server:\n    validate: ~\n", 2, []string{
		`f.yaml:4: portal "a": auth_server: has no value; write the Okta authorization server's id or name, or leave the field out`,
		`f.yaml:5: portal "a": validate: is empty, expected true or false; write ` + "`validate: true`",
	}},
	{"a scope written as a mapping by a stray space", "portals:\n  - name: a\n    scopes:\n      - payments: read\n", 1, []string{
		`f.yaml:4: portal "a": scopes: "payments: read" is a mapping because of the space after ':'; write the scope as "payments:read", or as {name: ..., description: ...}`}},

	// Portals and what they share.
	{"duplicate portals", "portals:\n" + ok + "  - name: ok\n    scopes: [y]\n", 1, []string{
		`f.yaml:4: portal "ok": name: duplicate portal (first at line 2); give each portal its own name`}},
	{"duplicate portals by Konnect portal", "portals:\n  - portal: payments\n    scopes: [x]\n  - portal: payments\n    scopes: [x]\n", 1, []string{
		`f.yaml:4: portal "payments": name: duplicate portal (first at line 2); give each portal its own name`}},
	{"no name and no portal", "portals:\n  - scopes: [x]\n", 1, []string{
		"f.yaml:2: name: a portal needs `name` or `portal` (the Konnect portal's name or id); add `name: payments`"}},
	{"a key that is not lowercase", "portals:\n  - name: Payments EU\n    scopes: [x]\n  - portal: Partners Portal\n    scopes: [x]\n  - name: " + strings.Repeat("a", 64) + "\n    scopes: [x]\n", 3, []string{
		`f.yaml:2: portal "Payments EU": name: "Payments EU": use lowercase letters, digits and '-' (at most 63, starting and ending with a letter or digit), e.g. "payments-eu"`,
		`f.yaml:4: portal "Partners Portal": portal: "Partners Portal" is also the portal's key when ` + "`name`" + ` is absent, and a key is lowercase letters, digits and '-' (at most 63); add ` + "`name: partners-portal`",
		`f.yaml:6: portal "` + strings.Repeat("a", 60) + `…": name: "` + strings.Repeat("a", 60) + `…": use lowercase letters, digits and '-' (at most 63`,
	}},
	{"two portals fight over a DCR provider", `portals:
  - name: a
    scopes: [x]
    dcr_provider: {name: shared}
  - name: b
    auth_server: partners
    scopes: [x]
    dcr_provider:
      name: shared
      dcr_token: other
`, 1, []string{
		`f.yaml:9: portal "b": dcr_provider.name: "shared" is also the DCR provider of portal "a" (line 2), with a different auth_server ("partners" here, "default" there), dcr_token ("other" here, "default" there); a Konnect DCR provider has one issuer, one DCR token and one set of labels, so give this portal its own dcr_provider name or make those settings the same`}},
	{"two portals fight over an auth strategy", `portals:
  - name: a
    scopes: [x]
    dcr_provider: {name: shared}
    auth_strategy: {name: shared, auth_methods: [bearer]}
  - name: b
    scopes: [y]
    claim: app_id
    dcr_provider: {name: shared}
    auth_strategy: {name: shared, display_name: B}
    labels: {team: b}
`, 2, []string{
		`f.yaml:9: portal "b": dcr_provider.name: "shared" is also the DCR provider of portal "a" (line 2), with a different labels;`,
		`f.yaml:10: portal "b": auth_strategy.name: "shared" is also the auth strategy of portal "a" (line 2), with a different scopes (y here, x there), claim ("app_id" here, "client_id" there), display_name ("B" here, "Okta DCR (a)" there), auth_methods (client_credentials bearer here, bearer there), labels; a Konnect auth strategy has one issuer, one set of scopes, one claim, one DCR provider and one set of labels, so give this portal its own auth_strategy name or make those settings the same`,
	}},
	{"two portals fight over a publication", `portals:
  - name: a
    portal: shop
    scopes: [x]
    apis: [orders]
  - name: b
    portal: shop
    scopes: [x]
    apis:
      - {api: orders, visibility: public}
`, 1, []string{
		`f.yaml:10: portal "b": apis: "orders" is also published on Konnect portal "shop" by portal "a" (line 5), with a different auth_strategy ("dcrflow-b" here, "dcrflow-a" there), visibility ("public" here, "private" there); an API has one publication per Konnect portal, so publish it from one of the two or make those settings the same`}},

	// Scopes.
	{"openid in a portal with a bad name", "portals:\n  - name: Bad Name\n    scopes: [openid]\n", 2, []string{
		`f.yaml:3: portal "Bad Name": scopes: ` + "`openid`" + ` cannot be requested with client_credentials; use a custom scope such as "bad-name:read"`}},
	{"no scopes", "portals:\n  - name: a\n  - name: b\n    scopes: []\n", 2, []string{
		`f.yaml:2: portal "a": scopes: list at least one custom scope (Konnect falls back to ` + "`openid`" + `, which Okta refuses for client_credentials)`,
		`f.yaml:4: portal "b": scopes: list at least one custom scope`,
	}},
	{"scopes repeated, OIDC, invalid, empty", `portals:
  - name: a
    scopes:
      - a:read
      - openid
      - profile
      - okta.users.read
      - "a b"
      - ""
      - {name: a:read, description: again}
`, 6, []string{
		`f.yaml:5: portal "a": scopes: ` + "`openid`" + ` cannot be requested with client_credentials; use a custom scope such as "a:read"`,
		`f.yaml:6: portal "a": scopes: ` + "`profile`" + ` is an OpenID Connect scope about a user, which client_credentials cannot request; use a custom scope such as "a:read"`,
		`f.yaml:7: portal "a": scopes: "okta.users.read" is not a valid Okta scope name (printable ASCII without spaces, quotes or backslashes; not okta.*, okta:* or *)`,
		`f.yaml:8: portal "a": scopes: "a b" is not a valid Okta scope name`,
		`f.yaml:9: portal "a": scopes: a scope has an empty name; give it one such as "a:read"`,
		`f.yaml:10: portal "a": scopes: "a:read" is listed twice (first at line 4); keep one`,
	}},
	{"a scope over the length limit", "portals:\n  - name: a\n    scopes: [" + strings.Repeat("s", 129) + "]\n", 1, []string{
		`f.yaml:3: portal "a": scopes: "` + strings.Repeat("s", 60) + `…" is 129 characters long; a Konnect auth strategy's scopes have at most 128, shorten it`}},
	{"too many scopes", "portals:\n  - name: a\n    scopes: [" + manyScopes(51) + "]\n", 1, []string{
		`f.yaml:3: portal "a": scopes: 51 scopes; a Konnect auth strategy holds at most 50, so drop some or split the portal`}},
	{"a scope mapping without a name", "portals:\n  - name: a\n    scopes:\n      - {description: Read}\n", 1, []string{
		`f.yaml:4: portal "a": scopes: a scope has no ` + "`name`" + `; write {name: payments:read, description: ...}`}},

	// The claim.
	{"reserved, empty and long claims", `defaults: {claim: cid}
portals:
  - name: a
    scopes: [x]
    claim: sub
  - name: b
    scopes: [x]
    claim: ""
  - name: c
    scopes: [x]
    claim: ` + strings.Repeat("c", 129) + `
`, 4, []string{
		`f.yaml:1: defaults.claim: "cid" is a claim Okta sets itself; choose another name such as client_id`,
		`f.yaml:5: portal "a": claim: "sub" is a claim Okta sets itself; choose another name such as client_id`,
		`f.yaml:8: portal "b": claim: is empty; give the claim's name, e.g. client_id, or leave the field out (default: client_id)`,
		`f.yaml:11: portal "c": claim: "` + strings.Repeat("c", 60) + `…" is 129 characters long; a Konnect credential claim has at most 128, shorten it`,
	}},

	// Auth methods, APIs, visibility.
	{"auth methods", `defaults: {auth_methods: [password, bearer]}
portals:
  - name: a
    scopes: [x]
    auth_strategy: {auth_methods: []}
  - name: b
    scopes: [x]
    auth_strategy:
      auth_methods: [bearer, session, bearer]
`, 3, []string{
		`f.yaml:1: defaults.auth_methods: "password" is not a DCR auth method; use client_credentials, bearer, session`,
		`f.yaml:5: portal "a": auth_strategy.auth_methods: is empty; list at least one of client_credentials, bearer, session, or leave the field out (default: client_credentials, bearer)`,
		`f.yaml:9: portal "b": auth_strategy.auth_methods: "bearer" is listed twice (first at line 9); keep one`,
	}},
	{"APIs repeated, empty, bad visibility", `defaults: {visibility: internal}
portals:
  - name: a
    scopes: [x]
    apis:
      - orders
      - {api: orders, visibility: public}
      - {api: "", visibility: secret}
      - {visibility: public}
`, 5, []string{
		`f.yaml:1: defaults.visibility: "internal": use public or private`,
		`f.yaml:7: portal "a": apis: "orders" is listed twice (first at line 6); list each API once per portal`,
		`f.yaml:8: portal "a": apis: is empty; give the Konnect API's name or id`,
		`f.yaml:8: portal "a": apis.visibility: "secret": use public or private`,
		`f.yaml:9: portal "a": apis: an API entry has no ` + "`api`" + ` (the Konnect API's name or id); write {api: payments-api, ...}`,
	}},

	// Names and their limits.
	{"names over the limits", `portals:
  - name: a
    portal: ` + strings.Repeat("p", 256) + `
    scopes: [x]
    dcr_provider: {name: ` + strings.Repeat("d", 257) + `}
    auth_strategy:
      name: ` + strings.Repeat("s", 257) + `
      display_name: ` + strings.Repeat("n", 257) + `
    apis: [` + strings.Repeat("x", 256) + `]
`, 5, []string{
		`f.yaml:3: portal "a": portal: "` + strings.Repeat("p", 60) + `…" is 256 characters long; a Konnect portal name has at most 255, shorten it`,
		`f.yaml:5: portal "a": dcr_provider.name: "` + strings.Repeat("d", 60) + `…" is 257 characters long; a Konnect DCR provider name has at most 256, shorten it`,
		`f.yaml:7: portal "a": auth_strategy.name: "` + strings.Repeat("s", 60) + `…" is 257 characters long; a Konnect auth strategy name has at most 256, shorten it`,
		`f.yaml:8: portal "a": auth_strategy.display_name: "` + strings.Repeat("n", 60) + `…" is 257 characters long; an auth strategy's display name has at most 256, shorten it`,
		`f.yaml:9: portal "a": apis: "` + strings.Repeat("x", 60) + `…" is 256 characters long; a Konnect API name has at most 255, shorten it`,
	}},
	{"empty names", `portals:
  - name: a
    scopes: [x]
    dcr_provider: {name: ""}
    auth_strategy: {name: "", display_name: ""}
  - name: ""
    portal: b
    scopes: [x]
`, 4, []string{
		`f.yaml:4: portal "a": dcr_provider.name: is empty; give the DCR provider a name, or leave ` + "`name`" + ` out (default: dcrflow-<name>)`,
		`f.yaml:5: portal "a": auth_strategy.name: is empty; give the auth strategy a name, or leave ` + "`name`" + ` out (default: dcrflow-<name>)`,
		`f.yaml:5: portal "a": auth_strategy.display_name: is empty; developers see it in the portal: give one such as "Okta DCR (a)", or leave the field out`,
		`f.yaml:6: portal "b": name: is empty; give the portal a key such as "payments", or leave ` + "`name`" + ` out to use ` + "`portal`",
	}},
	{"spaces and line breaks in names", `portals:
  - name: a
    auth_server: " default"
    scopes: [x]
    auth_strategy: {display_name: "Okta\nDCR"}
`, 2, []string{
		`f.yaml:3: portal "a": auth_server: " default" starts or ends with a space; remove it`,
		`f.yaml:5: portal "a": auth_strategy.display_name: "Okta\nDCR" holds a control character (a tab or line break); write it on one line without them`,
	}},

	// DCR token names.
	{"DCR token names", `defaults: {dcr_token: "okta prod"}
portals:
  - name: a
    scopes: [x]
    dcr_provider: {dcr_token: okta.partners}
  - name: b
    scopes: [x]
    dcr_provider: {dcr_token: 00AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd}
`, 3, []string{
		`f.yaml:1: defaults.dcr_token: "okta prod" is not a DCR token name; use letters, digits, '-' and '_' (the worker holds it as dcr_tokens.<name> or DCRFLOW_DCR_TOKEN_<NAME>), e.g. "okta-prod"`,
		`f.yaml:5: portal "a": dcr_provider.dcr_token: "okta.partners" is not a DCR token name; use letters, digits, '-' and '_'`,
		`f.yaml:8: portal "b": dcr_provider.dcr_token: holds an Okta API token itself (00AbCdE…); the file names the DCR token (e.g. default) and only the worker holds its value (dcr_tokens.<name> or DCRFLOW_DCR_TOKEN_<NAME>): remove the token from this file and revoke it`,
	}},

	// Labels.
	{"label keys and values", `defaults:
  labels:
    kong-team: a
    managed-by: me
    _x: y
portals:
  - name: a
    scopes: [x]
    labels:
      team: "payments team"
      env: ""
      tier: ~
      dcrflow-run: r
      ` + strings.Repeat("k", 64) + `: v
      owner: -me-
      cost: ` + strings.Repeat("v", 64) + `
`, 10, []string{
		`f.yaml:3: defaults.labels.kong-team: starts with "kong": Konnect reserves keys starting with kong, konnect, mesh, kic or _; choose another key`,
		`f.yaml:4: defaults.labels.managed-by: dcrflow sets this label itself on what it creates (managed-by, dcrflow-portal, dcrflow-run); choose another key`,
		`f.yaml:5: defaults.labels._x: starts with "_": Konnect reserves keys starting with`,
		`f.yaml:10: portal "a": labels.team: "payments team" is not a valid label value; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit), e.g. "payments-team"`,
		`f.yaml:11: portal "a": labels.env: the value is empty; Konnect label values are 1 to 63 characters: give one, or leave the label out`,
		`f.yaml:12: portal "a": labels.tier: has no value; write a label value (1 to 63 letters, digits, '-', '_' or '.'), or leave the field out`,
		`f.yaml:13: portal "a": labels.dcrflow-run: dcrflow sets this label itself on what it creates`,
		`f.yaml:14: portal "a": labels.` + strings.Repeat("k", 60) + `…: the key is 64 characters long; Konnect allows 1 to 63, shorten it`,
		`f.yaml:15: portal "a": labels.owner: "-me-" is not a valid label value; use letters and digits, with '-', '_' or '.' inside (starting and ending with a letter or digit), e.g. "me"`,
		`f.yaml:16: portal "a": labels.cost: the value is 64 characters long; Konnect allows at most 63, shorten it`,
	}},
	{"too many labels", "defaults:\n  labels: {" + manyLabels("d", 40) + "}\nportals:\n  - name: a\n    scopes: [x]\n    labels: {" + manyLabels("p", 8) + "}\n" +
		"  - name: b\n    scopes: [x]\n    labels: {d0: override}\n", 1, []string{
		`f.yaml:6: portal "a": labels: 48 labels with the defaults'; Konnect allows 50 labels per resource and dcrflow adds 3 of its own (managed-by, dcrflow-portal, dcrflow-run), so at most 47 with the defaults' and the portal's together; remove some`}},
	{"too many labels in defaults", "defaults:\n  labels: {" + manyLabels("d", 48) + "}\nportals:\n" + ok, 1, []string{
		`f.yaml:2: defaults.labels: 48 labels; Konnect allows 50 labels per resource`}},
	{"a label value too long", "portals:\n  - name: a\n    scopes: [x]\n    labels: {cost: " + strings.Repeat("v", 64) + "}\n", 1, []string{
		`f.yaml:4: portal "a": labels.cost: the value is 64 characters long; Konnect allows at most 63, shorten it`}},

	// Many kinds of problem in one file: all reported at once, in line order.
	{"everything at once", `defaults:
  on_failure: later
portals:
  - name: payments
    scopes: [openid]
    claim: iss
    validate: sometimes
  - name: payments
    scopes: [payments:read, payments:read]
    auth_strategy: {auth_methods: [password]}
    apis: [{api: x, visibility: secret}, x]
    labels: {konnect-x: y}
`, 10, []string{
		`f.yaml:2: defaults.on_failure: "later": use compensate (undo at once) or hold (wait for an operator's retry or abandon)`,
		`f.yaml:5: portal "payments": scopes: ` + "`openid`",
		`f.yaml:6: portal "payments": claim: "iss" is a claim Okta sets itself`,
		`f.yaml:7: portal "payments": validate: is text ("sometimes"), expected true, false, okta or konnect`,
		`f.yaml:8: portal "payments": name: duplicate portal (first at line 4); give each portal its own name`,
		`f.yaml:9: portal "payments": scopes: "payments:read" is listed twice (first at line 9); keep one`,
		`f.yaml:10: portal "payments": auth_strategy.auth_methods: "password" is not a DCR auth method`,
		`f.yaml:11: portal "payments": apis.visibility: "secret": use public or private`,
		`f.yaml:11: portal "payments": apis: "x" is listed twice (first at line 11); list each API once per portal`,
		`f.yaml:12: portal "payments": labels.konnect-x: starts with "konnect": Konnect reserves keys`,
	}},
	// Access policy and validation through Konnect.
	{"access policy mode unknown", "defaults:\n  access_policy: create\nportals:\n  - name: a\n    scopes: [a:read]\n    access_policy: always\n", 2, []string{
		`f.yaml:2: defaults.access_policy: "create": use check (fail early when no access policy lets client_credentials get the scopes) or ensure (dcrflow creates one it owns)`,
		`f.yaml:6: portal "a": access_policy: "always": use check`}},
	{"konnect validation without owner", "portals:\n  - name: a\n    scopes: [a:read]\n    validate: konnect\n", 1, []string{
		"f.yaml:4: portal \"a\": validate: konnect needs an application owner: add `validation_owner: {type: developer, id: <uuid>}` (or type: team)"}},
	{"konnect validation owner broken", "portals:\n  - name: a\n    scopes: [a:read]\n    validate: konnect\n    validation_owner: {type: admin, id: bob}\n  - name: b\n    scopes: [b:read]\n    validate: konnect\n    validation_owner: {type: team}\n", 3, []string{
		`f.yaml:5: portal "a": validation_owner.type: "admin": use developer or team`,
		`f.yaml:5: portal "a": validation_owner.id: "bob" is not a UUID; give the developer's or team's id as Konnect shows it`,
		`f.yaml:9: portal "b": validation_owner.id: is missing; give the developer's or team's id`}},
	{"validation owner without konnect validation", "portals:\n  - name: a\n    scopes: [a:read]\n    validation_owner: {type: team, id: 2f6e0c1a-8d9b-4c3e-9f1a-0b2c3d4e5f60}\n", 1, []string{
		"f.yaml:4: portal \"a\": validation_owner: is set, but the portal is not validated through Konnect; add `validate: konnect` or remove validation_owner"}},
	{"validation owner unknown field", "portals:\n  - name: a\n    scopes: [a:read]\n    validate: konnect\n    validation_owner: {type: team, id: 2f6e0c1a-8d9b-4c3e-9f1a-0b2c3d4e5f60, email: x}\n", 1, []string{
		"f.yaml:5: portal \"a\": validation_owner.email: unknown field; validation_owner's fields are type, id"}},
}

func manyScopes(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("s%d", i)
	}
	return strings.Join(s, ", ")
}

func manyLabels(prefix string, n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprintf("%s%d: v", prefix, i)
	}
	return strings.Join(s, ", ")
}

func TestParse_RefusesBrokenFiles(t *testing.T) {
	if len(brokenFiles) < 30 {
		t.Fatalf("only %d broken files", len(brokenFiles))
	}
	for _, c := range brokenFiles {
		t.Run(c.name, func(t *testing.T) {
			specs, err := Parse("f.yaml", []byte(c.doc))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), specs = %+v; want an *Error", err, err, specs)
			}
			if specs != nil {
				t.Errorf("specs = %+v alongside the error", specs)
			}
			for _, w := range c.want {
				if !slices.ContainsFunc(e.Problems, func(p string) bool { return strings.Contains(p, w) }) {
					t.Errorf("no problem contains\n  %s\nin:\n%v", w, err)
				}
			}
			if len(e.Problems) != c.n {
				t.Errorf("%d problems, want %d:\n%v", len(e.Problems), c.n, err)
			}
			for _, p := range e.Problems {
				if !strings.HasPrefix(p, "f.yaml") || strings.Contains(p, "yaml.v3") || strings.Contains(p, "onboarding.") || strings.Contains(p, "[]") && strings.Contains(p, "string") {
					t.Errorf("problem %q does not start with the file or names a Go type", p)
				}
			}
		})
	}
}
