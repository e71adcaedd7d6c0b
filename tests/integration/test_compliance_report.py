"""The compliance report rendered from the lab's real evidence and checked in headless Chromium.

A small real playbook runs first against lab hosts with the audit callback (one run with a real
failure, one run named as an emergency response with history written by the emergency lane's own
store, one run whose evidence file is then tampered with). When the lead's wave and emergency
playbooks are present, the lab demo's steps follow (test wave, production wave, an emergency run for
a KEV entry the lab tracker maps to labpkg-web), from Linux hosts reset to their base packages, and
the hosts are reset again afterwards. The report is then written by
`ansible-playbook healthit.patching.compliance_report`, and Chromium (DevTools protocol over
--remote-debugging-pipe, no extra Python package) must load it with no console error and no network
request, show the figures of the JSON report in its DOM, and leave a screenshot and a PDF print in
tests/output/.
"""
import base64
import datetime
import fcntl
import glob
import json
import os
import select
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT, ansible_playbook, lab_env, run  # pylint: disable=import-error

OUTPUT = os.path.join(ROOT, 'tests', 'output')
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
WAVE = os.path.join(ROOT, 'playbooks', 'monthly_wave.yml')
EMERGENCY = os.path.join(ROOT, 'playbooks', 'emergency_kev.yml')
PROBE_HOSTS = 'lnx-test-01,lnx-test-02,lnx-prod-01,lnx-prod-02,kvm-01'
TRACKER = os.path.join(ROOT, 'tests', 'data', 'advisories', 'lab-debian-tracker.json')
DEMO_CVE = 'CVE-2021-44228'     # mapped by the lab tracker to labpkg-web, fixed in 1.1
PROBE_CVE = 'CVE-2024-1086'     # the probe's own history entries, apart from the demo's
DEMO_HOSTS = 'lnx-*:kvm-01'
LINUX_HOSTS = ['lnx-test-01', 'lnx-test-02', 'lnx-prod-01', 'lnx-prod-02', 'lnx-prod-03', 'lnx-exc-01',
               'lnx-expired-01', 'kvm-01']

# A read-only probe that reports each host's lab package the way the platform roles report a patch:
# a patch_result printed with debug, so the audit callback keeps it. lnx-prod-02 fails a real check.
PROBE = """---
- name: Probe lab package versions and report them as patch results
  hosts: "{{ probe_hosts }}"
  gather_facts: false
  tasks:
    - name: Read the installed version of labpkg-web
      ansible.builtin.command: dpkg-query -W -f=${Version} labpkg-web
      register: probe_version
      changed_when: false
      failed_when: false

    - name: Check the health marker that only healthy hosts have
      ansible.builtin.stat:
        path: "{{ '/nonexistent/healthit-health' if inventory_hostname == 'lnx-prod-02' else '/etc/debian_version' }}"
      register: probe_health

    - name: Record the outcome in the result contract
      ansible.builtin.set_fact:
        patch_result:
          platform: linux
          status: "{{ 'current' if (probe_version.rc | default(1)) == 0 and probe_health.stat.exists else 'failed' }}"
          reason: "{{ '' if probe_health.stat.exists else 'health marker missing after the run' }}"
          before: {labpkg-web: "{{ probe_version.stdout | default('unknown') }}"}
          after: {labpkg-web: "{{ probe_version.stdout | default('unknown') }}"}
          rebooted: false
          actions: []

    - name: Print the result for the evidence
      ansible.builtin.debug:
        var: patch_result

    - name: End failed where the outcome failed
      ansible.builtin.fail:
        msg: "{{ patch_result.reason }}"
      when: patch_result.status == 'failed'
"""


# ------------------------------------------------------------------------------------------------
# A minimal DevTools-protocol client over --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-framed).

