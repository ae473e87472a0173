#!/usr/bin/env bash
# `make ui-check`: looks at the onboarded example fleet in the Temporal UI as a person
# would, in headless Chromium, and fails when the UI does not show what dcrflow puts
# there. `make run` has brought the stack up and finished the fleet; this script
#   - installs Debian's chromium when no Chromium is found (apt-get, as root);
#   - loads four UI pages (the fleet's and one portal's history and User Metadata tabs)
#     with --dump-dom, and a screenshot of each into .run/ui-*.png;
#   - asserts the texts below are in the rendered DOM. The UI renders markdown (static
#     summaries, Current Details) in iframes whose src is /render?content=<markdown>:
#     --dump-dom does not descend into iframes, so their content is read from the src,
#     and the Current Details iframe is loaded on its own to check its rendered HTML.
# Current Details come from a query to a live worker: the worker must be up.
# Settings: UI_CHECK_PORTAL (payments), UI_CHECK_FLEET (portals), UI_CHECK_STEPS (7),
# UI_CHECK_BUDGET_MS (15000, Chromium's --virtual-time-budget), TEMPORAL_UI_PORT (8233),
# CHROMIUM (path of the browser).
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'echo "ui-check: FAIL: unexpected error in $0 at line $LINENO" >&2' ERR

RUN=.run
UI=http://localhost:${TEMPORAL_UI_PORT:-8233}
NS=default
PORTAL=${UI_CHECK_PORTAL:-payments}
FLEET=${UI_CHECK_FLEET:-portals}
STEPS=${UI_CHECK_STEPS:-7}
BUDGET=${UI_CHECK_BUDGET_MS:-15000}

