# Private to the healthit.patching collection: not a public API, may change without notice.
"""What an upgrade of a Linux host would change, from the package manager's own answers.

Pure functions over the text apt and dnf print, so they are unit-tested from recorded output;
the linux_update_plan module runs the commands and feeds them here.
"""

import fnmatch
import re

_APT_INST = re.compile(r'^Inst (?P<name>\S+) (?:\[(?P<installed>[^\]]+)\] )?\((?P<target>\S+) (?P<origin>[^\[)]*?)\s*(?:\[[^\]]*\])?\)')
_APT_REMV = re.compile(r'^Remv (?P<name>\S+)(?: \[(?P<installed>[^\]]+)\])?')
_DNF_LINE = re.compile(r'^(?P<name>[^\s.]+(?:\.[^\s.]+)*)\.(?P<arch>[A-Za-z0-9_]+)\s+(?P<target>\S+)\s+(?P<repo>\S+)\s*$')


def parse_apt_simulation(text):
    """`apt-get -s dist-upgrade` output -> (installs, removals).

    installs: [{name, installed (None for a new dependency), target, origin}]; removals: [{name, installed}].
    """
    installs, removals = [], []
    for line in (text or '').splitlines():
        m = _APT_INST.match(line)
        if m:
            installs.append(dict(name=m.group('name'), installed=m.group('installed'),
                                 target=m.group('target'), origin=m.group('origin').strip()))
            continue
        m = _APT_REMV.match(line)
        if m:
            removals.append(dict(name=m.group('name'), installed=m.group('installed')))
    return installs, removals


def parse_dnf_check_update(text):
    """`dnf -q check-update` output -> [{name, arch, target, origin}] (obsoletes section ignored)."""
    out = []
    for line in (text or '').splitlines():
        if line.startswith('Obsoleting') or line.startswith('Security:'):
            break
        m = _DNF_LINE.match(line.strip())
        if m:
            out.append(dict(name=m.group('name'), arch=m.group('arch'), target=m.group('target'),
                            origin=m.group('repo'), installed=None))
    return out


def parse_apt_madison(text):
    """`apt-cache madison PKG...` -> {name: set(versions available from a repository)}."""
    avail = {}
    for line in (text or '').splitlines():
        parts = [p.strip() for p in line.split('|')]
        if len(parts) >= 3 and parts[0] and parts[1]:
            avail.setdefault(parts[0], set()).add(parts[1])
    return avail


def parse_deb822_sources(text):
    """Stanzas of a deb822 .sources file -> list of dicts (keys as written)."""
    stanzas, cur, last = [], {}, None
    for raw in (text or '').splitlines():
        if raw.startswith('#'):
            continue
        if not raw.strip():
            if cur:
                stanzas.append(cur)
            cur, last = {}, None
            continue
        if raw[0] in ' \t' and last:
            cur[last] += '\n' + raw.strip()
            continue
        if ':' in raw:
            key, value = raw.split(':', 1)
            last = key.strip()
            cur[last] = value.strip()
    if cur:
        stanzas.append(cur)
    return stanzas


def security_source_lines(one_line_texts, deb822_texts, suite_pattern=r'-security$'):
    """One-line `deb` entries for the security suites only, from every sources file's text.

    one_line_texts: texts of sources.list-style files; deb822_texts: texts of .sources files.
    """
    pattern = re.compile(suite_pattern)
    lines = []
    for text in one_line_texts:
        for raw in (text or '').splitlines():
            line = raw.split('#', 1)[0].strip()
            if not line.startswith('deb '):
                continue
            m = re.match(r'^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)(.*)$', line)
            if m and pattern.search(m.group(3)):
                lines.append(line)
    for text in deb822_texts:
        for st in parse_deb822_sources(text):
            if 'deb' not in st.get('Types', '').split() or st.get('Enabled', 'yes').lower() == 'no':
                continue
            suites = [s for s in st.get('Suites', '').split() if pattern.search(s)]
            if not suites:
                continue
            opts = []
            if st.get('Signed-By'):
                opts.append('signed-by=%s' % st['Signed-By'].split()[0])
            if st.get('Architectures'):
                opts.append('arch=%s' % ','.join(st['Architectures'].split()))
            optstr = '[%s] ' % ' '.join(opts) if opts else ''
            for uri in st.get('URIs', '').split():
                for suite in suites:
                    lines.append(('deb %s%s %s %s' % (optstr, uri, suite, st.get('Components', ''))).rstrip())
    return lines


def is_excluded(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns or [])


def filter_plan(installs, exclude=None, hold=None):
    """Split planned installs into (kept, excluded, held) by name patterns."""
    kept, excluded, held = [], [], []
    for item in installs:
        if is_excluded(item['name'], hold):
            held.append(item)
        elif is_excluded(item['name'], exclude):
            excluded.append(item)
        else:
            kept.append(item)
    return kept, excluded, held
