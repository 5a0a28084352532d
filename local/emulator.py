#!/usr/bin/env python3
"""The project's local AWS: ministack (pinned 1.5.33, see scripts/setup-tools.sh)
on 127.0.0.1, with the two gaps this project needs closed:

  * IoT CreateStream / DescribeStream / UpdateStream / DeleteStream / ListStreams
    (REST: POST|GET|PUT|DELETE /streams/{streamId}, GET /streams), routed before
    ministack's own IoT dispatcher (which answers "Unsupported IoT path").
  * S3 -> EventBridge "Object Created"/"Object Deleted" events carry
    detail.object["version-id"] when S3 cut a version (real S3 does).
  * x-amz-tagging on CreateMultipartUpload tags the completed object before its
    event fires (real S3 does; `ota upload` sends large firmware in parts).
  * With --signer-delay S (or @FILE holding S; benchmark B7), a signing job
    reads as InProgress for S seconds, as AWS Signer's asynchronous jobs do
    (ministack's finish inside StartSigningJob).
  * IoT Jobs presigns the documented versioned placeholder
    ${aws:iot:s3-presigned-url-v2:https://s3.REGION.amazonaws.com/BUCKET/KEY%3FversionId%3DVERSION}
    for that key and that version (ministack decodes the whole path into the
    key and drops the version).
  * MQTT (local/emulator_mqtt.py): a MQTT-over-WebSocket upgrade must be
    SigV4-signed, and a wrong signature is refused; ministack's mTLS MQTT
    listener binds 127.0.0.1 (a free port, written to --mtls-file); the MQTT
    file-stream data plane (DescribeStream/GetStream over MQTT, JSON and CBOR).
  * Job execution retries (local/emulator_retry.py): a FAILED or TIMED_OUT
    execution is queued again under the job's jobExecutionsRetryConfig
    (ministack only reports retryAttempt).
  * Resource Groups Tagging API GetResources lists IoT resources (jobs) by
    tag, with ResourceTypeFilters "iot:job" (ministack leaves IoT out).
  * The Software Package Catalog (local/emulator_packages.py): packages and
    their versions (draft -> published, immutable attributes and artifact,
    the 3 KB attribute limit, client tokens), and CreateJob's refusal of a
    draft destination version (ministack has no package API).

Usage:
  python local/emulator.py --state-dir DIR [--port 0] [--persist] [--ready-file F]

Prints "MINISTACK_READY http://127.0.0.1:PORT" on stdout (and writes the URL to
--ready-file) once /_ministack/ready answers. SIGTERM/SIGINT stop it cleanly:
hypercorn drains, ministack's lifespan shutdown runs (state saved with
--persist), then every warm Lambda bootstrap process is killed.

Only ever binds 127.0.0.1. All env must be set BEFORE ministack is imported:
several modules read GATEWAY_PORT / AWS_ENDPOINT_URL / STATE_DIR at import.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.request


def _parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0, help="0 = any free port")
    p.add_argument("--state-dir", required=True)
    p.add_argument("--persist", action="store_true", help="PERSIST_STATE=1 under state-dir")
    p.add_argument("--ready-file", default=None)
    p.add_argument("--log-level", default="WARNING")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--mtls-file", default=None,
                   help="where to write 127.0.0.1:PORT of the mTLS MQTT listener once it listens")
    p.add_argument("--jobs-clock-file", default=None,
                   help="checks only: IoT Jobs' clock runs ahead by the seconds in this file")
    p.add_argument("--signer-delay", default="0",
                   help="seconds a signing job stays InProgress (benchmark B7), or @FILE "
                        "holding that number, read at every StartSigningJob; default 0")
    return p.parse_args()


def _prepare_env(args, port: int) -> None:
    state = os.path.abspath(args.state_dir)
    tmp = os.path.join(state, "tmp")
    os.makedirs(tmp, exist_ok=True)
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update({
        "GATEWAY_PORT": str(port),
        "BIND_HOST": "127.0.0.1",
        # provided.* bootstraps inherit ministack's environment, and
        # lambda_svc._provided_worker_env forces AWS_ENDPOINT_URL from it.
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "test"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "test"),
        "AWS_DEFAULT_REGION": args.region,
        "MINISTACK_REGION": args.region,
        # Everything ministack writes goes under state-dir.
        "TMPDIR": tmp,  # provided-code cache, lambda tmp dirs, tls, pid files
        "STATE_DIR": os.path.join(state, "state"),
        "S3_DATA_DIR": os.path.join(state, "s3"),
        "PERSIST_STATE": "1" if args.persist else "0",
        "S3_PERSIST": "1" if args.persist else "0",
        # Listeners that would bind 0.0.0.0 (mTLS MQTT on 8883, SFTP).
        # The mTLS MQTT listener, on 127.0.0.1 and a free port
        # (emulator_mqtt.install_mtls_loopback; the port given is unused).
        "IOT_MTLS_ENABLED": "1",
        "IOT_MTLS_PORT": "8883",
        "SFTP_ENABLED": "0",
        # Never talk to (or reap containers of) a local Docker daemon.
        "DOCKER_HOST": "unix://" + os.path.join(tmp, "no-docker.sock"),
        "LOG_LEVEL": args.log_level,
    })
    os.environ.pop("LOCALSTACK_PERSISTENCE", None)
    import tempfile
    tempfile.tempdir = None  # re-read TMPDIR


# ---------------------------------------------------------------------------
# IoT streams
# ---------------------------------------------------------------------------

_STREAM_ID_RE = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


def install_iot_streams() -> None:
    from ministack.core.responses import (
        AccountRegionScopedDict, error_response_json, get_account_id, get_region, json_response,
    )
    from ministack.services import iot

    streams = AccountRegionScopedDict()  # streamId -> record

    def arn(stream_id):
        return f"arn:aws:iot:{get_region()}:{get_account_id()}:stream/{stream_id}"

    def bad(msg):
        return error_response_json("InvalidRequestException", msg, 400)

    def not_found(stream_id):
        return error_response_json("ResourceNotFoundException", f"Stream {stream_id} does not exist", 404)

    def check_files(files):
        if not isinstance(files, list) or not 1 <= len(files) <= 50:
            return bad("files must contain between 1 and 50 items")
        seen = set()
        for f in files:
            fid = f.get("fileId") if isinstance(f, dict) else None
            loc = (f or {}).get("s3Location") if isinstance(f, dict) else None
            if not isinstance(fid, int) or not 0 <= fid <= 255:
                return bad("fileId must be an integer between 0 and 255")
            if fid in seen:
                return bad(f"Duplicate fileId {fid}")
            seen.add(fid)
            if not isinstance(loc, dict) or not loc.get("bucket") or not loc.get("key"):
                return bad("s3Location.bucket and s3Location.key are required")
        return None

    def body_of(raw):
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def create(stream_id, raw):
        payload = body_of(raw)
        if payload is None:
            return bad("Invalid JSON body")
        if not _STREAM_ID_RE.match(stream_id):
            return bad("streamId must match [a-zA-Z0-9_-]{1,128}")
        if err := check_files(payload.get("files")):
            return err
        role = payload.get("roleArn")
        if not isinstance(role, str) or not 20 <= len(role) <= 2048:
            return bad("roleArn is required (20..2048 characters)")
        desc = payload.get("description")
        if desc is not None and (not isinstance(desc, str) or len(desc) > 2028):
            return bad("description must be at most 2028 characters")
        if stream_id in streams:
            return error_response_json(
                "ResourceAlreadyExistsException", f"Stream {stream_id} already exists", 409,
                extra={"resourceId": stream_id, "resourceArn": arn(stream_id)})
        now = time.time()
        rec = {"streamId": stream_id, "streamArn": arn(stream_id), "streamVersion": 1,
               "files": payload["files"], "roleArn": role, "createdAt": now, "lastUpdatedAt": now}
        if desc is not None:
            rec["description"] = desc
        streams[stream_id] = rec
        if payload.get("tags") and hasattr(iot, "_set_created_tags"):
            iot._set_created_tags(rec["streamArn"], payload["tags"])
        return json_response({k: rec[k] for k in ("streamId", "streamArn", "description", "streamVersion") if k in rec})

    def update(stream_id, raw):
        rec = streams.get(stream_id)
        if rec is None:
            return not_found(stream_id)
        payload = body_of(raw)
        if payload is None:
            return bad("Invalid JSON body")
        if "files" in payload:
            if err := check_files(payload["files"]):
                return err
            rec["files"] = payload["files"]
        for k in ("description", "roleArn"):
            if k in payload:
                rec[k] = payload[k]
        rec["streamVersion"] += 1
        rec["lastUpdatedAt"] = time.time()
        return json_response({k: rec[k] for k in ("streamId", "streamArn", "description", "streamVersion") if k in rec})

    def list_(qp):
        def one(name):
            v = qp.get(name)
            return v[0] if isinstance(v, list) else v
        try:
            max_results = int(one("maxResults") or 250)
            start = int(one("nextToken") or 0)
        except ValueError:
            return bad("Invalid maxResults or nextToken")
        if not 1 <= max_results <= 250:
            return bad("maxResults must be between 1 and 250")
        asc = str(one("ascendingOrder") or "false").lower() == "true"
        recs = sorted((streams[k] for k in streams), key=lambda r: r["createdAt"], reverse=not asc)
        page = recs[start:start + max_results]
        out = {"streams": [{k: r[k] for k in ("streamId", "streamArn", "streamVersion", "description") if k in r}
                           for r in page]}
        if start + max_results < len(recs):
            out["nextToken"] = str(start + max_results)
        return json_response(out)

    def route(method, path, body, qp):
        if path in ("/streams", "/streams/") and method == "GET":
            return list_(qp)
        if not path.startswith("/streams/"):
            return None
        stream_id = path[len("/streams/"):]
        if "/" in stream_id:
            return None
        if method == "POST":
            return create(stream_id, body)
        if method == "PUT":
            return update(stream_id, body)
        rec = streams.get(stream_id)
        if method == "GET":
            return not_found(stream_id) if rec is None else json_response({"streamInfo": rec})
        if method == "DELETE":
            if rec is None:
                return not_found(stream_id)
            del streams[stream_id]
            return json_response({})
        return None

    # app._lazy_handler looks up mod.handle_request on every call, so replacing
    # the module attribute is enough (ministack/app.py:392-399).
    orig_handle = iot.handle_request

    async def handle_request(method, path, headers, body, query_params):
        if path == "/streams" or path.startswith("/streams/"):
            resp = route(method, path, body, query_params or {})
            if resp is not None:
                return resp
        return await orig_handle(method, path, headers, body, query_params)

    iot.handle_request = handle_request

    # Persistence (/_ministack/reset and PERSIST_STATE) piggy-backs on iot's.
    from emulator_state import persist_with_iot

    persist_with_iot("x_emu_streams", streams)
    return streams


# ---------------------------------------------------------------------------
# S3 -> EventBridge: detail.object["version-id"]
# ---------------------------------------------------------------------------

def install_s3_version_id() -> None:
    from ministack.services import eventbridge, s3

    tls = threading.local()
    orig_fire = s3._fire_s3_event

    def fire(*args, **kwargs):
        # signature: (bucket_name, key, event_name, size, etag, deletion_type,
        #             restore_event_data, version_id, sequencer, ...)
        vid = kwargs.get("version_id", args[7] if len(args) > 7 else None)
        tls.version_id = vid
        try:
            return orig_fire(*args, **kwargs)
        finally:
            tls.version_id = None

    # _fire_s3_event_async resolves the global at call time (s3.py:4717-4745).
    s3._fire_s3_event = fire

    orig_dispatch = eventbridge._dispatch_event

    def dispatch(event, view=None):
        vid = getattr(tls, "version_id", None)
        if vid and event.get("Source") == "aws.s3" and isinstance(event.get("Detail"), str):
            detail = json.loads(event["Detail"])
            obj = detail.get("object")
            if isinstance(obj, dict) and "version-id" not in obj:
                # Same member order as AWS: key, size, etag, version-id, sequencer.
                new = {}
                for k, v in obj.items():
                    if k == "sequencer":
                        new["version-id"] = vid
                    new[k] = v
                new.setdefault("version-id", vid)
                detail["object"] = new
                event = dict(event, Detail=json.dumps(detail))
                view = None  # pattern view was built from the old detail
        return orig_dispatch(event, view)

    # s3 calls _eb._dispatch_event through the module (s3.py:4650).
    eventbridge._dispatch_event = dispatch


def install_s3_versioned_range() -> None:
    """GetObject of a version honours Range, as S3 does for any GetObject
    (API reference, GetObject: "Range: Downloads the specified byte range
    of an object", with versionId or without; 206 Partial Content with
    Content-Range, 416 InvalidRange for a range outside the object).

    ministack 1.5.33 slices only the current version (s3.py _get_object,
    the `if range_header:` branch); a `versionId` read returns the whole
    object with 200. A device resuming a presigned download of the version
    its job pins (the versioned placeholder) sends exactly such a request.
    Here the versioned 200 answer is sliced with ministack's own range
    parser and error body.
    """
    from ministack.services import s3

    orig = s3._get_object

    def get_object(bucket_name, key, headers, query_params=None):
        status, resp_headers, body = orig(bucket_name, key, headers, query_params)
        range_header = (headers or {}).get("range", "")
        if status != 200 or not range_header or not s3._qp(query_params or {}, "versionId", ""):
            return status, resp_headers, body
        total = len(body)
        rng = s3._parse_range(range_header, total)
        if rng is None:
            return (416, {"Content-Type": "application/xml", "Content-Range": f"bytes */{total}"},
                    s3._xml_body(s3._range_error_xml(bucket_name, key)))
        start, end = rng
        sliced = body[start:end + 1]
        resp_headers = dict(resp_headers)
        # Whole-object checksums do not describe a slice (as ministack drops
        # them on its own 206).
        for h in [h for h in resp_headers if h.lower().startswith("x-amz-checksum-")]:
            del resp_headers[h]
        resp_headers["Content-Length"] = str(len(sliced))
        resp_headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        return 206, resp_headers, sliced

    # The request handler calls _get_object through the module (s3.py:2600).
    s3._get_object = get_object


def install_tagging_iot() -> None:
    """Resource Groups Tagging API GetResources finds IoT resources by tag, as
    AWS's does ("The GetResources, GetTagKeys, and GetTagValues operations
    support all resource types": Resource Groups Tagging API reference,
    Services that support the Resource Groups Tagging API), with
    ResourceTypeFilters such as "iot:job".

    ministack 1.5.33 keeps IoT tags (iot.py `_tags`, by ARN) and has a
    collector for them (tagging.py `_collect_iot`), but uses it only for
    aws:ResourceTag conditions: `_COLLECTORS`, which GetResources reads, has
    no "iot". `ota delete` asks GetResources which jobs still carry a stream's
    or signed object's tag. Here GetResources runs with that collector added;
    TagResources/UntagResources (whose ARN checks also read `_COLLECTORS`)
    are left as they are.
    """
    from ministack.services import tagging

    orig = tagging._get_resources

    def get_resources(data):
        tagging._COLLECTORS["iot"] = tagging._collect_iot
        try:
            return orig(data)
        finally:
            del tagging._COLLECTORS["iot"]

    # handle_request dispatches through this table (tagging.py _HANDLERS).
    tagging._HANDLERS["GetResources"] = get_resources


def install_s3_multipart_tagging() -> None:
    """x-amz-tagging on CreateMultipartUpload tags the object CompleteMultipartUpload
    makes, as on AWS (ministack drops the header). The tags are written before
    the Object Created event fires, so the pipeline sees them, as on AWS."""
    from ministack.services import s3

    tags_by_upload: dict[str, dict] = {}
    tls = threading.local()
    orig_create = s3._create_multipart_upload
    orig_complete = s3._complete_multipart_upload
    orig_record = s3._record_object_version

    def create(bucket_name, key, headers):
        resp = orig_create(bucket_name, key, headers)
        tagging = headers.get("x-amz-tagging", "")
        if tagging and resp[0] == 200:
            m = re.search(rb"<UploadId>([^<]+)</UploadId>", resp[2])
            if m:
                tags_by_upload[m.group(1).decode()] = {
                    k: v[0] for k, v in s3._parse_qs(tagging, keep_blank_values=True).items()
                }
        return resp

    def complete(bucket_name, key, body, query_params, headers=None):
        tls.tags = tags_by_upload.get(s3._qp(query_params, "uploadId"))
        try:
            return orig_complete(bucket_name, key, body, query_params, headers)
        finally:
            tls.tags = None

    def record(bucket_name, key, prior_obj, obj, data):
        version_id = orig_record(bucket_name, key, prior_obj, obj, data)
        tags = getattr(tls, "tags", None)
        if tags is not None:
            s3._object_tags[(bucket_name, key, obj.get("version_id", version_id))] = dict(tags)
        return version_id

    s3._create_multipart_upload = create
    s3._complete_multipart_upload = complete
    s3._record_object_version = record


def install_iot_presigned_versions() -> None:
    """AWS IoT's "Managing jobs" page, section "Presigned URL using Amazon S3
    versioning", documents the versioned placeholder with the `?` and `=`
    percent-encoded inside it:

        ${aws:iot:s3-presigned-url-v2:https://s3.region-code.amazonaws.com/bucket-name/key-name%3FversionId%3Dversion-id}

    and IoT then presigns a GET of that version. ministack 1.5.33 unquotes the
    whole path into the key (so `key?versionId=v`, which does not exist) and
    signs no version. Here such a placeholder is presigned as AWS does: the
    key, and `versionId` among the signed query parameters, so S3 serves that
    exact version. Other placeholders are left to ministack."""
    from urllib.parse import unquote

    from ministack.services import iot

    versioned = re.compile(r"%3FversionId%3D([^}%]*(?:%[0-9A-Fa-f]{2}[^}%]*)*)$", re.I)
    orig = iot._jobs_presigned_document

    def presigned(job):
        document = job.get("document") or "{}"
        config = job.get("presignedUrlConfig")
        if not any(versioned.search(m.group("url")) for m in iot._JOB_PRESIGN_RE.finditer(document)):
            return orig(job)
        if not (isinstance(config, dict) and config.get("roleArn")) or not iot._iot_role_usable(config["roleArn"]):
            return orig(job)
        from ministack.core.sigv4 import (
            build_canonical_query_string,
            build_canonical_request,
            build_string_to_sign,
            calculate_signature,
            uri_encode,
        )
        from ministack.core.tls import use_ssl_enabled

        expires = config.get("expiresInSec")
        expires = int(expires) if isinstance(expires, (int, float)) and expires > 0 else 3600
        access_key, session = iot._jobs_presign_session(config["roleArn"], expires)
        # The same host choice as ministack's own presigning (iot.py).
        host = iot.jobs_device_host.get()
        if not iot._JOB_PRESIGN_HOST_RE.fullmatch(host):
            host = f"{iot._MINISTACK_HOST}:{iot._GATEWAY_PORT}"
        elif labels := iot._JOB_PRESIGN_IOT_LABELS_RE.match(host):
            host = host[labels.end():]
        base = f"{'https' if use_ssl_enabled() else 'http'}://{host}"
        amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        region = iot.get_region()

        def presign(m):
            url = m.group("url")
            v = versioned.search(url)
            if not v:
                return m.group(0)
            bucket, key = iot._job_document_s3_location(url[:v.start()])
            if not (bucket and key):
                return m.group(0)
            query = {
                "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
                "X-Amz-Credential": f"{access_key}/{amz_date[:8]}/{region}/s3/aws4_request",
                "X-Amz-Date": amz_date,
                "X-Amz-Expires": str(expires),
                "X-Amz-Security-Token": session["SessionToken"],
                "X-Amz-SignedHeaders": "host",
                "versionId": unquote(v.group(1)),
            }
            canonical_query = build_canonical_query_string(query)
            path = f"/{bucket}/{key}"
            string_to_sign = build_string_to_sign(
                amz_date, amz_date[:8], region, "s3",
                build_canonical_request("GET", path, {"host": host}, query, "host"),
            )
            signature = calculate_signature(
                session["SecretAccessKey"], amz_date[:8], region, "s3", string_to_sign)
            return (f"{base}{uri_encode(path, encode_slash=False)}?{canonical_query}"
                    f"&X-Amz-Signature={signature}")

        return orig(dict(job, document=iot._JOB_PRESIGN_RE.sub(presign, document)))

    # jobs_job_document resolves _jobs_presigned_document at call time.
    iot._jobs_presigned_document = presigned


# ---------------------------------------------------------------------------
# Signer latency
# ---------------------------------------------------------------------------

def install_signer_delay(spec: str) -> None:
    """AWS Signer's signing jobs are asynchronous: StartSigningJob answers with
    a job id and DescribeSigningJob reports `InProgress` until the job is done
    (Signer API reference, DescribeSigningJob: status `InProgress | Failed |
    Succeeded`; a job in progress has no `signedObject` and no
    `completedAt`). ministack's signer finishes inside StartSigningJob, so
    every DescribeSigningJob already says Succeeded. With a delay, a job
    reads as InProgress (without signedObject, completedAt and
    signatureExpiresAt) until the delay has passed since StartSigningJob, on
    this process's clock, and then as ministack recorded it. ListSigningJobs
    is left as ministack answers it.

    `spec` is a number of seconds, or `@FILE`: the number in FILE, read at
    every StartSigningJob (missing or empty: 0), so a benchmark can change
    the delay between uploads without restarting the emulator. 0 (the
    default) changes nothing."""
    from ministack.services import signer

    def delay_now() -> float:
        if not spec.startswith("@"):
            return float(spec or 0)
        try:
            with open(spec[1:]) as f:
                return float(f.read().strip() or 0)
        except FileNotFoundError:
            return 0.0

    if not spec.startswith("@") and delay_now() <= 0:
        return

    started: dict[str, tuple[float, float]] = {}  # job id -> (start, delay)
    orig_start = signer._start_signing_job
    orig_describe = signer._describe_signing_job

    def start(body, headers=None):
        before = set(signer._jobs)
        delay = delay_now()
        response = orig_start(body, headers)
        for job_id in set(signer._jobs) - before:
            started[job_id] = (time.monotonic(), delay)
        return response

    def describe(job_id):
        at, delay = started.get(job_id, (0.0, 0.0))
        job = signer._jobs.get(job_id)
        if job is None or time.monotonic() - at >= delay:
            return orig_describe(job_id)
        from ministack.core.responses import json_response

        pending = {k: v for k, v in job.items()
                   if k not in ("signedObject", "completedAt", "signatureExpiresAt", "statusReason")
                   and v is not None}
        pending["status"] = "InProgress"
        return json_response(pending)

    # handle_request resolves both at call time.
    signer._start_signing_job = start
    signer._describe_signing_job = describe


# ---------------------------------------------------------------------------

def main() -> None:
    args = _parse_args()
    # Bind first (race-free free port), hand the fd to hypercorn.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    port = sock.getsockname()[1]
    _prepare_env(args, port)

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    import ministack.app as msapp  # noqa: E402  (env must be set first)
    from emulator_mqtt import install_mtls_loopback, install_ws_sigv4
    from emulator_packages import install_package_catalog
    from emulator_retry import install_job_retries, install_jobs_clock
    from emulator_streams import install_stream_data_plane

    streams = install_iot_streams()
    install_s3_version_id()
    install_s3_multipart_tagging()
    install_s3_versioned_range()
    install_tagging_iot()
    install_package_catalog()
    install_iot_presigned_versions()
    install_signer_delay(args.signer_delay)
    install_ws_sigv4()
    install_mtls_loopback(args.mtls_file)
    install_stream_data_plane(streams)
    install_job_retries()
    if args.jobs_clock_file:
        install_jobs_clock(args.jobs_clock_file)

    endpoint = f"http://127.0.0.1:{port}"

    def announce():
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(endpoint + "/_ministack/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except Exception:
                time.sleep(0.1)
        if args.ready_file:
            tmp = args.ready_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(endpoint + "\n")
            os.replace(tmp, args.ready_file)
        print(f"MINISTACK_READY {endpoint}", flush=True)

    threading.Thread(target=announce, daemon=True).start()

    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.keep_alive_timeout = 75
    config.loglevel = args.log_level
    config.graceful_timeout = 3

    async def run():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(msapp.app, config, shutdown_trigger=stop.wait)

    try:
        asyncio.run(run())
    finally:
        # Warm provided.* bootstraps are plain children (no new session):
        # kill them so nothing outlives the emulator.
        try:
            from ministack.core import lambda_runtime
            lambda_runtime.reset()
        except Exception as e:  # pragma: no cover
            print(f"launcher: worker cleanup failed: {e}", file=sys.stderr)


if __name__ == "__main__":
    main()
