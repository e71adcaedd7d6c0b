# Private to the healthit.patching collection: not a public API, may change without notice.
"""Version ordering shared by every plugin that compares versions.

One place answers "is installed version A older than fixed version B" for each scheme the
patch programme meets:

- ``debian``: ``dpkg --compare-versions`` semantics (epoch, upstream, revision, ``~`` sorts
  before everything, letters before non-letters).
- ``rpm``: ``rpmvercmp`` semantics on ``[epoch:]version[-release]`` (``~`` sorts before,
  ``^`` after the base version).
- ``ios``: Cisco IOS classic, ``15.2(7)E3``.
- ``iosxe``: Cisco IOS-XE, ``17.9.4a``, ``16.12.04``, ``03.16.05.S``.
- ``nxos``: Cisco NX-OS, ``9.3(10)``, ``7.0(3)I7(9)``, ``10.2(5)M``.
- ``junos``: Juniper Junos, ``21.4R3-S5.4``, ``15.1X49-D200``.
- ``semver``: Semantic Versioning 2.0.0 precedence (build metadata ignored).
- ``generic``: dotted versions of unknown origin (numbers, pre-release words, suffix letters).
- ``bmc``: server BMC firmware read over Redfish (AMI MegaRAC, iDRAC, iLO, XCC): numbers only, ordered as
  numbers (``13.4.0``, ``7.00.00.172``, ``2.82``); the release train is the first number.

``compare(a, b, scheme)`` returns -1, 0 or 1. ``sort_key(version, scheme)`` returns an object
usable as a ``sorted()`` key that orders exactly as ``compare`` does. Malformed versions raise
``VersionError`` (a ``ValueError``) naming the scheme and the value: a wrong answer about
exposure is worse than no answer.
"""

import collections
import functools
import re

SCHEMES = ('debian', 'rpm', 'ios', 'iosxe', 'nxos', 'junos', 'bmc', 'semver', 'generic')

# Names people use for the same ordering.
ALIASES = {
    'deb': 'debian',
    'dpkg': 'debian',
    'ubuntu': 'debian',
    'apt': 'debian',
    'redhat': 'rpm',
    'rhel': 'rpm',
    'dnf': 'rpm',
    'yum': 'rpm',
    'ios-xe': 'iosxe',
    'ios_xe': 'iosxe',
    'nx-os': 'nxos',
    'nx_os': 'nxos',
    'juniper': 'junos',
    'dotted': 'generic',
    'redfish': 'bmc',
    'loose': 'generic',
}

_DIGITS = '0123456789'


class VersionError(ValueError):
    """A version string that the named scheme cannot order."""

    def __init__(self, scheme, version, why):
        self.scheme = scheme
        self.version = version
        self.why = why
        super(VersionError, self).__init__(
            'invalid %s version %r: %s' % (scheme, version, why))


def _sign(n):
    return (n > 0) - (n < 0)


def _text(version, scheme):
    if version is None:
        raise VersionError(scheme, version, 'no version given')
    if isinstance(version, bool):
        raise VersionError(scheme, version, 'a boolean is not a version')
    if isinstance(version, (int, float)):
        # YAML turns 1.10 into 1.1: refuse floats rather than compare the wrong thing.
        if isinstance(version, float):
            raise VersionError(scheme, version, 'a float is not a version, quote it in YAML')
        version = str(version)
    if not isinstance(version, str):
        raise VersionError(scheme, version, 'expected a string, got %s' % type(version).__name__)
    text = version.strip()
    if not text:
        raise VersionError(scheme, version, 'empty version')
    return text


def normalize_scheme(scheme):
    """Return the canonical scheme name or raise ValueError listing the known ones."""
    name = str(scheme or 'generic').strip().lower()
    name = ALIASES.get(name, name)
    if name not in SCHEMES:
        raise ValueError('unknown version scheme %r, expected one of %s'
                         % (scheme, ', '.join(SCHEMES)))
    return name


# ---------------------------------------------------------------- [epoch:]version[-release]

# How one package manager splits ``[epoch:]version[-release]`` and says what is wrong with it. dpkg and rpm
# split the same way; they differ in what they forgive (rpm reads an empty or ``(none)`` epoch as 0, dpkg
# refuses it), in the limits they check and in their words (``words`` maps our wording to theirs).
_EvrRules = collections.namedtuple(
    '_EvrRules', 'scheme segment_compare words zero_epochs max_epoch text_after_colon single_colon')


