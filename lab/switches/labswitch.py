"""The lab's emulated Cisco switches: fakenos SSH servers with a stateful IOS shell, plus the image server.

One process serves every switch in lab-switches.yml on 127.0.0.1 and a tiny HTTP server for the
dummy firmware images under .lab/cache/firmware/.  Lab only: it never talks to another address.

State per switch (flash, boot variable, running/startup config, running image) lives in this
process and is written to <run-dir>/state.json after every change so tests can inspect it.
Failure injection: <run-dir>/<switch>.control.json is read on every command (see README.md).
Reset: write <run-dir>/reset.request.json and send SIGUSR1 (lab/switches/ctl.py does both).
"""
import argparse
import copy
import hashlib
import http.server
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request

import yaml
from fakenos import FakeNOS
from fakenos.plugins.shell.cmd_shell import CMDShell

log = logging.getLogger("labswitch")

INVALID = "% Invalid input detected at '^' marker."
ONE_SHOT_KEYS = ("corrupt_next_copy", "wrong_version_next_reload", "interfaces_down_next_reload")


def image_bytes(name, size):
    """Deterministic dummy image content, derived from the file name (stable checksums)."""
    out = bytearray()
    counter = 0
    seed = name.encode()
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    return bytes(out[:size])


def short_if(name):
    for long, short in (("GigabitEthernet", "Gi"), ("TenGigabitEthernet", "Te"), ("FastEthernet", "Fa")):
        if name.startswith(long):
            return short + name[len(long):]
    return name


