# Private to the healthit.patching collection: not a public API, may change without notice.
"""Windows update selection, round bookkeeping and readable HRESULTs for the windows_patch role.

Three questions the role asks, answered here so they can be unit-tested from data files:

- ``build_selection``: what to pass to ``ansible.windows.win_updates`` (categories, accept and
  reject lists) for a run, and whether a production run may proceed at all. A production run
  installs exactly the KBs its test wave's baseline recorded: the accept list is those KBs as
  anchored patterns (win_updates matches entries as unanchored, case-insensitive regexes, so a
  bare ``KB503443`` would also accept ``KB5034439``), and categories are ``*`` so a baseline KB
  is never lost to a category filter.
- ``advance``: given the bookkeeping so far and one event (a win_updates round, a reboot, a
  reconnect, a final search), what happened to each KB and what the role does next. Failed KBs
  are retried a bounded number of times, a KB reported installed twice is an update loop, and a
  KB that cannot install ends the run failed instead of being retried forever.
- ``describe_hresult``: a sentence for the HRESULTs operators meet most.
"""

import copy
import re

__all__ = ['SelectionError', 'build_selection', 'normalize_kb', 'kb_pattern', 'describe_hresult',
           'hresult_policy', 'advance', 'DEFAULT_POLICY']


class SelectionError(ValueError):
    """Bad selection input; the message names the variable and the element."""


# win_updates accepts these camel-case spellings and maps them to the classification names.
_CATEGORY_ALIASES = {
    'criticalupdates': 'Critical Updates',
    'definitionupdates': 'Definition Updates',
    'developerkits': 'Developer Kits',
    'featurepacks': 'Feature Packs',
    'securityupdates': 'Security Updates',
    'servicepacks': 'Service Packs',
    'updaterollups': 'Update Rollups',
}
# The Windows Update classifications. Anything else only matches a product category
# ("Windows Server 2022") of exactly that name, which is legal but rarely what was meant.
_CLASSIFICATIONS = (
    'Application', 'Connectors', 'Critical Updates', 'Definition Updates', 'Developer Kits', 'Drivers',
    'Feature Packs', 'Guidance', 'Security Updates', 'Service Packs', 'Tools', 'Update Rollups',
    'Updates', 'Upgrades',
)
# Names people write for cumulative updates. No such classification exists, so win_updates would
# silently match nothing: the classic "ok, but nothing installed".
_CUMULATIVE_MISTAKES = re.compile(r'^\s*(latest\s*)?cumulative(\s*updates?)?\s*$|^\s*lcu\s*$', re.I)

_KB_RE = re.compile(r'^\s*(?:KB)?\s*(\d{6,8})\s*$', re.I)


def normalize_kb(value, where='value'):
    """'kb5034439', '5034439', 'KB5034439' -> 'KB5034439'; anything else is a SelectionError."""
    match = _KB_RE.match(str(value)) if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if not match:
        raise SelectionError("%s: %r is not a KB number (KB followed by 6 to 8 digits)" % (where, value))
    return 'KB' + match.group(1)


def kb_pattern(kb):
    """The win_updates accept/reject entry that matches exactly one KB and no title."""
    return '^%s$' % normalize_kb(kb)


def _as_list(value, where):
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise SelectionError('%s: expected a list, got %s' % (where, type(value).__name__))
    return list(value)


def _entry_patterns(entries, where):
    """KB numbers become anchored KB patterns; other entries are title regexes and must compile."""
    patterns = []
    for index, entry in enumerate(_as_list(entries, where)):
        here = '%s[%d]' % (where, index)
        if isinstance(entry, int) and not isinstance(entry, bool):
            entry = str(entry)
        if not isinstance(entry, str) or not entry.strip():
            raise SelectionError('%s: %r is neither a KB number nor a title pattern' % (here, entry))
        if _KB_RE.match(entry):
            pattern = kb_pattern(entry)
        else:
            try:
                re.compile(entry)
            except re.error as e:
                raise SelectionError('%s: %r is neither a KB number nor a valid title regular expression (%s)'
                                     % (here, entry, e))
            pattern = entry
        if pattern not in patterns:
            patterns.append(pattern)
    return patterns


