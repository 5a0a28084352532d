"""emulator_check's job-retry part: drives IoT Jobs as a device does (boto3's
iot-jobs-data client, and MQTT over WebSocket for notifications) and checks
what local/emulator_retry.py adds (AWS IoT developer guide, "How job
configurations work", "Job execution retry configuration").

Run by emulator_check.py, whose emulator has --jobs-clock-file (TIMED_OUT
retries are checked by moving IoT Jobs' clock ahead, not by waiting minutes)."""
from __future__ import annotations

import json
import os
import queue
import time
from urllib.parse import urlsplit

from check_support import check, client

ACCOUNT = "000000000000"


def thing_arn(name):
    return f"arn:aws:iot:us-east-1:{ACCOUNT}:thing/{name}"


class Jobs:
    """One thing's view of IoT Jobs, control plane and device plane."""

    def __init__(self, ep, thing):
        self.iot, self.dev, self.thing = client("iot", ep), client("iot-jobs-data", ep), thing
        self.iot.create_thing(thingName=thing)

    def create(self, job_id, retry, **extra):
        self.iot.create_job(jobId=job_id, targets=extra.pop("targets", [thing_arn(self.thing)]),
                            document='{"op":"retry-check"}',
                            jobExecutionsRetryConfig={"criteriaList": retry}, **extra)

    def start_next(self):
        return self.dev.start_next_pending_job_execution(thingName=self.thing).get("execution")

    def report(self, job_id, status):
        return self.dev.update_job_execution(jobId=job_id, thingName=self.thing, status=status,
                                             includeJobExecutionState=True)["executionState"]

    def current(self, job_id, number=None):
        extra = {} if number is None else {"executionNumber": number}
        return self.iot.describe_job_execution(jobId=job_id, thingName=self.thing, **extra)["execution"]

    def summaries(self, job_id):
        """(executionNumber, status, retryAttempt) of the thing's executions of the job, newest first."""
        got = self.iot.list_job_executions_for_thing(thingName=self.thing, jobId=job_id)["executionSummaries"]
        rows = [(s["jobExecutionSummary"]["executionNumber"], s["jobExecutionSummary"]["status"],
                 s["jobExecutionSummary"].get("retryAttempt")) for s in got]
        return sorted(rows, reverse=True)

    def for_job(self, job_id):
        got = self.iot.list_job_executions_for_job(jobId=job_id)["executionSummaries"]
        return sorted(((s["jobExecutionSummary"]["executionNumber"], s["jobExecutionSummary"]["status"],
                        s["jobExecutionSummary"].get("retryAttempt")) for s in got), reverse=True)

    def job_status(self, job_id):
        return self.iot.describe_job(jobId=job_id)["job"]["status"]


class Device:
    """MQTT over SigV4-signed WebSocket, subscribed to the thing's jobs topics."""

    def __init__(self, ep, thing):
        import paho.mqtt.client as mqtt

        from emulator_check_mqtt import data_host, presigned_path

        host = data_host(ep)
        self.thing, self.inbox, acks = thing, queue.Queue(), queue.Queue()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=thing, transport="websockets")
        self.c.ws_set_options(path=presigned_path(host, "test", "test"), headers={"Host": host})
        self.c.on_connect = lambda *_a: acks.put("connack")
        self.c.on_subscribe = lambda *_a: acks.put("suback")
        self.c.on_message = lambda _c, _u, m: self.inbox.put((m.topic, json.loads(m.payload)))
        self.c.connect("127.0.0.1", urlsplit(ep).port, keepalive=30)
        self.c.loop_start()
        acks.get(timeout=10)
        self.c.subscribe(f"$aws/things/{thing}/jobs/#", qos=1)
        acks.get(timeout=10)

    def drain(self):
        while not self.inbox.empty():
            self.inbox.get()

    def wait(self, suffix, timeout=5):
        """The next message on $aws/things/<thing>/jobs/<suffix>, or None."""
        topic, deadline = f"$aws/things/{self.thing}/jobs/{suffix}", time.time() + timeout
        while time.time() < deadline:
            try:
                got, payload = self.inbox.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if got == topic:
                return payload
        return None

    def request(self, suffix, payload):
        self.drain()
        self.c.publish(f"$aws/things/{self.thing}/jobs/{suffix}", json.dumps(payload), qos=1)
        return self.wait(suffix + "/accepted")

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


