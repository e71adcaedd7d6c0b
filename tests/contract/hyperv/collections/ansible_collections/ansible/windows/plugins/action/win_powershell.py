# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# CONTRACT DOUBLE of ansible.windows.win_powershell, Hyper-V cluster edition, for healthit.patching contract tests.
# Never installed for users. Everything but this file links to the shared double in tests/contract/windows/;
# this action adds the failover-cluster probes hypervisor_patch sends and hands every other probe to it.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible_collections.ansible.windows.plugins.plugin_utils._double import DoubleAction, _PROBE

# Scenario key ``hyperv`` (all optional):
#   node: cluster node name (default: the inventory name upper-cased)
#   node_state: state before the run (Up, Paused, Down; default Up)
#   vms: [{name, state}] virtual machines on the node
#   drain_status: what Suspend-ClusterNode -Drain ends with (Completed, Failed; default Completed)
#   resume_state: the node's state after Resume-ClusterNode (default Up)


class ActionModule(DoubleAction):
    MODULE = 'win_powershell'

    def play_win_powershell(self, host, args, task_vars):
        match = _PROBE.search(args.get('script') or '')
        probe = match.group(1) if match else ''
        if not probe.startswith('hyperv_'):
            return super(ActionModule, self).play_win_powershell(host, args, task_vars)
        spec = host.scenario.get('hyperv') or {}
        cluster = host.state.setdefault('cluster', {
            'node': spec.get('node', str(host.name).upper()), 'state': spec.get('node_state', 'Up'),
            'drain_status': 'NotInitiated', 'vms_here': [vm['name'] for vm in spec.get('vms') or []]})
        host.log('win_powershell', {'probe': probe, 'parameters': args.get('parameters') or {}})
        if probe == 'hyperv_node':
            vms = [vm for vm in spec.get('vms') or [] if vm['name'] in cluster['vms_here']]
            output = dict(node=cluster['node'], state=cluster['state'], drain_status=cluster['drain_status'], vms=vms)
            changed = False
        elif probe == 'hyperv_drain':
            if cluster['state'] != 'Up':
                raise AnsibleActionFail('Suspend-ClusterNode: node %s is %s (CONTRACT DOUBLE)' % (cluster['node'], cluster['state']))
            cluster['state'] = 'Paused'
            cluster['drain_status'] = spec.get('drain_status', 'Completed')
            if cluster['drain_status'] == 'Completed':
                cluster['moved'] = cluster['vms_here']
                cluster['vms_here'] = []
            output, changed = dict(node=cluster['node'], state=cluster['state'], drain_status=cluster['drain_status']), True
        elif probe == 'hyperv_resume':
            cluster['state'] = spec.get('resume_state', 'Up')
            cluster['vms_here'] = sorted(set(cluster['vms_here']) | set(cluster.pop('moved', [])))
            output, changed = dict(node=cluster['node'], state=cluster['state'], drain_status=cluster['drain_status']), True
        else:
            raise AnsibleActionFail('CONTRACT DOUBLE (Hyper-V): unknown probe %r' % probe)
        return {'changed': changed, 'output': [output], 'result': {}, 'host_out': '', 'host_err': '',
                'error': [], 'warning': [], 'verbose': [], 'debug': [], 'information': []}