class Lab:
    """All switches' state, the control files and the reload machinery."""

    def __init__(self, config, run_dir, cache_dir):
        self.config = config
        self.run_dir = run_dir
        self.cache_dir = cache_dir
        self.lock = threading.RLock()
        self.net = None
        self.switches = {}
        self.image_md5 = {}
        self.reload_threads = {}
        for name in config["switches"]:
            self.switches[name] = self.initial_state(name)

    # ---- images -------------------------------------------------------------------------------
    def build_images(self):
        os.makedirs(self.cache_dir, exist_ok=True)
        sums = {}
        for name, meta in self.config["images"].items():
            data = image_bytes(name, meta["size"])
            path = os.path.join(self.cache_dir, name)
            if not os.path.exists(path) or os.path.getsize(path) != len(data):
                with open(path + ".tmp", "wb") as f:
                    f.write(data)
                os.replace(path + ".tmp", path)
            sums[name] = {
                "size": len(data),
                "md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - device checksum format
                "sha512": hashlib.sha512(data).hexdigest(),
                "version": meta["version"],
            }
            self.image_md5[name] = sums[name]["md5"]
        with open(os.path.join(self.cache_dir, "checksums.json"), "w", encoding="utf-8") as f:
            json.dump(sums, f, indent=2, sort_keys=True)

    # ---- state --------------------------------------------------------------------------------
    def initial_state(self, name):
        sw = self.config["switches"][name]
        img = sw["image"]
        meta = self.config["images"][img]
        data = image_bytes(img, meta["size"])
        cfg = {
            "hostname": name,
            "boot": ["flash:" + img],
            "interfaces": {k: dict(v or {}) for k, v in sw["interfaces"].items()},
        }
        return {
            "name": name,
            "model": sw["model"],
            "serial": sw["serial"],
            "running_image": img,
            "flash": {
                img: {"size": len(data), "md5": hashlib.md5(data).hexdigest()},  # noqa: S324
            },
            "running_config": cfg,
            "startup_config": copy.deepcopy(cfg),
            "interfaces_down": [],
            "boot_time": time.time(),
            "reload_reason": "power-on",
            "reloads": 0,
            "status": "up",
            "history": [],
        }

    def save(self):
        with self.lock:
            data = json.dumps(self.switches, indent=2, sort_keys=True)
        tmp = os.path.join(self.run_dir, "state.json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.run_dir, "state.json"))

    def record(self, name, event):
        with self.lock:
            hist = self.switches[name]["history"]
            hist.append({"time": round(time.time(), 3), "event": event})
            del hist[:-200]

    # ---- failure injection --------------------------------------------------------------------
    def control_path(self, name):
        return os.path.join(self.run_dir, "%s.control.json" % name)

    def control(self, name):
        try:
            with open(self.control_path(name), encoding="utf-8") as f:
                data = json.load(f)
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def consume(self, name, key):
        """Return a one-shot injection and remove it from the control file."""
        with self.lock:
            data = self.control(name)
            if key not in data:
                return None
            value = data.pop(key)
            tmp = self.control_path(name) + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, self.control_path(name))
            return value

    # ---- flash --------------------------------------------------------------------------------
    def flash_numbers(self, name):
        sw_cfg = self.config["switches"][name]
        st = self.switches[name]
        used = sw_cfg["flash_used_other"] + sum(f["size"] for f in st["flash"].values())
        total = sw_cfg["flash_total"]
        free = total - used
        override = self.control(name).get("flash_free_bytes")
        if isinstance(override, int):
            free = override
        return total, max(free, 0)

    # ---- reload -------------------------------------------------------------------------------
    def schedule_reload(self, name):
        with self.lock:
            st = self.switches[name]
            st["status"] = "reloading"
            boot_list = list(st["running_config"]["boot"])
        self.record(name, "reload requested, boot list %s" % ";".join(boot_list))
        self.save()
        t = threading.Thread(target=self._reload, args=(name, boot_list), daemon=True)
        self.reload_threads[name] = t
        t.start()

    def _reload(self, name, boot_list):
        time.sleep(0.5)
        host = self.net.hosts[name]
        host.stop()
        time.sleep(self.config.get("reload_seconds", 4))
        wrong = self.consume(name, "wrong_version_next_reload")
        down = self.consume(name, "interfaces_down_next_reload")
        with self.lock:
            st = self.switches[name]
            candidates = []
            for entry in boot_list:
                img = entry.split(":", 1)[-1].lstrip("/")
                f = st["flash"].get(img)
                # a missing, unknown or corrupted file does not boot: the loader tries the next entry
                if f and img in self.image_md5 and f["md5"] == self.image_md5[img]:
                    candidates.append(img)
            if wrong and len(candidates) > 1:
                candidates = candidates[1:]
            elif wrong:
                # nothing to fall through to: come back on the image that was running
                candidates = [st["running_image"]]
            if candidates:
                st["running_image"] = candidates[0]
            st["running_config"] = copy.deepcopy(st["startup_config"])
            if down is True:
                down = [i for i, v in st["running_config"]["interfaces"].items()
                        if not v.get("shutdown") and not i.startswith("Vlan")]
            st["interfaces_down"] = list(down or [])
            st["boot_time"] = time.time()
            st["reload_reason"] = "Reload Command"
            st["reloads"] += 1
            st["status"] = "up"
        self.record(name, "booted %s%s%s" % (st["running_image"], " (injected boot failure)" if wrong else "",
                                             " interfaces down %s" % st["interfaces_down"] if down else ""))
        host.start()
        self.save()

    def wait_reloads(self, names, timeout=30):
        for n in names:
            t = self.reload_threads.get(n)
            if t is not None:
                t.join(timeout)

    def reset(self, names):
        names = names or list(self.switches)
        self.wait_reloads(names)
        for n in names:
            host = self.net.hosts[n]
            # drop open sessions so no client keeps a prompt from before the reset
            host.stop()
            with self.lock:
                self.switches[n] = self.initial_state(n)
            try:
                os.unlink(self.control_path(n))
            except FileNotFoundError:
                pass
            host.start()
            self.record(n, "lab reset")
        self.save()


LAB = None


