#!/usr/bin/env bash
# Contract test: fuzz the served API against its own OpenAPI document with Schemathesis.
#
# Builds `tandem`, serves it on a fresh temporary SQLite database (rate limits off),
# registers an owner and a member, creates a group, a custom template, an open program,
# two enrolments and a pairing, then runs Schemathesis against /openapi.json as the
# owner, with the real ids given for the path parameters so requests reach the handlers
# instead of ending at 404. Every check is on (`--checks all`); the seed and the number
# of examples are fixed, so a run is repeatable and takes a few minutes. Exits non-zero
# on any failure.
#
# Environment:
#   CONTRACT_SEED           Schemathesis seed (default 8)
#   CONTRACT_MAX_EXAMPLES   cases per operation and phase (default 30)
#   CONTRACT_REPORT_DIR     where the JUnit report goes (default target/contract)
#   SCHEMATHESIS            a schemathesis binary to use instead of the pinned venv
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
SEED=${CONTRACT_SEED:-8}
MAX_EXAMPLES=${CONTRACT_MAX_EXAMPLES:-30}

cd "$(dirname "$0")/.."
ROOT=$PWD
REPORT_DIR=${CONTRACT_REPORT_DIR:-$ROOT/target/contract}

log() { printf '\n== %s\n' "$*" >&2; }

# -- Schemathesis, pinned, in a venv of its own (created once under target/).
ST=${SCHEMATHESIS:-}
if [[ -z $ST ]]; then
    VENV=$ROOT/target/schemathesis-$SCHEMATHESIS_VERSION
    ST=$VENV/bin/schemathesis
    if [[ ! -x $ST ]]; then
        log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
    fi
fi
"$ST" --version | grep -q "$SCHEMATHESIS_VERSION" ||
    { echo "contract-test: $ST is not schemathesis $SCHEMATHESIS_VERSION" >&2; exit 2; }

# -- The server, on a database of its own.
log "building tandem"
cargo build --quiet --workspace --bin tandem
TANDEM=$ROOT/target/debug/tandem

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
API=http://127.0.0.1:$PORT
log "serving on $API (log: $REPORT_DIR/server.log)"
mkdir -p "$REPORT_DIR"
TANDEM_DATABASE_URL=$WORK/tandem.db \
    TANDEM_BIND=127.0.0.1:$PORT \
    TANDEM_JWT_SECRET=contract-test-secret-that-is-long-enough \
    TANDEM_RATE_LIMITS=off \
    TANDEM_LOG=warn \
    "$TANDEM" serve >"$REPORT_DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
    curl -fsS "$API/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$REPORT_DIR/server.log" >&2; exit 1; }
    sleep 0.1
done

# -- Fixtures: real ids for the fuzzer.
# call METHOD PATH TOKEN [BODY] -> prints the body; fails unless the answer is 2xx.
call() {
    local method=$1 path=$2 token=$3 body=${4:-}
    local args=(-sS -X "$method" "$API$path" -w '\n%{http_code}')
    [[ -n $token ]] && args+=(-H "Authorization: Bearer $token")
    [[ -n $body ]] && args+=(-H 'Content-Type: application/json' -d "$body")
    local out status
    out=$(curl "${args[@]}")
    status=${out##*$'\n'}
    out=${out%$'\n'*}
    if [[ $status != 2* ]]; then
        echo "contract-test: $method $path answered $status: $out" >&2
        exit 1
    fi
    printf '%s' "$out"
}
# field PATH < JSON -> the value at a dotted path (`items.0.id`).
field() {
    python3 -c '
import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value[key]
print(value)' "$1"
}

log "creating fixtures"
OWNER=$(call POST /v1/auth/register '' \
    '{"email":"owner@example.org","password":"contract owner passphrase","display_name":"Owner"}')
TOKEN=$(field access_token <<<"$OWNER")
OWNER_ID=$(field user.id <<<"$OWNER")
MEMBER=$(call POST /v1/auth/register '' \
    '{"email":"member@example.org","password":"contract member passphrase","display_name":"Member"}')
MEMBER_TOKEN=$(field access_token <<<"$MEMBER")

# Two groups, so that the owner's list has a second page and a real cursor.
call POST /v1/groups "$TOKEN" '{"name":"Second group"}' >/dev/null
GROUP=$(call POST /v1/groups "$TOKEN" '{"name":"Contract group","description":"Fuzzed by schemathesis"}')
GROUP_ID=$(field id <<<"$GROUP")
call POST "/v1/groups/$GROUP_ID/join" "$MEMBER_TOKEN" \
    "{\"invite_code\":\"$(field invite_code <<<"$GROUP")\"}" >/dev/null

TEMPLATE_KEY=book-club
call POST "/v1/groups/$GROUP_ID/templates" "$TOKEN" "{\"key\":\"$TEMPLATE_KEY\",\"name\":\"Book club\",
    \"description\":\"Read together\",\"duration_weeks\":1,\"questions\":[],
    \"weeks\":[{\"number\":1,\"title\":\"First book\",\"goal\":\"Pick a book\",\"prompts\":[\"What do you like to read?\"]}]}" >/dev/null

PROGRAM_ID=$(call POST "/v1/groups/$GROUP_ID/programs" "$TOKEN" \
    '{"template_key":"new-parents","matching":"admin","default_capacity":3}' | field id)
call PATCH "/v1/programs/$PROGRAM_ID" "$TOKEN" '{"status":"open"}' >/dev/null

ANSWERS='{"child_stage":"newborn","first_child":"first","children_count":1,"feeding":["breastfeeding"],
  "sleep":"our_room","work_plans":"going_back","support_wanted":["sleep"],"time_zone":"europe_africa","languages":["it"]}'
