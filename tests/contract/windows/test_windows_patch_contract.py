"""CONTRACT tests of roles/windows_patch against the ansible.windows CONTRACT DOUBLE.

These check the role's decisions (rounds, reboots, retries, loops, reconnects, refusals, baseline) against
scripted Windows Update behaviour. They are NOT coverage of Windows: no Windows host, WinRM or PSRP
endpoint exists in this lab, and the probe PowerShell scripts never run here.
"""
import glob
import json
import os

import pytest

pytestmark = pytest.mark.contract


def _installed_in_round(run, host):
    return [p['installed'] for p in run.progress.get(host, [])]


def test_success(first_run):
    result = first_run.result('win-ok')
    assert result['status'] == 'patched' and result['platform'] == 'windows_server'
    assert sorted(result['after']['new_kbs']) == ['KB5034439', 'KB890830']
    assert result['rebooted'] is True
    assert result['actions'] == ['update round 1: installed KB5034439, KB890830', 'reboot after update round 1',
                                 'update round 2: nothing to install']
    # The optional preview and the definition update were offered and left out, and the evidence says why.
    assert first_run.progress['win-ok'][0]['filtered'] == {'category_names': 1, 'skip_optional': 1}
    call = first_run.calls('win-ok', 'win_updates')[0]['args']
    assert call['category_names'] == ['Security Updates', 'Critical Updates', 'Update Rollups', 'Updates']
    assert call['skip_optional'] is True and call['state'] == 'installed'
    assert 'win-ok' not in first_run.failed_tasks


def test_reboot_required_over_two_rounds(first_run):
    result = first_run.result('win-reboot')
    assert result['status'] == 'patched'
    assert _installed_in_round(first_run, 'win-reboot') == [['KB5034232', 'KB5034439'], ['KB5034612'], []]
    assert [p['next'] for p in first_run.progress['win-reboot']] == ['reboot', 'reboot', 'done']
    assert first_run.state('win-reboot')['boots'] == 2
    assert len(first_run.calls('win-reboot', 'win_reboot')) == 2


def test_a_failed_kb_is_retried_once_then_fails_the_host(first_run):
    result = first_run.result('win-failkb')
    assert result['status'] == 'failed'
    assert 'KB5034441' in result['reason'] and '0x800F0922 CBS_E_INSTALLERS_FAILED' in result['reason']
    rows = {r['kb']: r for r in result['after']['kb_outcomes']}
    assert rows['KB5034441']['outcome'] == 'failed' and rows['KB5034441']['attempts'] == 2
    assert rows['KB5034439']['outcome'] == 'installed'
    # Two attempts (the retry after a reboot, as the HRESULT suggests), then the run stops: no endless retries,
    # although the scenario would keep offering the KB for two more rounds.
    assert len(first_run.calls('win-failkb', 'win_updates')) == 2
    assert first_run.state('win-failkb')['boots'] == 1
    assert [p['failed'] for p in first_run.progress['win-failkb']][1]['KB5034441'].startswith('0x800F0922')
    assert first_run.progress['win-failkb'][1]['next'] == 'failed'
    # The host ends FAILED in Ansible terms, after patch_result was recorded.
    assert first_run.stats['win-failkb']['failures'] >= 1
    assert first_run.failed_tasks['win-failkb'][-1].endswith('End the host failed when its patch failed')


def test_an_update_loop_is_detected_and_stopped(first_run):
    result = first_run.result('win-loop')
    assert result['status'] == 'failed'
    assert 'update loop: reported installed in round 1 and offered and installed again in round 2' in result['reason']
    assert first_run.progress['win-loop'][1]['loop'] == ['KB5034439']
    # After the loop the KB is rejected, so round 3 installs nothing and the run stops.
    third = first_run.calls('win-loop', 'win_updates')[2]['args']
    assert third['reject_list'] == ['^KB5034439$']
    assert first_run.progress['win-loop'][2]['filtered'] == {'reject_list': 1}
    assert first_run.stats['win-loop']['failures'] >= 1


def test_a_dropped_connection_is_waited_out_and_resumed(first_run):
    result = first_run.result('win-drop')
    assert result['status'] == 'patched'
    progress = first_run.progress['win-drop']
    assert progress[0]['connection_lost'] is True and progress[0]['next'] == 'reconnect'
    assert 'reconnected after the connection loss in update round 1' in result['actions']
    # The installs of the dropped round went on on the host; the re-poll finds only what is left.
    assert progress[1]['installed'] == ['KB5034612']
    assert sorted(result['after']['new_kbs']) == ['KB5034439', 'KB5034612', 'KB890830']
    assert sorted(result['after']['unreported_kbs']) == ['KB5034439', 'KB890830']
    assert 'win-drop' not in first_run.failed_tasks


def test_an_sccm_client_is_reported_as_managed_elsewhere(first_run):
    result = first_run.result('win-sccm')
    assert result['status'] == 'skipped' and result['managed_by'] == 'sccm'
    assert result['reason'].startswith('managed elsewhere: the Configuration Manager client (CcmExec)')
    # Not a silent "0 updates": Windows Update was never asked.
    assert first_run.calls('win-sccm', 'win_updates') == []