class Chromium(object):
    def __init__(self, profile):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # Keep the pipe ends away from 3/4 so the dup2 below cannot clobber them.
        fds = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child_r, to_child_w, from_child_r, from_child_w)]
        for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
            os.close(fd)
        child_in, self._out, self._in, child_out = fds

        def wire():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        args = [CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                '--disable-background-networking', '--disable-component-update', '--disable-sync',
                '--disable-extensions', '--disable-dev-shm-usage', '--hide-scrollbars',
                '--user-data-dir=' + profile, '--remote-debugging-pipe', 'about:blank']
        os.makedirs(profile, exist_ok=True)
        self.stderr = open(os.path.join(profile, 'chromium-stderr.log'), 'wb')
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     pass_fds=(3, 4), preexec_fn=wire)
        os.close(child_in)
        os.close(child_out)
        self._buf = b''
        self._next = 0
        self.events = []

    def _read_message(self, deadline):
        while b'\0' not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError('Chromium did not answer in time')
            ready, _w, _x = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise AssertionError('Chromium closed the DevTools pipe (exit %s)' % self.proc.poll())
                self._buf += chunk
        raw, self._buf = self._buf.split(b'\0', 1)
        return json.loads(raw.decode('utf-8'))

    def call(self, method, params=None, session=None, timeout=60):
        self._next += 1
        msg = {'id': self._next, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self._out, json.dumps(msg).encode('utf-8') + b'\0')
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get('id') == self._next:
                if 'error' in reply:
                    raise AssertionError('%s failed: %s' % (method, reply['error']))
                return reply.get('result', {})
            self.events.append(reply)

    def wait_for(self, method, timeout=60):
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get('method') == method:
                return event
        while True:
            event = self._read_message(deadline)
            self.events.append(event)
            if event.get('method') == method:
                return event

    def close(self):
        try:
            self.call('Browser.close', timeout=10)
        except AssertionError:
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._out)
        os.close(self._in)
        self.stderr.close()


FIGURES_JS = """JSON.stringify((() => {
  const fig = n => { const e = document.querySelector('[data-figure="' + n + '"]'); return e ? e.textContent.trim() : null; };
  const rows = t => Array.from(document.querySelectorAll('[data-table="' + t + '"] tbody tr'))
                         .map(r => Array.from(r.cells).map(c => c.textContent.trim()));
  return {
    title: document.title,
    coverage: fig('coverage-pct'), compliant: fig('compliant'), in_scope: fig('in-scope'),
    not_covered: fig('not-covered'), excepted: fig('excepted'), kev_open: fig('kev-open'),
    emergency_median: fig('emergency-median'), emergency_worst: fig('emergency-worst'),
    charts: Array.from(document.querySelectorAll('svg[data-figure]')).map(s => s.getAttribute('data-figure')),
    evidence: Array.from(document.querySelectorAll('[data-table="evidence"] tbody tr')).map(
      r => ({status: r.getAttribute('data-status'), cells: Array.from(r.cells).map(c => c.textContent.trim())})),
    not_covered_rows: rows('not-covered'), compliant_rows: rows('compliant'), emergency_rows: rows('emergency'),
    excepted_rows: rows('excepted-hosts'), exceptions_rows: rows('exceptions'), trend_rows: rows('trend'),
    height: document.documentElement.scrollHeight,
  };
})())"""


def inspect_in_chromium(html_path, profile, shot, pdf):
    browser = Chromium(profile)
    try:
        target = browser.call('Target.createTarget', {'url': 'about:blank'})['targetId']
        session = browser.call('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Runtime.enable', 'Log.enable', 'Page.enable', 'Network.enable'):
            browser.call(domain, session=session)
        browser.call('Page.navigate', {'url': 'file://' + html_path}, session=session)
        browser.wait_for('Page.loadEventFired')
        value = browser.call('Runtime.evaluate', {'expression': FIGURES_JS, 'returnByValue': True},
                             session=session)['result']['value']
        dom = json.loads(value)
        browser.call('Emulation.setDeviceMetricsOverride',
                     {'width': 1200, 'height': min(int(dom['height']) + 20, 16000), 'deviceScaleFactor': 1,
                      'mobile': False}, session=session)
        png = browser.call('Page.captureScreenshot', {'format': 'png', 'captureBeyondViewport': True},
                           session=session)['data']
        with open(shot, 'wb') as handle:
            handle.write(base64.b64decode(png))
        printed = browser.call('Page.printToPDF', {'printBackground': True, 'preferCSSPageSize': True},
                               session=session, timeout=120)['data']
        with open(pdf, 'wb') as handle:
            handle.write(base64.b64decode(printed))
        events = list(browser.events)
    finally:
        browser.close()
    problems = []
    requests = []
    for e in events:
        method, params = e.get('method'), e.get('params', {})
        if method == 'Runtime.exceptionThrown':
            problems.append('exception: %s' % params.get('exceptionDetails', {}).get('text'))
        elif method == 'Runtime.consoleAPICalled' and params.get('type') in ('error', 'assert', 'warning'):
            problems.append('console.%s: %s' % (params.get('type'), params.get('args')))
        elif method == 'Log.entryAdded' and params.get('entry', {}).get('level') in ('error', 'warning'):
            problems.append('log %s: %s' % (params['entry'].get('level'), params['entry'].get('text')))
        elif method == 'Network.requestWillBeSent':
            requests.append(params.get('request', {}).get('url'))
        elif method == 'Network.loadingFailed':
            problems.append('load failed: %s' % params.get('errorText'))
    return dom, problems, requests