def _split_evr(version, rules):
    """Return (epoch, version, release) of ``version`` under ``rules`` (a missing release is '')."""
    text = _text(version, rules.scheme)

    def refuse(why):
        raise VersionError(rules.scheme, version, rules.words.get(why, why))

    if any(c.isspace() for c in text):
        refuse('version string has embedded spaces')
    epoch = 0
    rest = text
    if ':' in text:
        head, rest = text.split(':', 1)
        if head in rules.zero_epochs:
            head = '0'
        if not head:
            refuse('epoch in version is empty')
        if not all(c in _DIGITS for c in head):
            refuse('epoch is not a number')
        epoch = int(head)
        if rules.max_epoch is not None and epoch > rules.max_epoch:
            refuse('epoch in version is too big')
        if rules.text_after_colon and not rest:
            refuse('nothing after colon in version number')
        if rules.single_colon and ':' in rest:
            refuse('more than one colon')
    release = ''
    if '-' in rest:
        rest, release = rest.rsplit('-', 1)
        if not release:
            refuse('release is empty')
    if not rest:
        refuse('version is empty')
    return epoch, rest, release


def _compare_evr(a, b, rules):
    ea, va, ra = _split_evr(a, rules)
    eb, vb, rb = _split_evr(b, rules)
    if ea != eb:
        return _sign(ea - eb)
    return rules.segment_compare(va, vb) or rules.segment_compare(ra, rb)


# ---------------------------------------------------------------- Debian (dpkg)

def _deb_order(c):
    if c in _DIGITS:
        return 0
    if c.isascii() and c.isalpha():
        return ord(c)
    if c == '~':
        return -1
    return ord(c) + 256


def _deb_verrevcmp(a, b):
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        first_diff = 0
        while (i < la and a[i] not in _DIGITS) or (j < lb and b[j] not in _DIGITS):
            ac = _deb_order(a[i]) if i < la else 0
            bc = _deb_order(b[j]) if j < lb else 0
            if ac != bc:
                return _sign(ac - bc)
            i += 1
            j += 1
        while i < la and a[i] == '0':
            i += 1
        while j < lb and b[j] == '0':
            j += 1
        while i < la and a[i] in _DIGITS and j < lb and b[j] in _DIGITS:
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < la and a[i] in _DIGITS:
            return 1
        if j < lb and b[j] in _DIGITS:
            return -1
        if first_diff:
            return _sign(first_diff)
    return 0


# dpkg's own words for what it refuses.
_DEBIAN_EVR = _EvrRules('debian', _deb_verrevcmp, {
    'epoch is not a number': 'epoch in version is not number',
    'release is empty': 'revision number is empty',
    'version is empty': 'version number is empty',
}, zero_epochs=(), max_epoch=2147483647, text_after_colon=True, single_colon=False)


def parse_debian(version):
    """Split a Debian version into (epoch, upstream, revision) as dpkg's parseversion does.

    Only what dpkg treats as errors is refused; what dpkg merely warns about (an upstream
    part not starting with a digit, unusual characters) still orders the way dpkg orders it.
    """
    return _split_evr(version, _DEBIAN_EVR)


def compare_debian(a, b):
    return _compare_evr(a, b, _DEBIAN_EVR)


# ---------------------------------------------------------------- RPM (rpmvercmp)

# rpm treats every character that is not an ASCII letter, digit, ~ or ^ as a separator.
_RPM_SEPARATORS = re.compile(r'^[^A-Za-z0-9~^]+')


def rpmvercmp(a, b):
    """Compare two version (or release) strings exactly as rpm's rpmvercmp()."""
    if a == b:
        return 0
    one, two = a, b
    while one or two:
        one = _RPM_SEPARATORS.sub('', one)
        two = _RPM_SEPARATORS.sub('', two)
        if one.startswith('~') or two.startswith('~'):
            if not one.startswith('~'):
                return 1
            if not two.startswith('~'):
                return -1
            one, two = one[1:], two[1:]
            continue
        if one.startswith('^') or two.startswith('^'):
            if not one:
                return -1
            if not two:
                return 1
            if not one.startswith('^'):
                return 1
            if not two.startswith('^'):
                return -1
            one, two = one[1:], two[1:]
            continue
        if not (one and two):
            break
        if one[0] in _DIGITS:
            isnum = True
            m1 = re.match(r'[0-9]*', one).group(0)
            m2 = re.match(r'[0-9]*', two).group(0)
        else:
            isnum = False
            m1 = re.match(r'[A-Za-z]*', one).group(0)
            m2 = re.match(r'[A-Za-z]*', two).group(0)
        one, two = one[len(m1):], two[len(m2):]
        if not m2:
            # A numeric segment is always newer than an alphabetic one.
            return 1 if isnum else -1
        if isnum:
            m1 = m1.lstrip('0')
            m2 = m2.lstrip('0')
            if len(m1) != len(m2):
                return 1 if len(m1) > len(m2) else -1
        if m1 != m2:
            return 1 if m1 > m2 else -1
    if not one and not two:
        return 0
    return 1 if one else -1