def resolve_categories(names, where='windows_patch_category_names'):
    """Category names as win_updates compares them, plus warnings for names that are no classification."""
    resolved, warnings = [], []
    names = _as_list(names, where)
    if not names:
        raise SelectionError('%s: at least one category is needed (use "*" for all)' % where)
    for index, name in enumerate(names):
        here = '%s[%d]' % (where, index)
        if not isinstance(name, str) or not name.strip():
            raise SelectionError('%s: %r is not a category name' % (here, name))
        name = name.strip()
        if _CUMULATIVE_MISTAKES.match(name):
            raise SelectionError(
                '%s: %r is not a Windows Update category. Monthly cumulative updates are classified '
                '"Security Updates"; non-security and servicing-stack updates are "Updates"; optional '
                'preview cumulative updates are "Updates" marked optional (see windows_patch_skip_optional)'
                % (here, name))
        full = name if name == '*' else _CATEGORY_ALIASES.get(name.replace(' ', '').lower(), name)
        known = {c.lower(): c for c in _CLASSIFICATIONS}
        if full != '*' and full.lower() in known:
            full = known[full.lower()]
        elif full != '*':
            warnings.append('%s: %r is not a Windows Update classification; it only matches updates whose '
                            'product category is exactly that name' % (here, name))
        if full not in resolved:
            resolved.append(full)
    if '*' in resolved:
        resolved = ['*']
    return resolved, warnings


def build_selection(category_names=None, accept_list=None, reject_list=None, baseline_kbs=None,
                    require_baseline=False, skip_optional=True):
    """The win_updates selection for one run, or the reason a run must not proceed.

    Returns a dict: mode (``baseline`` or ``categories``), category_names, accept_list, reject_list,
    baseline_kbs (normalised), skip_optional, refused (None or a sentence), warnings (list).
    """
    warnings = []
    baseline = []
    for index, kb in enumerate(_as_list(baseline_kbs, 'windows_patch_baseline_kbs')):
        kb = normalize_kb(kb, 'windows_patch_baseline_kbs[%d]' % index)
        if kb not in baseline:
            baseline.append(kb)
    rejects = _entry_patterns(reject_list, 'windows_patch_reject_list')
    accepts = _entry_patterns(accept_list, 'windows_patch_accept_list')
    categories, cat_warnings = resolve_categories(category_names)
    warnings.extend(cat_warnings)

    selection = {
        'mode': 'baseline' if baseline else 'categories',
        'baseline_kbs': baseline,
        'reject_list': rejects,
        'skip_optional': bool(skip_optional),
        'refused': None,
        'warnings': warnings,
    }
    if baseline:
        rejected = [kb for kb in baseline if kb_pattern(kb) in rejects]
        allowed = [kb for kb in baseline if kb not in rejected]
        if rejected:
            warnings.append('baseline KBs also on windows_patch_reject_list are not installed: %s' % ', '.join(rejected))
        if accepts:
            warnings.append('windows_patch_accept_list is ignored: a baseline run installs exactly the baseline KBs')
        # Categories would only narrow an exact list, and a narrowing here silently drops a validated KB.
        selection.update(category_names=['*'], accept_list=[kb_pattern(kb) for kb in allowed],
                         skip_optional=False)
        if not allowed:
            selection['refused'] = 'every baseline KB is on windows_patch_reject_list: nothing may be installed'
    else:
        selection.update(category_names=categories, accept_list=accepts)
        if require_baseline:
            selection['refused'] = ('production run without a test-wave baseline (windows_patch_baseline_kbs is '
                                    'empty): production installs only the KBs the test wave validated')
    return selection


