"""Schemathesis hooks for scripts/contract-test.sh.

A well-behaved client sends one Idempotency-Key per distinct request. The fuzzer draws
keys at random and soon reuses one ("0") for a different request, which the API rightly
refuses with 422; that says nothing about the request itself. So a well-formed key is
replaced by a digest of the request it goes with: a repeated request is a replay, a
different one gets its own key (preconditions included). Malformed keys (negative
tests) are left as drawn.
"""

import hashlib
import json
import re

import schemathesis

WELL_FORMED_KEY = re.compile(r"[\x21-\x7E]{1,255}")


@schemathesis.hook
def map_case(context, case):
    headers = case.headers or {}
    key = headers.get("Idempotency-Key")
    if not isinstance(key, str) or not WELL_FORMED_KEY.fullmatch(key):
        return case
    try:
        body = json.dumps(case.body, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(case.body)
    # The preconditions belong to the request too: the same write with another If-Match
    # is another request, not a replay of the stored answer.
    conditions = json.dumps({h: headers.get(h) for h in ("If-Match", "If-None-Match")}, default=str)
    request = "\n".join(
        [case.method, case.formatted_path, json.dumps(case.query or {}, sort_keys=True, default=str), body, conditions]
    )
    headers["Idempotency-Key"] = hashlib.sha256(request.encode("utf-8", "surrogatepass")).hexdigest()
    return case