# ------------------------------------------------------------------------------------------------
# Evidence from the lab

def _make_evidence_with_demo_steps(env, work):
    """The lab demo's steps (lab/demo.sh): test wave, production wave, then an emergency run for a KEV
    entry the lab's tracker data maps to labpkg-web, which finds lnx-prod-03 (refused by its window in
    production) still exposed."""
    sys.path.insert(0, os.path.join(ROOT, 'tests', 'data', 'kev'))
    from lab_catalog import lab_catalog  # test data generator of the emergency lane

    catalog = os.path.join(work, 'kev.json')
    with open(catalog, 'w', encoding='utf-8') as handle:
        json.dump(lab_catalog([DEMO_CVE], due_days=2), handle)
    common = ['-e', 'patch_batch_size=10', '-e', 'patch_hosts=' + DEMO_HOSTS]
    ansible_playbook(WAVE, '-e', 'patch_wave=test', '-e', 'patch_change_ticket=CHG0042001', *common,
                     env=env, check=False, timeout=3600)
    ansible_playbook(WAVE, '-e', 'patch_wave=production', '-e', 'patch_change_ticket=CHG0042002', *common,
                     env=env, check=False, timeout=3600)
    ansible_playbook(EMERGENCY, '-e', 'kev_ids=' + DEMO_CVE, '-e', 'patch_change_ticket=ECHG0042001',
                     '-e', 'emergency_kev_catalog_src=' + catalog, '-e', 'emergency_kev_debian_tracker=' + TRACKER,
                     *common, env=env, check=False, timeout=3600)


def _make_evidence_with_probe(env, work):
    """Real runs of a small playbook through the audit callback against lab hosts."""
    from ansible_collections.healthit.patching.plugins.module_utils._response_history import HistoryStore

    probe = os.path.join(work, 'compliance_probe.yml')
    with open(probe, 'w', encoding='utf-8') as handle:
        handle.write(PROBE)
    evidence = env['HEALTHIT_AUDIT_DIR']
    first = ansible_playbook(probe, '-e', 'probe_hosts=' + PROBE_HOSTS, '-e', 'patch_wave=production',
                             '-e', 'patch_change_ticket=CHG-LAB-PROBE', env=env, check=False)
    assert first.returncode in (2, 4), first.stdout[-3000:]   # lnx-prod-02 fails for real
    before = set(glob.glob(os.path.join(evidence, '*.jsonl')))
    identified = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    emergency = os.path.join(work, 'emergency_probe.yml')
    shutil.copy(probe, emergency)
    ansible_playbook(emergency, '-e', 'probe_hosts=lnx-prod-01', '-e', 'kev_ids=' + PROBE_CVE,
                     '-e', 'patch_change_ticket=ECHG-LAB-PROBE', env=env)
    verified = datetime.datetime.now(datetime.timezone.utc)
    # The emergency lane's history, written by its own store: one exposure closed by that run,
    # one still open past its deadline on lnx-test-02.
    store = HistoryStore(env['HEALTHIT_PATCH_STATE_DIR'])

    def at(moment):
        return moment.strftime('%Y-%m-%dT%H:%M:%SZ')
    store.append({'at': at(identified), 'cve': PROBE_CVE, 'host': 'lnx-prod-01', 'event': 'identified',
                  'deadline': at(identified + datetime.timedelta(hours=24)), 'deadline_source': 'policy'})
    store.append({'at': at(verified), 'cve': PROBE_CVE, 'host': 'lnx-prod-01', 'event': 'verified', 'sla': 'met',
                  'deadline': at(identified + datetime.timedelta(hours=24))})
    store.append({'at': at(identified - datetime.timedelta(hours=30)), 'cve': PROBE_CVE, 'host': 'lnx-test-02',
                  'event': 'identified', 'deadline': at(identified - datetime.timedelta(hours=6)),
                  'deadline_source': 'policy'})
    emergency_files = set(glob.glob(os.path.join(evidence, '*.jsonl'))) - before
    assert len(emergency_files) == 1
    # A third run, whose file is then edited: the report must show it rejected and leave its data out.
    before = set(glob.glob(os.path.join(evidence, '*.jsonl')))
    ansible_playbook(probe, '-e', 'probe_hosts=lnx-test-01', env=env, check=False)
    (tampered,) = set(glob.glob(os.path.join(evidence, '*.jsonl'))) - before
    with open(tampered, 'rb') as handle:
        lines = handle.read().split(b'\n')
    # Someone edits the first host result after the fact (any byte would do).
    first = next(i for i, line in enumerate(lines) if b'"type":"host_result"' in line)
    assert b'"host":"lnx-test-01"' in lines[first]
    lines[first] = lines[first].replace(b'"host":"lnx-test-01"', b'"host":"lnx-test-02"', 1)
    with open(tampered, 'wb') as handle:
        handle.write(b'\n'.join(lines))
    return os.path.basename(tampered)


