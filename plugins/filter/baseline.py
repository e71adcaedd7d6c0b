# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters: build a test-wave baseline, and check whether production may use one."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.healthit.patching.plugins.module_utils import _baseline


def baseline_build(results, min_success_rate, created, wave='test', change_ticket=None):
    try:
        return _baseline.build(results, min_success_rate, created, wave=wave, change_ticket=change_ticket)
    except (TypeError, ValueError) as e:
        raise AnsibleFilterError('baseline_build: %s' % e)


def baseline_check(baseline, min_success_rate, min_soak_days, now):
    ok, reason = _baseline.check(baseline, min_success_rate, min_soak_days, now)
    return dict(ok=ok, reason=reason)


class FilterModule(object):
    def filters(self):
        return {'baseline_build': baseline_build, 'baseline_check': baseline_check}
