# healthit.patching probe: free_disk
# Free space on the system drive in MiB. Read-only.
$Ansible.Changed = $false
$drive = $env:SystemDrive
$disk = Get-CimInstance -ClassName Win32_LogicalDisk -Filter "DeviceID='$drive'"
[PSCustomObject]@{ drive = $drive; free_mb = [int64][math]::Floor($disk.FreeSpace / 1MB) }
