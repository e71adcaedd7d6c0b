# CONTRACT DOUBLE support for chocolatey.chocolatey (healthit.patching contract tests). Never installed for users.
"""State file of the double: {"installed": {name: version}, "feed": {name: [versions]}, "pinned": [names],
"fail": [names], "calls": [[module, args]]}."""
import json
import os


def load():
    with open(os.environ["HEALTHIT_CHOCO_DOUBLE_STATE"], encoding="utf-8") as handle:
        return json.load(handle)


def save(state):
    with open(os.environ["HEALTHIT_CHOCO_DOUBLE_STATE"], "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=1)


def version_key(version):
    return tuple(int(p) if p.isdigit() else p for p in version.split("."))
