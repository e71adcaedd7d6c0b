# Private to the healthit.patching collection: not a public API, may change without notice.
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Network firmware: the approved-firmware catalogue and parsers for the IOS output the role reads.

The catalogue is data (``network_firmware_catalogue``)::

    <platform>:            # ios, iosxe, nxos, junos (the CMDB platform)
      <model>:             # as the device reports it (ansible_net_model)
        version: "17.12.1"
        version_scheme: iosxe      # one of the schemes of _versions.py
        image: cat9k_iosxe.17.12.01.SPA.bin
        size: 1703936              # bytes
        md5: <32 hex>              # what ``verify /md5`` prints
        sha512: <128 hex>          # optional

``target()`` validates the entry it returns; a malformed entry is an error naming the field path,
never a guess.  Version ordering is not done here: it is ``_versions.compare``.
"""

import re

from ansible_collections.healthit.patching.plugins.module_utils._versions import SCHEMES, ALIASES, compare

_HEX = {'md5': 32, 'sha512': 128}
_IMAGE_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]*$')


class CatalogueError(ValueError):
    """A catalogue entry that cannot be trusted."""


def _check_entry(path, entry):
    if not isinstance(entry, dict):
        raise CatalogueError('%s: expected a mapping with version, image, size and md5, got %s'
                             % (path, type(entry).__name__))
    missing = [k for k in ('version', 'image', 'size', 'md5') if entry.get(k) in (None, '')]
    if missing:
        raise CatalogueError('%s: missing field(s) %s' % (path, ', '.join(missing)))
    scheme = str(entry.get('version_scheme', 'generic'))
    if scheme not in SCHEMES and scheme not in ALIASES:
        raise CatalogueError('%s.version_scheme: unknown scheme %r (known: %s)' % (path, scheme, ', '.join(SCHEMES)))
    try:
        compare(str(entry['version']), str(entry['version']), scheme)
    except ValueError as e:
        raise CatalogueError('%s.version: %s' % (path, e))
    image = str(entry['image'])
    if not _IMAGE_RE.match(image):
        raise CatalogueError('%s.image: %r is not a plain file name (no paths, spaces or device prefixes)'
                             % (path, image))
    size = entry['size']
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        try:
            size = int(str(size))
        except ValueError:
            size = 0
        if size <= 0:
            raise CatalogueError('%s.size: expected a positive number of bytes, got %r' % (path, entry['size']))
    out = {
        'version': str(entry['version']),
        'version_scheme': scheme,
        'image': image,
        'size': size,
    }
    for algo, length in _HEX.items():
        value = entry.get(algo)
        if value in (None, '') and algo != 'md5':
            continue
        value = str(value).strip().lower()
        if not re.match(r'^[0-9a-f]{%d}$' % length, value):
            raise CatalogueError('%s.%s: expected %d hex digits, got %r' % (path, algo, length, entry.get(algo)))
        out[algo] = value
    for key in ('source', 'notes', 'advisories'):
        if key in entry:
            out[key] = entry[key]
    return out


def target(catalogue, platform, model, name='network_firmware_catalogue'):
    """The validated catalogue entry for platform and model, or {} when the catalogue has none."""
    if catalogue in (None, ''):
        return {}
    if not isinstance(catalogue, dict):
        raise CatalogueError('%s: expected a mapping of platform -> model -> entry, got %s'
                             % (name, type(catalogue).__name__))
    models = catalogue.get(platform)
    if models is None:
        return {}
    if not isinstance(models, dict):
        raise CatalogueError('%s.%s: expected a mapping of model -> entry' % (name, platform))
    entry = models.get(model)
    if entry is None:
        return {}
    return _check_entry('%s.%s.%s' % (name, platform, model), entry)


def validate(catalogue, name='network_firmware_catalogue'):
    """Validate every entry; return the number of entries."""
    count = 0
    for platform, models in (catalogue or {}).items():
        if not isinstance(models, dict):
            raise CatalogueError('%s.%s: expected a mapping of model -> entry' % (name, platform))
        for model, entry in models.items():
            _check_entry('%s.%s.%s' % (name, platform, model), entry)
            count += 1
    return count


# ------------------------------------------------------------------ IOS / IOS-XE output parsers

def parse_flash(text):
    """``dir flash:`` -> {'total': int, 'free': int, 'files': {name: size}}."""
    m = re.search(r'(\d+) bytes total \((\d+) bytes free\)', text or '')
    if not m:
        raise ValueError('dir flash: output has no "N bytes total (M bytes free)" line')
    files = {}
    for line in (text or '').splitlines():
        fm = re.match(r'^\s*\d+\s+[-drwx]{4,}\s+(\d+)\s+.*\s(\S+)\s*$', line)
        if fm:
            files[fm.group(2)] = int(fm.group(1))
    return {'total': int(m.group(1)), 'free': int(m.group(2)), 'files': files}


def parse_boot(text):
    """``show boot`` (IOS ``BOOT path-list :`` or IOS-XE ``BOOT variable =``) -> [image, ...] of the next reload."""
    lines = re.findall(r'BOOT (?:variable[ \t]*=|path-list[ \t]*:)[ \t]*(\S*)', text or '')
    if not lines:
        raise ValueError('show boot output has no BOOT variable or BOOT path-list line')
    # IOS-XE prints the current and the next-reload variable; the last one is what the next reload uses.
    value = lines[-1]
    images = []
    for entry in re.split(r'[;,]', value):
        entry = entry.strip()
        if entry:
            images.append(re.sub(r'^[a-z0-9]+:/?', '', entry.split(' ')[-1]))
    return images


def parse_md5(text):
    """``verify /md5 flash:x`` -> the computed md5 (lower case) or raise."""
    m = re.search(r'(?:verify /md5 \(\S+\)|Verified \(\S+\)|Computed signature)\s*=\s*([0-9a-fA-F]{32})', text or '')
    if not m:
        raise ValueError('verify /md5 output has no checksum (missing file?): %s' % (text or '').strip()[:200])
    return m.group(1).lower()


def parse_interfaces(text):
    """``show ip interface brief`` -> {interface: 'up' | 'down' | 'administratively down'} (line protocol state)."""
    out = {}
    for line in (text or '').splitlines():
        m = re.match(r'^(\S+)\s+\S+\s+(?:YES|NO)\s+\S+\s+(up|down|administratively down|deleted)\s+(up|down)\s*$',
                     line.rstrip())
        if m:
            status, proto = m.group(2), m.group(3)
            if status == 'up' and proto == 'up':
                out[m.group(1)] = 'up'
            elif status == 'administratively down':
                out[m.group(1)] = status
            else:
                out[m.group(1)] = 'down'
    return out


_SHORT = (('Gig ', 'GigabitEthernet'), ('Gi', 'GigabitEthernet'), ('Ten ', 'TenGigabitEthernet'),
          ('Te', 'TenGigabitEthernet'), ('Fas ', 'FastEthernet'), ('Fa', 'FastEthernet'))


def _long_if(name):
    for short, full in _SHORT:
        if name.startswith(short) and not name.startswith(full):
            return full + name[len(short):].strip()
    return name


def parse_cdp(text):
    """``show cdp neighbors`` -> sorted ['<device> on <local interface>', ...]."""
    out = []
    in_table = False
    for line in (text or '').splitlines():
        if line.startswith('Device ID'):
            in_table = True
            continue
        if not in_table or not line.strip() or line.startswith('Total cdp'):
            continue
        m = re.match(r'^(\S+)\s+((?:Gig|Ten|Fas)\s\S+|\S+)\s+\d+\s', line)
        if m:
            out.append('%s on %s' % (m.group(1), _long_if(m.group(2))))
    return sorted(set(out))


PARSERS = {
    'flash': parse_flash,
    'boot': parse_boot,
    'md5': parse_md5,
    'interfaces': parse_interfaces,
    'cdp': parse_cdp,
}


def parse(text, kind):
    if kind not in PARSERS:
        raise ValueError('unknown output kind %r (known: %s)' % (kind, ', '.join(sorted(PARSERS))))
    return PARSERS[kind](text)
