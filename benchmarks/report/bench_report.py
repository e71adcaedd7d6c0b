"""Benchmark: the compliance report for 10,000 hosts and a year of evidence.

The evidence is synthetic but written with the collection's real evidence writer (hash chain,
canonical JSON, one file per run), the emergency history with the emergency lane's real store, and
baselines as JSON files. The report is then computed exactly as the action plugin does (verify
every file with the evidence module, fold into runs, compute every figure and the 12-month trend,
render HTML, write HTML/CSV/JSON).

Anchors measured in the same run, on the same files:
  - json_load: plain json.loads of every line of every evidence file (what any reader pays);
  - verify:    the evidence module's verify_file on every file (the integrity check alone).
The script prints the times and the report's ratio to each anchor. No assertion on time.

  .venv/bin/python benchmarks/report/bench_report.py [--hosts 10000] [--months 12] [--tasks 8]
"""
import argparse
import datetime
import json
import os
import random
import shutil
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.healthit.patching.plugins.module_utils import _compliance as cr  # noqa: E402
from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev  # noqa: E402
from ansible_collections.healthit.patching.plugins.module_utils import _versions  # noqa: E402
from ansible_collections.healthit.patching.plugins.module_utils._baseline import content_hash  # noqa: E402
from ansible_collections.healthit.patching.plugins.module_utils._response_history import HistoryStore  # noqa: E402
from ansible_collections.healthit.patching.plugins.plugin_utils import _evidence_writer as ew  # noqa: E402
from ansible_collections.healthit.patching.plugins.plugin_utils._compliance_inputs import read_history  # noqa: E402

TEMPLATE = os.path.join(ROOT, 'roles', 'compliance_report', 'templates', 'compliance_report.html.j2')
UTC = datetime.timezone.utc
PLATFORMS = (('linux', 60), ('windows_server', 25), ('ios', 10), ('kvm_hypervisor', 5))
OUTCOMES = (('patched', 60), ('current', 33), ('failed', 2), ('rolled_back', 1), ('unreachable', 2), ('skipped', 2))
TASKS = ('Assert the change ticket', 'Check the maintenance window', 'Check free disk space',
         'Check package manager lock', 'Capture listening ports', 'Capture running services',
         'List upgradable packages', 'Install the baseline versions', 'Reboot when required',
         'Wait for the host', 'Validate services and ports', 'Check health URLs')


class Clock(object):
    now = None

    def __call__(self):
        return self.now


def weighted(rng, table):
    total = sum(w for _v, w in table)
    pick = rng.uniform(0, total)
    for value, weight in table:
        pick -= weight
        if pick <= 0:
            return value
    return table[-1][0]


def estate(n, rng):
    hosts = []
    for i in range(n):
        platform = weighted(rng, PLATFORMS)
        hosts.append({'name': 'host-%05d' % i, 'site': 'site-%02d' % (i % 20), 'owner': 'team-%02d' % (i % 30),
                      'platform': platform, 'wave': 'test' if i % 20 == 0 else 'production',
                      'criticality': ('clinical_critical', 'business', 'low')[i % 3]})
    excepted = [h for h in hosts if rng.random() < 0.01]
    gone = set(h['name'] for h in excepted)
    in_scope = [h for h in hosts if h['name'] not in gone]
    exc = [{'name': h['name'], 'exception_id': 'EXC-%03d' % (k % 50), 'owner': h['owner'], 'expires': '2027-06-30',
            'site': h['site'], 'platform': h['platform'], 'compensating_controls': ['isolated VLAN']}
           for k, h in enumerate(excepted)]
    register = [{'id': 'EXC-%03d' % k, 'hosts': ['pattern-%03d-*' % k], 'owner': 'team-%02d' % (k % 30),
                 'approved_by': 'CISO', 'approved_on': '2026-01-15',
                 'expires': '2026-%02d-28' % (k % 12 + 1) if k % 5 == 0 else '2027-06-30',
                 'compensating_controls': ['isolated VLAN']} for k in range(50)]
    return in_scope, exc, register


