#!/bin/sh
# One-shot job of docker-compose.yml (temporalio/admin-tools image, the temporal CLI):
# waits until the Temporal frontend is healthy, creates the namespace dcrflow runs in
# unless it exists (the server image creates none, not even "default"), and registers
# dcrflow's custom search attributes on it unless they are there. The dcrflow worker
# starts only after this job succeeds: a workflow that sets an unregistered search
# attribute would retry its task forever. Safe to run again; every wait is bounded.
#
#   TEMPORAL_ADDRESS           frontend host:port                     (default temporal:7233)
#   NAMESPACE                  namespace to create                    (default default)
#   NAMESPACE_RETENTION        how long closed workflows are kept     (default 168h)
#   DCRFLOW_SEARCH_ATTRIBUTES  space-separated Name=Type pairs, e.g. "DcrflowPortal=Keyword DcrflowStep=Keyword"
#   WAIT_SECONDS               bound on each wait                     (default 120)
set -eu

: "${TEMPORAL_ADDRESS:=temporal:7233}"
: "${NAMESPACE:=default}"
: "${NAMESPACE_RETENTION:=168h}"
: "${DCRFLOW_SEARCH_ATTRIBUTES:?set DCRFLOW_SEARCH_ATTRIBUTES to Name=Type pairs}"
: "${WAIT_SECONDS:=120}"

op() { temporal operator "$@" --address "$TEMPORAL_ADDRESS" --command-timeout 10s; }

# until_ok WHAT CMD...: run CMD every 2 s until it succeeds, for at most WAIT_SECONDS.
until_ok() {
  what=$1
  shift
  deadline=$(($(date +%s) + WAIT_SECONDS))
  until out=$("$@" 2>&1); do
    case $out in
    *"different type"*)
      echo "$what: $out" >&2
      exit 1
      ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "$what: still failing after ${WAIT_SECONDS}s: $out" >&2
      exit 1
    fi
    sleep 2
  done
}

echo "waiting for Temporal at $TEMPORAL_ADDRESS"
until_ok "temporal operator cluster health" op cluster health

if op namespace describe -n "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  # Another run of this job may have created it meanwhile.
  op namespace create -n "$NAMESPACE" --retention "$NAMESPACE_RETENTION" || op namespace describe -n "$NAMESPACE" >/dev/null
fi

# A namespace just created is unknown to the frontend's cache for a few seconds; an
# attribute that exists with the same type is accepted again, with another type refused.
for pair in $DCRFLOW_SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  until_ok "search attribute $name ($type)" op search-attribute create -n "$NAMESPACE" --name "$name" --type "$type"
  echo "search attribute $name ($type) registered on $NAMESPACE"
done

list=$(op search-attribute list -n "$NAMESPACE" -o json)
for pair in $DCRFLOW_SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  case $list in
  *"\"$name\": \"INDEXED_VALUE_TYPE_"*) ;;
  *)
    echo "search attribute $name is not listed on namespace $NAMESPACE" >&2
    exit 1
    ;;
  esac
done
echo "namespace $NAMESPACE is ready for dcrflow"