# Order of the checks and wording as rpm's own parser.
_RPM_EVR = _EvrRules('rpm', rpmvercmp, {}, zero_epochs=('', '(none)'), max_epoch=None, text_after_colon=False,
                     single_colon=True)


def parse_rpm(version):
    """Split ``[epoch:]version[-release]`` into (epoch, version, release).

    A missing epoch is 0 and a missing release is ''; rpmvercmp then orders '' before any
    release, as ``rpm.labelCompare`` does.
    """
    return _split_evr(version, _RPM_EVR)


def compare_rpm(a, b):
    return _compare_evr(a, b, _RPM_EVR)


# ---------------------------------------------------------------- versions read by one pattern

def _match(version, scheme):
    """The match of the scheme's pattern (``_PATTERNS``) on ``version``, or a VersionError saying what it expects."""
    pattern, expected = _PATTERNS[scheme]
    m = pattern.match(_text(version, scheme))
    if not m:
        raise VersionError(scheme, version, expected)
    return m


# ---------------------------------------------------------------- Cisco IOS classic

_IOS_RE = re.compile(
    r'^(?P<major>\d+)\.(?P<minor>\d+)'
    r'\((?P<maint>\d+)(?:\.(?P<interim>\d+))?(?P<mletter>[a-z]?)\)'
    r'(?P<train>[A-Z]*)(?P<rebuild>\d*)(?P<rletter>[a-z]*)$')


def _ios_key(version):
    m = _match(version, 'ios')
    return (int(m.group('major')), int(m.group('minor')), int(m.group('maint')),
            int(m.group('interim') or 0), m.group('mletter'), m.group('train'),
            int(m.group('rebuild') or 0), m.group('rletter'))


def _ios_train(version):
    m = _match(version, 'ios')
    return '%s.%s%s' % (m.group('major'), m.group('minor'), m.group('train'))


# ---------------------------------------------------------------- Cisco IOS-XE

_IOSXE_SEG = re.compile(r'^(\d+)([a-z]*)$')


def _iosxe_parts(version):
    text = _text(version, 'iosxe')
    segs = text.split('.')
    # Old 3.x releases carry the train as a letter suffix: 03.16.05.S or 3.16.5S.
    train = ''
    if len(segs) > 1 and re.match(r'^[A-Z]+$', segs[-1]):
        train = segs.pop()
    elif segs and re.match(r'^\d+[a-z]*[A-Z]+$', segs[-1]):
        m = re.match(r'^(\d+[a-z]*)([A-Z]+)$', segs[-1])
        segs[-1], train = m.group(1), m.group(2)
    parts = []
    for seg in segs:
        m = _IOSXE_SEG.match(seg)
        if not m:
            raise VersionError('iosxe', version, 'segment %r is not NUMBER[letters], e.g. 17.9.4a' % seg)
        parts.append((int(m.group(1)), m.group(2)))
    if len(parts) < 2:
        raise VersionError('iosxe', version, 'expected at least MAJOR.MINOR, e.g. 17.9.4a')
    return parts, train


def _iosxe_key(version):
    parts, train = _iosxe_parts(version)
    # 17.9 and 17.9.0 are the same release: drop trailing zero segments.
    while len(parts) > 2 and parts[-1] == (0, ''):
        parts.pop()
    return (tuple(parts), train)


def _iosxe_train(version):
    parts, train = _iosxe_parts(version)
    return '%d.%d%s' % (parts[0][0], parts[1][0], train)


# ---------------------------------------------------------------- Cisco NX-OS

_NXOS_RE = re.compile(
    r'^(?P<major>\d+)\.(?P<minor>\d+)\((?P<maint>\d+)(?P<mletter>[a-z]*)\)'
    r'(?:(?P<sub>[A-Z]+)(?P<subnum>\d+)(?:\((?P<subm>\d+)(?P<submletter>[a-z]*)\))?'
    r'|(?P<label>[A-Z]))?$')


def _nxos_key(version):
    m = _match(version, 'nxos')
    # The M/F label of 10.x releases names the release type, not a position in the train.
    return (int(m.group('major')), int(m.group('minor')), int(m.group('maint')),
            m.group('mletter'), m.group('sub') or '', int(m.group('subnum') or 0),
            int(m.group('subm') or 0), m.group('submletter') or '')