def job_retries(ep, clock_file=None):
    """Retries of FAILED (and, with a test clock, TIMED_OUT) executions."""
    cases = [failed_retries, succeeded_stops, rejected_not_retried, abort_cancels_retry,
             retries_set_to_zero, left_group_not_retried, mqtt_notifications]
    if clock_file:
        def timed_out(ep):
            return timed_out_retries(ep, clock_file)
        cases.append(timed_out)
    else:
        # inProgressTimeoutInMinutes is at least 1 (minutes, as on AWS), and
        # the TIMED_OUT flip follows ministack's clock; without a test clock
        # that is a real minute per attempt, so the live case is skipped.
        print("SKIP TIMED_OUT retries (no test clock)")
    ok = True
    for case in cases:
        try:
            ok &= case(ep)
        except Exception as e:  # one broken case must not hide the others
            ok &= check(f"{case.__name__} ran to the end", False, repr(e)[:300])
    return ok


def failed_retries(ep):
    """FAILED:2 offers the execution exactly twice more, numbered 2 and 3, then the job completes."""
    j, job = Jobs(ep, "retry-dev-failed"), "retry-failed"
    j.create(job, [{"failureType": "FAILED", "numberOfRetries": 2}])
    ok = True
    for number in (1, 2, 3):
        offered = j.start_next()
        ok &= check(f"FAILED:2 attempt {number} offered by start-next",
                    offered is not None and offered["jobId"] == job and offered["executionNumber"] == number,
                    json.dumps(offered, default=str)[:160])
        ok &= check(f"FAILED:2 attempt {number} retryAttempt {number - 1}",
                    j.summaries(job)[0] == (number, "IN_PROGRESS", number - 1), repr(j.summaries(job)))
        state = j.report(job, "FAILED")
        ok &= check(f"FAILED:2 attempt {number} FAILED accepted", state["status"] == "FAILED", repr(state))
        if number < 3:
            cur = j.current(job)
            ok &= check(f"FAILED:2 after failure {number}: execution {number + 1} QUEUED",
                        (cur["executionNumber"], cur["status"]) == (number + 1, "QUEUED"), repr(cur))
            ok &= check(f"FAILED:2 after failure {number}: execution {number} still FAILED",
                        j.current(job, number)["status"] == "FAILED")
            pending = j.dev.get_pending_job_executions(thingName=j.thing)["queuedJobs"]
            ok &= check(f"FAILED:2 after failure {number}: GetPendingJobExecutions lists the retry",
                        [(p["jobId"], p["executionNumber"]) for p in pending] == [(job, number + 1)], repr(pending))
            peek = j.dev.describe_job_execution(jobId="$next", thingName=j.thing).get("execution") or {}
            ok &= check(f"FAILED:2 after failure {number}: $next is the retry",
                        (peek.get("executionNumber"), peek.get("status")) == (number + 1, "QUEUED"), repr(peek))
            ok &= check(f"FAILED:2 after failure {number}: job still IN_PROGRESS",
                        j.job_status(job) == "IN_PROGRESS")
    ok &= check("FAILED:2 not offered a fourth time", j.start_next() is None)
    ok &= check("FAILED:2 job COMPLETED after the last attempt", j.job_status(job) == "COMPLETED")
    want = [(3, "FAILED", 2), (2, "FAILED", 1), (1, "FAILED", 0)]
    ok &= check("FAILED:2 ListJobExecutionsForThing: 3 attempts, retryAttempt 2,1,0",
                j.summaries(job) == want, repr(j.summaries(job)))
    ok &= check("FAILED:2 ListJobExecutionsForJob: the same", j.for_job(job) == want, repr(j.for_job(job)))
    return ok


def succeeded_stops(ep):
    j, job = Jobs(ep, "retry-dev-succeeds"), "retry-succeeds"
    j.create(job, [{"failureType": "FAILED", "numberOfRetries": 2}])
    j.start_next()
    j.report(job, "FAILED")
    offered = j.start_next()
    ok = check("SUCCEEDED: retry 1 offered", offered is not None and offered["executionNumber"] == 2)
    j.report(job, "SUCCEEDED")
    ok &= check("SUCCEEDED attempt stops retries", j.start_next() is None)
    ok &= check("SUCCEEDED: job COMPLETED", j.job_status(job) == "COMPLETED")
    ok &= check("SUCCEEDED: executions", j.summaries(job) == [(2, "SUCCEEDED", 1), (1, "FAILED", 0)],
                repr(j.summaries(job)))
    return ok