def write_run(directory, started, playbook, extra, hosts, rng, tasks, month_versions, never):
    clock = Clock()
    clock.now = started
    writer = ew.EvidenceWriter(directory, fsync='none', clock=clock)
    writer.write('run_start', {'playbook': {'path': '/collection/playbooks/' + playbook, 'sha256': '0' * 64},
                               'change_ticket': extra.get('patch_change_ticket'), 'extra_vars': extra,
                               'check_mode': False, 'operator': {'user': 'patch-bot', 'source': 'awx'}})
    tick = datetime.timedelta(milliseconds=5)
    for name in TASKS[:tasks]:
        clock.now += tick
        writer.write('task_start', {'task': name, 'action': 'ansible.builtin.command'})
        for h in hosts:
            if h['name'] in never:
                continue
            clock.now += tick
            writer.write('host_result', {'host': h['name'], 'status': 'ok', 'task': name,
                                         'action': 'ansible.builtin.command',
                                         'result': {'changed': False, 'rc': 0, 'msg': ''}})
    clock.now += tick
    writer.write('task_start', {'task': 'Report the patch result', 'action': 'ansible.builtin.debug'})
    old, new = month_versions
    for h in hosts:
        if h['name'] in never:
            continue
        clock.now += tick
        outcome = weighted(rng, OUTCOMES)
        if outcome == 'unreachable':
            writer.write('host_result', {'host': h['name'], 'status': 'unreachable', 'task': 'Report the patch result',
                                         'action': 'ansible.builtin.debug',
                                         'result': {'msg': 'Failed to connect to the host via psrp'}})
            continue
        result = {'platform': h['platform'], 'status': outcome, 'rebooted': outcome == 'patched',
                  'before': {'labpkg-web': old, 'labpkg-util': old, 'openssl': old},
                  'after': {'labpkg-web': new, 'labpkg-util': new, 'openssl': new}
                  if outcome in ('patched', 'current') else {'labpkg-web': old}, 'actions': []}
        if outcome in ('failed', 'rolled_back', 'skipped'):
            result['reason'] = {'failed': 'package manager error', 'rolled_back': 'health check failed; rolled back',
                                'skipped': 'outside its maintenance window'}[outcome]
        writer.write('host_result', {'host': h['name'], 'status': 'failed' if outcome in ('failed', 'rolled_back')
                                     else 'ok', 'task': 'Report the patch result', 'action': 'ansible.builtin.debug',
                                     'result': {'patch_result': result}})
    clock.now += tick
    writer.write('run_end', {'outcome': 'failed', 'hosts': {}, 'totals': {}})
    writer.close()