class LabIOSShell(CMDShell):
    """A stateful IOS exec/config shell over a switch of LAB."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.intro = None
        self.name = self.base_prompt
        self.mode = "user"
        self.pending = None
        self.question = ""
        self.set_prompt()

    @property
    def st(self):
        return LAB.switches[self.name]

    def set_prompt(self):
        if self.pending:
            self.prompt = self.question
            return
        self.prompt = {
            "user": "{h}>", "enable": "{h}#", "config": "{h}(config)#", "config-if": "{h}(config-if)#",
        }[self.mode].format(h=self.st["running_config"]["hostname"])

    def ask(self, question, handler):
        self.pending = handler
        self.question = question

    def emptyline(self):
        return False

    def onecmd(self, line):
        line = line.rstrip("\r\n")
        try:
            if self.pending:
                handler, self.pending = self.pending, None
                stop = handler(line.strip())
            else:
                stop = self.dispatch(line.strip())
        except Exception as exc:  # pylint: disable=broad-except
            log.exception("command %r failed", line)
            self.writeline("%% Error: lab switch failure: %s" % exc)
            stop = False
        if not stop:
            self.set_prompt()
        return bool(stop)

    def out(self, text):
        if text:
            self.writeline(text)

    # ---- dispatch -----------------------------------------------------------------------------
    def dispatch(self, line):
        if not line:
            return False
        LAB.record(self.name, "cmd[%s] %s" % (self.mode, line if not self.pending else "<answer>"))
        if line in ("exit", "logout", "quit") and self.mode in ("user", "enable"):
            return True
        if line.startswith("terminal "):
            return False
        if self.mode in ("config", "config-if"):
            return self.config_cmd(line)
        if line == "enable":
            if self.mode == "enable":
                return False
            self.ask("Password: ", self.answer_enable)
            return False
        if line == "disable":
            self.mode = "user"
            return False
        if line == "show privilege":
            self.out("Current privilege level is %d" % (15 if self.mode == "enable" else 1))
            return False
        if line == "show version":
            self.out(self.show_version())
            return False
        if self.mode != "enable":
            self.out(INVALID)
            return False
        return self.exec_cmd(line)

    def answer_enable(self, answer):
        if answer == LAB.config["enable_secret"]:
            self.mode = "enable"
        else:
            self.out("% Bad secret")
        return False

    def exec_cmd(self, line):
        base, _, pipe = line.partition(" | ")
        base = base.strip()
        text = None
        if base in ("show running-config", "show run", "more system:running-config"):
            text = self.render_config(self.st["running_config"])
        elif base in ("show startup-config", "more nvram:startup-config"):
            text = self.render_config(self.st["startup_config"])
        elif base in ("dir", "dir flash:", "show flash:", "show flash", "dir flash:/"):
            text = self.show_flash()
        elif base == "show boot":
            text = self.show_boot()
        elif base == "show inventory":
            text = self.show_inventory()
        elif base == "show ip interface brief":
            text = self.show_ip_int_brief()
        elif base == "show interfaces status":
            text = self.show_int_status()
        elif base == "show cdp neighbors":
            text = self.show_cdp()
        elif base == "show clock":
            text = time.strftime("*%H:%M:%S.000 UTC %a %b %d %Y", time.gmtime())
        if text is not None:
            self.out(self.apply_pipe(text, pipe))
            return False
        if base == "configure terminal":
            self.out("Enter configuration commands, one per line.  End with CNTL/Z.")
            self.mode = "config"
            return False
        if base in ("write memory", "write"):
            self.out("Building configuration...\n[OK]")
            self.save_config()
            return False
        if base == "copy running-config startup-config":
            self.ask("Destination filename [startup-config]? ", self.answer_copy_run_start)
            return False
        m = re.match(r"^copy (\S+) flash:/?(\S*)$", base)
        if m:
            return self.start_copy(m.group(1), m.group(2))
        m = re.match(r"^verify /md5 flash:/?(\S+)(?: ([0-9a-fA-F]{32}))?$", base)
        if m:
            return self.verify_md5(m.group(1), m.group(2))
        m = re.match(r"^delete (?:/force )?flash:/?(\S+)$", base)
        if m:
            img = m.group(1)
            self.ask("Delete filename [%s]? " % img, lambda a, img=img: self.answer_delete(a, img))
            return False
        if base == "reload":
            if self.st["running_config"] != self.st["startup_config"]:
                self.ask("System configuration has been modified. Save? [yes/no]: ", self.answer_reload_save)
            else:
                self.ask("Proceed with reload? [confirm]", self.answer_reload)
            return False
        self.out(INVALID)
        return False

    @staticmethod
    def apply_pipe(text, pipe):
        if not pipe:
            return text
        verb, _, arg = pipe.strip().partition(" ")
        lines = text.splitlines()
        if verb in ("include", "i", "inc"):
            return "\n".join(x for x in lines if re.search(arg, x))
        if verb in ("exclude", "e", "exc"):
            return "\n".join(x for x in lines if not re.search(arg, x))
        if verb in ("begin", "b"):
            for i, x in enumerate(lines):
                if re.search(arg, x):
                    return "\n".join(lines[i:])
            return ""
        if verb in ("section", "s"):
            keep, inside = [], False
            for x in lines:
                if not x.startswith(" "):
                    inside = bool(re.search(arg, x))
                if inside:
                    keep.append(x)
            return "\n".join(keep)
        return INVALID

    # ---- config mode --------------------------------------------------------------------------
    def config_cmd(self, line):
        cfg = self.st["running_config"]
        if line.startswith("do "):
            mode, self.mode = self.mode, "enable"
            try:
                return self.exec_cmd(line[3:])
            finally:
                self.mode = mode
        if line == "end":
            self.mode = "enable"
            LAB.save()
            return False
        if line == "exit":
            self.mode = "config" if self.mode == "config-if" else "enable"
            return False
        if self.mode == "config-if":
            with LAB.lock:
                intf = cfg["interfaces"][self.interface]
                if line == "shutdown":
                    intf["shutdown"] = True
                elif line == "no shutdown":
                    intf.pop("shutdown", None)
                elif line.startswith("description "):
                    intf["description"] = line[len("description "):]
                elif line == "no description":
                    intf.pop("description", None)
                else:
                    return self.config_global(line)
            return False
        return self.config_global(line)

    def config_global(self, line):
        cfg = self.st["running_config"]
        m = re.match(r"^boot system (?:switch all )?(flash:/?\S+)$", line)
        with LAB.lock:
            if m:
                entry = m.group(1).replace("flash:/", "flash:")
                if entry not in cfg["boot"]:
                    cfg["boot"].append(entry)
                LAB.record(self.name, "boot list now %s" % ";".join(cfg["boot"]))
                self.mode = "config"
                return False
            if line == "no boot system":
                cfg["boot"] = []
                LAB.record(self.name, "boot list cleared")
                self.mode = "config"
                return False
            m = re.match(r"^no boot system (?:switch all )?(flash:/?\S+)$", line)
            if m:
                entry = m.group(1).replace("flash:/", "flash:")
                cfg["boot"] = [b for b in cfg["boot"] if b != entry]
                self.mode = "config"
                return False
            m = re.match(r"^interface (\S+)$", line)
            if m and m.group(1) in cfg["interfaces"]:
                self.interface = m.group(1)
                self.mode = "config-if"
                return False
        self.out(INVALID)
        return False

    def save_config(self):
        with LAB.lock:
            self.st["startup_config"] = copy.deepcopy(self.st["running_config"])
        LAB.record(self.name, "configuration saved")
        LAB.save()

    def answer_copy_run_start(self, answer):
        self.out("Building configuration...\n[OK]")
        self.save_config()
        return False

    # ---- images -------------------------------------------------------------------------------
    def start_copy(self, source, dest):
        url = urllib.parse.urlparse(source)
        if url.scheme not in ("http", "https") or not url.path.strip("/"):
            self.out(INVALID)
            return False
        default = dest or url.path.rsplit("/", 1)[-1]
        self.ask("Destination filename [%s]? " % default,
                 lambda a: self.answer_copy_dest(a or default, source))
        return False

    def answer_copy_dest(self, dest, source):
        if dest in self.st["flash"]:
            self.ask("%%Warning:There is a file already existing with this name\n"
                     "Do you want to over write? [confirm]",
                     lambda a: self.do_copy(dest, source) if a.lower() in ("", "y", "yes") else False)
            return False
        return self.do_copy(dest, source)

    def do_copy(self, dest, source):
        url = urllib.parse.urlparse(source)
        if url.hostname not in ("127.0.0.1", "localhost"):
            # the lab's network rule: loopback only
            self.out("%%Error opening %s (No such host or network)" % source)
            return False
        self.out("Accessing %s..." % source)
        try:
            with urllib.request.urlopen(source, timeout=30) as resp:  # noqa: S310 - loopback only
                length = int(resp.headers.get("Content-Length") or 0)
                _total, free = LAB.flash_numbers(self.name)
                if length > free:
                    self.out("%%Error copying %s (No space left on device)" % source)
                    LAB.record(self.name, "copy refused: %d bytes needed, %d free" % (length, free))
                    return False
                data = resp.read()
        except OSError as exc:
            self.out("%%Error opening %s (%s)" % (source, getattr(exc, "reason", exc)))
            return False
        _total, free = LAB.flash_numbers(self.name)
        if len(data) > free:
            self.out("%%Error copying %s (No space left on device)" % source)
            return False
        if LAB.consume(self.name, "corrupt_next_copy"):
            # a transfer that went wrong: same size, different bytes
            data = bytearray(data)
            data[len(data) // 2] ^= 0xFF
            data = bytes(data)
            LAB.record(self.name, "injected corruption into %s" % dest)
        with LAB.lock:
            self.st["flash"][dest] = {"size": len(data), "md5": hashlib.md5(data).hexdigest()}  # noqa: S324
        LAB.record(self.name, "copied %s to flash:%s" % (source, dest))
        LAB.save()
        self.out("Loading %s !!!!!!!!!!!!!!!!!!!!!!!!!!\n[OK - %d bytes]\n\n%d bytes copied in 0.412 secs (%d bytes/sec)"
                 % (url.path.lstrip("/"), len(data), len(data), int(len(data) / 0.412)))
        return False

    def verify_md5(self, img, expected):
        f = self.st["flash"].get(img)
        if not f:
            self.out("%%Error verifying flash:%s (No such file or directory)" % img)
            return False
        self.out("." * 40 + "Done!")
        if expected is None:
            self.out("verify /md5 (flash:%s) = %s" % (img, f["md5"]))
        elif expected.lower() == f["md5"]:
            self.out("Verified (flash:%s) = %s" % (img, f["md5"]))
        else:
            self.out("%%Error verifying flash:%s\nComputed signature = %s\nSubmitted signature = %s"
                     % (img, f["md5"], expected.lower()))
        return False

    def answer_delete(self, answer, img):
        name = answer or img
        self.ask("Delete flash:/%s? [confirm]" % name, lambda a: self.do_delete(a, name))
        return False

    def do_delete(self, answer, img):
        if answer.lower() not in ("", "y", "yes"):
            return False
        with LAB.lock:
            if img not in self.st["flash"]:
                self.out("%%Error deleting flash:/%s (No such file or directory)" % img)
                return False
            if img == self.st["running_image"]:
                self.out("%%Error deleting flash:/%s (File in use)" % img)
                return False
            del self.st["flash"][img]
        LAB.record(self.name, "deleted flash:%s" % img)
        LAB.save()
        return False

    # ---- reload -------------------------------------------------------------------------------
    def answer_reload_save(self, answer):
        if answer.lower() in ("yes", "y"):
            self.out("Building configuration...\n[OK]")
            self.save_config()
        elif answer.lower() not in ("no", "n"):
            self.out("% Please answer 'yes' or 'no'.")
            self.ask("System configuration has been modified. Save? [yes/no]: ", self.answer_reload_save)
            return False
        self.ask("Proceed with reload? [confirm]", self.answer_reload)
        return False

    def answer_reload(self, answer):
        if answer.lower() not in ("", "y", "yes", "confirm"):
            return False
        self.out("\n*%s: %%SYS-5-RELOAD: Reload requested by %s on vty0. Reload Reason: Reload Command."
                 % (time.strftime("%b %d %H:%M:%S.000", time.gmtime()), LAB.config["fakenos"]["default"]["username"]))
        LAB.schedule_reload(self.name)
        return True  # the session drops, as on a real switch

    # ---- show output --------------------------------------------------------------------------
    def image_meta(self):
        return LAB.config["images"][self.st["running_image"]]

    def uptime(self):
        secs = int(time.time() - self.st["boot_time"])
        days, rem = divmod(secs, 86400)
        hours, rem = divmod(rem, 3600)
        mins = rem // 60
        parts = []
        if days:
            parts.append("%d day%s" % (days, "" if days == 1 else "s"))
        if hours:
            parts.append("%d hour%s" % (hours, "" if hours == 1 else "s"))
        parts.append("%d minute%s" % (mins, "" if mins == 1 else "s"))
        return ", ".join(parts)

    def show_version(self):
        meta = self.image_meta()
        st = self.st
        host = st["running_config"]["hostname"]
        if meta["train"] == "iosxe":
            major, minor, rebuild = meta["version"].split(".")
            padded = "%s.%02d.%02d" % (major, int(minor), int(re.match(r"\d+", rebuild).group()))
            padded += re.sub(r"^\d+", "", rebuild)
            return "\n".join([
                "Cisco IOS XE Software, Version %s" % padded,
                "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version %s, "
                "RELEASE SOFTWARE (fc2)" % meta["version"],
                "Technical Support: http://www.cisco.com/techsupport",
                "Copyright (c) 1986-2024 by Cisco Systems, Inc.",
                "",
                "ROM: IOS-XE ROMMON",
                "BOOTLDR: System Bootstrap, Version 17.9.1r, RELEASE SOFTWARE (P)",
                "",
                "%s uptime is %s" % (host, self.uptime()),
                "Uptime for this control processor is %s" % self.uptime(),
                "System returned to ROM by %s" % st["reload_reason"],
                'System image file is "flash:%s"' % st["running_image"],
                "Last reload reason: %s" % st["reload_reason"],
                "",
                "cisco %s (X86) processor with 1331521K/6147K bytes of memory." % st["model"],
                "Processor board ID %s" % st["serial"],
                "1 Virtual Ethernet interface",
                "52 Gigabit Ethernet interfaces",
                "2048K bytes of non-volatile configuration memory.",
                "8388608K bytes of physical memory.",
                "11353194496 bytes of Flash at flash:.",
                "",
                "Switch Ports Model              SW Version        SW Image              Mode",
                "------ ----- -----              ----------        ----------            ----",
                "*    1 65    %-18s %-17s CAT9K_IOSXE           BUNDLE" % (st["model"], padded),
                "",
                "Configuration register is 0x102",
            ])
        return "\n".join([
            "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version %s, RELEASE SOFTWARE (fc2)"
            % meta["version"],
            "Technical Support: http://www.cisco.com/techsupport",
            "Copyright (c) 1986-2024 by Cisco Systems, Inc.",
            "",
            "ROM: Bootstrap program is C2960X boot loader",
            "BOOTLDR: C2960X Boot Loader (C2960X-HBOOT-M) Version 15.2(7r)E, RELEASE SOFTWARE (fc1)",
            "",
            "%s uptime is %s" % (host, self.uptime()),
            "System returned to ROM by %s" % st["reload_reason"],
            'System image file is "flash:%s"' % st["running_image"],
            "",
            "cisco %s (APM86XXX) processor (revision B0) with 524288K bytes of memory." % st["model"],
            "Processor board ID %s" % st["serial"],
            "Last reset from %s" % st["reload_reason"],
            "1 Virtual Ethernet interface",
            "52 Gigabit Ethernet interfaces",
            "64K bytes of flash-simulated non-volatile configuration memory.",
            "",
            "Switch Ports Model                     SW Version            SW Image",
            "------ ----- -----                     ----------            ----------",
            "*    1 52    %-25s %-21s C2960X-UNIVERSALK9-M" % (st["model"], meta["version"]),
            "",
            "Configuration register is 0xF",
        ])

    def show_inventory(self):
        return ('NAME: "1", DESCR: "%s"\nPID: %-17s , VID: V02  , SN: %s'
                % (self.st["model"], self.st["model"], self.st["serial"]))

    def show_flash(self):
        total, free = LAB.flash_numbers(self.name)
        rows = ["Directory of flash:/", ""]
        stamp = "Nov 1 2026 10:00:00 +00:00"
        idx = 2
        for fname, meta in sorted(self.st["flash"].items()):
            rows.append("%6d  -rwx %12d  %s  %s" % (idx, meta["size"], stamp, fname))
            idx += 1
        rows.append("%6d  -rwx %12d  %s  %s" % (idx, 3096, stamp, "config.text"))
        rows.append("%6d  -rwx %12d  %s  %s" % (idx + 1, 1048, stamp, "vlan.dat"))
        rows += ["", "%d bytes total (%d bytes free)" % (total, free)]
        return "\n".join(rows)

    def show_boot(self):
        boot = ";".join(self.st["running_config"]["boot"])
        if self.image_meta()["train"] == "iosxe":
            return "\n".join([
                "---------------------------", "Switch 1", "---------------------------",
                "Current Boot Variables:", "BOOT variable = %s;" % boot, "",
                "Boot Variables on next reload:", "BOOT variable = %s;" % boot,
                "Manual Boot = no", "Enable Break = no", "Boot Mode = DEVICE",
            ])
        return "\n".join([
            "BOOT path-list      : %s" % boot,
            "Config file         : flash:/config.text",
            "Private Config file : flash:/private-config.text",
            "Enable Break        : no",
            "Manual Boot         : no",
        ])

    def render_config(self, cfg):
        lines = ["Building configuration...", "", "Current configuration : 2048 bytes", "!",
                 "version %s" % ".".join(self.image_meta()["version"].split(".")[:2]).split("(")[0],
                 "service timestamps debug datetime msec", "service password-encryption",
                 "!", "hostname %s" % cfg["hostname"], "!"]
        for entry in cfg["boot"]:
            lines.append("boot system %s" % entry)
        lines += ["!", "enable secret 9 <removed>", "!", "cdp run", "!"]
        for name, intf in cfg["interfaces"].items():
            lines.append("interface %s" % name)
            if intf.get("description"):
                lines.append(" description %s" % intf["description"])
            if intf.get("ip"):
                lines.append(" ip address %s" % intf["ip"])
            elif name.startswith("Vlan"):
                lines.append(" no ip address")
            if intf.get("shutdown"):
                lines.append(" shutdown")
            lines.append("!")
        lines += ["line vty 0 4", " login local", " transport input ssh", "!", "end"]
        return "\n".join(lines)

    def intf_state(self, name, intf):
        if intf.get("shutdown"):
            return "administratively down", "down"
        if name in self.st["interfaces_down"]:
            return "down", "down"
        return "up", "up"

    def show_ip_int_brief(self):
        rows = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for name, intf in self.st["running_config"]["interfaces"].items():
            status, proto = self.intf_state(name, intf)
            ip = intf["ip"].split()[0] if intf.get("ip") else "unassigned"
            rows.append("%-22s %-15s YES %-6s %-21s %s" % (name, ip, "NVRAM" if intf.get("ip") else "unset",
                                                            status, proto))
        return "\n".join(rows)

    def show_int_status(self):
        rows = ["", "Port         Name               Status       Vlan       Duplex  Speed Type"]
        for name, intf in self.st["running_config"]["interfaces"].items():
            if name.startswith("Vlan"):
                continue
            status, _ = self.intf_state(name, intf)
            word = {"up": "connected", "down": "notconnect", "administratively down": "disabled"}[status]
            rows.append("%-12s %-18s %-12s %-10s %-7s %-5s %s" % (
                short_if(name), (intf.get("description") or "")[:18], word, "1",
                "a-full" if word == "connected" else "auto", "a-1000" if word == "connected" else "auto",
                "10/100/1000BaseTX"))
        return "\n".join(rows)

    def show_cdp(self):
        rows = ["Capability Codes: R - Router, T - Trans Bridge, B - Source Route Bridge",
                "                  S - Switch, H - Host, I - IGMP, r - Repeater, P - Phone,",
                "                  D - Remote, C - CVTA, M - Two-port Mac Relay", "",
                "Device ID        Local Intrfce     Holdtme    Capability  Platform  Port ID"]
        count = 0
        intfs = self.st["running_config"]["interfaces"]
        for n in LAB.config["switches"][self.name].get("cdp", []):
            if self.intf_state(n["local"], intfs.get(n["local"], {}))[0] != "up":
                continue
            rows.append("%-16s %-17s %-10s %-11s %-9s %s" % (
                n["device"], short_if(n["local"]).replace("Gi", "Gig "), "155", "R S I", n["platform"],
                short_if(n["port"]).replace("Gi", "Gig ")))
            count += 1
        rows += ["", "Total cdp entries displayed : %d" % count]
        return "\n".join(rows)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):  # pylint: disable=arguments-differ
        log.info("http %s %s", self.address_string(), fmt % args)


def main():
    global LAB  # pylint: disable=global-statement
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--run-dir", required=True)
    parser.add_argument("--cache-dir", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("paramiko").setLevel(logging.WARNING)
    # up.sh probes the ports with bare TCP connects; paramiko reports each as a failed handshake
    logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)
    logging.getLogger("fakenos").setLevel(logging.WARNING)

    with open(args.config, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    os.makedirs(args.run_dir, exist_ok=True)
    LAB = Lab(config, args.run_dir, args.cache_dir)
    LAB.build_images()
    for name in config["switches"]:
        try:
            os.unlink(LAB.control_path(name))
        except FileNotFoundError:
            pass

    srv = config["image_server"]
    handler = lambda *a, **kw: QuietHandler(*a, directory=args.cache_dir, **kw)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer((srv["address"], srv["port"]), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    net = FakeNOS(inventory=copy.deepcopy(config["fakenos"]))
    net.shell_plugins["CMDShell"] = LabIOSShell
    LAB.net = net
    net.start()
    LAB.save()
    log.info("lab switches up: %s; images on http://%s:%s/", ", ".join(
        "%s:%s" % (n, h.port) for n, h in net.hosts.items()), srv["address"], srv["port"])

    stop = threading.Event()
    reset_wanted = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: reset_wanted.set())
    req_path = os.path.join(args.run_dir, "reset.request.json")
    while not stop.is_set():
        if reset_wanted.wait(0.2):
            reset_wanted.clear()
            try:
                with open(req_path, encoding="utf-8") as f:
                    req = json.load(f)
                LAB.reset(req.get("names") or [])
                with open(os.path.join(args.run_dir, "reset.done"), "w", encoding="utf-8") as f:
                    f.write(str(req.get("id", "")))
                log.info("reset %s", req.get("names") or "all")
            except (OSError, ValueError, KeyError) as exc:
                log.error("reset failed: %s", exc)
    log.info("stopping")
    for n in list(LAB.reload_threads):
        LAB.reload_threads[n].join(10)
    net.stop()
    httpd.shutdown()
    httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