def rejected_not_retried(ep):
    j, job = Jobs(ep, "retry-dev-rejects"), "retry-rejects"
    j.create(job, [{"failureType": "ALL", "numberOfRetries": 5}])
    j.start_next()
    j.report(job, "REJECTED")
    ok = check("REJECTED is not retried (ALL:5)", j.start_next() is None)
    ok &= check("REJECTED: job COMPLETED, one execution",
                j.job_status(job) == "COMPLETED" and j.summaries(job) == [(1, "REJECTED", 0)], repr(j.summaries(job)))
    return ok


def abort_cancels_retry(ep):
    """An abort that the failure meets cancels the job and its queued retry."""
    j, job = Jobs(ep, "retry-dev-abort"), "retry-abort"
    j.create(job, [{"failureType": "FAILED", "numberOfRetries": 2}],
             abortConfig={"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                            "thresholdPercentage": 100, "minNumberOfExecutedThings": 1}]})
    j.start_next()
    j.report(job, "FAILED")
    ok = check("abort: the failure that meets the abort criteria cancels the job", j.job_status(job) == "CANCELED")
    ok &= check("abort: the queued retry is CANCELED, not attempted",
                j.summaries(job) == [(2, "CANCELED", 1), (1, "FAILED", 0)] and j.start_next() is None,
                repr(j.summaries(job)))
    return ok


def retries_set_to_zero(ep):
    """UpdateJob may set numberOfRetries to 0; the queued retry stays, no further one comes."""
    j, job = Jobs(ep, "retry-dev-zero"), "retry-zero"
    j.create(job, [{"failureType": "FAILED", "numberOfRetries": 3}])
    j.start_next()
    j.report(job, "FAILED")
    j.iot.update_job(jobId=job, jobExecutionsRetryConfig={"criteriaList": [
        {"failureType": "FAILED", "numberOfRetries": 0}]})
    offered = j.start_next()
    ok = check("retries set to 0: the retry already queued is still offered",
               offered is not None and offered["executionNumber"] == 2)
    j.report(job, "FAILED")
    ok &= check("retries set to 0: no further retry, job COMPLETED",
                j.start_next() is None and j.job_status(job) == "COMPLETED")
    return ok


def left_group_not_retried(ep):
    """A CONTINUOUS job retries no thing that left its target group."""
    j, job = Jobs(ep, "retry-dev-left"), "retry-left"
    group = j.iot.create_thing_group(thingGroupName="retry-fleet")["thingGroupArn"]
    j.iot.add_thing_to_thing_group(thingGroupName="retry-fleet", thingName=j.thing)
    j.create(job, [{"failureType": "FAILED", "numberOfRetries": 2}], targets=[group], targetSelection="CONTINUOUS")
    j.start_next()
    j.report(job, "FAILED")
    ok = check("CONTINUOUS: a member's failure is retried", j.current(job)["executionNumber"] == 2)
    j.start_next()
    j.iot.remove_thing_from_thing_group(thingGroupName="retry-fleet", thingName=j.thing)
    j.report(job, "FAILED")
    ok &= check("CONTINUOUS: no retry after the thing left the group",
                j.start_next() is None and j.summaries(job)[0] == (2, "FAILED", 1), repr(j.summaries(job)))
    return ok


def mqtt_notifications(ep):
    """notify / notify-next announce each retry; an MQTT FAILED report is retried too."""
    j, job = Jobs(ep, "retry-dev-mqtt"), "retry-mqtt"
    d = Device(ep, j.thing)
    try:
        j.create(job, [{"failureType": "FAILED", "numberOfRetries": 2}])
        first = d.wait("notify-next")
        ok = check("MQTT: notify-next for the new job",
                   first is not None and first["execution"]["executionNumber"] == 1, repr(first))
        j.start_next()
        d.drain()
        j.report(job, "FAILED")
        listed = d.wait("notify")
        ok &= check("MQTT: notify lists the retry QUEUED",
                    listed is not None and [(q["jobId"], q["executionNumber"]) for q in listed["jobs"].get("QUEUED", [])]
                    == [(job, 2)], repr(listed))
        nxt = d.wait("notify-next")
        ok &= check("MQTT: notify-next announces the retry (same job, execution 2)",
                    nxt is not None and (nxt["execution"]["jobId"], nxt["execution"]["status"],
                                         nxt["execution"]["executionNumber"]) == (job, "QUEUED", 2), repr(nxt))
        started = d.request("start-next", {"clientToken": "c1"})
        ok &= check("MQTT: start-next hands out execution 2",
                    started is not None and started["execution"]["executionNumber"] == 2, repr(started)[:160])
        updated = d.request(f"{job}/update", {"status": "FAILED", "clientToken": "c2"})
        ok &= check("MQTT: FAILED report over MQTT accepted", updated is not None, repr(updated))
        nxt = d.wait("notify-next")
        ok &= check("MQTT: FAILED over MQTT is retried (notify-next, execution 3)",
                    nxt is not None and nxt["execution"]["executionNumber"] == 3, repr(nxt))
        d.request("start-next", {})
        d.request(f"{job}/update", {"status": "FAILED"})
        nxt = d.wait("notify-next")
        ok &= check("MQTT: after the last attempt notify-next says nothing is next",
                    nxt is not None and "execution" not in nxt, repr(nxt))
        ok &= check("MQTT: job COMPLETED", j.job_status(job) == "COMPLETED")
    finally:
        d.close()
    return ok


def timed_out_retries(ep, clock_file):
    """TIMED_OUT and FAILED each have their own count; ALL counts both."""
    offset = [0]

    def advance(seconds):
        offset[0] += seconds
        with open(clock_file, "w") as f:
            f.write(f"{offset[0]}\n")

    ok = True
    j, job = Jobs(ep, "retry-dev-timeout"), "retry-timeout"
    d = Device(ep, j.thing)
    try:
        j.create(job, [{"failureType": "TIMED_OUT", "numberOfRetries": 1},
                       {"failureType": "FAILED", "numberOfRetries": 1}],
                 timeoutConfig={"inProgressTimeoutInMinutes": 1})
        j.start_next()
        d.drain()
        advance(61)
        cur = j.current(job)  # this read times execution 1 out
        ok &= check("TIMED_OUT: the read that times execution 1 out shows retry 2 QUEUED",
                    (cur["executionNumber"], cur["status"]) == (2, "QUEUED"), repr(cur))
        ok &= check("TIMED_OUT: execution 1 is TIMED_OUT", j.current(job, 1)["status"] == "TIMED_OUT")
        ok &= check("TIMED_OUT: retryAttempt 1 on execution 2",
                    j.summaries(job) == [(2, "QUEUED", 1), (1, "TIMED_OUT", 0)], repr(j.summaries(job)))
        nxt = d.wait("notify-next")
        ok &= check("TIMED_OUT: notify-next announces the retry",
                    nxt is not None and nxt["execution"]["executionNumber"] == 2, repr(nxt))
        j.start_next()
        j.report(job, "FAILED")
        ok &= check("TIMED_OUT:1 + FAILED:1: a FAILED after a timeout still has its own retry",
                    j.summaries(job)[0] == (3, "QUEUED", 2), repr(j.summaries(job)))
        j.start_next()
        advance(61)
        ok &= check("TIMED_OUT:1 used up: execution 3 stays TIMED_OUT",
                    (j.current(job)["executionNumber"], j.current(job)["status"]) == (3, "TIMED_OUT"))
        ok &= check("TIMED_OUT: job COMPLETED, nothing offered",
                    j.job_status(job) == "COMPLETED" and j.start_next() is None)
    finally:
        d.close()

    j, job = Jobs(ep, "retry-dev-all"), "retry-all"
    j.create(job, [{"failureType": "ALL", "numberOfRetries": 2}], timeoutConfig={"inProgressTimeoutInMinutes": 1})
    j.start_next()
    advance(61)
    ok &= check("ALL:2: a timeout is retried", j.current(job)["executionNumber"] == 2)
    j.start_next()
    j.report(job, "FAILED")
    ok &= check("ALL:2: then a failure is retried", j.current(job)["executionNumber"] == 3)
    j.start_next()
    j.report(job, "FAILED")
    ok &= check("ALL:2: two retries in all, then the job completes",
                j.start_next() is None and j.job_status(job) == "COMPLETED"
                and j.summaries(job) == [(3, "FAILED", 2), (2, "FAILED", 1), (1, "TIMED_OUT", 0)],
                repr(j.summaries(job)))
    return ok
