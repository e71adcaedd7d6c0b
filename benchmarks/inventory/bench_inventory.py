#!/usr/bin/env python3
"""Benchmark: healthit.patching.patch_inventory against ansible-core's YAML inventory plugin.

Generates a CMDB export of N hosts (default 50,000) and a register of E exceptions (default 2,000:
exact names, glob patterns, CIDRs and single addresses, half of them expired), then writes the
inventory the plugin produces from them (the same hosts, groups and variables) as a static YAML
inventory. Both are listed with `ansible-inventory --graph`, side by side in one run, alternating,
and the script prints both times and the ratio plugin / yaml (goal: at most 0.2).

    .venv/bin/python benchmarks/inventory/bench_inventory.py [--hosts 50000] [--exceptions 2000] [--rounds 1]

Work files go under .lab/bench/inventory (gitignored). Not a test: nothing here asserts on time.
"""
import argparse
import datetime
import ipaddress
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
TODAY = datetime.date(2026, 11, 22)
PLATFORMS = ["linux"] * 10 + ["windows_server"] * 6 + ["windows_workstation"] * 8 + [
    "kvm_hypervisor", "esxi_hypervisor", "hyperv_hypervisor", "ios", "iosxe", "nxos", "eos", "junos"]
SITES = ["main-campus", "north-clinic", "south-clinic", "east-wing", "west-wing", "data-centre-a",
         "data-centre-b", "lab-building", "imaging-centre", "outpatients"]
WINDOWS = ["sat-night", "sun-early", "tue-late", "thu-late", "first-sunday", "weekday-lunch"]
FIRST_ADDRESS = int(ipaddress.ip_address("10.0.0.1"))


