# Private to the healthit.patching collection: not a public API, may change without notice.
"""Reading files that come from outside (CMDB exports, the exception register) so that every
complaint can name the file, the line (or row) and the field it is about.

No Ansible imports: this is unit-tested on its own and used by the inventory plugin's helpers.
"""
from __future__ import annotations

import datetime
import hashlib
import re

import yaml

try:  # libyaml is several times faster on large exports; the pure-Python parser gives the same marks
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader


class SourceError(Exception):
    """Bad input: carries where it was found so the message can say so."""

    def __init__(self, path, message, line=None, field=None, row=None):
        self.path = path
        self.line = line
        self.row = row
        self.field = field
        self.reason = message
        super().__init__(self.render())

    def render(self):
        where = [str(self.path)]
        if self.line is not None:
            where.append("line %s" % self.line)
        if self.row is not None:
            where.append("record %s" % self.row)
        if self.field is not None:
            where.append("field '%s'" % self.field)
        return "%s: %s" % (", ".join(where), self.reason)


class LineDict(dict):
    """A mapping that remembers the line where it starts and where each of its keys is."""

    __slots__ = ("line", "key_lines")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = None
        self.key_lines = {}

    def line_of(self, key):
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence that remembers the line where it starts and where each of its items is."""

    __slots__ = ("line", "item_lines")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.line = None
        self.item_lines = []

    def line_of(self, index):
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _LineLoader(_BaseLoader):  # pylint: disable=too-many-ancestors
    """Safe YAML loader whose mappings and sequences know their line numbers (1-based)."""

    def construct_yaml_map(self, node):
        data = LineDict()
        data.line = node.start_mark.line + 1
        yield data
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError as exc:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found unhashable key", key_node.start_mark) from exc
            if key in data:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    "found duplicate key %r" % (key,), key_node.start_mark)
            data[key] = self.construct_object(value_node, deep=True)
            data.key_lines[key] = key_node.start_mark.line + 1

    def construct_yaml_seq(self, node):
        data = LineList()
        data.line = node.start_mark.line + 1
        yield data
        data.extend(self.construct_object(child, deep=True) for child in node.value)
        data.item_lines = [child.start_mark.line + 1 for child in node.value]

    def construct_yaml_timestamp(self, node):
        # An impossible date (2026-02-30) stays text so the caller can name the field it is in.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _LineLoader.construct_yaml_timestamp)
_LineLoader.add_constructor("tag:yaml.org,2002:map", _LineLoader.construct_yaml_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _LineLoader.construct_yaml_seq)


def _unreadable(path, exc):
    if isinstance(exc, FileNotFoundError):
        return SourceError(path, "cannot be read: the file does not exist")
    return SourceError(path, "cannot be read: %s" % (exc.strerror or exc))


def file_sha256(path):
    """SHA-256 of the file's bytes, so evidence can say exactly which input decided."""
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError as exc:
        raise _unreadable(path, exc) from exc


def read_text(path):
    """The file's text; a UTF-8 byte order mark from a spreadsheet export is dropped."""
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise SourceError(path, "cannot be read: the file does not exist") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(path, "cannot be read: not UTF-8 text (%s)" % exc.reason) from exc
    except OSError as exc:
        raise SourceError(path, "cannot be read: %s" % (exc.strerror or exc)) from exc


def load_yaml(path, text=None):
    """Parse YAML keeping line numbers; a syntax error names the file and line."""
    if text is None:
        text = read_text(path)
    try:
        return yaml.load(text, Loader=_LineLoader)  # nosec B506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SourceError(path, "is not valid YAML: %s" % problem, line=line) from exc
    except yaml.YAMLError as exc:
        raise SourceError(path, "is not valid YAML: %s" % exc) from exc


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value, path, line, field):
    """A calendar date from YAML (unquoted or quoted ISO form YYYY-MM-DD); anything else is an error."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.match(value.strip()):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise SourceError(path, "'%s' is not a valid date (%s)" % (value, exc), line=line, field=field) from exc
    if value is None or value == "":
        raise SourceError(path, "is required: a date in the form YYYY-MM-DD", line=line, field=field)
    raise SourceError(path, "'%s' is not a date in the form YYYY-MM-DD" % (value,), line=line, field=field)
