#!/usr/bin/env bash
# Start the lab's Redfish service: sushy-tools' emulator with its fake driver on https://127.0.0.1:8008, two
# servers srv-01 and srv-02 (BiosVersion 1.0.0, BMCs at 13.4.0 and 13.5.0, powered on), HTTP basic authentication with the lab-only
# credentials of inventories/lab/group_vars/redfish.yml. Idempotent: an emulator that answers and enforces the
# credentials is left alone. State (versions, power) persists in .lab/run/redfish/state until lab/redfish/reset.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run="$root/.lab/run/redfish"
py="$root/.venv/bin/python"
port=8008
mkdir -p "$run/state"

# Lab-only BMC credentials (not secrets): the same as the lab inventory's server_firmware_username/password.
user=lab
password=lab-only-bmc-secret

# Answers with the credentials, and refuses without them (an emulator started without authentication is restarted).
answering() {
  LAB_BMC_AUTH="$user:$password" "$py" - "$port" <<'PY' 2>/dev/null
import base64, os, ssl, sys, urllib.error, urllib.request
url = "https://127.0.0.1:%s/redfish/v1/Systems" % sys.argv[1]
ctx = ssl._create_unverified_context()
auth = "Basic " + base64.b64encode(os.environ["LAB_BMC_AUTH"].encode()).decode()
urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": auth}), timeout=2, context=ctx)
try:
    urllib.request.urlopen(url, timeout=2, context=ctx)
except urllib.error.HTTPError as exc:
    sys.exit(0 if exc.code == 401 else 1)
sys.exit(1)
PY
}

"$py" -c "import sushy_tools" 2>/dev/null || { echo "redfish: sushy-tools is not installed in .venv (lab/requirements.txt)" >&2; exit 1; }
# A changed emulator or configuration (new servers, versions, BMC fields) starts over from fresh state.
inputs=$(cat "$root/lab/redfish/emulator.py" "$root/lab/redfish/emulator.conf.in" | sha256sum | cut -c1-16)
if [ "$(cat "$run/inputs" 2>/dev/null)" != "$inputs" ]; then
  if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; then
    echo "redfish: the emulator or its configuration changed; restarting it with fresh state"
    "$root/lab/redfish/down.sh" >/dev/null
  fi
  rm -rf "$run/state" && mkdir -p "$run/state"
fi
if [ -f "$run/pid" ] && kill -0 "$(cat "$run/pid")" 2>/dev/null; then
  if answering; then
    echo "redfish: already up (pid $(cat "$run/pid"))"
    exit 0
  fi
  echo "redfish: process $(cat "$run/pid") is not answering with authentication; restarting it"
  "$root/lab/redfish/down.sh"
fi
# community.general's redfish modules always speak HTTPS: a throwaway self-signed certificate for 127.0.0.1
if [ ! -s "$run/tls.crt" ] || [ ! -s "$run/tls.key" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$run/tls.key.part" -out "$run/tls.crt.part" 2>/dev/null
  chmod 0600 "$run/tls.key.part"
  mv "$run/tls.key.part" "$run/tls.key"
  mv "$run/tls.crt.part" "$run/tls.crt"
fi
# bcrypt (the only digest sushy-tools accepts) with few rounds: every request is checked, the machine is small.
LAB_BMC_AUTH="$user:$password" "$py" -c "
import bcrypt, os
user, password = os.environ['LAB_BMC_AUTH'].split(':', 1)
print(user + ':' + bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode())" > "$run/htpasswd.part"
chmod 0600 "$run/htpasswd.part"
mv "$run/htpasswd.part" "$run/htpasswd"
sed -e "s|@STATE_DIR@|$run/state|" -e "s|@RUN_DIR@|$run|" "$root/lab/redfish/emulator.conf.in" > "$run/emulator.conf"
LAB_REDFISH_RUN_DIR="$run" setsid "$py" "$root/lab/redfish/emulator.py" --config "$run/emulator.conf" --fake \
  -i 127.0.0.1 -p "$port" >>"$run/emulator.log" 2>&1 < /dev/null &
echo $! > "$run/pid"
echo "$inputs" > "$run/inputs"
for _ in $(seq 1 60); do
  if answering; then
    echo "redfish: up (pid $(cat "$run/pid")): https://127.0.0.1:$port/redfish/v1 (self-signed) systems srv-01 srv-02"
    exit 0
  fi
  kill -0 "$(cat "$run/pid")" 2>/dev/null || break
  sleep 0.5
done
echo "redfish: failed to start, see $run/emulator.log" >&2
tail -n 30 "$run/emulator.log" >&2 || true
exit 1
