# healthit.patching probe: interactive_sessions
# Number of interactive desktop sessions (console or RDP), counted by their explorer.exe shell.
# Only the count leaves the host: user names are personal data and never reach the evidence.
$Ansible.Changed = $false
$sessions = @(Get-Process -Name explorer -ErrorAction SilentlyContinue | Select-Object -ExpandProperty SessionId -Unique)
[PSCustomObject]@{ sessions = $sessions.Count }
