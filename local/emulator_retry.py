"""IoT Jobs execution retries (imported by local/emulator.py after ministack).

ministack stores a job's `jobExecutionsRetryConfig` and reports
`retryAttempt`, but never offers a FAILED or TIMED_OUT execution again.
install_job_retries() adds that.
"""
from __future__ import annotations

import asyncio

# Developer guide, "How job configurations work", section "Job execution retry
# configuration":
RETRY_DOC = "https://docs.aws.amazon.com/iot/latest/developerguide/jobs-configurations-details.html"
# The only statuses that get a retry; REJECTED, CANCELED and REMOVED never do.
RETRYABLE = ("FAILED", "TIMED_OUT")


def install_job_retries() -> None:
    """Retry job executions as AWS IoT Jobs does (RETRY_DOC).

    When a thing's execution of a job with a retry configuration becomes
    FAILED (the device reports it, over HTTP or MQTT) or TIMED_OUT (ministack
    flips it when it is read, _jobs_apply_timeout), and the job is still
    IN_PROGRESS, a new attempt is queued for that thing if the criteria allow
    another: "When AWS IoT Jobs detects the FAILURE status, it will then
    automatically attempt to retry the job execution for the device. The
    retries continue until the job execution succeeds or when it reaches the
    maximum number of retry attempts"; for TIMED_OUT the same, "for this
    failure type". So a criterion of FAILED or TIMED_OUT counts the retries
    that failure type caused, and ALL (which must be the only criterion)
    counts both together (RetryCriteria, API reference:
    https://docs.aws.amazon.com/iot/latest/apireference/API_RetryCriteria.html).
    REJECTED is not retried: "AWS IoT Jobs will not retry the job execution
    because it retries the job execution only when it detects a FAILED or
    TIMED_OUT status."

    The attempt is ministack's own next execution of the thing
    (_jobs_queue_execution): executionNumber + 1, QUEUED at version 1, the
    finished one kept in its history, so DescribeJobExecution with the old
    number, both ListJobExecutions*, $next and StartNextPendingJobExecution
    see it. It carries `retryAttempt` = the previous one's + 1, which
    ministack already returns where AWS models it: JobExecutionSummary, in
    ListJobExecutionsForJob and ListJobExecutionsForThing only (the
    JobExecution shapes of DescribeJobExecution and of the device plane have
    no such member).

    The retry is queued inside _jobs_maybe_complete, before ministack decides
    whether the job is complete, so a job never completes while an attempt is
    pending (nothing to undo, and no premature `completed` event).
    A SNAPSHOT job completes once the last allowed attempt ends. The abort
    check runs after it, as before, so abortConfig sees the failed attempt,
    and canceling the job cancels the queued retry: "When the abort criteria
    is met ..., only QUEUED job executions are canceled. Any queued retries
    for the device will not be attempted." ministack counts every attempt of
    a thing there (as DescribeJob's jobProcessDetails does; AWS counts each
    failed attempt too, boto/boto3#4656).

    Notification (jobs-comm-notifications): jobs/notify is published when "a
    new job execution is queued", and jobs/notify-next when "a new job
    execution is added to the list as QUEUED, and it is the first one in the
    list". After a FAILED report ministack already publishes notify (whose
    list holds the retry); notify-next it skips when the front is the same
    jobId, so here it is published when the retry is at the front. A
    TIMED_OUT flip happens on a read, where ministack notifies nothing; a
    retry queued there is notified the same way, just after that read.

    Continuous jobs: the retry count restarts when a thing rejoins (ministack
    queues a fresh execution), and a thing no longer in the job's targets
    gets no more retries ("when a thing is removed from the thing group,
    additional retry attempts are canceled")."""
    from ministack.core.responses import get_account_id, get_region
    from ministack.services import iot

    # (account, region, thing) -> {(jobId, executionNumber)} of retries that
    # jobs/notify-next has not announced yet.
    unannounced: dict[tuple, set] = {}
    tasks: set[asyncio.Task] = set()
    front_changed = object()  # never equal to a jobId: makes ministack publish notify-next

    def allowed(job: dict, failed: dict) -> bool:
        limits = {c.get("failureType"): c.get("numberOfRetries")
                  for c in (job.get("jobExecutionsRetryConfig") or {}).get("criteriaList") or []
                  if isinstance(c, dict) and isinstance(c.get("numberOfRetries"), int)}
        used = failed.get("retriesUsed") or {}
        if "ALL" in limits:
            return sum(used.values()) < limits["ALL"]
        return used.get(failed["status"], 0) < limits.get(failed["status"], 0)

    def queue_retry(failed: dict) -> None:
        thing, job_id = failed["thingName"], failed["jobId"]
        used = dict(failed.get("retriesUsed") or {})
        used[failed["status"]] = used.get(failed["status"], 0) + 1
        iot._jobs_queue_execution(thing, job_id, iot._jobs_now_ms())
        attempt = iot._job_executions[(thing, job_id)]
        attempt["retryAttempt"] = failed.get("retryAttempt", 0) + 1
        attempt["retriesUsed"] = used
        unannounced.setdefault((get_account_id(), get_region(), thing), set()).add(
            (job_id, attempt["executionNumber"]))

    orig_maybe_complete = iot._jobs_maybe_complete

    def maybe_complete(job_id: str) -> None:
        job = iot._jobs.get(job_id)
        if job is not None and job.get("status") == "IN_PROGRESS":
            targeted = None
            for execution in iot._job_executions.values():  # a snapshot list
                # Each failure is decided once, when it happens (a later delete
                # of the attempt it caused does not bring that attempt back).
                if (execution["jobId"] != job_id or execution["status"] not in RETRYABLE
                        or execution.get("retryDecided")):
                    continue
                execution["retryDecided"] = True
                if job.get("targetSelection") == "CONTINUOUS":
                    if targeted is None:
                        targeted = set(iot._job_target_things(job.get("targets")))
                    if execution["thingName"] not in targeted:
                        continue
                if allowed(job, execution):
                    queue_retry(execution)
        orig_maybe_complete(job_id)

    orig_apply_timeout = iot._jobs_apply_timeout

    def apply_timeout(execution: dict) -> dict:
        was = execution.get("status")
        orig_apply_timeout(execution)
        key = (execution["thingName"], execution["jobId"])
        current = iot._job_executions.get(key)
        timed_out = was == "IN_PROGRESS" and execution["status"] == "TIMED_OUT"
        if timed_out and current is not None and current is not execution:
            # A retry replaced the execution that just timed out (its copy is
            # in the retry's history). Callers go on with the dict they passed
            # in, so it becomes the retry: the read that timed the execution
            # out already shows the new attempt, as later reads do.
            execution.clear()
            execution.update(current)
            iot._job_executions[key] = execution
            notify_soon(execution["thingName"], execution["jobId"])
        return execution

    def notify_soon(thing: str, job_id: str) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving (no device to notify)
            return
        # The execution that timed out was pending, most likely first.
        task = loop.create_task(iot.jobs_notify_thing(get_account_id(), get_region(), thing, job_id))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    orig_notify = iot.jobs_notify_thing

    async def notify_thing(account_id, region, thing_name, prev_next_job_id):
        retries = unannounced.pop((account_id, region, thing_name), None)
        if retries:
            with iot.request_scope(account_id, region):
                pending = iot.jobs_pending_for_thing(thing_name)
            front = pending[0] if pending else None
            if front and front["status"] == "QUEUED" and (front["jobId"], front["executionNumber"]) in retries:
                prev_next_job_id = front_changed
        await orig_notify(account_id, region, thing_name, prev_next_job_id)

    # Every caller resolves these module attributes at call time: iot.py's
    # own functions through its globals, iot_jobs_data.py as _iot_module.*.
    iot._jobs_maybe_complete = maybe_complete
    iot._jobs_apply_timeout = apply_timeout
    iot.jobs_notify_thing = notify_thing


def install_jobs_clock(path: str) -> None:
    """Checks only (emulator.py --jobs-clock-file): IoT Jobs' clock runs
    ahead by the number of seconds in `path`, so an execution can outstay a
    one-minute timeout without a real minute passing. Nothing else changes:
    ministack still flips the execution on read, by its own rule."""
    from ministack.services import iot

    real = iot._jobs_now_ms

    def now_ms():
        try:
            with open(path) as f:
                ahead = float(f.read().strip() or 0)
        except FileNotFoundError:
            ahead = 0.0
        return real() + int(ahead * 1000)

    iot._jobs_now_ms = now_ms
