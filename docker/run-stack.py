#!/usr/bin/env python3
"""Runs the built images as docker-compose.yml wires them, without a container runtime, and checks that the
pipeline works through them end to end.

Usage: docker/run-stack.py        (root; after docker/build-images.sh has built the images; build-images.sh
                                   --check runs it)

What runs: the services taskcluster-sim, buildapi-sim, processor, bridge and trigger-sink and the one-shots
pulse-exchange and demo-publish, each from its image's own filesystem (docker/imagefs.py: chroot as the image's
user, with the image's environment, working directory, entrypoint, command and health check, overridden as
compose overrides them, its secrets under /run/secrets and its bind-mounted files), all in one fresh network
namespace, as compose's network. Compose's service names resolve to loopback (/etc/hosts in each container, as a
runtime writes it). The services start at once, except taskcluster-sim, which starts and becomes healthy first:
it declares the Taskcluster exchanges, which the bridge binds passively and stops without (compose: the bridge's
depends_on).
Kafka and RabbitMQ are not images of ours: an embedded KRaft broker and an embedded AMQP broker (Qpid Broker-J,
org.triggerbot.demo.LocalBrokers, from the demo module's build) stand in for them, with every topic created as
kafka-init creates it (one partition). So the Kafka port in compose's addresses, and the AMQP port, user,
password and virtual host (also in TRIGGERBOT_AMQP_URI), are the embedded brokers'. taskcluster-sim runs without
its --day (and --seed, --day-after): the decisions of that day would be added to the feed's, which the checks
below compare with the feed's replay. Everything else is compose's, verbatim.

What is checked, each with a deadline:
  1. pulse-exchange declares the exchange (exit 0);
  2. every service becomes healthy by its image's own HEALTHCHECK (or compose's healthcheck), run in its
     filesystem;
  3. demo-publish publishes examples/try-pushes.jsonl (exit 0);
  4. the processor's decisions, by reason (/metrics), equal the replay of that file (bin/triggerbot replay);
  5. the processor's verdict of every push (/api/pushes/...) equals the replay's final verdict;
  6. the trigger-sink calls the buildapi simulator, authenticated with the compose secret (no 401 or 403).
Prints a line per step and exits 0 when all pass, 1 otherwise; logs of a failed run are kept and named.
"""
import contextlib
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import imagefs  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICES = ("taskcluster-sim", "buildapi-sim", "processor", "bridge", "trigger-sink")
# Started, and healthy, before the others: the Taskcluster simulator declares the queue's exchanges, which the
# bridge binds passively (and stops if they are missing).
STARTED_FIRST = ("taskcluster-sim",)
# Options left out of a service's command here, each with its value (see the module's docstring).
DROPPED_OPTIONS = {"taskcluster-sim": ("--day", "--seed", "--day-after")}
FEED = os.path.join(ROOT, "examples", "try-pushes.jsonl")
JAVA = os.path.join(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
HEALTHY_WITHIN = 180
OUTCOME_WITHIN = 120


def log(message):
    print(f"run-stack: {message}", flush=True)


class StackFailed(Exception):
    pass


# ---- outside the namespaces: plan, containers, clean-up -------------------------------------------------------

def compose_services():
    import yaml  # Debian's python3-yaml, which docker-compose itself depends on

    with open(os.path.join(ROOT, "docker-compose.yml"), encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    return compose["services"], compose.get("secrets") or {}


def plan_container(name, service, secrets, info, root):
    """What compose would run for one service: argv, environment, user, working directory and files."""
    config = info.get("Config") or {}
    # As Docker: compose's entrypoint replaces the image's and drops the image's CMD; its command replaces CMD.
    entrypoint = service.get("entrypoint", config.get("Entrypoint") or [])
    command = service.get("command", [] if "entrypoint" in service else config.get("Cmd") or [])
    command = without_options(command, DROPPED_OPTIONS.get(name, ()))
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(entry.partition("=")[::2] for entry in env)
    files = {"/etc/hosts": "127.0.0.1\tlocalhost " + " ".join(n for n in [*SERVICES, "kafka", "rabbitmq"]) + "\n"}
    for secret in service.get("secrets") or []:
        secret_name = secret if isinstance(secret, str) else secret["source"]
        with open(os.path.join(ROOT, secrets[secret_name]["file"]), encoding="utf-8") as f:
            files["/run/secrets/" + secret_name] = f.read()
    copies = []
    for volume in service.get("volumes") or []:
        source, _, target = volume.partition(":")
        if source.startswith("./"):  # a bind mount: the runtime would mount it; a copy serves the same reads
            copies.append((os.path.join(ROOT, source), target.split(":")[0]))
    return {"name": name, "root": root, "config": config, "argv": [*entrypoint, *command],
            "env": {k: str(v) for k, v in env.items()}, "files": files, "copies": copies,
            "health": health_of(service, info)}


def without_options(argv, options):
    """argv without each of options and the value after it."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in options:
            skip = True
        else:
            kept.append(arg)
    return kept


def health_of(service, info):
    """The image's HEALTHCHECK, with compose's healthcheck test and timeout in its place where it sets them."""
    health = dict(imagefs.healthcheck(info))
    override = service.get("healthcheck") or {}
    if "test" in override:
        test = override["test"]
        health["Test"] = ["CMD-SHELL", test] if isinstance(test, str) else list(test)
    if "timeout" in override:
        health["Timeout"] = compose_duration_ns(override["timeout"])
    return health


def compose_duration_ns(value):
    """A compose duration (e.g. 3s, 1m30s, 500ms) in nanoseconds."""
    units = {"h": 3600e9, "m": 60e9, "s": 1e9, "ms": 1e6, "us": 1e3, "ns": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)", str(value))
    if not parts or "".join(n + u for n, u in parts) != str(value):
        raise StackFailed(f"cannot read the compose duration {value!r}")
    return int(sum(float(n) * units[u] for n, u in parts))


def write_files(plan):
    for path, content in plan["files"].items():
        target = plan["root"] + path
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w", encoding="utf-8") as f:
            f.write(content)
        os.chmod(target, 0o444)
    for source, target in plan["copies"]:
        shutil.copytree(source, plan["root"] + target, dirs_exist_ok=True)


def main():
    if os.geteuid() != 0:
        sys.stderr.write("run-stack: run as root: it mounts the images and chroots into them\n")
        return 2
    for jar in ("demo/target/demo.jar", "processor/target/processor.jar"):
        if not os.path.exists(os.path.join(ROOT, jar)):
            sys.stderr.write(f"run-stack: {jar} is missing: build the jars first (./mvnw -B -DskipTests package)\n")
            return 2
    services, secrets = compose_services()
    names = [*SERVICES, "pulse-exchange", "demo-publish"]
    work = tempfile.mkdtemp(prefix="triggerbot-stack-")
    with contextlib.ExitStack() as containers:  # removed on the way out, whatever happens inside
        plans = {}
        for name in names:
            image = services[name]["image"]
            container = containers.enter_context(imagefs.Container(image, "triggerbot-stack-" + name))
            plans[name] = plan_container(name, services[name], secrets, imagefs.inspect(image), container.root)
            write_files(plans[name])
        with open(os.path.join(work, "plan.json"), "w", encoding="utf-8") as f:
            json.dump({"plans": plans, "work": work}, f)
        code = subprocess.run([*imagefs.UNSHARE, "--", sys.executable, os.path.abspath(__file__), "--inside",
                               os.path.join(work, "plan.json")]).returncode
    if code == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        log(f"the logs are kept in {work}")
    return code


# ---- inside the namespaces ------------------------------------------------------------------------------------

def start_brokers(work):
    classpath = f"{ROOT}/demo/target/demo.jar:{ROOT}/demo/target/lib/*"
    log_file = open(os.path.join(work, "brokers.log"), "w")
    process = subprocess.Popen([JAVA, "-cp", classpath, "org.triggerbot.demo.LocalBrokers"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, text=True)
    ready, _, _ = select.select([process.stdout], [], [], 120)
    line = process.stdout.readline() if ready else ""
    if not line:
        raise StackFailed(f"the embedded brokers did not start within 120 s; see {log_file.name}")
    return process, json.loads(line)


def with_brokers(plan, brokers):
    """Compose's environment, pointed at the embedded brokers' ports (and AMQP credentials)."""
    kafka_port = brokers["bootstrapServers"].rsplit(":", 1)[1]
    env = {name: re.sub(r"\bkafka:\d+", "kafka:" + kafka_port, value) for name, value in plan["env"].items()}
    if "TRIGGERBOT_AMQP_HOST" in env:
        env.update({"TRIGGERBOT_AMQP_PORT": str(brokers["amqpPort"]), "TRIGGERBOT_AMQP_USER": brokers["amqpUser"],
                    "TRIGGERBOT_AMQP_PASSWORD": brokers["amqpPassword"],
                    "TRIGGERBOT_AMQP_VHOST": brokers["amqpVirtualHost"]})
    if "TRIGGERBOT_AMQP_URI" in env:  # compose's host (a service name), the embedded broker's port and user
        host = urllib.parse.urlsplit(env["TRIGGERBOT_AMQP_URI"]).hostname
        user, password, vhost = (urllib.parse.quote(brokers[key], safe="")
                                 for key in ("amqpUser", "amqpPassword", "amqpVirtualHost"))
        env["TRIGGERBOT_AMQP_URI"] = f"amqp://{user}:{password}@{host}:{brokers['amqpPort']}/{vhost}"
    return imagefs.environment(plan["root"], plan["config"], env)


def command_of(plan, brokers, argv=None):
    return imagefs.chroot_command(plan["root"], plan["config"], argv or plan["argv"], with_brokers(plan, brokers))


def run_one_shot(plan, brokers, work, deadline_seconds=90):
    started = time.monotonic()
    with open(os.path.join(work, plan["name"] + ".log"), "w") as out:
        try:
            code = subprocess.run(command_of(plan, brokers), stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT, timeout=deadline_seconds).returncode
        except subprocess.TimeoutExpired:
            raise StackFailed(f"{plan['name']} did not exit within {deadline_seconds} s; see {out.name}")
    if code != 0:
        raise StackFailed(f"{plan['name']} exited {code}:\n{tail(out.name)}")
    log(f"{plan['name']}: exit 0 in {time.monotonic() - started:.1f} s ({last_line(out.name)})")


def await_healthy(plans, processes, brokers, work):
    started = time.monotonic()
    pending = dict(plans)
    while pending:
        for name, plan in list(pending.items()):
            if processes[name].poll() is not None:
                raise StackFailed(f"{name} exited {processes[name].returncode} before it was healthy:\n"
                                  + tail(os.path.join(work, name + ".log")))
            timeout = plan["health"].get("Timeout", 30_000_000_000) / 1e9
            argv = imagefs.healthcheck_argv(plan["health"])
            try:
                code = subprocess.run(command_of(plan, brokers, argv), stdin=subprocess.DEVNULL,
                                      capture_output=True, timeout=timeout).returncode
            except subprocess.TimeoutExpired:
                code = -1
            if code == 0:
                log(f"{name}: healthy after {time.monotonic() - started:.1f} s (its HEALTHCHECK exits 0)")
                del pending[name]
        if pending and time.monotonic() - started > HEALTHY_WITHIN:
            raise StackFailed(f"not healthy within {HEALTHY_WITHIN} s: {', '.join(pending)}; logs in {work}")
        if pending:
            time.sleep(1)  # the interval between health probes, as a runtime's --interval


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return None, str(e)


def metric_totals(exposition, prefix, suffix):
    """Sums of each metric named prefix<x>suffix over its labels, keyed by <x>."""
    totals = {}
    for line in exposition.splitlines():
        match = re.match(re.escape(prefix) + r"(\w+?)" + re.escape(suffix) + r"(?:\{[^}]*\})? (\S+)$", line)
        if match:
            totals[match.group(1)] = totals.get(match.group(1), 0.0) + float(match.group(2))
    return totals


def replay(work):
    """Decisions by reason and the final verdict of each push, from the replay of the feed (no Kafka)."""
    verdicts_file = os.path.join(work, "replay-verdicts.jsonl")
    classpath = f"{ROOT}/processor/target/processor.jar:{ROOT}/processor/target/lib/*"
    result = subprocess.run([JAVA, "-cp", classpath, "org.triggerbot.processor.app.Main", "replay",
                             "--input", FEED, "--output", "-", "--verdicts", verdicts_file],
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise StackFailed(f"the replay of {FEED} failed (exit {result.returncode}):\n{result.stderr[-2000:]}")
    reasons = {}
    for line in result.stdout.splitlines():
        reason = json.loads(line)["reason"].lower()
        reasons[reason] = reasons.get(reason, 0) + 1
    verdicts = {}
    with open(verdicts_file, encoding="utf-8") as f:
        for line in f:
            verdict = json.loads(line)
            verdicts[(verdict["branch"], verdict["revision"])] = verdict["state"]
    return reasons, verdicts


def await_condition(what, within, probe):
    """Calls probe() until it returns (True, detail) or the deadline passes; returns the last detail."""
    deadline = time.monotonic() + within
    while True:
        ok, detail = probe()
        if ok:
            return detail
        if time.monotonic() > deadline:
            raise StackFailed(f"{what}: not within {within} s; last seen: {detail}")
        time.sleep(1)


def admin_url(plan):
    """The service's admin server: its TRIGGERBOT_ADMIN_PORT as compose sets it, else the port its image exposes."""
    exposed = next(iter((plan["config"].get("ExposedPorts") or {"": None}).keys())).split("/")[0]
    return "http://127.0.0.1:" + plan["env"].get("TRIGGERBOT_ADMIN_PORT", exposed)


def check_outcome(plans, work):
    processor, sink = admin_url(plans["processor"]), admin_url(plans["trigger-sink"])
    reasons, verdicts = replay(work)
    log(f"replay of {os.path.relpath(FEED, ROOT)}: {sum(reasons.values())} decisions {reasons}, "
        f"{len(verdicts)} pushes")

    def decisions():
        status, body = http_get(processor + "/metrics")
        seen = {r: int(v) for r, v in metric_totals(body, "kafka_stream_triggerbot_decision_", "_total").items()
                if v} if status == 200 else {"metrics": status}
        return seen == reasons, seen
    seen = await_condition("the processor's decisions to equal the replay's", OUTCOME_WITHIN, decisions)
    log(f"processor: decisions by reason equal the replay's ({sum(seen.values())})")

    for (branch, revision), state in sorted(verdicts.items()):
        def verdict():
            status, body = http_get(f"{processor}/api/pushes/{branch}/{revision}")
            got = json.loads(body).get("verdict") if status == 200 else f"HTTP {status}"
            return got == state, got
        await_condition(f"the verdict of {branch}/{revision} to be {state}", 30, verdict)
    log(f"processor: the verdicts of all {len(verdicts)} pushes over HTTP equal the replay's")

    def buildapi_calls():
        status, body = http_get(sink + "/metrics")
        calls = {}
        for line in body.splitlines() if status == 200 else []:
            match = re.match(r'triggerbot_sink_buildapi_requests_seconds_count\{([^}]*)\} (\S+)$', line)
            if match:
                labels = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
                key = labels.get("endpoint", "?") + " " + labels.get("status", "?")
                calls[key] = calls.get(key, 0) + int(float(match.group(2)))
        refused = {k: v for k, v in calls.items() if k.endswith((" 401", " 403")) and v}
        if refused:
            raise StackFailed(f"buildapi refused the trigger-sink's credentials: {refused}")
        return sum(calls.values()) > 0, calls
    calls = await_condition("the trigger-sink to call buildapi", OUTCOME_WITHIN, buildapi_calls)
    log(f"trigger-sink: called the buildapi simulator, authenticated by the compose secret: {calls}")


def inside(plan_file):
    with open(plan_file, encoding="utf-8") as f:
        stack = json.load(f)
    plans, work = stack["plans"], stack["work"]
    imagefs.loopback_up()
    for plan in plans.values():
        imagefs.mount_runtime_dirs(plan["root"])
    brokers, addresses = start_brokers(work)
    log(f"embedded brokers: Kafka {addresses['bootstrapServers']}, AMQP port {addresses['amqpPort']}")
    run_one_shot(plans["pulse-exchange"], addresses, work)
    processes = {}
    for wave in (STARTED_FIRST, [name for name in SERVICES if name not in STARTED_FIRST]):
        for name in wave:
            out = open(os.path.join(work, name + ".log"), "w")
            processes[name] = subprocess.Popen(command_of(plans[name], addresses), stdin=subprocess.DEVNULL,
                                               stdout=out, stderr=subprocess.STDOUT)
        await_healthy({name: plans[name] for name in wave}, processes, addresses, work)
    run_one_shot(plans["demo-publish"], addresses, work)
    check_outcome(plans, work)
    for name, process in processes.items():  # a clean stop, as `docker compose down` sends SIGTERM
        process.terminate()
    for name, process in processes.items():
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise StackFailed(f"{name} did not stop within 60 s of SIGTERM")
        # The JVM exits 143 (128 + SIGTERM) once its shutdown hooks have run; anything else is not a clean stop.
        if code not in (0, 143):
            raise StackFailed(f"{name} exited {code} on SIGTERM:\n" + tail(os.path.join(work, name + ".log")))
        log(f"{name}: stopped on SIGTERM, exit {code}")
    brokers.stdin.close()
    brokers.wait(timeout=60)


def tail(path, lines=30):
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join("    " + line for line in f.readlines()[-lines:])


def last_line(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        content = [line.strip() for line in f if line.strip()]
    return content[-1] if content else "no output"


if __name__ == "__main__":
    try:
        if len(sys.argv) == 3 and sys.argv[1] == "--inside":
            inside(sys.argv[2])
            sys.exit(0)
        if len(sys.argv) > 1:
            sys.stderr.write(__doc__)
            sys.exit(2)
        sys.exit(main())
    except (StackFailed, imagefs.Failed) as e:
        log(f"FAILED: {e}")
        sys.exit(1)
