#!/usr/bin/env bash
# The demo: a month's patch cycle on the lab. Test wave, then production with exactly what the test
# wave validated (even though the repository has meanwhile gained a newer version), the evidence
# verified, the compliance report written.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. lab/env.sh
demo="$root/.lab/demo"
export HEALTHIT_AUDIT_DIR="$demo/evidence" HEALTHIT_PATCH_STATE_DIR="$demo/state"
rm -rf "$demo" && mkdir -p "$HEALTHIT_AUDIT_DIR" "$HEALTHIT_PATCH_STATE_DIR"
say() { printf '\n=== %s\n' "$*"; }
linux_hosts=$(awk -F, 'NR>1 && ($3=="linux" || $3=="kvm_hypervisor") {print $1}' inventories/lab/cmdb/hosts.csv)
servers=$(awk -F, 'NR>1 && $3=="redfish" {print $1}' inventories/lab/cmdb/hosts.csv)

say "Starting from an out-of-date estate: lab repository at its base content, Linux hosts recreated"
bash lab/repo/reset.sh >/dev/null
bash lab/linux/reset.sh >/dev/null
[ -x lab/switches/reset.sh ] && bash lab/switches/reset.sh >/dev/null || true
[ -x lab/libvirt/reset.sh ] && bash lab/libvirt/reset.sh >/dev/null || true
bash lab/redfish/reset.sh >/dev/null

versions() {
  for h in $linux_hosts; do
    printf '  %-16s %s\n' "$h" "$(podman exec "$h" dpkg-query -W -f '${Package}=${Version} ' labpkg-web labpkg-kernel labpkg-util)"
  done
  # the servers' BIOS as their BMC (the lab's Redfish emulator) reports it, with the inventory's BMC settings
  python3 - $servers <<'PY'
import base64, json, ssl, sys, urllib.request, yaml
common = yaml.safe_load(open("inventories/lab/group_vars/redfish.yml"))
token = base64.b64encode(("%s:%s" % (common["server_firmware_username"], common["server_firmware_password"])).encode()).decode()
for host in sys.argv[1:]:
    system = yaml.safe_load(open("inventories/lab/host_vars/%s.yml" % host))["server_firmware_resource_id"]
    request = urllib.request.Request("https://127.0.0.1:8008/redfish/v1/Systems/" + system,
                                     headers={"Authorization": "Basic " + token})
    with urllib.request.urlopen(request, timeout=10, context=ssl._create_unverified_context()) as answer:
        print("  %-16s bios=%s" % (host, json.load(answer).get("BiosVersion")))
PY
}
say "Installed versions before the cycle"
versions

say "Test wave (ansible-playbook healthit.patching.monthly_wave -e patch_wave=test)"
ansible-playbook playbooks/monthly_wave.yml -e patch_wave=test -e patch_change_ticket=CHG0042001 -e patch_batch_size=10 || true

say "Meanwhile the repository gains labpkg-web 1.2, which nobody has tested"
bash lab/repo/publish-extra.sh labpkg-web 1.2 bookworm-security >/dev/null

say "Production wave (exactly the test wave's baseline; refuses hosts outside their window)"
prod_rc=0
ansible-playbook playbooks/monthly_wave.yml -e patch_wave=production -e patch_change_ticket=CHG0042002 -e patch_batch_size=10 || prod_rc=$?
bash lab/repo/reset.sh >/dev/null

say "Installed versions after the cycle (production got 1.1 from the baseline, not the untested 1.2; both servers' BIOS 1.1.0)"
versions

say "Verifying the audit evidence of both waves"
ansible localhost -m healthit.patching.audit_verify -a "path=$HEALTHIT_AUDIT_DIR" | grep -E '"(status|verified|incomplete|tampered|path)"' | head -n 20 || true

if [ -f playbooks/compliance_report.yml ]; then
  say "Compliance report"
  ansible-playbook playbooks/compliance_report.yml -e report_dir="$demo/report" || true
  echo "report: $(ls "$demo"/report/*.html 2>/dev/null | head -n 1)"
fi

say "Lab host kinds reached by this demo"
python3 - "$HEALTHIT_AUDIT_DIR" <<'PY'
import glob, json, sys, collections
kinds = collections.defaultdict(set)
for path in glob.glob(sys.argv[1] + "/*.jsonl"):
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        pr = (r.get("result") or {}).get("patch_result")
        if r.get("type") == "host_result" and pr:
            kinds[pr.get("platform", "?")].add("%s:%s" % (r["host"], pr.get("status")))
for k in sorted(kinds):
    print("  %-16s %s" % (k, ", ".join(sorted(kinds[k]))))
PY
echo
echo "Evidence: $HEALTHIT_AUDIT_DIR   Baselines: $HEALTHIT_PATCH_STATE_DIR/baselines"
exit 0