die() { echo "ui-check: FAIL: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

find_chromium() {
  local c
  for c in "${CHROMIUM:-}" chromium chromium-browser google-chrome; do
    if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}

if ! CHROME=$(find_chromium); then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "no Chromium found; install it (Debian: apt-get install chromium) or set CHROMIUM"
  fi
  echo "ui-check: no Chromium found; installing Debian's chromium (apt-get update && apt-get install -y chromium)..."
  t=$(now)
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >"$RUN/ui-apt.log" 2>&1 \
    || { tail -20 "$RUN/ui-apt.log" >&2; die "could not install chromium; see $RUN/ui-apt.log"; }
  CHROME=$(find_chromium) || die "chromium installed but not found on PATH"
  echo "ui-check: installed $("$CHROME" --version 2>/dev/null) in $(since "$t")"
fi
echo "ui-check: $("$CHROME" --version 2>/dev/null) ($CHROME), UI $UI, portal $PORTAL, fleet $FLEET"

alive worker || die "the worker is not running (no live pid in $RUN/worker.pid): Current Details are a query to a live worker; run \`make run\` first"
(exec 3<>"/dev/tcp/127.0.0.1/${TEMPORAL_UI_PORT:-8233}") 2>/dev/null || die "the Temporal UI does not answer on $UI; run \`make run\` first"

: >"$RUN/ui-chromium.log"
PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT

# browse NAME URL BUDGET_MS WIDTHxHEIGHT: the rendered DOM into $RUN/ui-NAME.html and a
# screenshot into $RUN/ui-NAME.png; a fresh profile each time.
browse() {
  local name=$1 url=$2 budget=$3 size=$4
  rm -rf "$PROFILE" && mkdir -p "$PROFILE"
  timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-dev-shm-usage \
    --hide-scrollbars --user-data-dir="$PROFILE" --window-size="${size/x/,}" --virtual-time-budget="$budget" \
    --dump-dom --screenshot="$RUN/ui-$name.png" "$url" >"$RUN/ui-$name.html" 2>>"$RUN/ui-chromium.log" \
    || die "chromium failed on $url; see $RUN/ui-chromium.log"
}

# text NAME: the page's visible text, one text node a line, then the markdown of each
# /render iframe (URL-decoded), each line prefixed "[iframe] ".
text() {
  local html=$RUN/ui-$1.html src
  sed -e 's/<[^>]*>/\n/g' "$html" | sed -e 's/&amp;/\&/g; s/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&#39;/'"'"'/g; s/&nbsp;/ /g' | grep -v '^[[:space:]]*$' || true
  { grep -o 'src="/render?content=[^"&]*' "$html" || true; } | while read -r src; do
    src=${src#src=\"/render?content=}
    printf '%b\n' "${src//%/\\x}" | sed 's/^/[iframe] /'
  done
}

# check NAME URL SIZE TEXT...: load the page until every TEXT is shown (3 tries, the
# virtual-time budget doubling), else fail naming what is missing.
check() {
  local name=$1 url=$2 size=$3; shift 3
  local t try budget=$BUDGET missing=()
  t=$(now)
  for try in 1 2 3; do
    browse "$name" "$url" "$budget" "$size"
    text "$name" >"$RUN/ui-$name.txt"
    missing=()
    for want in "$@"; do grep -qF -- "$want" "$RUN/ui-$name.txt" || missing+=("$want"); done
    [ ${#missing[@]} -eq 0 ] && break
    budget=$((budget * 2))
  done
  if [ ${#missing[@]} -ne 0 ]; then
    echo "ui-check: FAIL: $url (after $try tries, $(since "$t")) does not show:" >&2
    printf '  - %s\n' "${missing[@]}" >&2
    die "see the screenshot $RUN/ui-$name.png, the DOM $RUN/ui-$name.html and its text $RUN/ui-$name.txt"
  fi
  [ ${#url} -le 160 ] || url="${url:0:100}…"
  echo "ok  $url  ($(since "$t"), $try load(s), $RUN/ui-$name.png)"
  printf '    shows "%s"\n' "$@"
}

# run_id NAME WORKFLOW_ID: the run id, from the tab links of the page loaded as NAME.
run_id() {
  local id
  id=$(grep -o "href=\"/namespaces/$NS/workflows/$2/[^/\"]*/user-metadata\"" "$RUN/ui-$1.html" | head -1 | cut -d/ -f6)
  [ -n "$id" ] || die "no run id for $2 in the links of $RUN/ui-$1.html"
  echo "$id"
}

start=$(now)
fleet_id=dcrflow-fleet-$FLEET
wf_id=dcrflow-onboard-$PORTAL
wf=$UI/namespaces/$NS/workflows

# The fleet: its history (children with their static summaries), then its User Metadata
# (static summary and Current Details).
check "fleet-history" "$wf/$fleet_id" 1400x1200 \
  "$fleet_id" "OnboardFleet" "Completed" "Onboard portal $PORTAL to Okta DCR"
fleet_run=$(run_id fleet-history "$fleet_id")
check "fleet-metadata" "$wf/$fleet_id/$fleet_run/user-metadata" 1400x1000 \
  "Summary" "[iframe] Onboard fleet $FLEET:" \
  "Current Details" "[iframe] **Fleet $FLEET**: " " done — "

# One portal: its history (static summary on the start event, activity summaries in the
# timeline and on the ActivityTaskScheduled events) ...
check "$PORTAL-history" "$wf/$wf_id" 1400x1400 \
  "$wf_id" "OnboardPortal" "Completed" "dcrflow-fleet-$FLEET" \
  "Onboard portal $PORTAL to Okta DCR" \
  "ResolveTargets • Resolve Okta server" "EnsureScopes • Ensure scopes " \
  "Validate: DCR client, token, JWKS signature, claim and scopes"
portal_run=$(run_id "$PORTAL-history" "$wf_id")
# ... its User Metadata: static summary, the Current Details checklist (a query to the
# worker), the events with their summaries ...
check "$PORTAL-metadata" "$wf/$wf_id/$portal_run/user-metadata" 1400x1000 \
  "Summary" "[iframe] Onboard portal $PORTAL to Okta DCR" \
  "Current Details" "[iframe] **$PORTAL**: succeeded" \
  "[iframe] - step 1 of $STEPS, resolve: **done**" "[iframe] - step $STEPS of $STEPS, validate: **done**" \
  "Events with Metadata" "Ensure scopes "
# ... and the Current Details as the UI renders them (its markdown endpoint), a list.
details=$(grep -o 'src="/render?content=[^"]*' "$RUN/ui-$PORTAL-metadata.html" | grep 'step%201%20of' | head -1)
[ -n "$details" ] || die "no Current Details iframe in $RUN/ui-$PORTAL-metadata.html"
details=${details#src=\"}
check "$PORTAL-current-details" "$UI${details//&amp;/\&}" 700x300 \
  "$PORTAL" ": succeeded" "step 1 of $STEPS, resolve:" "step $STEPS of $STEPS, validate:"
grep -q "<li>step 1 of $STEPS, resolve: <strong>done" "$RUN/ui-$PORTAL-current-details.html" \
  || die "the Current Details are not rendered as a list; see $RUN/ui-$PORTAL-current-details.html"

alive worker || die "the worker died during the check; see $RUN/worker.log"
echo "ui-check: the Temporal UI shows the summaries, the Current Details and the activity summaries ($(since "$start")); screenshots in $RUN/ui-*.png"