def _nxos_train(version):
    m = _match(version, 'nxos')
    if m.group('sub'):
        return '%s.%s(%s%s)%s%s' % (m.group('major'), m.group('minor'), m.group('maint'),
                                    m.group('mletter'), m.group('sub'), m.group('subnum'))
    return '%s.%s' % (m.group('major'), m.group('minor'))


# ---------------------------------------------------------------- Juniper Junos

# Internal and beta builds precede the release they lead to; X trains are separate lines.
_JUNOS_TYPE_RANK = {'I': 0, 'B': 1, 'R': 2, 'F': 3, 'X': 4}
_JUNOS_RE = re.compile(
    r'^(?P<major>\d+)\.(?P<minor>\d+)(?P<type>[%s])(?P<build>\d+)(?:\.(?P<respin>\d+))?'
    r'(?:-(?P<svc>[SD])(?P<svcnum>\d+)(?:\.(?P<svcrespin>\d+))?)?(?:-EVO)?$' % ''.join(_JUNOS_TYPE_RANK))


def _junos_key(version):
    m = _match(version, 'junos')
    x_train = int(m.group('build')) if m.group('type') == 'X' else 0
    build = 0 if m.group('type') == 'X' else int(m.group('build'))
    return (int(m.group('major')), int(m.group('minor')), _JUNOS_TYPE_RANK[m.group('type')],
            x_train, build, int(m.group('respin') or 0), int(m.group('svcnum') or 0),
            int(m.group('svcrespin') or 0))


def _junos_train(version):
    m = _match(version, 'junos')
    if m.group('type') == 'X':
        return '%s.%sX%s' % (m.group('major'), m.group('minor'), m.group('build'))
    return '%s.%s' % (m.group('major'), m.group('minor'))


# ---------------------------------------------------------------- server BMC firmware

# Vendors number BMC firmware with dotted numbers only (an iDRAC build has four of them); a letter is a
# misread field, not a release, so it is refused rather than ordered the generic way.
_BMC_RE = re.compile(r'^[vV]?(?P<major>\d+)(\.\d+)*$')


def _bmc_key(version):
    return _generic_key(_match(version, 'bmc').string)


def _bmc_train(version):
    return str(int(_match(version, 'bmc').group('major')))


# What each scheme read by one pattern looks like, and what to say when a version does not.
_PATTERNS = {
    'ios': (_IOS_RE, 'expected MAJOR.MINOR(MAINT)TRAIN[REBUILD], e.g. 15.2(7)E3'),
    'nxos': (_NXOS_RE, 'expected e.g. 9.3(10), 7.0(3)I7(9) or 10.2(5)M'),
    'junos': (_JUNOS_RE, 'expected e.g. 21.4R3-S5 or 15.1X49-D200'),
    'bmc': (_BMC_RE, 'expected dotted numbers, e.g. 13.4.0 or 7.00.00.172'),
}


# ---------------------------------------------------------------- semver and generic

_SEMVER_RE = re.compile(
    r'^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)'
    r'(?:-(?P<pre>(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)'
    r'(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?'
    r'(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$')


def _semver_match(version, scheme):
    return _SEMVER_RE.match(_text(version, scheme))


def _compare_semver_match(ma, mb):
    for part in ('major', 'minor', 'patch'):
        d = int(ma.group(part)) - int(mb.group(part))
        if d:
            return _sign(d)
    pa, pb = ma.group('pre'), mb.group('pre')
    if pa is None or pb is None:
        # A pre-release has lower precedence than the release itself.
        return (pa is None) - (pb is None)
    ia, ib = pa.split('.'), pb.split('.')
    for xa, xb in zip(ia, ib):
        na, nb = xa.isdigit(), xb.isdigit()
        if na and nb:
            d = int(xa) - int(xb)
        elif na != nb:
            # Numeric identifiers have lower precedence than alphanumeric ones.
            d = -1 if na else 1
        else:
            d = (xa > xb) - (xa < xb)
        if d:
            return _sign(d)
    return _sign(len(ia) - len(ib))


def compare_semver(a, b):
    ma, mb = _semver_match(a, 'semver'), _semver_match(b, 'semver')
    if not ma:
        raise VersionError('semver', a, 'not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]')
    if not mb:
        raise VersionError('semver', b, 'not MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]')
    return _compare_semver_match(ma, mb)


_GENERIC_TOKEN = re.compile(r'\d+|[A-Za-z]+')
# Words that mark a pre-release; a, b and c only count when a number follows (1.0a1, not 1.1.1a).
_PRE_WORDS = {'dev': 0, 'snapshot': 0, 'alpha': 1, 'beta': 2, 'pre': 3, 'preview': 3, 'rc': 3}
_PRE_LETTERS = {'a': 1, 'b': 2, 'c': 3}


