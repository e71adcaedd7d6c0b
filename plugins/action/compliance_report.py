# Copyright: contributors to healthit.patching
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for healthit.patching.compliance_report: gathers inputs on the controller.

Thin on purpose: the figures are computed by module_utils/_compliance.py, the exception register
is read by plugin_utils/_exception_register.py (fail closed), evidence is verified by
module_utils/_evidence.py. Documentation lives in plugins/modules/compliance_report.py.
"""

from __future__ import annotations

import datetime
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.healthit.patching.plugins.module_utils import _compliance as cr
from ansible_collections.healthit.patching.plugins.module_utils import _evidence as ev
from ansible_collections.healthit.patching.plugins.module_utils._kev import KevError
from ansible_collections.healthit.patching.plugins.plugin_utils import _compliance_inputs as inputs
from ansible_collections.healthit.patching.plugins.plugin_utils._source_data import SourceError

_DEFAULT_TEMPLATE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                 'roles', 'compliance_report', 'templates', 'compliance_report.html.j2')


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        _valid, args = self.validate_argument_spec(argument_spec=cr.ARGUMENT_SPEC)
        try:
            return dict(result, **self._report(args, task_vars))
        except (cr.ComplianceError, ev.EvidenceError, inputs.InputError, KevError) as exc:
            raise AnsibleActionFail(to_text(exc))
        except SourceError as exc:
            raise AnsibleActionFail('exception register: %s' % to_text(exc.render() if hasattr(exc, 'render') else exc))

    def _report(self, args, task_vars):
        period = cr.parse_period(args['report_period'], args['report_from'], args['report_to'])
        now = cr.utc(args['now'], 'now') if args['now'] else datetime.datetime.now(datetime.timezone.utc)
        evidence_dir = args['evidence_dir'] or os.environ.get('HEALTHIT_AUDIT_DIR')
        state_dir = args['state_dir'] or os.environ.get('HEALTHIT_PATCH_STATE_DIR')
        if not evidence_dir:
            raise cr.ComplianceError('evidence_dir is not set (nor HEALTHIT_AUDIT_DIR): no evidence, no report')
        if not os.path.isdir(evidence_dir):
            raise cr.ComplianceError('evidence_dir %s is not a directory' % evidence_dir)
        key_file = args['hmac_key_file'] or os.environ.get('HEALTHIT_AUDIT_HMAC_KEY_FILE')
        key = ev.load_hmac_key(key_file) if key_file else None

        scope = inputs.inventory_scope(task_vars, args['hosts'], args['excepted_hosts'])
        register = inputs.read_register(args['exception_register'] or scope.register_path, scope.register_sha256)
        review_days = args['review_days'] if args['review_days'] is not None else scope.review_days
        history = inputs.read_history(state_dir, cr.iso(now))

        trend_months = max(1, args['trend_months'])
        first = cr.months_back(period, trend_months)[0].start.date() - datetime.timedelta(days=1)
        last = period.end.date()
        # This run's own evidence file is still open (no closing record yet): it is not evidence of patching.
        own = os.environ.get('HEALTHIT_AUDIT_EVIDENCE_FILE')
        files = cr.load_evidence(evidence_dir, key, first_day=first, last_day=last, skip=[own])
        baselines = cr.load_baselines(state_dir)
        sources = {
            'evidence_dir': evidence_dir,
            'hmac_key_id': ev.key_id(key) if key else None,
            'state_dir': state_dir,
            'exception_register': register.path if register else None,
            'exception_register_sha256': register.sha256 if register else None,
            'inventory_generated': scope.generated,
            'report_run_id': os.environ.get('HEALTHIT_AUDIT_RUN_ID'),
            'response_history': history.source,
            'response_history_sha256': history.sha256,
        }
        report = cr.build_report(scope.hosts, scope.excepted, inputs.register_entries(register), files, baselines,
                                 history.entries, period, now, trend_months=trend_months,
                                 review_days=review_days, compare=inputs.version_compare, sources=sources)
        written = {}
        if not self._task.check_mode:
            html = None
            if 'html' in args['formats']:
                html = cr.render_html(report, args['template'] or _DEFAULT_TEMPLATE)
            written = cr.write_outputs(report, args['output_dir'], html, formats=tuple(args['formats']))
        est = report['coverage']['estate']
        out = {
            'changed': bool(written),
            'files': written,
            'output_dir': args['output_dir'],
            'period': report['period'],
            'coverage': {k: est[k] for k in ('in_scope', 'compliant', 'not_covered', 'excepted', 'coverage_pct')},
            'evidence': {k: report['evidence'][k] for k in ('verified', 'rejected', 'incomplete_runs')},
            'rejected_files': [dict(file=f['file'], reason=f['reason'])
                               for f in report['evidence']['files'] if not f['used']],
            'kev_open': len(report['kev']['open']),
            'kev_overdue': sum(1 for i in report['kev']['open'] if i['overdue']),
            'exceptions': report['exceptions']['counts'],
            'emergency': report['emergency']['summary'],
            'msg': 'compliance report %s: coverage %s (%d/%d in scope, %d excepted); %d evidence file(s) verified, '
                   '%d rejected' % (report['period']['label'],
                                    'n/a' if est['coverage_pct'] is None else '%s%%' % est['coverage_pct'],
                                    est['compliant'], est['in_scope'], est['excepted'],
                                    report['evidence']['verified'], report['evidence']['rejected']),
        }
        if scope.warnings:
            out['warnings'] = scope.warnings
        return out
