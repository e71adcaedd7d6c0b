"""Rebuild the trimmed and diff fixtures from the full real snapshot in full/ (run from anywhere).

Entries are copied unmodified from the snapshot; only `count` is set to the number of entries
kept, and the diff pair applies the edits listed in diff/README.md. Output is re-serialized
with json.dumps(indent=4), so bytes differ from CISA's file (which escapes '/').
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

# Chosen for the tests: every entry whose dueDate precedes dateAdded (15), the CVEs the lab maps
# to lab packages and firmware, a few emergency (1-7 day) entries, "Multiple Products" entries,
# and the newest entries of the snapshot.
KEEP = [
    # dueDate before dateAdded (all 15 of the snapshot)
    'CVE-2021-34527', 'CVE-2020-1350', 'CVE-2020-1472', 'CVE-2021-26855', 'CVE-2021-26858',
    'CVE-2021-27065', 'CVE-2020-0601', 'CVE-2021-26857', 'CVE-2021-22893', 'CVE-2020-8243',
    'CVE-2021-22900', 'CVE-2021-22894', 'CVE-2020-8260', 'CVE-2021-22899', 'CVE-2019-11510',
    # mapped by lab advisory data
    'CVE-2021-44228', 'CVE-2024-1086', 'CVE-2018-0171', 'CVE-2023-20198', 'CVE-2023-20273', 'CVE-2024-54085',
    # Linux userland classics
    'CVE-2021-3156', 'CVE-2021-4034', 'CVE-2023-4911', 'CVE-2014-6271',
    # emergencies: due 1 day after being added
    'CVE-2025-53770', 'CVE-2025-49704', 'CVE-2025-49706', 'CVE-2025-5777',
    # Multiple Products
    'CVE-2025-43200', 'CVE-2025-32756',
    # newest in the snapshot
    'CVE-2025-48384', 'CVE-2025-32433',
]


def dump(path, catalog):
    with open(path, 'w', encoding='utf-8') as f:
        json.dump(catalog, f, indent=4, ensure_ascii=True)
        f.write('\n')


def main():
    with open(os.path.join(HERE, 'full', 'known_exploited_vulnerabilities.json'), encoding='utf-8') as f:
        full = json.load(f)
    by_id = {v['cveID']: v for v in full['vulnerabilities']}
    kept = [by_id[c] for c in KEEP]
    trimmed = dict(full, count=len(kept), vulnerabilities=kept)
    dump(os.path.join(HERE, 'catalog-trimmed.json'), trimmed)

    # previous: as published before; current: a later catalog in which
    # - CVE-2025-32433 was removed (as CISA once removed CVE-2025-4664),
    # - CVE-2021-44228's dueDate was shortened from 2021-12-24 to 2021-12-17,
    # - CVE-2023-20198's dueDate was extended from 2023-10-20 to 2023-10-27,
    # - CVE-2025-8876 (real entry of the snapshot, absent from previous) was added.
    previous = copy.deepcopy(trimmed)
    previous['catalogVersion'] = '2025.08.24'
    previous['dateReleased'] = '2025-08-24T12:00:00.0000Z'
    current = copy.deepcopy(trimmed)
    current['vulnerabilities'] = [v for v in current['vulnerabilities'] if v['cveID'] != 'CVE-2025-32433']
    for v in current['vulnerabilities']:
        if v['cveID'] == 'CVE-2021-44228':
            v['dueDate'] = '2021-12-17'
        if v['cveID'] == 'CVE-2023-20198':
            v['dueDate'] = '2023-10-27'
    current['vulnerabilities'].insert(0, by_id['CVE-2025-8876'])
    current['count'] = len(current['vulnerabilities'])
    dump(os.path.join(HERE, 'diff', 'previous.json'), previous)
    dump(os.path.join(HERE, 'diff', 'current.json'), current)


if __name__ == '__main__':
    main()
