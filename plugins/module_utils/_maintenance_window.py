# Private to the healthit.patching collection: not a public API, may change without notice.
"""Maintenance windows and clinical blackout periods: is a host allowed to be patched now?

Windows and blackouts are data (inventory variables), evaluated in the window's own time zone:

``windows`` maps a window name to::

    timezone: America/New_York        # optional; else the site's time zone, else UTC
    slots:                            # weekly or Patch-Tuesday-relative, each with start + duration|end
      - days: [sat, sun]
        start: "22:00"
        duration: 4h                  # or end: "02:00" (an end before the start crosses midnight)
      - patch_tuesday: {weekday: sat, n: 1}   # the first Saturday after Patch Tuesday
        start: "01:00"
        duration: 3h
      - patch_tuesday: {offset_days: 5}       # Patch Tuesday + 5 days
        start: "01:00"
        end: "04:00"
    dates:                            # one-off windows, local time of the window
      - {start: "2026-12-27 01:00", end: "2026-12-27 05:00"}

``blackouts`` is a list of::

    name: Year-end EHR go-live freeze
    start: "2026-12-20 00:00"
    end: "2027-01-03 00:00"
    timezone: America/New_York        # optional, UTC when absent
    sites: [main-campus]              # optional filters; absent = everywhere
    platforms: [linux]
    criticality: [clinical_critical]

Any doubt means closed: an unknown window, a malformed definition or a missing time zone gives
``open: False`` with the reason. ``evaluate`` never raises for bad data; ``validate`` lists problems.
"""

import datetime
import re

try:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover - Python < 3.9 controllers are not supported
    ZoneInfo = None
    ZoneInfoNotFoundError = Exception

DAYS = {'mon': 0, 'tue': 1, 'wed': 2, 'thu': 3, 'fri': 4, 'sat': 5, 'sun': 6}
_DURATION = re.compile(r'^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*$', re.I)
_HHMM = re.compile(r'^\s*(\d{1,2}):(\d{2})\s*$')


class WindowError(ValueError):
    """A window or blackout definition that cannot be understood."""


def _tz(name):
    if not name or name.upper() == 'UTC':
        return datetime.timezone.utc
    if ZoneInfo is None:
        raise WindowError('time zone %r needs Python zoneinfo on the controller' % name)
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, KeyError):
        raise WindowError('unknown time zone %r' % name)


def parse_duration(value):
    """'4h', '90m', '1d 2h', 240 (minutes) -> timedelta."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.timedelta(minutes=value)
    m = _DURATION.match(str(value or ''))
    if not m or not any(m.groups()):
        raise WindowError('duration %r is not like "4h", "90m" or "1d 2h"' % (value,))
    d, h, mi = (int(x or 0) for x in m.groups())
    return datetime.timedelta(days=d, hours=h, minutes=mi)


def _hhmm(value):
    m = _HHMM.match(str(value or ''))
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise WindowError('time %r is not HH:MM' % (value,))
    return int(m.group(1)), int(m.group(2))


def parse_local(value, tz):
    """'2026-12-27 01:00' (or ISO with T, or a date) in time zone tz -> aware datetime."""
    if isinstance(value, datetime.datetime):
        dt = value
    elif isinstance(value, datetime.date):
        dt = datetime.datetime(value.year, value.month, value.day)
    else:
        text = str(value or '').strip().replace('T', ' ')
        dt = None
        for fmt in ('%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d'):
            try:
                dt = datetime.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if dt is None:
            raise WindowError('date-time %r is not "YYYY-MM-DD HH:MM"' % (value,))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return dt


def patch_tuesday(year, month):
    """Microsoft's Patch Tuesday: the second Tuesday of the month."""
    first = datetime.date(year, month, 1)
    first_tuesday = first + datetime.timedelta(days=(1 - first.weekday()) % 7)
    return first_tuesday + datetime.timedelta(days=7)


def _slot_start_dates(slot, local_day):
    """Dates (within a few days of local_day) on which this slot starts."""
    if 'days' in slot:
        days = slot['days']
        if isinstance(days, str):
            days = [days]
        wanted = set()
        for d in days:
            key = str(d).strip().lower()[:3]
            if key not in DAYS:
                raise WindowError('day %r is not one of mon..sun' % (d,))
            wanted.add(DAYS[key])
        return [local_day + datetime.timedelta(days=k) for k in (-2, -1, 0)
                if (local_day + datetime.timedelta(days=k)).weekday() in wanted]
    if 'patch_tuesday' in slot:
        spec = slot['patch_tuesday'] or {}
        if not isinstance(spec, dict):
            raise WindowError('patch_tuesday must be a mapping like {weekday: sat, n: 1} or {offset_days: 5}')
        out = []
        months = [(local_day.year, local_day.month), _prev_month(local_day.year, local_day.month)]
        for y, m in months:
            pt = patch_tuesday(y, m)
            if 'offset_days' in spec:
                out.append(pt + datetime.timedelta(days=int(spec['offset_days'])))
            elif 'weekday' in spec:
                key = str(spec['weekday']).strip().lower()[:3]
                if key not in DAYS:
                    raise WindowError('weekday %r is not one of mon..sun' % (spec['weekday'],))
                n = int(spec.get('n', 1))
                if n < 1:
                    raise WindowError('n must be 1 or more')
                delta = (DAYS[key] - pt.weekday()) % 7 or 7
                out.append(pt + datetime.timedelta(days=delta + 7 * (n - 1)))
            else:
                raise WindowError('patch_tuesday needs offset_days or weekday')
        return out
    raise WindowError('a slot needs days or patch_tuesday')