def test_production_installs_exactly_the_baseline(first_run):
    result = first_run.result('win-prod')
    assert result['status'] == 'patched'
    assert sorted(result['after']['new_kbs']) == ['KB5034439', 'KB890830']
    assert 'KB5035845' not in first_run.state('win-prod')['installed']
    call = first_run.calls('win-prod', 'win_updates')[0]['args']
    assert call['accept_list'] == ['^KB5034439$', '^KB890830$'] and call['category_names'] == ['*']
    assert first_run.progress['win-prod'][0]['filtered'] == {'accept_list': 1}


def test_production_without_a_baseline_is_refused_before_any_update_call(first_run):
    result = first_run.result('win-prod-nobaseline')
    assert result['status'] == 'skipped'
    assert result['reason'].startswith('production run without a test-wave baseline')
    assert first_run.calls('win-prod-nobaseline', 'win_updates') == []


def test_a_workstation_in_use_is_left_alone(first_run):
    result = first_run.result('win-ws-user')
    assert result['status'] == 'skipped' and result['platform'] == 'windows_workstation'
    assert '1 interactive user session(s) active' in result['reason']
    assert first_run.calls('win-ws-user', 'win_updates') == []


def test_a_pending_restart_is_not_patched_over(first_run):
    result = first_run.result('win-pending')
    assert result['status'] == 'skipped' and 'component based servicing' in result['reason']
    assert first_run.calls('win-pending', 'win_updates') == []


def test_a_service_that_does_not_come_back_fails_validation(first_run):
    result = first_run.result('win-svc')
    assert result['status'] == 'failed'
    assert result['reason'].endswith('service(s) not running after patching: W3SVC')
    # One start attempt, no more.
    assert [c['args'] for c in first_run.calls('win-svc', 'win_service')] == [
        {'name': 'W3SVC', 'state': 'started', 'start_mode': None}]


def test_an_unreachable_host_is_skipped_with_the_reason(first_run):
    result = first_run.result('win-down')
    assert result['status'] == 'skipped'
    assert result['reason'].startswith('not reachable over local: ') and 'unreachable' in result['reason']


def test_a_host_that_does_not_come_back_from_its_reboot_fails(first_run):
    result = first_run.result('win-noreboot')
    assert result['status'] == 'failed'
    assert result['reason'].startswith('reboot after round 1 did not complete: Timed out')
    assert first_run.stats['win-noreboot']['failures'] >= 1


def test_a_failing_search_gets_one_reboot_then_fails_readably(first_run):
    result = first_run.result('win-searchfail')
    assert result['status'] == 'failed'
    assert result['reason'] == ('Windows Update failed in round 2: 0x8024A007 WU_E_REBOOT_IN_PROGRESS: '
                                'a reboot is in progress')
    assert first_run.state('win-searchfail')['boots'] == 1
    assert [p['next'] for p in first_run.progress['win-searchfail']] == ['reboot', 'failed']


def test_progress_reaches_the_evidence(first_run, windows_scenarios):
    base, dummy = windows_scenarios
    records = []
    for path in glob.glob(os.path.join(base, 'evidence-1', '*.jsonl')):
        with open(path, encoding='utf-8') as f:
            records.extend(json.loads(line) for line in f if line.strip())
    rounds = [r['result']['patch_progress']['round'] for r in records
              if r.get('host') == 'win-reboot' and 'patch_progress' in (r.get('result') or {})]
    assert rounds == [1, 2, 3]


@pytest.mark.parametrize('host', ['win-ok', 'win-reboot', 'win-drop', 'win-prod'])
def test_a_second_run_is_idempotent(second_run, host):
    result = second_run.result(host)
    assert result['status'] == 'current', result['reason']
    assert result['rebooted'] is False and result['after']['new_kbs'] == []


def test_check_mode_searches_and_changes_nothing(fresh_scenarios, tmp_path):
    from double_run import Run
    run = Run(fresh_scenarios, str(tmp_path / 'evidence'), '--check', '--limit', 'win-ok,win-prod')
    result = run.result('win-ok')
    assert result['status'] == 'skipped'
    assert result['reason'] == 'check mode: would install KB5034439, KB890830'
    assert run.state('win-ok')['installed'] == ['KB5031364'] and run.state('win-ok')['boots'] == 0
    assert run.result('win-prod')['after']['would_install'] == ['KB5034439', 'KB890830']


def test_bad_selection_input_fails_the_host_naming_the_field(fresh_scenarios, tmp_path):
    from double_run import Run
    run = Run(fresh_scenarios, str(tmp_path / 'evidence'), '--limit', 'win-ok',
              '-e', '{"windows_patch_reject_list": ["KB5034439", "(unclosed"]}')
    result = run.result('win-ok')
    assert result['status'] == 'failed' and run.rc != 0
    assert "windows_patch_reject_list[1]: '(unclosed' is neither a KB number nor a valid title regular expression" \
        in result['reason']
    assert run.calls('win-ok') == []
