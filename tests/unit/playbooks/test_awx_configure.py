"""playbooks/awx_configure.yml: syntax, module arguments against the installed awx.awx argument specs, the
workflow graph, the surveys and the Patch Tuesday schedules.

Every awx.awx task of the playbook is rendered the way Ansible renders it (its loop over playbooks/vars/awx.yml,
then its arguments per item, omit dropped) and the result is validated with ansible-core's own
ArgumentSpecValidator against the argument spec each awx.awx module really builds in its main() (captured, so no
controller is contacted). One test case per task and loop item.
"""
import calendar
import datetime
import importlib
import os
import re
import subprocess

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "awx_configure.yml")
VARS = os.path.join(ROOT, "playbooks", "vars", "awx.yml")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
SURVEY_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def _plain(value):
    """Ansible's tagged containers and scalars as plain Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def _load():
    loader = DataLoader()
    variables = loader.load_from_file(VARS, trusted_as_template=True)
    plays = loader.load_from_file(PLAYBOOK, trusted_as_template=True)
    return loader, variables, plays


def rendered_calls():
    """(case id, module FQCN, arguments) for every awx.awx task and loop item, rendered as Ansible would."""
    loader, variables, plays = _load()
    calls = []
    for play in plays:
        for index, task in enumerate(play["tasks"]):
            modules = [k for k in task if k.startswith("awx.awx.")]
            assert len(modules) == 1, "task %r must call exactly one awx.awx module" % task.get("name")
            module = modules[0]
            templar = Templar(loader=loader, variables=variables)
            items = templar.template(task["loop"]) if "loop" in task else [None]
            for item in items:
                item_templar = Templar(loader=loader, variables=dict(variables, item=item))
                args = _plain(item_templar.template(task[module]))
                if isinstance(item, dict):
                    label = item.get("name") or item.get("identifier")
                elif isinstance(item, list):  # subelements: (workflow, node)
                    label = "%s-%s" % (item[0]["name"].split(" - ")[-1].replace(" ", "_"), item[1]["identifier"])
                else:
                    label = None
                case = "%02d-%s%s" % (index, module.split(".")[-1], "-" + label if label else "")
                calls.append((case, module, args))
    return calls


class _Captured(Exception):
    pass


_SPECS = {}


def module_spec(fqcn):
    """The argument spec and constraints the awx.awx module passes to ControllerAPIModule in its main()."""
    if fqcn in _SPECS:
        return _SPECS[fqcn]
    name = fqcn.split(".")[-1]
    mod = importlib.import_module("ansible_collections.awx.awx.plugins.modules." + name)
    real = mod.ControllerAPIModule
    seen = {}

    class Capture(object):
        AUTH_ARGSPEC = real.AUTH_ARGSPEC

        def __init__(self, argument_spec=None, **kwargs):
            seen["spec"] = dict(real.AUTH_ARGSPEC, **(argument_spec or {}))
            seen["kwargs"] = {k: v for k, v in kwargs.items()
                              if k in ("mutually_exclusive", "required_together", "required_one_of",
                                       "required_if", "required_by")}
            raise _Captured()

    mod.ControllerAPIModule = Capture
    try:
        with pytest.raises(_Captured):
            mod.main()
    finally:
        mod.ControllerAPIModule = real
    _SPECS[fqcn] = (seen["spec"], seen["kwargs"], yaml.safe_load(mod.DOCUMENTATION))
    return _SPECS[fqcn]


def validate(fqcn, args):
    spec, kwargs, _doc = module_spec(fqcn)
    result = ArgumentSpecValidator(spec, **kwargs).validate(args)
    return [str(e) for e in result.errors]


CALLS = rendered_calls()


def test_syntax_check():
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "--syntax-check", PLAYBOOK],
                          cwd=ROOT, capture_output=True, text=True, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("case, module, args", CALLS, ids=[c[0] for c in CALLS])
def test_arguments_match_the_awx_module_spec(case, module, args):
    assert validate(module, args) == [], case
    _spec, _kwargs, doc = module_spec(module)
    documented = set(doc["options"])
    # Every argument is also a documented option (the spec captured above includes undocumented aliases).
    assert set(args) - documented == set(), case


@pytest.mark.parametrize("module, args, needle", [
    ("awx.awx.job_template", {"name": "x", "survey": []}, "survey"),
    ("awx.awx.job_template", {"name": "x", "verbosity": 9}, "verbosity"),
    ("awx.awx.schedule", {"name": "x", "rrule": "r", "unified_job_template": "t", "extra_data": "not a dict"},
     "extra_data"),
    ("awx.awx.workflow_job_template_node", {"identifier": "n", "workflow_job_template": "w",
                                            "unified_job_template": "t", "approval_node": {"name": "a"}},
     "mutually exclusive"),
])
def test_the_validator_rejects_bad_arguments(module, args, needle):
    """The check above can fail: wrong keys, choices, types and exclusions are reported."""
    errors = validate(module, args)
    assert errors and any(needle in e for e in errors), errors


def test_every_task_is_covered():
    modules = {m for _c, m, _a in CALLS}
    assert len({c for c, _m, _a in CALLS}) == len(CALLS), "case ids must be unique"
    assert {"awx.awx.organization", "awx.awx.project", "awx.awx.inventory", "awx.awx.inventory_source",
            "awx.awx.credential", "awx.awx.credential_type", "awx.awx.execution_environment",
            "awx.awx.instance_group", "awx.awx.job_template", "awx.awx.workflow_job_template",
            "awx.awx.workflow_job_template_node", "awx.awx.schedule"} <= modules


def _calls(module):
    return [a for _c, m, a in CALLS if m == module]


def test_inventory_source_uses_the_patch_inventory_plugin_and_forgets_excepted_hosts():
    (src,) = _calls("awx.awx.inventory_source")
    assert src["source"] == "scm"
    assert src["source_path"].endswith(".patch_inventory.yml")
    assert src["overwrite"] is True and src["update_on_launch"] is True and src["update_cache_timeout"] == 0


def test_credentials_are_placeholders_without_secrets():
    secretish = re.compile(r"pass|secret|token|key_data|ssh_key|hmac_key", re.I)
    for cred in _calls("awx.awx.credential"):
        assert cred["update_secrets"] is False, cred["name"]
        assert not [k for k, v in cred["inputs"].items() if secretish.search(k) and v], cred
    kinds = {c["credential_type"] for c in _calls("awx.awx.credential")}
    assert {"Machine", "Vault"} <= kinds
    assert len([c for c in _calls("awx.awx.credential") if c["credential_type"] == "Machine"]) == 1


def test_hmac_credential_type_injects_the_key_file_the_callback_reads():
    (ctype,) = [c for c in _calls("awx.awx.credential_type") if "HMAC" in c["name"]]
    assert ctype["injectors"]["env"] == {"HEALTHIT_AUDIT_HMAC_KEY_FILE": "{{ tower.filename.hmac_key }}"}
    assert ctype["injectors"]["file"] == {"template.hmac_key": "{{ hmac_key }}"}
    assert [f for f in ctype["inputs"]["fields"] if f["id"] == "hmac_key"][0]["secret"] is True


def _templates():
    return {t["name"]: t for t in _calls("awx.awx.job_template")}


@pytest.mark.parametrize("name", ["healthit patching - test wave", "healthit patching - production wave",
                                  "healthit patching - emergency KEV", "healthit patching - clinical application plan",
                                  "healthit patching - clinical application update"])
def test_patching_templates_are_never_sliced_limited_or_run_twice_at_once(name):
    jt = _templates()[name]
    assert jt["job_slice_count"] == 1
    assert jt["allow_simultaneous"] is False
    assert jt["ask_limit_on_launch"] is False and "limit" not in jt
    assert jt["ask_variables_on_launch"] is False


def test_wave_templates_fix_the_wave_and_ask_for_patch_hosts():
    jts = _templates()
    for name, wave in (("healthit patching - test wave", "test"), ("healthit patching - production wave", "production")):
        jt = jts[name]
        assert jt["playbook"] == "playbooks/monthly_wave.yml"
        assert jt["extra_vars"] == {"patch_wave": wave}
        variables = {q["variable"] for q in jt["survey_spec"]["spec"]}
        assert {"patch_hosts", "patch_change_ticket", "patch_batch_size", "patch_max_fail_percentage"} == variables
    prod_ticket = [q for q in jts["healthit patching - production wave"]["survey_spec"]["spec"]
                   if q["variable"] == "patch_change_ticket"][0]
    assert prod_ticket["required"] is True


def test_emergency_survey_asks_for_the_cve_ids_and_the_emergency_ticket():
    jt = _templates()["healthit patching - emergency KEV"]
    spec = {q["variable"]: q for q in jt["survey_spec"]["spec"]}
    assert set(spec) == {"kev_ids", "patch_change_ticket"}
    assert spec["kev_ids"]["required"] and spec["patch_change_ticket"]["required"]
    assert jt["playbook"] == "playbooks/emergency_kev.yml"


def test_surveys_are_well_formed():
    specs = [t["survey_spec"] for t in _templates().values() if t.get("survey_enabled")]
    specs += [w["survey_spec"] for w in _calls("awx.awx.workflow_job_template")]
    assert specs
    for spec in specs:
        assert set(spec) == {"name", "description", "spec"}
        for q in spec["spec"]:
            assert q["type"] in SURVEY_TYPES, q
            assert isinstance(q["required"], bool) and q["question_name"] and re.match(r"^[a-z_][a-z0-9_]*$", q["variable"])
            if q["type"] == "multiplechoice":
                assert q.get("default") in q["choices"], q
            if "default" in q and q["type"] in ("text", "textarea"):
                assert q["min"] <= len(q["default"]) <= q["max"], q
            if "default" in q and q["type"] == "integer":
                assert q["min"] <= q["default"] <= q["max"], q


def test_template_playbooks_exist():
    """Code-project templates run a playbook of this repository; data-project ones the wrapper of docs/awx.md."""
    for jt in _templates().values():
        if jt["project"] == "healthit.patching":
            assert os.path.isfile(os.path.join(ROOT, jt["playbook"])), jt["playbook"]
        else:
            assert jt["project"] == "healthit patch data" and jt["playbook"] == "clinical_app.yml", jt["name"]


def _workflows():
    """{workflow name: {node identifier: node arguments (both passes merged)}}."""
    flows = {w["name"]: {} for w in _calls("awx.awx.workflow_job_template")}
    for args in _calls("awx.awx.workflow_job_template_node"):
        flows[args["workflow_job_template"]].setdefault(args["identifier"], {}).update(args)
    return flows


MONTHLY = "healthit patching - monthly cycle"
CLINICAL = "healthit patching - clinical application update"


def _parents(nodes, target):
    return [i for i, n in nodes.items()
            if target in n.get("success_nodes", []) + n.get("failure_nodes", []) + n.get("always_nodes", [])]


def _only_after_approval(nodes, template):
    """The one node running `template` is reached only through the success path of approval nodes."""
    targets = [i for i, n in nodes.items() if n.get("unified_job_template") == template]
    assert len(targets) == 1, targets
    (target,) = targets
    parents = _parents(nodes, target)
    assert parents, "nothing leads to %s" % target
    for parent in parents:
        assert "approval_node" in nodes[parent], "%s reaches %s without an approval" % (parent, target)
        assert nodes[parent]["success_nodes"] == [target]
        assert target not in nodes[parent].get("failure_nodes", []) + nodes[parent].get("always_nodes", [])
        assert nodes[parent]["approval_node"]["timeout"] > 0
    return target, parents


def test_workflows_are_the_monthly_cycle_and_the_clinical_update():
    assert set(_workflows()) == {MONTHLY, CLINICAL}


def test_workflow_gates_production_behind_an_approval():
    nodes = _workflows()[MONTHLY]
    jts = _templates()
    (test_node,) = [i for i, n in nodes.items() if n.get("unified_job_template") == "healthit patching - test wave"]
    _prod, approvals = _only_after_approval(nodes, "healthit patching - production wave")
    assert set(approvals) <= set(nodes[test_node]["success_nodes"])
    assert set(jts) >= {n["unified_job_template"] for n in nodes.values() if "unified_job_template" in n}


def test_clinical_update_runs_only_after_its_rehearsal_and_a_human_approval():
    nodes = _workflows()[CLINICAL]
    jts = _templates()
    update, approvals = _only_after_approval(nodes, "healthit patching - clinical application update")
    (plan,) = [i for i, n in nodes.items()
               if n.get("unified_job_template") == "healthit patching - clinical application plan"]
    # The approval is reached only from a successful rehearsal, and the rehearsal is where the workflow starts.
    for approval in approvals:
        assert _parents(nodes, approval) == [plan] and approval in nodes[plan]["success_nodes"]
    assert _parents(nodes, plan) == []
    assert nodes[update]["success_nodes"] and nodes[update]["failure_nodes"]
    assert set(jts) >= {n["unified_job_template"] for n in nodes.values() if "unified_job_template" in n}
    rehearsal = jts["healthit patching - clinical application plan"]
    real = jts["healthit patching - clinical application update"]
    assert rehearsal["job_type"] == "check" and real["job_type"] == "run"
    for jt in (rehearsal, real):
        assert (jt["project"], jt["playbook"]) == ("healthit patch data", "clinical_app.yml")
        assert "healthit Linux SSH" in jt["credentials"] and "healthit evidence HMAC key" in jt["credentials"]
    assert rehearsal["survey_spec"]["spec"] == real["survey_spec"]["spec"]
    (flow,) = [w for w in _calls("awx.awx.workflow_job_template") if w["name"] == CLINICAL]
    spec = {q["variable"]: q for q in flow["survey_spec"]["spec"]}
    assert set(spec) == {"clinical_app", "patch_change_ticket", "patch_hosts", "clinical_app_version",
                         "clinical_app_downtime_budget_minutes"}
    assert spec["clinical_app"]["required"] and spec["patch_change_ticket"]["required"]
    assert spec["clinical_app_downtime_budget_minutes"]["default"] == 0


def _leaves(nodes, ident, seen=()):
    node = nodes[ident]
    children = node.get("success_nodes", []) + node.get("failure_nodes", []) + node.get("always_nodes", [])
    if not children:
        return {ident}
    out = set()
    for child in children:
        assert child not in seen, "cycle through %s" % child
        out |= _leaves(nodes, child, seen + (ident,))
    return out


@pytest.mark.parametrize("flow", [MONTHLY, CLINICAL])
def test_every_failure_path_ends_in_a_halt_that_fails(flow):
    nodes = _workflows()[flow]
    for ident, node in nodes.items():
        for target in node.get("success_nodes", []) + node.get("failure_nodes", []) + node.get("always_nodes", []):
            assert target in nodes, "%s links to unknown node %s" % (ident, target)
    for ident, node in nodes.items():
        if node.get("unified_job_template") == "healthit patching - halt":
            continue
        if node.get("unified_job_template") != "healthit patching - compliance report" or node.get("failure_nodes"):
            assert node.get("failure_nodes") or node.get("always_nodes"), "%s has no failure path" % ident
        for target in node.get("failure_nodes", []):
            for leaf in _leaves(nodes, target):
                assert nodes[leaf]["unified_job_template"] == "healthit patching - halt", (ident, leaf)
                assert nodes[leaf]["extra_data"]["awx_halt_reason"]


def test_the_graph_checks_catch_an_unguarded_update():
    """The approval check can fail: a link from the rehearsal straight to the update is reported."""
    nodes = {k: dict(v) for k, v in _workflows()[CLINICAL].items()}
    nodes["plan"] = dict(nodes["plan"], success_nodes=nodes["plan"]["success_nodes"] + ["update"])
    with pytest.raises(AssertionError, match="without an approval"):
        _only_after_approval(nodes, "healthit patching - clinical application update")


def test_halt_template_accepts_the_reason_from_the_node():
    assert _templates()["healthit patching - halt"]["ask_variables_on_launch"] is True


def _docs_wrapper():
    """The data project's clinical_app.yml as docs/awx.md shows it (the yaml block starting with its name)."""
    with open(os.path.join(ROOT, "docs", "awx.md"), encoding="utf-8") as handle:
        text = handle.read()
    match = re.search(r"```yaml\n(# clinical_app\.yml in the data project.*?)```", text, re.S)
    assert match, "docs/awx.md must show the data project's clinical_app.yml"
    return match.group(1)