def _prev_month(year, month):
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _slot_span(slot, start_date, tz):
    h, m = _hhmm(slot.get('start'))
    start = datetime.datetime(start_date.year, start_date.month, start_date.day, tzinfo=tz) + \
        datetime.timedelta(hours=h, minutes=m)
    if 'duration' in slot:
        end = start + parse_duration(slot['duration'])
    elif 'end' in slot:
        eh, em = _hhmm(slot['end'])
        end = datetime.datetime(start_date.year, start_date.month, start_date.day, tzinfo=tz) + \
            datetime.timedelta(hours=eh, minutes=em)
        if end <= start:
            end += datetime.timedelta(days=1)
    else:
        raise WindowError('a slot needs duration or end')
    if end - start > datetime.timedelta(days=2):
        raise WindowError('a slot may last at most 2 days')
    return start, end


def _open_span(window, now, tz):
    """The (start, end) of the span of this window containing now, or None."""
    local_now = now.astimezone(tz)
    spans = []
    for slot in window.get('slots') or []:
        if not isinstance(slot, dict):
            raise WindowError('each slot must be a mapping')
        for day in _slot_start_dates(slot, local_now.date()):
            spans.append(_slot_span(slot, day, tz))
    for one in window.get('dates') or []:
        if not isinstance(one, dict) or 'start' not in one or 'end' not in one:
            raise WindowError('each entry of dates needs start and end')
        spans.append((parse_local(one['start'], tz), parse_local(one['end'], tz)))
    # Overlapping slots (an always-open window, a one-off date extending a weekly slot): the one lasting longest counts.
    open_spans = [s for s in spans if s[0] <= local_now < s[1]]
    return max(open_spans, key=lambda s: s[1]) if open_spans else None


def _matches(filter_values, value):
    if filter_values in (None, [], ''):
        return True
    if isinstance(filter_values, str):
        filter_values = [filter_values]
    return str(value or '').lower() in [str(v).lower() for v in filter_values]


def active_blackout(blackouts, now, site=None, platform=None, criticality=None):
    """The first blackout covering now for this host, or None. Raises WindowError on bad data."""
    for b in blackouts or []:
        if not isinstance(b, dict) or 'start' not in b or 'end' not in b:
            raise WindowError('blackout %r needs start and end' % (b.get('name') if isinstance(b, dict) else b,))
        tz = _tz(b.get('timezone'))
        start, end = parse_local(b['start'], tz), parse_local(b['end'], tz)
        if not (start <= now < end):
            continue
        if _matches(b.get('sites'), site) and _matches(b.get('platforms'), platform) and \
                _matches(b.get('criticality'), criticality):
            return dict(name=str(b.get('name') or 'unnamed blackout'), start=start.isoformat(), end=end.isoformat())
    return None


def evaluate(window_name, windows, blackouts=None, now=None, site=None, site_timezones=None,
             platform=None, criticality=None, min_remaining=None):
    """Decide whether a host may be patched at ``now`` (aware datetime; default: current UTC time).

    Returns a dict: open (bool), reason (str), window, blackout (or None), closes_at (ISO, when open).
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=datetime.timezone.utc)
    result = dict(open=False, window=window_name, blackout=None, closes_at=None, now=now.isoformat())
    try:
        blackout = active_blackout(blackouts, now, site=site, platform=platform, criticality=criticality)
    except WindowError as e:
        result['reason'] = 'blackout periods cannot be read (%s): not patching' % e
        return result
    if blackout:
        result['blackout'] = blackout
        result['reason'] = 'inside clinical blackout "%s" (%s to %s)' % (blackout['name'], blackout['start'], blackout['end'])
        return result
    if not window_name:
        result['reason'] = 'host has no maintenance window in the CMDB: not patching'
        return result
    if not isinstance(windows, dict) or window_name not in windows:
        result['reason'] = 'maintenance window "%s" is not defined: not patching' % window_name
        return result
    window = windows[window_name] or {}
    if not isinstance(window, dict):
        result['reason'] = 'maintenance window "%s" is not a mapping: not patching' % window_name
        return result
    try:
        tzname = window.get('timezone') or (site_timezones or {}).get(site) or 'UTC'
        tz = _tz(tzname)
        span = _open_span(window, now, tz)
        needed = parse_duration(min_remaining) if min_remaining else datetime.timedelta(0)
    except WindowError as e:
        result['reason'] = 'maintenance window "%s" cannot be read (%s): not patching' % (window_name, e)
        return result
    if span is None:
        result['reason'] = 'outside maintenance window "%s" (%s)' % (window_name, tzname)
        return result
    start, end = span
    if end - now < needed:
        result['reason'] = 'maintenance window "%s" closes at %s, less than %s away' % (window_name, end.isoformat(), needed)
        return result
    result.update(open=True, closes_at=end.isoformat(),
                  reason='inside maintenance window "%s" until %s' % (window_name, end.isoformat()))
    return result


def validate(windows, blackouts):
    """Problems in the definitions, as a list of 'where: what' strings (empty when all is well)."""
    problems = []
    now = datetime.datetime.now(datetime.timezone.utc)
    for name, window in (windows or {}).items():
        try:
            if not isinstance(window, dict):
                raise WindowError('not a mapping')
            _open_span(window, now, _tz(window.get('timezone')))
        except WindowError as e:
            problems.append('patch_maintenance_windows.%s: %s' % (name, e))
    for i, b in enumerate(blackouts or []):
        try:
            active_blackout([b], now)
        except WindowError as e:
            problems.append('patch_blackouts[%d]: %s' % (i, e))
    return problems
