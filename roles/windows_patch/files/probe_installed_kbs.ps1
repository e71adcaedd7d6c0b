# healthit.patching probe: installed_kbs
# Installed hotfix KB ids, sorted. Read-only.
$Ansible.Changed = $false
Get-HotFix | Where-Object { $_.HotFixID -match '^KB\d+$' } | Select-Object -ExpandProperty HotFixID | Sort-Object -Unique
