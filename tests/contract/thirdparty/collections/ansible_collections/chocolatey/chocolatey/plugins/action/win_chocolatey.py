# CONTRACT DOUBLE of chocolatey.chocolatey.win_chocolatey for healthit.patching contract tests.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.plugins.action import ActionBase
from ansible_collections.chocolatey.chocolatey.plugins.plugin_utils import _choco_double as double

# the real module's options (chocolatey.chocolatey 1.5.3)
OPTIONS = {"allow_empty_checksums", "allow_multiple", "allow_prerelease", "architecture", "bootstrap_script",
           "bootstrap_tls_version", "checksum", "checksum_type", "force", "ignore_checksums", "ignore_dependencies",
           "remove_dependencies", "install_args", "name", "override_args", "package_params", "choco_args", "pinned",
           "proxy_url", "proxy_username", "proxy_password", "skip_scripts", "source", "source_username",
           "source_password", "state", "timeout", "validate_certs", "version"}


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        args = dict(self._task.args)
        unknown = sorted(set(args) - OPTIONS)
        if unknown:
            return {"failed": True, "msg": "Unsupported parameters for (win_chocolatey) module: %s" % ", ".join(unknown)}
        names = args["name"] if isinstance(args["name"], list) else [args["name"]]
        version = args.get("version")
        wanted = args.get("state", "present")
        state = double.load()
        state.setdefault("calls", []).append(["win_chocolatey", args])
        changed = False
        try:
            for name in names:
                current = state["installed"].get(name)
                if self._play_context.check_mode:
                    continue
                if name in state.get("fail", []):
                    return {"failed": True, "rc": 1, "msg": "Error when running choco upgrade %s: install script failed" % name}
                feed = state.get("feed", {}).get(name, [])
                if wanted in ("upgrade", "latest", "downgrade", "present"):
                    if version is None:
                        target = max(feed, key=double.version_key) if feed else current
                    else:
                        target = version
                    if target not in feed and target != current:
                        return {"failed": True, "rc": 1,
                                "msg": "The package %s %s was not found with the source(s) listed" % (name, target)}
                    if wanted == "present" and current is not None and version and current != version:
                        return {"failed": True, "msg": "Chocolatey package '%s' is already installed with version(s) "
                                "'%s' but was expecting '%s'." % (name, current, version)}
                    if wanted == "upgrade" and current and double.version_key(target) < double.version_key(current):
                        return {"failed": True, "msg": "%s %s is older than the installed %s (use state=downgrade)"
                                % (name, target, current)}
                    if current != target:
                        state["installed"][name] = target
                        changed = True
            return {"changed": changed, "rc": 0}
        finally:
            double.save(state)