# HRESULTs operators meet most often: what they mean in plain words and whether another attempt can help.
# retry: "retry" (try again next round), "reboot" (try again after a reboot), "stop" (retrying cannot help).
_HRESULTS = {
    0x80070005: ('E_ACCESSDENIED', 'access denied: the update ran without administrator rights', 'stop'),
    0x8007000E: ('E_OUTOFMEMORY', 'the host ran out of memory while installing', 'reboot'),
    0x80070070: ('ERROR_DISK_FULL', 'not enough disk space to install the update', 'stop'),
    0x80070643: ('ERROR_INSTALL_FAILURE', 'the update installer (MSI) failed; common with .NET and Defender '
                 'platform updates, see the CBS and MSI logs', 'retry'),
    0x80070BC9: ('ERROR_FAIL_REBOOT_REQUIRED', 'a previous installation needs a reboot before this one can run',
                 'reboot'),
    0x80073712: ('ERROR_SXS_COMPONENT_STORE_CORRUPT', 'the component store is corrupt; repair it with '
                 'DISM /RestoreHealth before patching again', 'stop'),
    0x800F081F: ('CBS_E_SOURCE_MISSING', 'component store source files are missing; repair with DISM', 'stop'),
    0x800F0831: ('CBS_E_STORE_CORRUPTION', 'a prerequisite package is missing from the component store '
                 '(an earlier cumulative update did not install cleanly)', 'stop'),
    0x800F0922: ('CBS_E_INSTALLERS_FAILED', 'the servicing installers failed; often a full System Reserved '
                 'partition, a missing servicing stack update or a pending .NET change', 'reboot'),
    0x80240016: ('WU_E_INSTALL_NOT_ALLOWED', 'another installation is running or a restart is pending', 'reboot'),
    0x80240017: ('WU_E_NOT_APPLICABLE', 'the update does not apply to this host', 'stop'),
    0x8024001E: ('WU_E_SERVICE_STOP', 'the Windows Update service or the host was shutting down', 'reboot'),
    0x80240020: ('WU_E_NO_INTERACTIVE_USER', 'the update needs a logged-on interactive user', 'stop'),
    0x80240022: ('WU_E_ALL_UPDATES_FAILED', 'every update in the batch failed; the per-update errors in the '
                 'Windows Update log name the cause', 'reboot'),
    0x80240034: ('WU_E_DOWNLOAD_FAILED', 'the update failed to download', 'retry'),
    0x8024200B: ('WU_E_UH_INSTALLERFAILURE', 'the update installer failed', 'retry'),
    0x8024200D: ('WU_E_UH_NEEDANOTHERDOWNLOAD', 'the update must be downloaded again (corrupt or incomplete '
                 'download)', 'retry'),
    0x80242016: ('WU_E_UH_POSTREBOOTUNEXPECTEDSTATE', 'the update was in an unexpected state after the reboot',
                 'reboot'),
    0x80242017: ('WU_E_UH_NEW_SERVICING_STACK_REQUIRED', 'a newer servicing stack update must be installed first',
                 'retry'),
    0x8024402C: ('WU_E_PT_WINHTTP_NAME_NOT_RESOLVED', 'the update server name could not be resolved (proxy or '
                 'DNS)', 'stop'),
    0x8024401C: ('WU_E_PT_HTTP_STATUS_REQUEST_TIMEOUT', 'the update server timed out', 'retry'),
    0x80244022: ('WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL', 'the update server answered 503 (service unavailable)',
                 'retry'),
    0x80246007: ('WU_E_DM_NOTDOWNLOADED', 'the update has not been downloaded', 'retry'),
    0x8024A007: ('WU_E_REBOOT_IN_PROGRESS', 'a reboot is in progress', 'reboot'),
}


