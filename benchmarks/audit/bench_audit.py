#!/usr/bin/env python3
"""Cost of the hipaa_audit callback: the same playbook without and with it, side by side in one run.

100 local hosts (ansible_connection=local) x 30 ansible.builtin.debug tasks, forks 10, by default.
Each round runs both variants, alternating which goes first, and the script prints every time, the
totals and the ratio with/without (goal: <= 1.10 with fsync per record). It also verifies the
evidence written. ARA is measured only where it is installed. Besides wall time it prints the CPU
seconds of each run (ansible-playbook and its workers), which a busy shared machine disturbs less.

    .venv/bin/python benchmarks/audit/bench_audit.py                # full size
    .venv/bin/python benchmarks/audit/bench_audit.py --hosts 20     # quick look

ARA is not part of the toolchain (it would pull Django into .venv); to measure it, use a venv of its own with the
same ansible-core:

    python3 -m venv /tmp/aravenv && /tmp/aravenv/bin/pip install ansible-core==2.19.14 'ara[server]==1.7.2'
    /tmp/aravenv/bin/python benchmarks/audit/bench_audit.py
"""
import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev  # noqa: E402

BIN = os.path.dirname(sys.executable)
CALLBACK = 'healthit.patching.hipaa_audit'


def write_fixture(work, hosts, tasks, forks):
    with open(os.path.join(work, 'hosts.ini'), 'w') as handle:
        handle.write('[bench]\n')
        for n in range(hosts):
            handle.write('bench-%03d\n' % n)
        handle.write('[bench:vars]\nansible_connection=local\nansible_python_interpreter=%s\n' % sys.executable)
    with open(os.path.join(work, 'bench.yml'), 'w') as handle:
        handle.write('---\n- name: Audit benchmark\n  hosts: bench\n  gather_facts: false\n  tasks:\n')
        for n in range(tasks):
            handle.write('    - name: Debug task %d\n      ansible.builtin.debug:\n'
                         '        msg: "task %d on {{ inventory_hostname }}"\n' % (n, n))
    with open(os.path.join(work, 'ansible.cfg'), 'w') as handle:
        handle.write('[defaults]\ninventory = %s\ncollections_path = %s\nforks = %d\nretry_files_enabled = False\n'
                     'host_key_checking = False\n[inventory]\nenable_plugins = ansible.builtin.ini\n'
                     % (os.path.join(work, 'hosts.ini'), os.path.join(ROOT, '.build', 'collections'), forks))


