"""Converge the lab hypervisor's guests to the states declared in lab/libvirt/guests.yml.

Defines every declared guest from its XML, removes guests that are not declared (the test
driver's built-in ``test`` domain, leftovers of interrupted tests), drops snapshots and managed
saves, then sets each guest's run state and autostart flag. Safe to run again at any time.
"""
import argparse
import os
import sys

import libvirt
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def converge(conn, guest):
    with open(os.path.join(HERE, "guests", guest["xml"]), encoding="utf-8") as fh:
        dom = conn.defineXML(fh.read())
    for snap in dom.listAllSnapshots():
        snap.delete()
    if dom.hasManagedSaveImage():
        dom.managedSaveRemove()
    want = guest["state"]
    state = dom.state()[0]
    if want == "shutoff":
        if state != libvirt.VIR_DOMAIN_SHUTOFF:
            dom.destroy()
    else:
        if state == libvirt.VIR_DOMAIN_SHUTOFF:
            dom.create()
        state = dom.state()[0]
        if want == "running" and state == libvirt.VIR_DOMAIN_PAUSED:
            dom.resume()
        elif want == "paused" and state != libvirt.VIR_DOMAIN_PAUSED:
            dom.suspend()
    dom.setAutostart(1 if guest.get("autostart") else 0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", required=True)
    parser.add_argument("--config", default=os.path.join(HERE, "guests.yml"))
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as fh:
        guests = yaml.safe_load(fh)["guests"]
    conn = libvirt.open(args.uri)
    try:
        declared = {g["name"] for g in guests}
        for dom in conn.listAllDomains():
            if dom.name() not in declared:
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    for snap in dom.listAllSnapshots():
                        snap.delete()
                    if dom.hasManagedSaveImage():
                        dom.managedSaveRemove()
                    dom.undefine()
        for guest in guests:
            converge(conn, guest)
        names = {0: "nostate", 1: "running", 2: "blocked", 3: "paused", 4: "shutdown", 5: "shutoff",
                 6: "crashed", 7: "pmsuspended"}
        for dom in sorted(conn.listAllDomains(), key=lambda d: d.name()):
            print("libvirt lab: %-12s %-8s autostart=%s" % (dom.name(), names.get(dom.state()[0], "?"),
                                                          "on" if dom.autostart() else "off"))
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
