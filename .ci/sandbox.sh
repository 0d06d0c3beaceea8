# Sourced: start_sandbox REGION starts the local AWS sandbox with its demo account in the
# background (it exits with this shell), waits until it answers, and exports the standard AWS
# variables pointing at it (placeholder keys) plus DEMO_VPC, DEMO_SUBNET_A/B, DEMO_INSTANCE, and
# HANDBUILT_API: the REST API of the account's second state, a setup built by hand (untagged)
# to adopt. stop_sandbox stops it.

start_sandbox() {
  local region="$1"
  SANDBOX_OUT="$(mktemp)"
  end2end/aws-sandbox/run --port 0 --demo "$region" --parent-pid $$ >"$SANDBOX_OUT" &
  SANDBOX_PID=$!
  for _ in $(seq 1 300); do
    grep -q '^HANDBUILT ' "$SANDBOX_OUT" && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || { cat "$SANDBOX_OUT" >&2; echo "the AWS sandbox did not start" >&2; return 1; }
    sleep 0.5
  done
  grep -q '^HANDBUILT ' "$SANDBOX_OUT" || { echo "the AWS sandbox did not answer in 150 s" >&2; return 1; }
  SANDBOX_URL="$(sed -n 's/^READY //p' "$SANDBOX_OUT")"
  local demo subnets
  demo="$(sed -n 's/^DEMO //p' "$SANDBOX_OUT")"
  DEMO_VPC="$(tr ' ' '\n' <<<"$demo" | sed -n 's/^vpc=//p')"
  subnets="$(tr ' ' '\n' <<<"$demo" | sed -n 's/^subnets=//p')"
  DEMO_SUBNET_A="${subnets%%,*}"
  DEMO_SUBNET_B="${subnets##*,}"
  DEMO_INSTANCE="$(tr ' ' '\n' <<<"$demo" | sed -n 's/^instances=//p')"
  DEMO_INSTANCE="${DEMO_INSTANCE%%,*}"
  HANDBUILT_API="$(sed -n 's/^HANDBUILT rest_api=\([^ ]*\).*/\1/p' "$SANDBOX_OUT")"
  export SANDBOX_URL DEMO_VPC DEMO_SUBNET_A DEMO_SUBNET_B DEMO_INSTANCE HANDBUILT_API
  # The standard AWS credential chain, pointed at the sandbox; the keys are placeholders.
  export AWS_ENDPOINT_URL="$SANDBOX_URL" AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION="$region"
  export AWS_EC2_METADATA_DISABLED=true
}

# The seed topology with the demo account's VPC, subnets and instance, written to $1, and 30
# days of its traffic put in the sandbox (end2end/aws-sandbox/demo.py).
demo_seed() {
  sed -e "s/vpc-0a1b2c3d4e5f60718/$DEMO_VPC/" \
      -e "s/subnet-0a1b2c3d4e5f60719/$DEMO_SUBNET_A/" -e "s/subnet-0a1b2c3d4e5f6071a/$DEMO_SUBNET_B/" \
      -e "s/i-0a1b2c3d4e5f6071b/$DEMO_INSTANCE/" examples/seed-topology.yaml >"$1"
  # Its traffic in the sandbox's CloudWatch, so the charts have data.
  python3 - "$SANDBOX_URL" "$(realpath "$1")" <<'PY'
import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1] + "/_sandbox/traffic", method="POST",
                                 data=json.dumps({"topology": sys.argv[2]}).encode(),
                                 headers={"Content-Type": "application/json"})
urllib.request.urlopen(request).read()
PY
}

stop_sandbox() {
  [ -n "${SANDBOX_PID:-}" ] && kill "$SANDBOX_PID" 2>/dev/null || true
  [ -n "${SANDBOX_OUT:-}" ] && rm -f "$SANDBOX_OUT"
  SANDBOX_PID=""
}