def _generic_key(version):
    """Token key: pre-release words < numbers (a missing number is 0) < other words.

    So 1.0rc1 < 1.0 == 1.0.0 < 1.0.1 < 1.1.1 < 1.1.1a (a trailing word that is not a
    pre-release marks a later, patched release, as in OpenSSL and OpenSSH). Build metadata
    after '+' is ignored and a leading 'v' is dropped.
    """
    text = _text(version, 'generic')
    if text[:1] in ('v', 'V') and text[1:2].isdigit():
        text = text[1:]
    text = text.split('+', 1)[0]
    raw = _GENERIC_TOKEN.findall(text)
    if not raw or not raw[0].isdigit():
        raise VersionError('generic', version, 'expected a version starting with a number')
    key = []
    for i, tok in enumerate(raw):
        if tok.isdigit():
            key.append((1, int(tok), ''))
            continue
        word = tok.lower()
        followed_by_number = i + 1 < len(raw) and raw[i + 1].isdigit()
        if word in _PRE_WORDS:
            key.append((0, _PRE_WORDS[word], word))
        elif word in _PRE_LETTERS and followed_by_number:
            key.append((0, _PRE_LETTERS[word], word))
        else:
            key.append((2, 0, word))
    # Trailing zeros are padding: 1.0 and 1.0.0 are the same version.
    while key and key[-1] == (1, 0, ''):
        key.pop()
    return _Padded(key)


class _Padded(tuple):
    """A tuple compared as if padded with number 0 to the other's length."""

    __slots__ = ()
    _PAD = (1, 0, '')

    def _cmp(self, other):
        n = max(len(self), len(other))
        a = tuple(self) + (self._PAD,) * (n - len(self))
        b = tuple(other) + (self._PAD,) * (n - len(other))
        return (a > b) - (a < b)

    def __lt__(self, other):
        return self._cmp(other) < 0

    def __le__(self, other):
        return self._cmp(other) <= 0

    def __gt__(self, other):
        return self._cmp(other) > 0

    def __ge__(self, other):
        return self._cmp(other) >= 0

    def __eq__(self, other):
        return self._cmp(other) == 0

    def __ne__(self, other):
        return self._cmp(other) != 0

    def __hash__(self):
        return tuple.__hash__(self)


# ---------------------------------------------------------------- public entry points

_KEYS = {
    'ios': _ios_key,
    'iosxe': _iosxe_key,
    'nxos': _nxos_key,
    'junos': _junos_key,
    'bmc': _bmc_key,
    'generic': _generic_key,
}

_COMPARES = {
    'debian': compare_debian,
    'rpm': compare_rpm,
    'semver': compare_semver,
}

_TRAINS = {
    'ios': _ios_train,
    'iosxe': _iosxe_train,
    'nxos': _nxos_train,
    'junos': _junos_train,
    'bmc': _bmc_train,
}


def compare(a, b, scheme='generic'):
    """Return -1, 0 or 1 as version ``a`` is older, equal or newer than ``b`` under ``scheme``."""
    name = normalize_scheme(scheme)
    if name in _KEYS:
        ka, kb = _KEYS[name](a), _KEYS[name](b)
        return (ka > kb) - (ka < kb)
    return _COMPARES[name](a, b)


def sort_key(version, scheme='generic'):
    """A key for ``sorted()`` that orders exactly as ``compare`` does (validates eagerly)."""
    name = normalize_scheme(scheme)
    if name in _KEYS:
        return _KEYS[name](version)
    # Validate now so a bad value fails at key time, not halfway through a sort.
    _COMPARES[name](version, version)
    return functools.cmp_to_key(_COMPARES[name])(version)


def sort_versions(versions, scheme='generic', reverse=False):
    """Return the versions sorted oldest first (newest first with ``reverse``)."""
    name = normalize_scheme(scheme)
    return sorted(versions, key=lambda v: sort_key(v, name), reverse=reverse)


def train(version, scheme):
    """The release train a firmware version belongs to (``15.2E``, ``17.9``, ``21.4``, ``13`` for a BMC).

    Fixed releases are only meaningful within a train, so firmware advisories are matched by
    train first and compared second.
    """
    name = normalize_scheme(scheme)
    if name not in _TRAINS:
        raise ValueError('version scheme %r has no release trains' % name)
    return _TRAINS[name](version)


def is_valid(version, scheme='generic'):
    try:
        sort_key(version, scheme)
    except VersionError:
        return False
    return True
