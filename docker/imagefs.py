"""Running commands in a built image's filesystem without a container runtime: the shared part of
docker/check-image.py and docker/run-stack.py.

This machine's podman builds images but cannot run them (its OCI runtime cannot set up the container's cgroups),
so these helpers do the part of a runtime that matters to triggerbot's images, and no more: `podman create` +
`podman mount` give the filesystem a container of the image would start with (the image's layers and an empty
writable layer); a command then runs in it with chroot, as the image's user, with only the image's environment
(plus what the caller adds) and working directory, with /proc and a minimal /dev mounted. Callers put it in new
mount, PID and network namespaces (`unshare`), so that every mount goes away with the last process and only
loopback is reachable. Not reproduced: cgroup limits, rlimits, seccomp, capabilities, user namespaces.
Everything here needs root.
"""
import json
import os
import subprocess

# What a container runtime puts in /dev, bound from the host's own nodes.
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")

# new mount, PID and network namespaces; the child is PID 1 there, so its exit ends every process started in it.
UNSHARE = ["unshare", "--mount", "--pid", "--net", "--fork", "--kill-child"]


class Failed(Exception):
    pass


def podman(*args):
    result = subprocess.run(["podman", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise Failed(f"podman {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()}")
    return result.stdout.strip()


def inspect(image):
    return json.loads(podman("image", "inspect", image))[0]


def healthcheck(info):
    return info.get("Healthcheck") or (info.get("Config") or {}).get("Healthcheck") or {}


class Container:
    """A created (never started) container of the image, its filesystem mounted at .root; removed on exit."""

    def __init__(self, image, name):
        self.image = image
        self.name = name
        self.root = None

    def __enter__(self):
        subprocess.run(["podman", "rm", "--force", self.name], capture_output=True)  # a leftover of a killed run
        podman("create", "--name", self.name, self.image)
        try:
            self.root = podman("mount", self.name)
        except Failed:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        subprocess.run(["podman", "umount", self.name], capture_output=True)
        subprocess.run(["podman", "rm", "--force", self.name], capture_output=True)
        return False


def loopback_up():
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def mount_runtime_dirs(root):
    """/proc and a minimal /dev in root, as a runtime mounts them. Call inside new mount and PID namespaces."""
    subprocess.run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")], check=True)
    dev = os.path.join(root, "dev")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755,nosuid,size=1m", "dev", dev], check=True)
    for node in DEV_NODES:
        open(os.path.join(dev, node), "w").close()
        subprocess.run(["mount", "--bind", "/dev/" + node, os.path.join(dev, node)], check=True)


def home_of(root, user):
    """The user's home from the image's /etc/passwd, as Docker sets HOME; / when the user has no entry."""
    uid = user.split(":")[0]
    try:
        with open(os.path.join(root, "etc/passwd"), encoding="utf-8") as passwd:
            for line in passwd:
                fields = line.rstrip("\n").split(":")
                if len(fields) >= 6 and (fields[0] == uid or fields[2] == uid):
                    return fields[5]
    except FileNotFoundError:
        pass
    return "/"


def environment(root, config, overrides=None):
    """The image's environment with HOME as Docker sets it, then overrides (name to value) on top."""
    env = {}
    for entry in config.get("Env") or []:
        name, _, value = entry.partition("=")
        env[name] = value
    env.setdefault("HOME", home_of(root, config.get("User") or "0"))
    env.update(overrides or {})
    return env


def chroot_command(root, config, argv, env):
    """The command that runs argv in root as the image's user, in its working directory, with exactly env."""
    user = config.get("User") or "0:0"
    return ["chroot", "--userspec=" + user, root, "/usr/bin/env", "-i",
            "--chdir=" + (config.get("WorkingDir") or "/"),
            *[f"{name}={value}" for name, value in env.items()], *argv]


def healthcheck_argv(health):
    """The HEALTHCHECK's command as argv: CMD-SHELL runs with /bin/sh -c, as Docker does."""
    test = health["Test"]
    return ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else list(test[1:])


if __name__ == "__main__":
    # imagefs.py exec ROOT CONFIG_JSON ENV_JSON ARG...: inside fresh namespaces (see UNSHARE), mounts the runtime
    # directories and replaces itself with ARG... run in ROOT; check-image.py calls it once per command.
    import sys

    _, _, root, config_json, env_json, *argv = sys.argv
    loopback_up()
    mount_runtime_dirs(root)
    command = chroot_command(root, json.loads(config_json), argv, json.loads(env_json))
    os.execvp(command[0], command)
