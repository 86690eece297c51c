#!/usr/bin/env python3
"""Verifies one built service image from its own filesystem, without a container runtime.

Usage: docker/check-image.py IMAGE            (run as root; docker/build-images.sh --check calls it)

Checks:
  - from `podman image inspect`: a numeric, non-root user; an exec-form ENTRYPOINT; a HEALTHCHECK; an exposed
    port, which the health check probes;
  - in the image's own filesystem, as its user, with its environment (docker/imagefs.py: chroot in fresh
    namespaces, as far as a container runtime, which this machine cannot use, would set one up):
      * ENTRYPOINT --help exits 0 and prints a usage;
      * the JVM's default charset is UTF-8 (Java 17 takes it from the locale: the base must set LANG);
      * the health check's program exists in the image;
      * the state directory (TRIGGERBOT_STATE_DIR), if the image sets one, is writable by the user.
Prints one line per check and exits 0 when all pass, 1 otherwise.
"""
import json
import os
import re
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagefs import UNSHARE, Container, Failed, environment, healthcheck, inspect  # noqa: E402

TIME_LIMIT = int(os.environ.get("CHECK_IMAGE_TIMEOUT", "60"))


def run_in_image(root, config, argv):
    """Runs argv in the image's filesystem as its user, in fresh namespaces; returns (exit code, output)."""
    command = [*UNSHARE, "--", sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "imagefs.py"),
               "exec", root, json.dumps(config), json.dumps(environment(root, config)), *argv]
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                errors="replace", timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        return 124, f"no exit within {TIME_LIMIT} s"
    return result.returncode, result.stdout + result.stderr


def static_checks(info):
    """Checks of the image's configuration alone; returns (name, ok, detail) triples."""
    config = info.get("Config") or {}
    checks = []

    user = config.get("User") or ""
    uid, _, gid = user.partition(":")
    # Numeric, so that a runtime (or Kubernetes' runAsNonRoot) can tell it is not root without the image's passwd.
    ok = uid.isdigit() and uid != "0" and (gid == "" or gid.isdigit())
    checks.append(("non-root user", ok, f"USER {user!r}" + ("" if ok else ": want a numeric, non-zero uid[:gid]")))

    entrypoint = config.get("Entrypoint")
    shell_form = isinstance(entrypoint, list) and entrypoint[:2] in (["/bin/sh", "-c"], ["sh", "-c"])
    ok = isinstance(entrypoint, list) and bool(entrypoint) and not shell_form
    checks.append(("exec-form entrypoint", ok, json.dumps(entrypoint) if ok else
                   f"ENTRYPOINT {json.dumps(entrypoint)}: want a JSON array, so that signals reach the JVM"))

    # `podman build --format oci` drops HEALTHCHECK; build-images.sh builds with --format docker.
    health = healthcheck(info)
    test = health.get("Test") or []
    ok = bool(test) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1
    checks.append(("healthcheck", ok, " ".join(test[1:]) if ok else f"Healthcheck {health!r}"))

    ports = sorted((config.get("ExposedPorts") or {}).keys())
    numbers = [p.split("/")[0] for p in ports]
    probed = [n for n in numbers if ok and re.search(r"(?<![0-9])" + n + r"(?![0-9])", " ".join(test[1:]))]
    checks.append(("exposed port", bool(probed), f"EXPOSE {' '.join(ports)}; the health check probes {probed[0]}"
                   if probed else f"EXPOSE {' '.join(ports) or '(none)'}: want a port that the health check probes"))
    return checks


def filesystem_checks(root, config, health):
    checks = []
    entrypoint = config["Entrypoint"]

    code, output = run_in_image(root, config, [*entrypoint, "--help"])
    usage = next((line for line in output.splitlines() if "usage" in line.lower()), None)
    ok = code == 0 and usage is not None
    checks.append(("entrypoint --help", ok, usage.strip() if ok else
                   f"exit {code}{'' if usage else ', no usage'}:\n" + indent(output)))

    # The JVM that the entrypoint runs (its first word), asked for its default charset.
    code, output = run_in_image(root, config, [entrypoint[0], "-XshowSettings:properties", "-version"])
    match = re.search(r"^\s*file\.encoding = (\S+)", output, re.M)
    ok = code == 0 and match is not None and match.group(1) == "UTF-8"
    checks.append(("default charset", ok, "file.encoding = UTF-8" if ok else
                   f"exit {code}, file.encoding = {match.group(1) if match else '?'}: set LANG=C.UTF-8 in the base"))

    test = health["Test"]
    program = shlex.split(test[1])[0] if test[0] == "CMD-SHELL" else test[1]
    code, output = run_in_image(root, config, ["/bin/sh", "-c", 'command -v "$0"', program])
    checks.append(("healthcheck program", code == 0, output.strip() if code == 0 else
                   f"{program} is not in the image (exit {code})"))

    state = next((e.split("=", 1)[1] for e in config.get("Env") or [] if e.startswith("TRIGGERBOT_STATE_DIR=")),
                 None)
    if state:
        code, output = run_in_image(root, config, ["/bin/sh", "-c",
                                                   'test -d "$0" && test -w "$0" && : > "$0/.probe" && rm "$0/.probe"',
                                                   state])
        checks.append(("state directory writable", code == 0, state if code == 0 else
                       f"{state} is missing or not writable by {config['User']} (exit {code}): {output.strip()}"))
    return checks


def indent(text, limit=40):
    lines = text.rstrip("\n").splitlines()
    return "\n".join("      " + line for line in lines[:limit])


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    image = sys.argv[1]
    if os.geteuid() != 0:
        sys.stderr.write("check-image: run as root: it mounts the image and chroots into it\n")
        return 2
    info = inspect(image)
    checks = static_checks(info)
    config = info.get("Config") or {}
    if all(ok for _, ok, _ in checks):
        with Container(image, "triggerbot-check-" + os.urandom(4).hex()) as container:
            checks += filesystem_checks(container.root, config, healthcheck(info))
    else:
        checks.append(("filesystem", False, "not run: the image's configuration failed above"))
    for name, ok, detail in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failed as e:
        print(f"  FAIL {e}")
        sys.exit(1)