def test_the_data_project_wrapper_of_the_docs_runs_the_collection_playbook(tmp_path):
    wrapper = tmp_path / "clinical_app.yml"
    wrapper.write_text(_docs_wrapper())
    plays = yaml.safe_load(wrapper.read_text())
    assert len(plays) == 1 and plays[0]["ansible.builtin.import_playbook"] == "healthit.patching.clinical_app"
    assert plays[0]["vars"] == {"clinical_app_register": "{{ playbook_dir }}/approvals/register.yml"}
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "--list-tasks", "-i", "localhost,", str(wrapper)],
                          cwd=str(tmp_path), capture_output=True, text=True, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg")))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The collection's own playbook is what runs: its gate, its slot plays, its report.
    for play in ("Gate - evidence, inventory, change ticket, approval register, hosts in scope",
                 "Update slot 0", "Report the update"):
        assert play in proc.stdout, proc.stdout


# --- schedules -------------------------------------------------------------------------------------------------

WEEKDAYS = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}


def expand_monthly(rrule, years):
    """Occurrence dates of an AWX 'DTSTART...RRULE:FREQ=MONTHLY;BYDAY=XX;BYMONTHDAY=...' rule (RFC 5545: BYDAY and
    BYMONTHDAY both restrict within the month)."""
    match = re.match(r"^DTSTART;TZID=[A-Za-z_/]+:(\d{8})T(\d{6}) RRULE:(.*)$", rrule)
    assert match, rrule
    parts = dict(p.split("=", 1) for p in match.group(3).split(";"))
    assert parts.pop("FREQ") == "MONTHLY"
    weekday = WEEKDAYS[parts.pop("BYDAY")]
    monthdays = [int(d) for d in parts.pop("BYMONTHDAY").split(",")]
    assert not parts, "unexpected rule parts %s" % parts
    start = datetime.datetime.strptime(match.group(1), "%Y%m%d").date()
    out = []
    for year in years:
        for month in range(1, 13):
            last = calendar.monthrange(year, month)[1]
            for day in monthdays:
                if day <= last and datetime.date(year, month, day).weekday() == weekday:
                    if datetime.date(year, month, day) >= start:
                        out.append(datetime.date(year, month, day))
    return out


