"""B8 (benches/README.md): devices taking an update over the MQTT stream.

50 reference agents (`ota device`, one process and one MQTT connection
each, WebSocket signed with SigV4, as the FreeRTOS OTA agent: CBOR
GetStream, 4 KiB blocks) take a 1 MiB update on the deployed local stack:
the time from launching them until every one exited having reported
SUCCEEDED, and each device's download throughput (1 MiB over the stream
download's own time, from `--output json`). In the same run, the emulator
broker's raw rate for the same bytes: 50 MQTT connections each publishing
the file in 4 KiB QoS 0 messages to a topic it subscribes to, until all
arrived; the result is the ratio of the two aggregate rates. Then the
agent's peak RSS (its VmHWM) for a 1 MiB and a 16 MiB file, as
the AWS IoT Jobs OTA parser (the FreeRTOS agent's default build refuses a
file over 4 MiB, ota.c L2264).
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
import uuid
from pathlib import Path

import localaws
from emulator_check_mqtt import Device, data_host, presigned_path

MIB = 1024 * 1024
BLOCK = 4096


def _ota_env() -> dict:
    env = dict(os.environ, AWS_ENDPOINT_URL=localaws.endpoint(), AWS_REGION=localaws.REGION,
               AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_PROFILE", None)
    return env


def _fleet(iot, n: int) -> tuple[str, list[str]]:
    tag = uuid.uuid4().hex[:6]
    group = f"bench-b8-{tag}"
    iot.create_thing_group(thingGroupName=group)
    things = []
    for i in range(n):
        t = f"bench-b8-{tag}-{i}"
        iot.create_thing(thingName=t)
        iot.add_thing_to_thing_group(thingGroupName=group, thingName=t)
        things.append(t)
    return group, things


def _upload(ota: str, target: str, size: int, out_dir) -> str:
    path = out_dir / f"b8-{size // MIB}mib-{uuid.uuid4().hex[:6]}.bin"
    path.write_bytes(os.urandom(size))
    done = subprocess.run([ota, "upload", str(path), "--targets", target, "--protocols", "MQTT",
                           "--output", "json"], env=_ota_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"bench: ota upload exited {done.returncode}: {done.stderr}")
    return json.loads(done.stdout)["jobId"]


def _agent(ota: str, thing: str, out_dir, family: str = "freertos-ota-agent") -> subprocess.Popen:
    return subprocess.Popen(
        [ota, "device", "--thing", thing, "--family", family,
         "--signer-cert", str(localaws.CERT_FILE), "--out", str(out_dir / thing),
         "--once", "--wait-for-job", "60", "--output", "json"],
        env=_ota_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> tuple[dict, float]:
    """The agent's JSON result and its peak RSS in MiB.

    The peak is the process's own VmHWM (/proc/PID/status), sampled every
    10 ms until it exits: wait4's ru_maxrss would not do, as Linux carries
    the forking parent's (this Python's) high-water mark across exec."""
    peak_kib = 0
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            hwm = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
            peak_kib = max(peak_kib, hwm)
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.01)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"bench: ota device exited {proc.returncode}: {err.strip()[-500:]}")
    return json.loads(out), peak_kib / 1024


def _broker_raw(n: int, size: int) -> float:
    """Seconds for n connections to each publish `size` bytes in BLOCK-byte
    QoS 0 messages to their own topic and receive them all."""
    ep = localaws.endpoint()
    host = data_host(ep)
    devices, topics = [], []
    for _ in range(n):
        d = Device()
        got = d.ws(ep, presigned_path(host, "test", "test"), host)
        if got != "connected":
            raise SystemExit(f"bench: broker connection: {got}")
        topic = "bench/b8/" + uuid.uuid4().hex[:8]
        d.subscribe(topic)
        devices.append(d)
        topics.append(topic)
    block = os.urandom(BLOCK)
    count = size // BLOCK
    start = threading.Barrier(n + 1)
    done = queue.Queue()

    def run(d: Device, topic: str) -> None:
        start.wait()
        for _ in range(count):
            d.c.publish(topic, block, qos=0)
        received = 0
        try:
            while received < count:
                d.inbox.get(timeout=30)
                received += 1
        except queue.Empty:
            pass
        done.put(received)

    threads = [threading.Thread(target=run, args=(d, t)) for d, t in zip(devices, topics)]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join()
    seconds = time.monotonic() - began
    for d in devices:
        d.close()
    received = [done.get() for _ in threads]
    if sum(received) != n * count:
        raise SystemExit(f"bench: the broker delivered {sum(received)} of {n * count} QoS 0 messages")
    return seconds


def devices(args, save, spread, clients) -> None:
    _, _, iot = clients()
    ota = str(args.ota)
    out_dir = localaws.STATE / "bench-b8"
    out_dir.mkdir(parents=True, exist_ok=True)
    group, things = _fleet(iot, args.devices)
    job = _upload(ota, f"thinggroup/{group}", MIB, out_dir)
    began = time.monotonic()
    procs = [_agent(ota, t, out_dir) for t in things]
    # One at a time: each is sampled until it exits, all run meanwhile.
    results = [_finish(p) for p in procs]
    wall = time.monotonic() - began
    for r, _ in results:
        if r["jobs"][0]["jobId"] != job or r["jobs"][0]["status"] != "SUCCEEDED":
            raise SystemExit(f"bench: an agent did not succeed on {job}: {r}")
    rates = [MIB / r["jobs"][0]["streamed"]["seconds"] / MIB for r, _ in results]
    agent_total = args.devices * MIB / wall / MIB
    raw_seconds = _broker_raw(args.devices, MIB)
    raw_total = args.devices * MIB / raw_seconds / MIB
    # Peak memory for one agent: 1 MiB and 16 MiB, as the AWS IoT Jobs OTA
    # parser (also streams when MQTT comes first): a FreeRTOS agent's
    # default block bitmap covers 4 MiB, and the agent refuses more as the
    # library would.
    peaks = {}
    for size_mib in (1, 16):
        _, (thing,) = _fleet(iot, 1)
        _upload(ota, f"thing/{thing}", size_mib * MIB, out_dir)
        result, peak = _finish(_agent(ota, thing, out_dir, "aws-iot-jobs-parser"))
        if result["jobs"][0]["status"] != "SUCCEEDED":
            raise SystemExit(f"bench: the {size_mib} MiB agent: {result}")
        peaks[size_mib] = peak
    ratio = agent_total / raw_total
    flat = peaks[16] - peaks[1] <= 4
    save("B8", {
        "devices": args.devices, "wall_s": wall, "per_device_mib_s": rates,
        "agent_total_mib_s": agent_total, "broker_raw_s": raw_seconds, "broker_raw_mib_s": raw_total,
        "ratio": ratio, "peak_rss_mib": peaks,
        "summary": (f"{args.devices} devices, 1 MiB each: all SUCCEEDED in **{wall:.1f} s**; per device "
                    f"{spread(rates, 'MiB/s')}; aggregate {agent_total:.1f} MiB/s vs the broker's raw "
                    f"{raw_total:.1f} MiB/s: ratio **{ratio:.2f}**; agent peak RSS 1 MiB "
                    f"**{peaks[1]:.1f} MiB**, 16 MiB **{peaks[16]:.1f} MiB**"),
        "met": ratio >= 0.5 and flat,
    })
