# CONTRACT DOUBLE of chocolatey.chocolatey.win_chocolatey_facts for healthit.patching contract tests.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible_collections.chocolatey.chocolatey.plugins.plugin_utils import _choco_double as double

# the real module's options (chocolatey.chocolatey 1.5.3); anything else is refused as the real one would
OPTIONS = {"filter", "gather_subset"}


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        args = dict(self._task.args)
        unknown = sorted(set(args) - OPTIONS)
        if unknown:
            return {"failed": True, "msg": "Unsupported parameters for (win_chocolatey_facts) module: %s" % ", ".join(unknown)}
        subsets = args.get("filter", args.get("gather_subset", ["all"]))
        state = double.load()
        state.setdefault("calls", []).append(["win_chocolatey_facts", args])
        double.save(state)
        facts = {"filter": subsets}
        if "all" in subsets or "packages" in subsets:
            facts["packages"] = [{"package": n, "version": v} for n, v in sorted(state["installed"].items())]
        if "all" in subsets or "outdated" in subsets:
            outdated = []
            for name, current in sorted(state["installed"].items()):
                newer = [v for v in state.get("feed", {}).get(name, []) if double.version_key(v) > double.version_key(current)]
                if newer:
                    outdated.append({"package": name, "current_version": current,
                                     "available_version": max(newer, key=double.version_key),
                                     "pinned": name in state.get("pinned", [])})
            facts["outdated"] = outdated
        return {"changed": False, "ansible_facts": {"ansible_chocolatey": facts}}
