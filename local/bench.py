#!/usr/bin/env python3
"""The benchmarks of benches/README.md (B1-B8), against the local emulator and
the functions' own binaries. Run by scripts/bench.sh, which builds, starts and
deploys everything first; each subcommand writes build/bench/<id>.json and
`table` prints them as one Markdown table.

  bench.py latency  [--uploads 20]     B1 upload -> job, B6 steps per update
  bench.py burst    [--uploads 200]    B5 many uploads at once
  bench.py memory   [--sizes 1,4,16,64] B3 make-stream peak RSS per size
  bench.py cold-init [--runs 20]       B2 process start -> first /next
  bench.py sizes --dir DIR             B4 bootstrap sizes
  bench.py signer-delay [--runs 3]     B7 pipeline overhead over a slow signer
  bench.py devices [--devices 50]      B8 devices on the MQTT stream (bench_devices.py)
  bench.py table                       the results table

Medians with min-max ranges: these machines are shared and noisy. Timings
come from the emulator's own execution history (millisecond timestamps) and
this process's clock, both on this machine. Runs with .venv-emulator's python;
talks to 127.0.0.1 only.
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import http.server
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import localaws  # noqa: E402  (the emulator's endpoint, clients, stack outputs)

ROOT = localaws.ROOT
OUT = ROOT / "build" / "bench"
FUNCTIONS = ["start-signing", "await-signing", "make-stream", "create-job"]
TARGETS = {  # benches/README.md
    "B1": "median <= 0.8 s",
    "B2": "<= 30 ms each",
    "B3": "<= 32 MB at every size, flat",
    "B4": "<= 8 MB each",
    "B5": "200 jobs, 0 duplicates, 0 failed executions",
    "B6": "<= 12 transitions, 4 invocations",
    "B7": "overhead <= 1 s up to 10 s, <= 10% of the delay above; <= 100 transitions at 60 s",
    "B8": "aggregate >= half the broker's raw rate; agent peak RSS flat in file size (16 MiB within 4 MiB of 1 MiB)",
}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def save(bench_id: str, result: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    result = dict(result, id=bench_id, target=TARGETS[bench_id])
    (OUT / f"{bench_id}.json").write_text(json.dumps(result, indent=2))
    log(f"{bench_id}: {result['summary']}  [{'met' if result['met'] else 'MISSED'}: {result['target']}]")


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    return (f"median {statistics.median(values):.{digits}f} {unit} "
            f"(min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})")


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))]


# ------------------------------------------------------------ the emulator


def stack() -> dict:
    return json.loads((localaws.STATE / "stack-outputs.json").read_text())


def clients(pool: int = 10):
    import boto3
    from botocore.config import Config

    cfg = Config(retries={"max_attempts": 2}, max_pool_connections=pool)
    return tuple(boto3.client(n, endpoint_url=localaws.endpoint(), region_name=localaws.REGION,
                              aws_access_key_id="test", aws_secret_access_key="test", config=cfg)
                 for n in ("s3", "stepfunctions", "iot"))


def tagging(tags: dict) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in tags.items())


class Executions:
    """The state machine's executions by (key, version id); finished ones are
    described once and kept."""

    def __init__(self, sfn, machine: str):
        self.sfn, self.machine, self.done, self.seen = sfn, machine, {}, set()

    def poll(self) -> None:
        for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=self.machine):
            for ex in page["executions"]:
                arn = ex["executionArn"]
                if arn in self.seen or ex["status"] == "RUNNING":
                    continue
                desc = self.sfn.describe_execution(executionArn=arn)
                obj = json.loads(desc.get("input") or "{}").get("detail", {}).get("object", {})
                self.done.setdefault((obj.get("key"), obj.get("version-id")), []).append(desc)
                self.seen.add(arn)

    def wait(self, wanted: set, timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.poll()
            if wanted <= self.done.keys():
                return
            time.sleep(0.05)
        missing = len(wanted - self.done.keys())
        sys.exit(f"bench: {missing} of {len(wanted)} uploads have no finished execution after {timeout:.0f} s")


def history(sfn, arn: str) -> list[dict]:
    events = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def job_created_at(events: list[dict]) -> float:
    """When the Create Job state finished: create-job returns only after
    CreateJob answered, so the job existed by then."""
    for e in events:
        if e["type"] == "TaskStateExited" and e.get("stateExitedEventDetails", {}).get("name") == "Create Job":
            return e["timestamp"].timestamp()
    raise SystemExit("bench: the execution has no 'Create Job' exit in its history")


def steps(events: list[dict]) -> tuple[int, int]:
    """(states entered, Lambda tasks scheduled) in one execution."""
    entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    invoked = sum(1 for e in events if e["type"] in ("TaskScheduled", "LambdaFunctionScheduled"))
    return entered, invoked


def one_job(iot, desc: dict) -> str:
    if desc["status"] != "SUCCEEDED":
        raise SystemExit(f"bench: execution {desc['executionArn']} {desc['status']}: "
                         f"{desc.get('error')}: {desc.get('cause')}")
    job_id = json.loads(desc["output"])["job"]["jobId"]
    iot.describe_job(jobId=job_id)  # raises if it does not exist
    return job_id


# ------------------------------------------------------------ B1 + B6


def latency(args) -> None:
    s3, sfn, iot = clients()
    out = stack()
    execs = Executions(sfn, out["StateMachineArn"])
    execs.poll()
    tags = tagging({"ota:targets": "thinggroup/Lab thing/dev-7", "ota:retry": "FAILED:2", "ota:timeout": "30"})
    runs = []
    for i in range(args.uploads + 1):
        key = f"{out['UploadPrefix']}bench-latency-{int(time.time())}-{i}.bin"
        t0 = time.time()
        version = s3.put_object(Bucket=out["FirmwareBucketName"], Key=key, Body=os.urandom(64 * 1024),
                                Tagging=tags)["VersionId"]
        execs.wait({(key, version)}, timeout=120)
        [desc] = execs.done[(key, version)]
        one_job(iot, desc)
        events = history(sfn, desc["executionArn"])
        runs.append({"seconds": job_created_at(events) - t0, "steps": steps(events)})
    first, warm = runs[0], runs[1:]
    warm_s = [r["seconds"] for r in warm]
    save("B1", {
        "first_after_deploy_s": first["seconds"], "warm_s": warm_s,
        "summary": f"warm {spread(warm_s, 's')}; first after deploy {first['seconds']:.2f} s",
        "met": statistics.median(warm_s) <= 0.8,
    })
    entered = [r["steps"][0] for r in runs]
    invoked = [r["steps"][1] for r in runs]
    save("B6", {
        "states_entered": entered, "lambda_invocations": invoked,
        "summary": f"{max(entered)} state transitions and {max(invoked)} Lambda invocations per update "
                   f"(most of {len(runs)} runs; signer answered at the first look)",
        "met": max(entered) <= 12 and max(invoked) <= 4,
    })


# ------------------------------------------------------------ B5


def burst(args) -> None:
    n = args.uploads
    s3, sfn, iot = clients(pool=n)
    out = stack()
    execs = Executions(sfn, out["StateMachineArn"])
    execs.poll()
    tags = tagging({"ota:targets": "thinggroup/Fleet"})
    run = int(time.time())
    prefix = f"burst{run}-"

    def upload(i: int) -> tuple[str, str, float]:
        key = f"{out['UploadPrefix']}{prefix}{i}.bin"
        t0 = time.time()
        v = s3.put_object(Bucket=out["FirmwareBucketName"], Key=key, Body=os.urandom(16 * 1024),
                          Tagging=tags)["VersionId"]
        return key, v, t0

    cpu_before = cpu_seconds()
    started = time.time()
    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        uploads = list(pool.map(upload, range(n)))
    log(f"{n} uploads sent in {time.time() - started:.1f} s; waiting for the pipeline")
    wanted = {(k, v) for k, v, _ in uploads}
    execs.wait(wanted, timeout=600)
    wall = time.time() - started
    cpu = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_seconds().items()}
    per_upload, failed, executions, job_ids = [], 0, 0, set()
    for key, version, t0 in uploads:
        descs = execs.done[(key, version)]
        executions += len(descs)
        for d in descs:
            if d["status"] != "SUCCEEDED":
                failed += 1
                continue
            job_ids.add(one_job(iot, d))
            per_upload.append(job_created_at(history(sfn, d["executionArn"])) - t0)
    stem = f"AFR_OTA-{prefix}"  # job ids are AFR_OTA-<file stem>-<hash> (crates/ota-core/src/ids.rs)
    listed = [j["jobId"] for page in iot.get_paginator("list_jobs").paginate()
              for j in page["jobs"] if j["jobId"].startswith(stem)]
    duplicates = len(listed) - len(set(listed)) + max(0, len(listed) - n)
    save("B5", {
        "uploads": n, "executions": executions, "failed_executions": failed, "jobs": len(listed),
        "distinct_jobs_from_executions": len(job_ids), "duplicates": duplicates, "wall_s": wall,
        "p95_s": percentile(per_upload, 95) if per_upload else None, "cpu_s": cpu,
        "summary": (f"{len(listed)} jobs, {duplicates} duplicates, {failed} failed of {executions} executions; "
                    f"wall {wall:.1f} s; per upload p95 {percentile(per_upload, 95):.2f} s, "
                    f"{spread(per_upload, 's')}; CPU: emulator {cpu['emulator']:.0f} s, "
                    f"function processes {cpu['functions']:.0f} s"),
        "met": len(listed) == n and len(job_ids) == n and duplicates == 0 and failed == 0 and executions == n,
    })


def cpu_seconds() -> dict:
    """CPU time used so far by the emulator (one Python process) and by the
    function processes it runs (every live `bootstrap`): where a burst's time
    goes."""
    tick = os.sysconf("SC_CLK_TCK")
    emulator_pid = int(localaws.PID_FILE.read_text())
    totals = {"emulator": 0.0, "functions": 0.0}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            exe = os.readlink(d / "exe")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(d.name) == emulator_pid:
            totals["emulator"] += used
        elif exe.endswith("/bootstrap"):
            totals["functions"] += used
    return totals


# ------------------------------------------------------------ a local Lambda Runtime API


class RuntimeApi:
    """The Lambda Runtime API on 127.0.0.1, enough for one bootstrap process:
    hands out the queued events and records when the process first asked
    (ready for its first event) and what each invocation returned."""

    def __init__(self, events: list[dict]):
        self.events, self.first_next, self.results = list(events), None, []
        self.cond = threading.Condition()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def reply(self, code: int, body: bytes = b"", headers: dict | None = None):
                try:
                    self.send_response(code)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the process was killed after the measurement

            def do_GET(self):
                if not self.path.endswith("/invocation/next"):
                    return self.reply(404)
                with api.cond:
                    if api.first_next is None:
                        api.first_next = time.perf_counter()
                        api.cond.notify_all()
                    while not api.events:
                        api.cond.wait()
                    event = api.events.pop(0)
                if event is None:  # shut down: the process is being killed
                    return self.reply(500)
                rid = f"bench-{time.time_ns()}"
                self.reply(200, json.dumps(event).encode(), {
                    "Lambda-Runtime-Aws-Request-Id": rid,
                    "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 300_000),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:bench",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                })

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with api.cond:
                    api.results.append((self.path.rsplit("/", 1)[-1], body))
                    api.cond.notify_all()
                self.reply(202)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def wait(self, pred, timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(pred, timeout)

    def close(self) -> None:
        with self.cond:
            self.events.append(None)
            self.cond.notify_all()
        self.server.shutdown()
        self.server.server_close()


def function_env(name: str, api: RuntimeApi) -> dict:
    out = stack() if (localaws.STATE / "stack-outputs.json").exists() else {}
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_REGION": localaws.REGION, "AWS_DEFAULT_REGION": localaws.REGION,
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_LAMBDA_LOG_LEVEL": "WARN",
        # The functions' own settings, as template.yaml sets them.
        "UPLOAD_PREFIX": out.get("UploadPrefix", "firmware/"), "SIGNED_PREFIX": "signed/",
        "MANIFEST_PREFIX": "manifests/", "DEFAULT_SIGNING_PROFILE": localaws.PROFILE,
        "DEFAULT_PROTOCOLS": "MQTT", "DEFAULT_DOCUMENT_FORMAT": "afr_ota", "DEFAULT_DEVICES": "",
        "MAX_SIGNING_WAIT_SECONDS": "900",
        "OTA_ROLE_ARN": out.get("OtaRoleArn", "arn:aws:iam::000000000000:role/ota-bench"),
    }
    if (localaws.ENDPOINT_FILE).exists():
        env["AWS_ENDPOINT_URL"] = localaws.endpoint()
    return env


def bootstrap(bin_dir: Path, name: str) -> Path:
    path = bin_dir / name
    if not path.is_file():
        sys.exit(f"bench: {path} is missing (scripts/build-host.sh --release builds it)")
    return path


# ------------------------------------------------------------ B2


def cold_init(args) -> None:
    per_function = {}
    for name in FUNCTIONS:
        exe = bootstrap(args.bin_dir, name)
        times = []
        for _ in range(args.runs):
            api = RuntimeApi([])
            env = function_env(name, api)
            t0 = time.perf_counter()
            proc = subprocess.Popen([str(exe)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            ready = api.wait(lambda: api.first_next is not None, timeout=10)
            proc.kill()
            _, err = proc.communicate()
            api.close()
            if not ready:
                sys.exit(f"bench: {name} never asked for an event:\n{err.decode()[-2000:]}")
            times.append((api.first_next - t0) * 1000)
        per_function[name] = times
    worst = max(statistics.median(t) for t in per_function.values())
    save("B2", {
        "ms": per_function, "binaries": str(args.bin_dir),
        "summary": "; ".join(f"{n} {spread(t, 'ms', 1)}" for n, t in per_function.items()),
        "met": worst <= 30,
    })


# ------------------------------------------------------------ B3


def signed_object(firmware: bytes) -> bytes:
    """A JSONEmbedded signed object as AWS Signer writes it for the
    AmazonFreeRTOS-* platforms: the firmware inside, base64."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    sig = ec.generate_private_key(ec.SECP256R1()).sign(firmware, ec.ECDSA(hashes.SHA256()))
    head = json.dumps({"rawPayloadSize": len(firmware), "signature": base64.b64encode(sig).decode(),
                       "signatureAlgorithm": "SHA256withECDSA"})
    return head[:-1].encode() + b', "payload": "' + base64.b64encode(firmware) + b'"}'


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("bench: no VmHWM in /proc (Linux only)")