def patch_tuesday(year, month):
    tuesdays = [d for d in range(1, 15) if datetime.date(year, month, d).weekday() == 1]
    return datetime.date(year, month, tuesdays[1])


SCHEDULES = [_plain(s) for s in _load()[1]["awx_schedules"] if "patch_tuesday_offset" in s]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=[s["name"] for s in SCHEDULES])
def test_schedule_runs_exactly_n_days_after_patch_tuesday_every_month(schedule):
    years = range(2026, 2036)
    dates = expand_monthly(schedule["rrule"], years)
    expected = [patch_tuesday(y, m) + datetime.timedelta(days=schedule["patch_tuesday_offset"])
                for y in years for m in range(1, 13)]
    assert dates == expected


def test_schedule_rule_check_catches_a_wrong_rule():
    wrong = "DTSTART;TZID=America/New_York:20260101T190000 RRULE:FREQ=MONTHLY;BYDAY=TH;BYMONTHDAY=8,9,10,11,12,13,14"
    dates = expand_monthly(wrong, range(2026, 2028))
    expected = [patch_tuesday(y, m) + datetime.timedelta(days=2) for y in range(2026, 2028) for m in range(1, 13)]
    assert dates != expected


def test_schedules_are_what_the_playbook_sends():
    sent = {s["name"]: s for s in _calls("awx.awx.schedule")}
    for schedule in _plain(_load()[1]["awx_schedules"]):
        assert sent[schedule["name"]]["rrule"] == schedule["rrule"]
        assert "BYSETPOS" not in schedule["rrule"] and not re.search(r"BYDAY=[-+]?\d", schedule["rrule"])