def parse_hresult(value):
    """An int (signed or unsigned) or a '0x...' string -> unsigned int, or None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value & 0xFFFFFFFF
    match = re.search(r'0x([0-9a-f]{8})', str(value), re.I)
    if match:
        return int(match.group(1), 16)
    text = str(value).strip()
    if re.match(r'^-?\d+$', text):
        return int(text) & 0xFFFFFFFF
    return None


def describe_hresult(value):
    """'0x800F0922 CBS_E_INSTALLERS_FAILED: the servicing installers failed; ...'."""
    code = parse_hresult(value)
    if code is None:
        return 'unknown error (no HRESULT reported)'
    unknown = ('', 'no description known to healthit.patching; look the code up in the Windows Update error '
               'reference', 'retry')
    name, text, dummy = _HRESULTS.get(code, unknown)
    return '0x%08X %s%s' % (code, name + ': ' if name else '', text)


def hresult_policy(value):
    """retry, reboot or stop: whether another attempt at an update that failed with this code can help."""
    code = parse_hresult(value)
    return _HRESULTS.get(code, ('', '', 'retry'))[2] if code is not None else 'retry'


DEFAULT_POLICY = {
    'max_rounds': 5,
    'max_retries': 1,
    'max_reconnects': 2,
    'reboot': True,
    'baseline_kbs': [],
}


def _kb_of(update):
    kbs = update.get('kb') or []
    if kbs:
        return normalize_kb(kbs[0], 'update %s' % update.get('id', '?'))
    return update.get('id') or update.get('title') or 'unknown'


def _new_state(policy):
    merged = dict(DEFAULT_POLICY)
    merged.update({k: v for k, v in (policy or {}).items() if v is not None})
    merged['baseline_kbs'] = [normalize_kb(kb, 'baseline_kbs[%d]' % i) for i, kb in enumerate(merged['baseline_kbs'])]
    return {
        'policy': merged,
        'round': 0,
        'next': 'install',
        'kbs': {},
        'exclude': [],
        'rounds': [],
        'reboots': 0,
        'reconnects': 0,
        'rebooted': False,
        'reboot_pending': False,
        'task_failures': 0,
        'status': None,
        'reason': None,
        'actions': [],
    }


def _fail(state, reason):
    state['next'] = 'failed'
    state['status'] = 'failed'
    state['reason'] = reason
    return state


def _filtered_summary(result):
    counts = {}
    for info in (result.get('filtered_updates') or {}).values():
        for reason in info.get('filtered_reasons') or ['unknown']:
            counts[reason] = counts.get(reason, 0) + 1
    return counts


def _record_updates(state, result, progress):
    """Per-KB outcomes of one round; returns (installed_now, retry_after_reboot)."""
    policy = state['policy']
    installed_now, retry_after_reboot = [], False
    for update in (result.get('updates') or {}).values():
        kb = _kb_of(update)
        entry = state['kbs'].setdefault(kb, {'title': update.get('title', ''), 'failures': 0,
                                             'installed_rounds': [], 'outcome': 'found', 'detail': ''})
        progress['found'].append(kb)
        if kb in state['exclude']:
            continue
        if update.get('installed'):
            if entry['installed_rounds']:
                entry['outcome'] = 'loop'
                entry['detail'] = ('update loop: reported installed in round %s and offered and installed again in '
                                   'round %d (rolled back at reboot or misreported by Windows Update)'
                                   % (', '.join(str(r) for r in entry['installed_rounds']), state['round']))
                entry['installed_rounds'].append(state['round'])
                state['exclude'].append(kb)
                progress['loop'].append(kb)
                continue
            entry['installed_rounds'].append(state['round'])
            entry['outcome'] = 'installed'
            entry['detail'] = 'installed in round %d' % state['round']
            installed_now.append(kb)
            progress['installed'].append(kb)
            if policy['baseline_kbs'] and kb not in policy['baseline_kbs']:
                entry['outcome'] = 'outside_baseline'
                entry['detail'] = 'installed although it is not in the production baseline'
        elif 'failure_hresult_code' in update or update.get('failure_msg'):
            entry['failures'] += 1
            code = update.get('failure_hresult_code')
            entry['hresult'] = '0x%08X' % parse_hresult(code) if parse_hresult(code) is not None else None
            text = describe_hresult(code)
            advice = hresult_policy(code)
            progress['failed'][kb] = text
            if advice == 'stop' or entry['failures'] > policy['max_retries']:
                entry['outcome'] = 'failed'
                entry['detail'] = ('failed %d time(s), last with %s%s' % (
                    entry['failures'], text, '; retrying cannot help' if advice == 'stop' else '; no retries left'))
                state['exclude'].append(kb)
            else:
                entry['outcome'] = 'retrying'
                entry['detail'] = 'failed with %s; will try again (attempt %d of %d)' % (
                    text, entry['failures'] + 1, policy['max_retries'] + 1)
                retry_after_reboot = retry_after_reboot or advice == 'reboot'
        else:
            entry['outcome'] = 'available'
            entry['detail'] = 'found, not installed'
    return installed_now, retry_after_reboot


def _round_action(progress):
    parts = []
    for key, label in (('installed', 'installed'), ('loop', 'update loop'), ('failed', 'failed')):
        if progress[key]:
            parts.append('%s %s' % (label, ', '.join(sorted(progress[key]))))
    if progress['connection_lost']:
        parts.append('connection lost')
    return 'update round %d: %s' % (progress['round'], '; '.join(parts) or 'nothing to install')


def _on_updates(state, result):
    policy = state['policy']
    state['round'] += 1
    progress = {'round': state['round'], 'found': [], 'installed': [], 'failed': {}, 'loop': [],
                'filtered': _filtered_summary(result), 'reboot_required': bool(result.get('reboot_required')),
                'connection_lost': bool(result.get('unreachable'))}
    installed_now, retry_after_reboot = _record_updates(state, result, progress)
    state['rounds'].append(progress)
    state['actions'].append(_round_action(progress))
    outside = sorted(kb for kb, e in state['kbs'].items() if e['outcome'] == 'outside_baseline')
    if outside:
        return _fail(state, 'installed KBs outside the production baseline: %s' % ', '.join(outside))

    if result.get('unreachable'):
        state['reconnects'] += 1
        if state['reconnects'] > policy['max_reconnects']:
            return _fail(state, 'connection to the host lost %d times during update rounds (limit %d): %s'
                         % (state['reconnects'], policy['max_reconnects'], result.get('msg', '')))
        state['next'] = 'reconnect'
        return state

    if result.get('failed'):
        state['task_failures'] += 1
        msg = result.get('msg') or 'win_updates failed without a message'
        code = parse_hresult(msg)
        text = describe_hresult(code) if code is not None else msg
        progress['error'] = text
        # Like win_updates itself: a failure may be a pending restart, so one reboot and a second try,
        # unless the code says another try cannot help.
        if (state['task_failures'] > 1 or not policy['reboot'] or (code is not None and hresult_policy(code) == 'stop')):
            return _fail(state, 'Windows Update failed in round %d: %s' % (state['round'], text))
        state['next'] = 'reboot'
        return state
    state['task_failures'] = 0

    state['reboot_pending'] = bool(result.get('reboot_required'))
    retrying = [kb for kb, e in state['kbs'].items() if e['outcome'] == 'retrying']
    if state['reboot_pending'] or (retrying and retry_after_reboot):
        state['next'] = 'reboot' if policy['reboot'] else 'done'
    elif installed_now or retrying:
        state['next'] = 'install'
    else:
        state['next'] = 'done'
    if state['next'] == 'install' and state['round'] >= policy['max_rounds']:
        state['next'] = 'verify'
    return state


def _on_reboot(state, result):
    if result.get('failed') or result.get('unreachable'):
        return _fail(state, 'reboot after round %d did not complete: %s' % (state['round'], result.get('msg', '')))
    state['reboots'] += 1
    state['rebooted'] = True
    state['actions'].append('reboot after update round %d' % state['round'])
    state['reboot_pending'] = False
    state['next'] = 'install' if state['round'] < state['policy']['max_rounds'] else 'verify'
    return state


def _on_reconnect(state, result):
    if result.get('failed') or result.get('unreachable'):
        return _fail(state, 'host did not come back after the connection was lost in round %d: %s'
                     % (state['round'], result.get('msg', '')))
    # The updates keep running on the host when the connection drops; searching again is the re-poll.
    state['actions'].append('reconnected after the connection loss in update round %d' % state['round'])
    state['next'] = 'install' if state['round'] < state['policy']['max_rounds'] else 'verify'
    return state


def _on_final_search(state, result):
    """A search after the last round: anything still selected is outstanding."""
    if result.get('failed') or result.get('unreachable'):
        return _fail(state, 'final search for outstanding updates failed: %s' % result.get('msg', ''))
    outstanding = sorted(_kb_of(u) for u in (result.get('updates') or {}).values() if _kb_of(u) not in state['exclude'])
    if outstanding:
        for kb in outstanding:
            state['kbs'].setdefault(kb, {'title': '', 'failures': 0, 'installed_rounds': [], 'outcome': 'found',
                                         'detail': ''})
            state['kbs'][kb].update(outcome='outstanding', detail='still offered after %d rounds' % state['round'])
        return _fail(state, '%d update(s) still outstanding after the limit of %d rounds: %s'
                     % (len(outstanding), state['policy']['max_rounds'], ', '.join(outstanding)))
    state['next'] = 'done'
    return state


def _conclude(state):
    """Status and reason once the rounds are over (next is done or failed)."""
    if state['status'] == 'failed':
        return state
    stuck = sorted(kb for kb, e in state['kbs'].items() if e['outcome'] in ('failed', 'loop', 'retrying', 'available'))
    installed = sorted(kb for kb, e in state['kbs'].items() if e['outcome'] == 'installed')
    if stuck:
        details = '; '.join('%s: %s' % (kb, state['kbs'][kb]['detail']) for kb in stuck)
        return _fail(state, '%d update(s) could not be installed: %s' % (len(stuck), details))
    state['next'] = 'done'
    if installed:
        state['status'] = 'patched'
        state['reason'] = 'installed %s in %d round(s) with %d reboot(s)' % (
            ', '.join(installed), state['round'], state['reboots'])
        if state['reboot_pending']:
            state['reason'] += '; a reboot is still required (windows_patch_reboot is false)'
    else:
        state['status'] = 'current'
        filtered = {}
        for progress in state['rounds']:
            for reason, count in progress['filtered'].items():
                filtered[reason] = max(filtered.get(reason, 0), count)
        state['reason'] = 'no selected update was offered'
        if filtered:
            state['reason'] += ' (filtered out by win_updates: %s)' % ', '.join(
                '%d by %s' % (count, reason) for reason, count in sorted(filtered.items()))
    return state


_EVENTS = {
    'updates': _on_updates,
    'reboot': _on_reboot,
    'reconnect': _on_reconnect,
    'final_search': _on_final_search,
}


def advance(state, event, result=None, policy=None):
    """The bookkeeping after one event; ``event='start'`` (with ``policy``) begins a run.

    ``next`` tells the role what to do: install (run another round), reboot, reconnect, verify (the
    round limit is reached: search once more), done or failed. ``status``/``reason`` are set when
    ``next`` is done or failed.
    """
    if event == 'start':
        state = _new_state(policy)
        state['outcomes'] = []
        state['exclude_patterns'] = []
        return state
    if event not in _EVENTS:
        raise ValueError('unknown event %r (expected start, %s)' % (event, ', '.join(sorted(_EVENTS))))
    if not isinstance(state, dict) or 'policy' not in state:
        raise ValueError('event %r before start' % event)
    if not isinstance(result, dict):
        raise ValueError('event %r needs the registered task result (a dict), got %s' % (event, type(result).__name__))
    state = copy.deepcopy(state)
    if state['next'] in ('done', 'failed'):
        return state
    state = _EVENTS[event](state, result)
    if state['next'] in ('done', 'failed'):
        state = _conclude(state)
    state['outcomes'] = kb_outcomes(state)
    state['exclude_patterns'] = [kb_pattern(kb) for kb in state['exclude'] if _KB_RE.match(kb)]
    return state


def kb_outcomes(state):
    """A list of per-KB rows for the evidence: kb, title, outcome, attempts, hresult, detail."""
    rows = []
    for kb in sorted(state.get('kbs', {})):
        entry = state['kbs'][kb]
        rows.append({'kb': kb, 'title': entry.get('title', ''), 'outcome': entry['outcome'],
                     'attempts': entry.get('failures', 0) + len(entry.get('installed_rounds', [])),
                     'hresult': entry.get('hresult'), 'detail': entry.get('detail', '')})
    return rows