def memory(args) -> None:
    s3, _, _ = clients()
    out = stack()
    bucket = out["FirmwareBucketName"]
    template = json.loads((ROOT / "events" / "make-stream.json").read_text())
    exe = bootstrap(args.bin_dir, "make-stream")
    peaks = {}
    for mb in args.sizes:
        firmware = os.urandom(mb * 1024 * 1024)
        # Outside the upload prefix: the pipeline does not pick these up.
        key, signed_key = f"bench/firmware-{mb}MB.bin", f"bench/signed-{mb}MB.json"
        version = s3.put_object(Bucket=bucket, Key=key, Body=firmware)["VersionId"]
        s3.put_object(Bucket=bucket, Key=signed_key, Body=signed_object(firmware))
        del firmware
        state = json.loads(json.dumps(template))
        state["executionId"] = f"{out['StateMachineArn'].replace(':stateMachine:', ':execution:')}:bench-{mb}"
        state["source"].update(bucket=bucket, key=key, versionId=version, size=mb * 1024 * 1024,
                               account="000000000000")
        state["signing"]["signedObject"] = {"bucket": bucket, "key": signed_key}
        api = RuntimeApi([state])
        proc = subprocess.Popen([str(exe)], env=function_env("make-stream", api),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        answered = api.wait(lambda: api.results, timeout=120)
        peak = peak_rss_kb(proc.pid) if answered else None
        proc.kill()
        _, err = proc.communicate()
        api.close()
        if not answered:
            sys.exit(f"bench: make-stream gave no answer for {mb} MB:\n{err.decode()[-2000:]}")
        kind, body = api.results[0]
        if kind != "response":
            sys.exit(f"bench: make-stream failed on {mb} MB: {body.decode()[:2000]}")
        made = json.loads(body)
        assert made["signedFile"]["size"] == mb * 1024 * 1024, made["signedFile"]
        peaks[mb] = peak / 1024
        log(f"make-stream read a {mb} MB JSONEmbedded object: peak RSS {peaks[mb]:.1f} MB")
    values = list(peaks.values())
    save("B3", {
        "peak_rss_mb": peaks, "binaries": str(args.bin_dir),
        "summary": ", ".join(f"{mb} MB: {p:.1f} MB" for mb, p in peaks.items())
                   + f" (spread {max(values) - min(values):.1f} MB)",
        "met": max(values) <= 32 and max(values) - min(values) <= 4,
    })


# ------------------------------------------------------------ B4


def sizes(args) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_bootstraps", ROOT / "scripts" / "check-bootstraps.py")
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    mb, failures = check.bootstraps(args.dir, args.arch)
    if failures:
        sys.exit("bench: " + "; ".join(failures))
    save("B4", {
        "mb": mb, "arch": args.arch,
        "summary": ", ".join(f"{k.removesuffix('Function')} {v:.2f} MB" for k, v in mb.items())
                   + f" ({args.arch}, stripped; 1 MB = 10^6 bytes)",
        "met": all(v <= 8 for v in mb.values()),
    })


# ------------------------------------------------------------ B7


def signer_delay(args) -> None:
    """Upload -> job minus the signer's delay, and the state transitions, for
    signers that take 2-60 s (the emulator's --signer-delay @FILE, which
    localaws.py up points at SIGNER_DELAY_FILE)."""
    s3, sfn, iot = clients()
    out = stack()
    execs = Executions(sfn, out["StateMachineArn"])
    execs.poll()
    tags = tagging({"ota:targets": "thinggroup/Lab"})
    results = {}
    try:
        for delay in args.delays:
            localaws.SIGNER_DELAY_FILE.write_text(f"{delay}\n")
            runs = []
            for i in range(args.runs):
                key = f"{out['UploadPrefix']}bench-signer-{delay}s-{int(time.time())}-{i}.bin"
                t0 = time.time()
                version = s3.put_object(Bucket=out["FirmwareBucketName"], Key=key,
                                        Body=os.urandom(64 * 1024), Tagging=tags)["VersionId"]
                execs.wait({(key, version)}, timeout=delay + 120)
                [desc] = execs.done[(key, version)]
                one_job(iot, desc)
                events = history(sfn, desc["executionArn"])
                runs.append({"overhead_s": job_created_at(events) - t0 - delay,
                             "transitions": steps(events)[0]})
                log(f"B7 {delay} s: overhead {runs[-1]['overhead_s']:.2f} s, "
                    f"{runs[-1]['transitions']} transitions")
            results[delay] = runs
    finally:
        localaws.SIGNER_DELAY_FILE.write_text("0\n")

    def within(delay, overhead):
        return overhead <= 1.0 if delay <= 10 else overhead <= 0.1 * delay

    medians = {d: statistics.median(r["overhead_s"] for r in runs) for d, runs in results.items()}
    transitions = {d: max(r["transitions"] for r in runs) for d, runs in results.items()}
    save("B7", {
        "runs": {str(d): r for d, r in results.items()},
        "summary": "; ".join(
            f"{d} s: overhead **{medians[d]:.2f} s** "
            f"({spread([r['overhead_s'] for r in results[d]], 's').split('(')[-1].rstrip(')')}), "
            f"{transitions[d]} transitions" for d in results),
        "met": all(within(d, m) for d, m in medians.items())
        and all(t <= 100 for d, t in transitions.items() if d <= 60),
    })


# ------------------------------------------------------------ table


def table(_args) -> None:
    rows = []
    for bench_id in TARGETS:
        f = OUT / f"{bench_id}.json"
        if not f.exists():
            rows.append(f"| {bench_id} | not run | {TARGETS[bench_id]} | - |")
            continue
        r = json.loads(f.read_text())
        rows.append(f"| {bench_id} | {r['summary']} | {r['target']} | {'met' if r['met'] else '**missed**'} |")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"Ran {time.strftime('%Y-%m-%d', time.gmtime())} on {os.cpu_count()} cores ({cpu}), "
          f"{platform.system()} {platform.machine()}, Python {platform.python_version()}.\n")
    print("| id | result | target | |\n|---|---|---|---|")
    print("\n".join(rows))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("latency")
    a.add_argument("--uploads", type=int, default=20)
    a.set_defaults(fn=latency)
    a = sub.add_parser("burst")
    a.add_argument("--uploads", type=int, default=200)
    a.set_defaults(fn=burst)
    a = sub.add_parser("memory")
    a.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 16, 64])
    a.add_argument("--bin-dir", type=Path, default=ROOT / "target" / "release")
    a.set_defaults(fn=memory)
    a = sub.add_parser("cold-init")
    a.add_argument("--runs", type=int, default=20)
    a.add_argument("--bin-dir", type=Path, default=ROOT / "target" / "release")
    a.set_defaults(fn=cold_init)
    a = sub.add_parser("sizes")
    a.add_argument("--dir", type=Path, required=True)
    a.add_argument("--arch", default="aarch64")
    a.set_defaults(fn=sizes)
    a = sub.add_parser("signer-delay")
    a.add_argument("--delays", type=lambda s: [int(x) for x in s.split(",")], default=[2, 5, 10, 30, 60])
    a.add_argument("--runs", type=int, default=3)
    a.set_defaults(fn=signer_delay)
    a = sub.add_parser("devices")
    a.add_argument("--devices", type=int, default=50)
    a.add_argument("--ota", type=Path, default=ROOT / "target" / "release" / "ota")
    a.set_defaults(fn=lambda args: __import__("bench_devices").devices(args, save, spread, clients))
    sub.add_parser("table").set_defaults(fn=table)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