def run_once(work, variant, fsync, evidence_dir):
    env = dict(os.environ)
    for name in list(env):
        if name.startswith(('ANSIBLE_', 'HEALTHIT_AUDIT_')):
            del env[name]
    env.update(ANSIBLE_CONFIG=os.path.join(work, 'ansible.cfg'), ANSIBLE_NOCOLOR='1')
    if variant.startswith('audit'):
        policy = variant.split('-', 1)[1] if '-' in variant else fsync
        env.update(ANSIBLE_CALLBACKS_ENABLED=CALLBACK, HEALTHIT_AUDIT_DIR=evidence_dir, HEALTHIT_AUDIT_FSYNC=policy)
    elif variant == 'ara':
        import ara.setup  # pylint: disable=import-error
        # ARA's default: its callback and the embedded server with an SQLite store, kept in the work directory
        env.update(ANSIBLE_CALLBACK_PLUGINS=ara.setup.callback_plugins, ANSIBLE_CALLBACKS_ENABLED='ara_default',
                   ARA_BASE_DIR=os.path.join(work, 'ara'))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), os.path.join(work, 'bench.yml')], cwd=work,
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit('%s run failed (rc=%d): %s' % (variant, proc.returncode, proc.stderr[-2000:]))
    # CPU seconds of ansible-playbook and all its workers: far less disturbed by other load than wall time
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def ara_version():
    from importlib.metadata import version  # pylint: disable=import-outside-toplevel
    return version('ara')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--hosts', type=int, default=100)
    parser.add_argument('--tasks', type=int, default=30)
    parser.add_argument('--forks', type=int, default=10)
    parser.add_argument('--rounds', type=int, default=2, help='each round runs every variant once (order alternates)')
    parser.add_argument('--fsync', default='record', choices=('record', 'strict', 'batch', 'none'),
                        help='fsync policy of the "audit" variant')
    parser.add_argument('--also', default='', help='more fsync policies to measure, comma-separated (e.g. strict,none)')
    args = parser.parse_args()

    variants = ['plain', 'audit'] + ['audit-' + p for p in args.also.split(',') if p]
    have_ara = importlib.util.find_spec('ara') is not None
    if have_ara:
        variants.append('ara')
    times = dict((v, []) for v in variants)
    cpus = dict((v, []) for v in variants)
    with tempfile.TemporaryDirectory(prefix='bench-audit-') as work:
        write_fixture(work, args.hosts, args.tasks, args.forks)
        evidence_dir = os.path.join(work, 'evidence')
        print('hipaa_audit benchmark: %d hosts x %d debug tasks, forks %d, fsync=%s, %d round(s), load %s'
              % (args.hosts, args.tasks, args.forks, args.fsync, args.rounds,
                 ' '.join('%.1f' % x for x in os.getloadavg())), flush=True)
        for n in range(args.rounds):
            order = variants if n % 2 == 0 else list(reversed(variants))
            for variant in order:
                elapsed, cpu = run_once(work, variant, args.fsync, evidence_dir)
                times[variant].append(elapsed)
                cpus[variant].append(cpu)
                print('  round %d  %-12s %7.1f s wall %7.1f s cpu  (load %.1f)'
                      % (n + 1, variant, elapsed, cpu, os.getloadavg()[0]), flush=True)
        results, summary = ev.verify_path(evidence_dir)
        expected = 3 + args.tasks * (1 + args.hosts)  # run_start, play_start, run_end + task_start/host_result
        records = sorted(set(r['records'] for r in results))
    total = dict((v, sum(t)) for v, t in times.items())
    cpu_total = dict((v, sum(t)) for v, t in cpus.items())
    print('totals: ' + ', '.join('%s %.1f s wall / %.1f s cpu' % (v, total[v], cpu_total[v]) for v in variants))
    print('ratio audit/plain: %.3f wall, %.3f cpu (goal <= 1.10, fsync=%s)'
          % (total['audit'] / total['plain'], cpu_total['audit'] / cpu_total['plain'], args.fsync))
    # the same ratio per round (both variants ran back to back): its spread shows how much one pair says
    pairs = sorted(a / p for a, p in zip(times['audit'], times['plain']))
    middle = len(pairs) // 2
    median = pairs[middle] if len(pairs) % 2 else (pairs[middle - 1] + pairs[middle]) / 2
    print('audit/plain per round: %s (median %.3f)' % (', '.join('%.3f' % r for r in pairs), median))
    for variant in variants[2:]:
        if variant.startswith('audit-'):
            print('ratio %s/plain: %.3f wall, %.3f cpu' % (variant, total[variant] / total['plain'],
                                                          cpu_total[variant] / cpu_total['plain']))
    if have_ara:
        print('ratio ara/plain: %.3f wall, %.3f cpu (ARA %s, SQLite store)'
              % (total['ara'] / total['plain'], cpu_total['ara'] / cpu_total['plain'], ara_version()))
    else:
        print('ARA: not installed here, not measured')
    print('evidence: %d file(s) %s, records per file %s (expected %d)' % (len(results), summary, records, expected))
    audited = sum(1 for v in variants if v.startswith('audit'))
    if summary['verified'] != args.rounds * audited or records != [expected]:
        raise SystemExit('evidence written during the benchmark does not verify as expected')


if __name__ == '__main__':
    main()
