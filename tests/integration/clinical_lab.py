"""Helpers for tests that drive labapp-ehr, the lab's dummy vendor application (lab/clinical_app/), on the test hosts."""
import datetime
import hashlib
import os

from conftest import ROOT, run

HOSTS = ("lnx-test-01", "lnx-test-02")
TODAY = datetime.date.today()


def reset_hosts():
    run(["bash", os.path.join(ROOT, "lab", "linux", "reset.sh"), *HOSTS], timeout=900)


def on_host(host, *argv, check=True):
    return run(["podman", "exec", host, *argv], check=check)


def installed(host):
    proc = on_host(host, "dpkg-query", "-W", "-f=${db:Status-Abbrev}|${Version}", "labapp-ehr", check=False)
    return proc.stdout.split("|")[1] if proc.stdout.startswith("ii ") else None


def health(host):
    code = ("import urllib.request, urllib.error\n"
            "try:\n print(urllib.request.urlopen('http://127.0.0.1:8090/health', timeout=5).read().decode().strip())\n"
            "except urllib.error.HTTPError as e:\n print(e.code)\n")
    return on_host(host, "python3", "-c", code).stdout.strip()


def build_packages():
    """Build (or reuse) labapp-ehr 1.0 and 1.1: (directory of the .deb files, {version: SHA-256})."""
    out = run(["bash", os.path.join(ROOT, "lab", "clinical_app", "build.sh")]).stdout.strip().splitlines()[-1]
    sums = {}
    for version in ("1.0", "1.1"):
        with open(os.path.join(out, "labapp-ehr_%s_all.deb" % version), "rb") as handle:
            sums[version] = hashlib.sha256(handle.read()).hexdigest()
    return out, sums


def record(rec_id, version, sha, **fields):
    """An approval register record for labapp-ehr, valid from 30 days ago for 60 days."""
    rec = {"id": rec_id, "vendor": "Lab Medical Systems", "product": "labapp-ehr", "version": version,
           "package_sha256": sha, "vendor_reference": "LMS-SB-" + rec_id, "approved_by": "Clinical CAB",
           "approved_on": (TODAY - datetime.timedelta(days=30)).isoformat(),
           "expires": (TODAY + datetime.timedelta(days=60)).isoformat(), "downtime_minutes": 10}
    rec.update(fields)
    return rec
