# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter: is a host inside its maintenance window and outside clinical blackouts."""

from __future__ import annotations

import datetime

from ansible.errors import AnsibleFilterError
from ansible_collections.healthit.patching.plugins.module_utils._maintenance_window import evaluate, parse_local, WindowError


def window_status(window_name, windows, blackouts=None, site=None, timezones=None, platform=None,
                  criticality=None, now=None, min_remaining=None):
    try:
        when = parse_local(now, datetime.timezone.utc) if now else None
    except WindowError as e:
        raise AnsibleFilterError('window_status: now: %s' % e)
    return evaluate(window_name, windows, blackouts, now=when, site=site, site_timezones=timezones,
                    platform=platform, criticality=criticality, min_remaining=min_remaining)


class FilterModule(object):
    def filters(self):
        return {'window_status': window_status}