def host_row(i):
    name = "h%05d" % i
    address = str(ipaddress.ip_address(FIRST_ADDRESS + i))
    platform_name = PLATFORMS[i % len(PLATFORMS)]
    wave = "test" if i % 10 == 0 else "production"
    site = SITES[i % len(SITES)]
    window = WINDOWS[(i // 7) % len(WINDOWS)]
    criticality = ("clinical_critical", "business", "low")[i % 3]
    ha_group = "ha-%04d" % (i // 25) if i % 5 == 0 else ""
    return [name, address, platform_name, "team-%02d" % (i % 40), wave, site, window, criticality, ha_group,
            "R%03d" % (i % 300), "Q-%02d" % (i % 12)]


HEADER = ["hostname", "address", "platform", "owner", "wave", "site", "maintenance_window", "criticality",
          "ha_group", "rack", "service_desk_queue"]


def exceptions(count, hosts):
    """Quarter names, quarter globs, quarter CIDRs (/29), quarter addresses; every second one expired."""
    items = []
    quarter = count // 4
    for k in range(count):
        kind = min(k // quarter, 3) if quarter else 0
        slot = (k * 7919) % hosts  # spread over the estate, deterministic
        if kind == 0:
            pattern = "h%05d" % slot
        elif kind == 1:
            pattern = "h%04d*" % (slot // 10)  # ten hosts each
        elif kind == 2:
            base = (FIRST_ADDRESS + slot) // 8 * 8
            pattern = "%s/29" % ipaddress.ip_address(base)
        else:
            pattern = str(ipaddress.ip_address(FIRST_ADDRESS + slot))
        expires = TODAY + datetime.timedelta(days=(200 if k % 2 else -20) + k % 17)
        items.append({
            "id": "EXC-%05d" % k, "hosts": [pattern], "owner": "team-%02d" % (k % 40), "approved_by": "CISO",
            "approved_on": "2025-01-15", "expires": expires.isoformat(),
            "application": "vendor-certified application %d" % k, "reason": "vendor certification pending",
            "compensating_controls": ["segmented VLAN", "EDR in block mode"],
        })
    return items


def write_inputs(work, hosts, count):
    os.makedirs(os.path.join(work, "plugin", "cmdb"), exist_ok=True)
    os.makedirs(os.path.join(work, "plugin", "exceptions"), exist_ok=True)
    os.makedirs(os.path.join(work, "static"), exist_ok=True)
    with open(os.path.join(work, "plugin", "cmdb", "hosts.csv"), "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(HEADER) + "\r\n")
        for i in range(hosts):
            handle.write(",".join(host_row(i)) + "\r\n")
    with open(os.path.join(work, "plugin", "exceptions", "register.yml"), "w", encoding="utf-8") as handle:
        handle.write("---\nexceptions:\n")
        for item in exceptions(count, hosts):
            handle.write("  - " + json.dumps(item) + "\n")  # JSON is valid YAML flow style
    config = os.path.join(work, "plugin", "bench.patch_inventory.yml")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write("plugin: healthit.patching.patch_inventory\nsources: [cmdb/hosts.csv]\n"
                     "exceptions: exceptions/register.yml\ntoday: '%s'\n" % TODAY.isoformat())
    return config


def write_static(work, config):
    """The plugin's own result (same hosts, groups, vars) as a YAML inventory for the builtin plugin."""
    sys.path.insert(0, os.path.join(ROOT, ".build", "collections"))
    from ansible_collections.healthit.patching.plugins.plugin_utils import _cmdb, _exception_register
    from ansible_collections.healthit.patching.plugins.plugin_utils import _inventory_model

    base = os.path.dirname(config)
    model = _inventory_model.build(
        _cmdb.read_sources([os.path.join(base, "cmdb", "hosts.csv")]),
        _exception_register.load_register(os.path.join(base, "exceptions", "register.yml")), TODAY)
    children = {}
    parents = {}
    for name, group in model["groups"].items():
        for child in group["children"]:
            parents.setdefault(child, set()).add(name)
    written = set()
    for name, group in model["groups"].items():
        entry = {}
        if group["vars"]:
            entry["vars"] = group["vars"]
        hosts = {}
        for hostname in group["hosts"]:
            # vars once, on the first group that names the host (its platform group)
            hosts[hostname] = None if hostname in written else model["hosts"][hostname]
            written.add(hostname)
        if hosts:
            entry["hosts"] = hosts
        kids = {c: None for c in group["children"]}
        if kids:
            entry["children"] = kids
        children[name] = entry
    top = {n: e for n, e in children.items() if n not in parents}
    for name, entry in children.items():
        # a group with two parents (hyperv_hypervisor) is written out once, named only under the other
        for parent in sorted(parents.get(name, ()))[:1]:
            children[parent]["children"][name] = entry
    static = {"all": {"vars": model["all_vars"], "children": top}}
    path = os.path.join(work, "static", "bench.yml")
    with open(path, "w", encoding="utf-8") as handle:
        # block style, as a static inventory is written by hand or exported by ansible-inventory -y
        yaml.dump(static, handle, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), default_flow_style=False,
                  sort_keys=False)
    return path, len(model["hosts"]), len(model["all_vars"]["patch_excluded_hosts"])


def graph(source, env):
    """Wall time, peak memory (MiB) and output lines of one `ansible-inventory --graph`."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([os.path.join(VENV_BIN, "ansible-inventory"), "-i", source, "--graph"],
                                env=env, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit("ansible-inventory failed for %s:\n%s" % (source, err.read()[-3000:].decode()))
        return elapsed, usage.ru_maxrss / 1024.0, out.read().count(b"\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=50000)
    parser.add_argument("--exceptions", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1, help="alternating runs of each; the best is kept")
    parser.add_argument("--work", default=os.path.join(ROOT, ".lab", "bench", "inventory"))
    args = parser.parse_args()

    config = write_inputs(args.work, args.hosts, args.exceptions)
    static, kept, excluded = write_static(args.work, config)
    cfg = os.path.join(args.work, "ansible.cfg")
    with open(cfg, "w", encoding="utf-8") as handle:
        handle.write("[defaults]\ncollections_path = %s\n[inventory]\nenable_plugins = "
                     "healthit.patching.patch_inventory, ansible.builtin.yaml\nany_unparsed_is_failed = True\n"
                     % os.path.join(ROOT, ".build", "collections"))
    env = dict(os.environ, ANSIBLE_CONFIG=cfg, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)

    print("inputs: %d CMDB rows, %d exceptions -> %d hosts in the inventory, %d excluded"
          % (args.hosts, args.exceptions, kept, excluded))
    plugin_runs, yaml_runs = [], []
    for _round in range(args.rounds):
        yaml_runs.append(graph(static, env))
        plugin_runs.append(graph(config, env))
    if plugin_runs[-1][2] != yaml_runs[-1][2]:
        print("warning: --graph printed %d lines through the plugin, %d from the static file"
              % (plugin_runs[-1][2], yaml_runs[-1][2]))
    best_plugin = min(r[0] for r in plugin_runs)
    best_yaml = min(r[0] for r in yaml_runs)
    print("ansible-inventory --graph, best of %d (python %s, %s, %d CPUs, load average %.1f)" % (
        args.rounds, platform.python_version(), platform.machine(), os.cpu_count(), os.getloadavg()[0]))
    print("  builtin yaml plugin, static file : %7.2f s  peak %6.0f MiB  runs: %s" % (
        best_yaml, max(r[1] for r in yaml_runs), " ".join("%.2f" % r[0] for r in yaml_runs)))
    print("  healthit.patching.patch_inventory: %7.2f s  peak %6.0f MiB  runs: %s" % (
        best_plugin, max(r[1] for r in plugin_runs), " ".join("%.2f" % r[0] for r in plugin_runs)))
    ratio = best_plugin / best_yaml
    print("  ratio plugin / yaml              : %7.3f  (goal <= 0.2: %s)" % (ratio, "met" if ratio <= 0.2 else "NOT met"))


if __name__ == "__main__":
    main()