MENTOR_ENROLMENT_ID=$(call POST "/v1/programs/$PROGRAM_ID/enrolments" "$TOKEN" \
    "{\"role\":\"mentor\",\"answers\":$ANSWERS}" | field id)
MENTEE_ENROLMENT_ID=$(call POST "/v1/programs/$PROGRAM_ID/enrolments" "$MEMBER_TOKEN" \
    "{\"role\":\"mentee\",\"answers\":$ANSWERS}" | field id)
PAIRING_ID=$(call POST "/v1/programs/$PROGRAM_ID/pairings" "$TOKEN" \
    "{\"mentor_enrolment_id\":\"$MENTOR_ENROLMENT_ID\",\"mentee_enrolment_id\":\"$MENTEE_ENROLMENT_ID\",\"introduction\":\"Meet each other\"}" |
    field id)
# The pairing notified both partners, so the owner has a notification too.
NOTIFICATION_ID=$(call GET /v1/me/notifications "$TOKEN" | field items.0.id)

# A cursor is opaque: only one a list gave out is valid (others are 422), so the fuzzer
# gets real ones. Cursors of lists keyed by ids are ids, valid as positions in any such
# list; the built-in templates are keyed by their keys.
CURSOR=$(call GET "/v1/groups?limit=1" "$TOKEN" | field next_cursor)
TEMPLATE_CURSOR=$(call GET "/v1/templates?limit=1" "$TOKEN" | field next_cursor)
# The agenda is ordered by state and date, so its cursors are positions of their own.
AGENDA_CURSOR=$(call GET "/v1/me/check-ins?limit=1" "$TOKEN" | field next_cursor)
# The feed's secret is the member's: the fuzzer, acting as the owner, rotates only the
# owner's, so this one stays valid for the whole run.
CALENDAR_TOKEN=$(call POST /v1/me/calendar-token "$MEMBER_TOKEN" | field token)

# Path parameters take these ids in every operation that has them (the fuzzer still
# varies bodies, queries and headers). `key` names the custom template, except on the
# built-in template operation. `user_id` is the owner, who is a member of the fixture
# group and of every group the fuzzer creates (as the last owner, they stay: 409).
CONFIG=$WORK/schemathesis.toml
cat >"$CONFIG" <<EOF
[parameters]
"path.group_id" = "$GROUP_ID"
"path.program_id" = "$PROGRAM_ID"
"path.enrolment_id" = "$MENTEE_ENROLMENT_ID"
"path.pairing_id" = "$PAIRING_ID"
"path.user_id" = "$OWNER_ID"
"path.notification_id" = "$NOTIFICATION_ID"
"path.key" = "$TEMPLATE_KEY"
"query.cursor" = "$CURSOR"

[[operations]]
include-operation-id = "get_template"
parameters = { "path.key" = "new-parents" }

[[operations]]
include-operation-id = "list_templates"
parameters = { "query.cursor" = "$TEMPLATE_CURSOR" }

[[operations]]
include-operation-id = "list_my_check_ins"
parameters = { "query.cursor" = "$AGENDA_CURSOR" }

[[operations]]
include-operation-id = "get_calendar_feed"
parameters = { "query.token" = "$CALENDAR_TOKEN" }

# A well-formed If-Match that names an old version is answered 412: the request is
# valid, the client's copy is stale (like 409, a matter of state, not of shape). An
# If-None-Match naming the current version (or \`*\`) is answered 304 Not Modified.
[checks.positive_data_acceptance]
expected-statuses = ["2xx", 304, 401, 403, 404, 409, 412, 429]

# A body over the size limit is refused (413) before it is parsed, whatever it holds.
# A precondition that fails (an empty or stale If-Match) is answered 412 before the
# content is processed, as RFC 9110 §13.2.1 orders it, whatever the body holds.
[checks.negative_data_rejection]
expected-statuses = [304, 400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 428, 429]

# These bodies are checked against stored data no schema can describe: answers against
# the program's questions, a duration against the template's guide, enrolment ids
# against the program, a template's weeks against its duration and its question keys
# against each other, a message's week against the program's guide (also as ?week=).
# A schema-valid body can still be 422 there, naming the field.
[[operations]]
include-operation-id = [
    "enrol",
    "create_program",
    "update_program",
    "create_pairing",
    "publish_pairings",
    "create_custom_template",
    "update_custom_template",
    "post_message",
    "list_messages",
]
checks.positive_data_acceptance.expected-statuses = ["2xx", 304, 401, 403, 404, 409, 412, 422, 429]
EOF

# -- The run.
log "schemathesis $SCHEMATHESIS_VERSION: seed $SEED, at most $MAX_EXAMPLES examples per operation"
set +e
SCHEMATHESIS_HOOKS=$ROOT/scripts/contract-hooks.py \
"$ST" --config-file "$CONFIG" run "$API/openapi.json" \
    --url "$API" \
    --header "Authorization: Bearer $TOKEN" \
    --checks all \
    --seed "$SEED" \
    --max-examples "$MAX_EXAMPLES" \
    --generation-database none \
    --workers 1 \
    --no-color \
    --report junit --report-dir "$REPORT_DIR"
status=$?
set -e
if [[ $status -ne 0 ]]; then
    echo "contract-test: schemathesis found failures (exit $status); JUnit report in $REPORT_DIR" >&2
fi
exit $status