@pytest.mark.lab
def test_compliance_report_in_chromium(lab, tmp_path):
    if not CHROMIUM:
        pytest.fail('chromium is not installed (Debian package chromium): the report cannot be checked')
    os.makedirs(OUTPUT, exist_ok=True)
    env = lab_env(HEALTHIT_AUDIT_DIR=str(tmp_path / 'evidence'), HEALTHIT_PATCH_STATE_DIR=str(tmp_path / 'state'))
    os.makedirs(env['HEALTHIT_AUDIT_DIR'], mode=0o700)
    os.makedirs(env['HEALTHIT_PATCH_STATE_DIR'])
    demo = os.path.exists(WAVE) and os.path.exists(EMERGENCY)
    if demo:
        # Start from the out-of-date estate the demo starts from, and leave it that way for others.
        run(['bash', os.path.join(ROOT, 'lab', 'linux', 'reset.sh')] + LINUX_HOSTS, timeout=900)
    try:
        tampered = _make_evidence_with_probe(env, str(tmp_path))
        if demo:
            _make_evidence_with_demo_steps(env, str(tmp_path))
    finally:
        if demo:
            run(['bash', os.path.join(ROOT, 'lab', 'linux', 'reset.sh')] + LINUX_HOSTS, timeout=900)

    period = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m')
    proc = ansible_playbook('healthit.patching.compliance_report', '-e', 'report_period=' + period, env=env)
    report_dir = os.path.join(env['HEALTHIT_PATCH_STATE_DIR'], 'reports', period)
    html = os.path.join(report_dir, 'compliance-%s.html' % period)
    assert 'HTML: %s' % html in proc.stdout    # the playbook says where the report is
    with open(os.path.join(report_dir, 'compliance-%s.json' % period), encoding='utf-8') as handle:
        report = json.load(handle)
    # Kept as test artifacts beside the screenshot.
    shutil.copy(html, os.path.join(OUTPUT, 'compliance_report.html'))
    shutil.copy(os.path.join(report_dir, 'compliance-%s.json' % period), os.path.join(OUTPUT, 'compliance_report.json'))
    lines = ['runs:']
    lines += ['  %(kind)s %(wave)s %(change_ticket)s complete=%(complete)s hosts=%(hosts)s' % r for r in report['runs']]
    lines += ['baselines: %s' % [(b['id'], b['status'], b['reason']) for b in report['baselines']]]
    lines += ['  %(host)s %(state)s %(reason)s' % h for h in report['hosts']]
    story = '\n'.join(lines)
    for table in ('hosts', 'coverage', 'exceptions', 'kev_open', 'emergency', 'trend', 'evidence', 'runs'):
        assert os.path.exists(os.path.join(report_dir, 'compliance-%s-%s.csv' % (period, table)))

    # The figures against the lab: scope from the inventory plugin, the active exception apart.
    est = report['coverage']['estate']
    hosts = dict((h['host'], h) for h in report['hosts'])
    assert [(e['host'], e['site'], e['platform']) for e in report['excepted_hosts']] == [
        ('lnx-exc-01', 'main-campus', 'linux')]
    assert 'lnx-exc-01' not in hosts and hosts['lnx-expired-01']['exception_expired']
    assert est['in_scope'] == len(hosts) == 12 and est['excepted'] == 1
    # the lab's servers (platform redfish) are in scope; neither the probe nor the demo steps here patch them
    assert [(hosts[h]['platform'], hosts[h]['state']) for h in ('srv-01', 'srv-02')] == [('redfish', 'never_reported')] * 2
    exc = dict((e['id'], e) for e in report['exceptions']['entries'])
    assert exc['EXC-2025-003']['status'] == 'expired' and exc['EXC-2026-014']['status'] == 'active'
    # The tampered file is listed with its reason and its data is in no figure.
    rejected = [f for f in report['evidence']['files'] if not f['used']]
    assert [f['file'] for f in rejected] == [tampered]
    assert 'hash does not match' in rejected[0]['reason']
    used = [f for f in report['evidence']['files'] if f['used']]
    assert rejected[0]['run_ids'] == [] and all(f['status'] in ('verified', 'incomplete') for f in used)
    assert sorted(report['evidence']['incomplete_runs']) == sorted(
        r for f in used if f['status'] == 'incomplete' for r in f['run_ids'])
    probe_cve = dict((c['cve'], c) for c in report['emergency']['cves'])[PROBE_CVE]
    assert probe_cve['met'] == 1 and probe_cve['open'] == 1 and len(probe_cve['run_ids']) == 1
    assert ('lnx-test-02', PROBE_CVE, True) in [(i['host'], i['cve'], i['overdue']) for i in report['kev']['open']]
    if not demo:
        assert hosts['lnx-prod-02']['state'] == 'failed'
        assert hosts['lnx-prod-02']['reason'] == 'health marker missing after the run'
        assert all(hosts[h]['state'] == 'compliant' for h in ('lnx-test-02', 'lnx-prod-01', 'kvm-01'))
        # lnx-test-01's later report is in the tampered file: only the first run counts.
        assert hosts['lnx-test-01']['state'] == 'compliant' and len(hosts['lnx-test-01']['runs']) == 1
        assert hosts['sw-core-01']['state'] == 'never_reported'
        assert est['compliant'] == 4 and est['coverage_pct'] == 33.3
    else:
        production = [b for b in report['baselines'] if b['production']]
        assert len(production) == 1, story
        baseline = production[0]
        waves = [r for r in report['runs'] if r['kind'] == 'wave' and r['wave'] in ('test', 'production')]
        assert [r['wave'] for r in waves][-2:] == ['test', 'production'], story
        assert [r['change_ticket'] for r in waves][-2:] == ['CHG0042001', 'CHG0042002']
        for host in ('lnx-test-01', 'lnx-test-02', 'lnx-prod-01', 'lnx-prod-02', 'lnx-expired-01'):
            assert hosts[host]['state'] == 'compliant', story
            assert hosts[host]['baseline_id'] == baseline['id']
        # Refused by its window in production; the emergency run that then fixed its KEV exposure
        # installs one fix, not the baseline, so coverage still shows the refusal.
        assert hosts['lnx-prod-03']['state'] == 'skipped' and 'window' in hosts['lnx-prod-03']['reason']
        demo_cve = dict((c['cve'], c) for c in report['emergency']['cves'])[DEMO_CVE]
        fixed = dict((i['host'], i) for i in demo_cve['exposures'])['lnx-prod-03']
        assert fixed['verified'] and fixed['sla'] == 'met' and len(fixed['run_ids']) == 1
        emergency_runs = [r['run_id'] for r in report['runs'] if r['kind'] == 'emergency' and DEMO_CVE in r['kev_ids']]
        assert fixed['run_ids'] == emergency_runs

    dom, problems, requests = inspect_in_chromium(html, str(tmp_path / 'chromium-profile'),
                                                  os.path.join(OUTPUT, 'compliance_report.png'),
                                                  os.path.join(OUTPUT, 'compliance_report.pdf'))
    assert problems == [], problems
    assert requests == ['file://' + html], requests   # self-contained: nothing but the page itself
    pct = 'n/a' if est['coverage_pct'] is None else ('%s%%' % est['coverage_pct']).replace('.0%', '%')
    assert dom['coverage'] == pct
    assert (dom['compliant'], dom['in_scope'], dom['not_covered'], dom['excepted']) == (
        str(est['compliant']), str(est['in_scope']), str(est['not_covered']), str(est['excepted']))
    assert dom['kev_open'] == str(len(report['kev']['open']))
    assert set(dom['charts']) >= {'chart-estate', 'chart-trend', 'chart-kev', 'chart-site', 'chart-owner',
                                  'chart-platform'}
    assert [r['cells'][1] for r in dom['evidence']] == [f['sha256'] for f in report['evidence']['files']]
    assert [r['status'] for r in dom['evidence']] == [f['status'] for f in report['evidence']['files']]
    assert sorted(r[0].split()[0] for r in dom['not_covered_rows']) == sorted(
        h['host'] for h in report['hosts'] if h['state'] != 'compliant')
    assert [r[0] for r in dom['excepted_rows']] == ['lnx-exc-01']
    assert len(dom['trend_rows']) == 12
    assert PROBE_CVE in [r[0] for r in dom['emergency_rows']]
    if demo:
        assert DEMO_CVE in [r[0] for r in dom['emergency_rows']]
    assert os.path.getsize(os.path.join(OUTPUT, 'compliance_report.png')) > 10000
    with open(os.path.join(OUTPUT, 'compliance_report.pdf'), 'rb') as handle:
        assert handle.read(5) == b'%PDF-'
