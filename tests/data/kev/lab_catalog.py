"""Write a LAB catalog for lab runs whose SLA clock must still be running.

Every real KEV due date of the lab's CVEs is years in the past, so a lab run would only ever show
"overdue". This writes a copy of the real snapshot in which the named entries are re-dated to
`added` (default: today, UTC) and due `due_days` later, with catalogVersion "lab-<date>" and
`count` kept equal to the entries. The result is lab data, never a CISA catalog: use it only in
lab tests, and keep using each entry's dueDate as written (that is what the modules do).

    python3 tests/data/kev/lab_catalog.py OUT.json CVE-2021-44228 [--due-days 2] [--added 2026-11-22]
"""
import argparse
import datetime
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SNAPSHOT = os.path.join(HERE, 'full', 'known_exploited_vulnerabilities.json')


def lab_catalog(cve_ids, due_days=2, added=None, snapshot=SNAPSHOT):
    added = added or datetime.datetime.now(datetime.timezone.utc).date()
    with open(snapshot, encoding='utf-8') as f:
        catalog = json.load(f)
    found = set()
    for entry in catalog['vulnerabilities']:
        if entry['cveID'] in cve_ids:
            entry['dateAdded'] = added.isoformat()
            entry['dueDate'] = (added + datetime.timedelta(days=due_days)).isoformat()
            entry['notes'] = 'LAB DATA: re-dated for a lab run. ' + entry.get('notes', '')
            found.add(entry['cveID'])
    missing = sorted(set(cve_ids) - found)
    if missing:
        raise ValueError('not in the snapshot: %s' % ', '.join(missing))
    catalog['catalogVersion'] = 'lab-%s' % added.isoformat()
    catalog['dateReleased'] = '%sT00:00:00.000Z' % added.isoformat()
    catalog['count'] = len(catalog['vulnerabilities'])
    return catalog


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out')
    parser.add_argument('cve_ids', nargs='+')
    parser.add_argument('--due-days', type=int, default=2)
    parser.add_argument('--added', type=datetime.date.fromisoformat, default=None)
    args = parser.parse_args()
    catalog = lab_catalog(args.cve_ids, args.due_days, args.added)
    with open(args.out, 'w', encoding='utf-8') as f:
        json.dump(catalog, f, indent=4)
        f.write('\n')


if __name__ == '__main__':
    main()