def generate(work, n_hosts, months, tasks, seed=2026):
    rng = random.Random(seed)
    hosts, excepted, register = estate(n_hosts, rng)
    evidence = os.path.join(work, 'evidence')
    state = os.path.join(work, 'state')
    os.makedirs(evidence, mode=0o700)
    os.makedirs(state)
    never = set(h['name'] for h in hosts if rng.random() < 0.01)
    last = datetime.datetime(2026, 11, 1, tzinfo=UTC)
    test_hosts = [h for h in hosts if h['wave'] == 'test']
    prod = [h for h in hosts if h['wave'] == 'production']
    store = HistoryStore(state)
    for m in range(months - 1, -1, -1):
        month0 = (last.month - 1 - m)
        start = datetime.datetime(last.year + month0 // 12, month0 % 12 + 1, 1, tzinfo=UTC)
        versions = ('1.%d' % (months - m - 1), '1.%d' % (months - m))
        ticket = 'CHG-%s' % start.strftime('%Y%m')
        write_run(evidence, start + datetime.timedelta(days=9, hours=20), 'monthly_wave.yml',
                  {'patch_wave': 'test', 'patch_change_ticket': ticket + '-T'}, test_hosts, rng, tasks, versions, never)
        # Production in four batches (four runs) over the following days, by site.
        for b in range(4):
            batch = [h for h in prod if int(h['site'][-2:]) % 4 == b]
            write_run(evidence, start + datetime.timedelta(days=14 + b, hours=20), 'monthly_wave.yml',
                      {'patch_wave': 'production', 'patch_change_ticket': ticket}, batch, rng, tasks, versions, never)
        # Two emergency responses a month, 100 exposed hosts each.
        for e in range(2):
            cve = 'CVE-%d-%04d' % (start.year, start.month * 10 + e)
            exposed = rng.sample(hosts, 100)
            at = start + datetime.timedelta(days=3 + 11 * e)
            write_run(evidence, at + datetime.timedelta(hours=4), 'emergency_kev.yml',
                      {'kev_ids': cve, 'patch_change_ticket': 'E' + ticket}, exposed, rng, 3, versions, never)
            for h in exposed:
                ident = at.strftime('%Y-%m-%dT%H:%M:%SZ')
                deadline = (at + datetime.timedelta(hours=24)).strftime('%Y-%m-%dT%H:%M:%SZ')
                store.append({'at': ident, 'cve': cve, 'host': h['name'], 'event': 'identified', 'deadline': deadline})
                if rng.random() < 0.97:
                    done = at + datetime.timedelta(hours=rng.uniform(3, 30))
                    store.append({'at': done.strftime('%Y-%m-%dT%H:%M:%SZ'), 'cve': cve, 'host': h['name'],
                                  'event': 'verified', 'deadline': deadline,
                                  'sla': 'met' if done <= at + datetime.timedelta(hours=24) else 'missed'})
    with open(os.path.join(work, 'estate.json'), 'w') as handle:
        json.dump({'hosts': hosts, 'excepted': excepted, 'register': register}, handle)


def write_baselines(state, months):
    """One baseline a month, as the baseline role records it (content per platform key, SHA-256)."""
    bdir = os.path.join(state, 'baselines')
    shutil.rmtree(bdir, ignore_errors=True)
    os.makedirs(bdir)
    last = datetime.datetime(2026, 11, 1, tzinfo=UTC)
    for m in range(months - 1, -1, -1):
        month0 = (last.month - 1 - m)
        start = datetime.datetime(last.year + month0 // 12, month0 % 12 + 1, 1, tzinfo=UTC)
        version = '1.%d' % (months - m)
        created = start + datetime.timedelta(days=10)
        content = {'linux:debian:bookworm': {'labpkg-web': version, 'labpkg-util': version, 'openssl': version}}
        record = {'id': created.strftime('%Y%m%dT%H%M%SZ') + '-test', 'wave': 'test', 'created': cr.iso(created),
                  'status': 'passed', 'reason': 'bench', 'success_rate': 0.97, 'min_success_rate': 0.9,
                  'hosts': {}, 'content': content, 'content_sha256': content_hash(content)}
        with open(os.path.join(bdir, record['id'] + '.json'), 'w') as handle:
            json.dump(record, handle)


def anchor_json_load(files):
    count = 0
    for path in files:
        with open(path, 'rb') as handle:
            for line in handle:
                json.loads(line)
                count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', maxsplit=1)[0])
    parser.add_argument('--hosts', type=int, default=10000)
    parser.add_argument('--months', type=int, default=12)
    parser.add_argument('--tasks', type=int, default=8, help='per-host task results per run besides the verdict')
    parser.add_argument('--work', default=os.path.join(ROOT, '.lab', 'bench', 'report'))
    parser.add_argument('--regenerate', action='store_true')
    args = parser.parse_args()
    marker = os.path.join(args.work, 'params.json')
    params = {'hosts': args.hosts, 'months': args.months, 'tasks': args.tasks, 'version': 1}
    current = None
    if os.path.exists(marker):
        with open(marker) as handle:
            current = json.load(handle)
    if args.regenerate or current != params:
        shutil.rmtree(args.work, ignore_errors=True)
        os.makedirs(args.work)
        t0 = time.perf_counter()
        generate(args.work, args.hosts, args.months, args.tasks)
        with open(marker, 'w') as handle:
            json.dump(params, handle)
        print('generated evidence in %.1f s' % (time.perf_counter() - t0))
    evidence = os.path.join(args.work, 'evidence')
    state = os.path.join(args.work, 'state')
    write_baselines(state, args.months)
    files = ev.evidence_files(evidence)
    size = sum(os.path.getsize(p) for p in files)
    with open(os.path.join(args.work, 'estate.json')) as handle:
        est = json.load(handle)

    # Wall-clock and CPU time (time.process_time) of each phase: on a shared machine the CPU time
    # ratios are the steadier ones.
    t0, c0 = time.perf_counter(), time.process_time()
    records = anchor_json_load(files)
    t_json, c_json = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    statuses = [ev.verify_file(p)['status'] for p in files]
    t_verify, c_verify = time.perf_counter() - t0, time.process_time() - c0
    assert set(statuses) == {'verified'}, set(statuses)

    now = datetime.datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    period = cr.parse_period('2026-11')
    t0, c0 = time.perf_counter(), time.process_time()
    loaded = cr.load_evidence(evidence, first_day=cr.months_back(period, 12)[0].start.date(),
                              last_day=period.end.date())
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    history = read_history(state, cr.iso(now)).entries
    report = cr.build_report(est['hosts'], est['excepted'], est['register'], loaded, cr.load_baselines(state),
                             history, period, now, trend_months=12, compare=_versions.compare)
    t_figures = time.perf_counter() - t1
    t1 = time.perf_counter()
    html = cr.render_html(report, TEMPLATE)
    written = cr.write_outputs(report, os.path.join(args.work, 'out'), html)
    t_outputs = time.perf_counter() - t1
    t_report, c_report = time.perf_counter() - t0, time.process_time() - c0

    e = report['coverage']['estate']
    print('evidence: %d files, %d records, %.0f MB; hosts in scope %d, excepted %d; history rows %d'
          % (len(files), records, size / 1e6, e['in_scope'], e['excepted'], len(history)))
    trend = ' '.join('%s=%s' % (t['group'], t['coverage_pct']) for t in report['trend'])
    print('report 2026-11: coverage %s%%, %d compliant; trend %s' % (e['coverage_pct'], e['compliant'], trend))
    print('html %.1f MB, json %.1f MB' % (os.path.getsize(written['html']) / 1e6, os.path.getsize(written['json']) / 1e6))
    print('anchor json.loads of every line : %7.1f s' % t_json)
    print('anchor verify_file of every file: %7.1f s' % t_verify)
    print('report: verify+load evidence    : %7.1f s' % t_load)
    print('report: figures (incl. history) : %7.1f s' % t_figures)
    print('report: render and write outputs: %7.1f s' % t_outputs)
    print('report total                    : %7.1f s' % t_report)
    print('CPU time: json.loads %.1f s, verify %.1f s, report %.1f s' % (c_json, c_verify, c_report))
    print('ratio report / json.loads anchor : %.2f wall, %.2f CPU' % (t_report / t_json, c_report / c_json))
    print('ratio report / verify anchor     : %.2f wall, %.2f CPU' % (t_report / t_verify, c_report / c_verify))


if __name__ == '__main__':
    main()
