#!/usr/bin/env python3
"""Checks the local emulator (local/emulator.py) does what the pipeline needs:
the IoT stream routes it adds, the S3 -> EventBridge version-id it adds, the
MQTT additions (emulator_check_mqtt.py: SigV4 on the WebSocket upgrade, the
mTLS listener on loopback, the MQTT file-stream data plane), the Software
Package Catalog (emulator_check_packages.py), and
the IoT job and Signer + ACM behaviour ministack itself provides. Starts its own
emulator on 127.0.0.1 and stops it. Run with .venv-emulator/bin/python."""
from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from check_support import RESULTS, check, client, code  # noqa: E402


def start(state_dir, *extra):
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "emulator.py"), "--state-dir", state_dir, *extra],
        stdout=subprocess.PIPE, stderr=open(os.path.join(state_dir, "ministack.log"), "w"),
        text=True, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith("MINISTACK_READY "):
            return proc, line.split()[1]
        if proc.poll() is not None:
            raise SystemExit(f"launcher exited {proc.returncode}")
    raise SystemExit("launcher not ready")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def streams(ep):
    iot = client("iot", ep)
    ok = True
    files = [{"fileId": 0, "s3Location": {"bucket": "b", "key": "k", "version": "v1"}}]
    role = "arn:aws:iam::000000000000:role/ota"
    r = iot.create_stream(streamId="s-1", description="d", files=files, roleArn=role)
    ok &= check("CreateStream", r["streamId"] == "s-1" and r["streamVersion"] == 1, r["streamArn"])
    try:
        iot.create_stream(streamId="s-1", files=files, roleArn=role)
        ok &= check("CreateStream duplicate", False)
    except ClientError as e:
        ok &= check("CreateStream duplicate -> ResourceAlreadyExists", code(e) == ("ResourceAlreadyExistsException", 409))
    info = iot.describe_stream(streamId="s-1")["streamInfo"]
    ok &= check("DescribeStream", info["files"] == files and info["description"] == "d",
                f"createdAt={info['createdAt']!r}")
    ok &= check("ListStreams", [s["streamId"] for s in iot.list_streams()["streams"]] == ["s-1"])
    iot.delete_stream(streamId="s-1")
    for op in (iot.describe_stream, iot.delete_stream):
        try:
            op(streamId="s-1")
            ok &= check(op.__name__ + " after delete", False)
        except ClientError as e:
            ok &= check(op.__name__ + " after delete -> ResourceNotFound", code(e) == ("ResourceNotFoundException", 404))
    # Unmodified IoT routes still work through the wrapper.
    ok &= check("ListThings still routed", "things" in iot.list_things())
    return ok


def s3_eventbridge(ep):
    s3, ev, sqs = client("s3", ep), client("events", ep), client("sqs", ep)
    ok = True
    s3.create_bucket(Bucket="fw-bucket")
    s3.put_bucket_versioning(Bucket="fw-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_notification_configuration(
        Bucket="fw-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}})
    q = sqs.create_queue(QueueName="evq")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ev.put_rule(Name="r", EventPattern=json.dumps({
        "source": ["aws.s3"], "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": ["fw-bucket"]}, "object": {"key": [{"prefix": "uploads/"}]}}}))
    ev.put_targets(Rule="r", Targets=[{"Id": "q", "Arn": qarn}])
    vid = s3.put_object(Bucket="fw-bucket", Key="uploads/a.bin", Body=b"hello")["VersionId"]
    s3.put_object(Bucket="fw-bucket", Key="other/b.bin", Body=b"x")  # filtered out by prefix
    msgs = []
    deadline = time.time() + 10
    while time.time() < deadline and not msgs:
        msgs = sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
    ok &= check("one event delivered (prefix filter)", len(msgs) == 1, f"{len(msgs)} msgs")
    if msgs:
        evt = json.loads(msgs[0]["Body"])
        obj = evt["detail"]["object"]
        ok &= check("detail.object.version-id == PutObject VersionId", obj.get("version-id") == vid,
                    json.dumps(obj))
    # Tags given to CreateMultipartUpload are on the completed version when its
    # event arrives (the pipeline reads them on that event).
    part = b"p" * (5 * 1024 * 1024)
    mp = s3.create_multipart_upload(Bucket="fw-bucket", Key="uploads/big.bin", Tagging="ota%3Atargets=thing%2Fdev-1")
    etags = [s3.upload_part(Bucket="fw-bucket", Key="uploads/big.bin", UploadId=mp["UploadId"], PartNumber=n,
                            Body=part)["ETag"] for n in (1, 2)]
    done = s3.complete_multipart_upload(
        Bucket="fw-bucket", Key="uploads/big.bin", UploadId=mp["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in zip((1, 2), etags)]})
    tags = s3.get_object_tagging(Bucket="fw-bucket", Key="uploads/big.bin", VersionId=done["VersionId"])["TagSet"]
    ok &= check("multipart upload carries CreateMultipartUpload's tags",
                tags == [{"Key": "ota:targets", "Value": "thing/dev-1"}], json.dumps(tags))
    msgs = []
    deadline = time.time() + 10
    while time.time() < deadline and not msgs:
        msgs = sqs.receive_message(QueueUrl=q, WaitTimeSeconds=1, MaxNumberOfMessages=10).get("Messages", [])
    obj = json.loads(msgs[0]["Body"])["detail"]["object"] if msgs else {}
    ok &= check("multipart upload's event carries its version-id", obj.get("version-id") == done["VersionId"],
                json.dumps(obj))
    return ok


def jobs(ep):
    iot = client("iot", ep)
    ok = True
    try:
        iot.create_job(jobId="j1", targets=["arn:aws:iot:us-east-1:000000000000:thinggroup/none"], document="{}")
        ok &= check("CreateJob missing group", False)
    except ClientError as e:
        ok &= check("CreateJob missing group -> ResourceNotFound", code(e)[0] == "ResourceNotFoundException",
                    e.response["Error"]["Message"])
    g = iot.create_thing_group(thingGroupName="fleet")["thingGroupArn"]
    iot.create_job(jobId="j1", targets=[g], document='{"afr_ota":{"streamname":"s-1"}}',
                   targetSelection="SNAPSHOT")
    try:
        iot.create_job(jobId="j1", targets=[g], document="{}")
        ok &= check("CreateJob duplicate", False)
    except ClientError as e:
        ok &= check("CreateJob duplicate -> ResourceAlreadyExists", code(e) == ("ResourceAlreadyExistsException", 409))
    ok &= check("GetJobDocument", '"s-1"' in iot.get_job_document(jobId="j1")["document"])
    ok &= check("DescribeJob status", iot.describe_job(jobId="j1")["job"]["status"] == "IN_PROGRESS")
    try:
        iot.get_job_document(jobId="nope")
    except ClientError as e:
        ok &= check("GetJobDocument missing -> ResourceNotFound", code(e) == ("ResourceNotFoundException", 404))
    return ok


def presigned_versions(ep):
    """The documented versioned placeholder (AWS IoT "Managing jobs",
    "Presigned URL using Amazon S3 versioning") reaches a device as a URL that
    serves exactly that version, also after a newer upload to the key."""
    import urllib.error
    import urllib.parse
    import urllib.request

    s3, iot, iam = client("s3", ep), client("iot", ep), client("iam", ep)
    jobs_data = client("iot-jobs-data", ep)
    s3.create_bucket(Bucket="presign-fw")
    s3.put_bucket_versioning(Bucket="presign-fw", VersioningConfiguration={"Status": "Enabled"})
    key = "firmware/app v1+rc.bin"
    v1 = s3.put_object(Bucket="presign-fw", Key=key, Body=b"version one")["VersionId"]
    s3.put_object(Bucket="presign-fw", Key=key, Body=b"version two")
    role = iam.create_role(RoleName="presign-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "iot.amazonaws.com"}}]}))["Role"]["Arn"]
    thing = iot.create_thing(thingName="presign-dev")["thingArn"]
    encoded_key = urllib.parse.quote(key, safe="/-_.~")
    placeholder = ("${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/presign-fw/"
                   f"{encoded_key}%3FversionId%3D{urllib.parse.quote(v1, safe='-_.~')}}}")
    current = f"${{aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/presign-fw/{encoded_key}}}"
    iot.create_job(jobId="presign-j", targets=[thing],
                   document=json.dumps({"pinned": placeholder, "current": current}),
                   presignedUrlConfig={"roleArn": role, "expiresInSec": 600})
    doc = json.loads(jobs_data.describe_job_execution(
        jobId="presign-j", thingName="presign-dev", includeJobDocument=True)["execution"]["jobDocument"])
    ok = check("versioned placeholder presigned with its versionId",
               "versionId=" in doc["pinned"] and "%3FversionId" not in doc["pinned"], doc["pinned"][:160])
    body = urllib.request.urlopen(doc["pinned"], timeout=10).read()
    ok &= check("versioned URL serves that version, not the newer one", body == b"version one", repr(body))
    body = urllib.request.urlopen(doc["current"], timeout=10).read()
    ok &= check("unversioned placeholder still serves the current version", body == b"version two", repr(body))
    # A device resuming the pinned download: Range on the versioned URL.
    resumed = urllib.request.urlopen(urllib.request.Request(doc["pinned"], headers={"Range": "bytes=8-"}), timeout=10)
    ok &= check("versioned URL with Range: 206, that version's bytes from 8 on",
                (resumed.status, resumed.headers.get("Content-Range"), resumed.read())
                == (206, "bytes 8-10/11", b"one"), f"{resumed.status} {resumed.headers.get('Content-Range')}")
    try:
        urllib.request.urlopen(urllib.request.Request(doc["pinned"], headers={"Range": "bytes=50-"}), timeout=10)
        outside = "served"
    except urllib.error.HTTPError as e:
        outside = (e.code, e.headers.get("Content-Range"), b"InvalidRange" in e.read())
    ok &= check("versioned URL with a Range past its end: 416 InvalidRange",
                outside == (416, "bytes */11", True), repr(outside))
    return ok


def signer(ep):
    sg, s3, key, vid, data = signing_setup(ep)
    job = sg.start_signing_job(
        source={"s3": {"bucketName": "fw-bucket", "key": "uploads/fw.bin", "version": vid}},
        destination={"s3": {"bucketName": "fw-bucket", "prefix": "signed/"}}, profileName="ota_profile")
    d = sg.describe_signing_job(jobId=job["jobId"])
    ok = check("Signer job Succeeded at once", d["status"] == "Succeeded", d["signedObject"]["s3"]["key"])
    doc = json.loads(s3.get_object(Bucket="fw-bucket", Key=d["signedObject"]["s3"]["key"])["Body"].read())
    import base64
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    key.public_key().verify(base64.b64decode(doc["signature"]), data, ec.ECDSA(hashes.SHA256()))
    ok &= check("signed doc verifies", doc["payloadLocation"]["s3"]["version"] == vid, json.dumps(doc)[:160])
    ok &= check("signingParameters echoed", d.get("signingParameters") == {"certname": "code_signer_cert.pem"})
    return ok


def signer_delay(state_root):
    """--signer-delay @FILE: a job started while FILE says 2 is InProgress
    (no signedObject, completedAt or signatureExpiresAt) until 2 s have
    passed, then Succeeded; one started after FILE says 0 succeeds at once."""
    state = os.path.join(state_root, "delayed")
    os.makedirs(state)
    delay_file = os.path.join(state, "signer-delay-seconds")
    with open(delay_file, "w") as f:
        f.write("2\n")
    proc, ep = start(state, "--signer-delay", "@" + delay_file)
    try:
        sg, _, _, vid, _ = signing_setup(ep)

        def sign():
            return sg.start_signing_job(
                source={"s3": {"bucketName": "fw-bucket", "key": "uploads/fw.bin", "version": vid}},
                destination={"s3": {"bucketName": "fw-bucket", "prefix": "signed/"}},
                profileName="ota_profile")["jobId"]

        # The delay runs from when the emulator handled StartSigningJob,
        # somewhere between t0 (sent) and t1 (answered): InProgress is
        # checked before t0 + 2 s, Succeeded after t1 + 2 s.
        t0 = time.monotonic()
        slow = sign()
        t1 = time.monotonic()
        d = sg.describe_signing_job(jobId=slow)
        pending = d["status"] == "InProgress" and not {"signedObject", "completedAt", "signatureExpiresAt"} & set(d)
        ok = check("signer delay: InProgress at first", pending and time.monotonic() - t0 < 2,
                   json.dumps({k: d.get(k) for k in ("status", "signedObject", "completedAt")}, default=str))
        with open(delay_file, "w") as f:
            f.write("0\n")
        fast = sg.describe_signing_job(jobId=sign())
        ok &= check("signer delay: a job started after the file says 0 succeeds at once",
                    fast["status"] == "Succeeded" and "signedObject" in fast, fast["status"])
        while time.monotonic() - t0 < 1.8:
            if sg.describe_signing_job(jobId=slow)["status"] != "InProgress":
                ok &= check("signer delay: still InProgress before 2 s", False)
                break
            time.sleep(0.2)
        time.sleep(max(0.0, 2.05 - (time.monotonic() - t1)))
        d = sg.describe_signing_job(jobId=slow)
        ok &= check("signer delay: Succeeded with its signed object after 2 s",
                    d["status"] == "Succeeded" and "signedObject" in d and "completedAt" in d, d["status"])
        try:
            sg.describe_signing_job(jobId="no-such-job")
            ok &= check("signer delay: unknown job -> ResourceNotFound", False)
        except ClientError as e:
            ok &= check("signer delay: unknown job -> ResourceNotFound", code(e)[0] == "ResourceNotFoundException")
    finally:
        stop(proc)
    return ok


def signing_setup(ep):
    """A certificate in ACM, a signing profile on it and a versioned upload."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ota-signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    acm, sg, s3 = client("acm", ep), client("signer", ep), client("s3", ep)
    arn = acm.import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))["CertificateArn"]
    sg.put_signing_profile(profileName="ota_profile", platformId="AWSIoTDeviceManagement-SHA256-ECDSA",
                           signingMaterial={"certificateArn": arn},
                           signingParameters={"certname": "code_signer_cert.pem"})
    if "fw-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket="fw-bucket")
        s3.put_bucket_versioning(Bucket="fw-bucket", VersioningConfiguration={"Status": "Enabled"})
    data = b"firmware-bytes" * 10
    vid = s3.put_object(Bucket="fw-bucket", Key="uploads/fw.bin", Body=data)["VersionId"]
    return sg, s3, key, vid, data


def tagging_iot(ep):
    """GetResources finds jobs by tag (install_tagging_iot)."""
    iot = client("iot", ep)
    tagging = client("resourcegroupstaggingapi", ep)
    g = iot.create_thing_group(thingGroupName="tagged-fleet")["thingGroupArn"]
    arn = iot.create_job(jobId="tagged-1", targets=[g], document="{}",
                         tags=[{"Key": "ota:stream", "Value": "s-7"}])["jobArn"]
    iot.create_job(jobId="tagged-2", targets=[g], document="{}",
                   tags=[{"Key": "ota:stream", "Value": "s-8"}])

    def jobs_with(value, types=("iot:job",)):
        r = tagging.get_resources(TagFilters=[{"Key": "ota:stream", "Values": [value]}],
                                  ResourceTypeFilters=list(types))
        return [m["ResourceARN"] for m in r["ResourceTagMappingList"]]

    ok = check("GetResources iot:job by tag value finds exactly that job", jobs_with("s-7") == [arn],
               str(jobs_with("s-7")))
    ok &= check("GetResources by a value no job carries: none", jobs_with("s-9") == [])
    ok &= check("GetResources iot:thinggroup filter leaves jobs out", jobs_with("s-7", ("iot:thinggroup",)) == [])
    iot.delete_job(jobId="tagged-1", force=True)
    ok &= check("GetResources after DeleteJob: the job's tags are gone with it", jobs_with("s-7") == [])
    return ok


def main():
    build = os.path.join(os.path.dirname(HERE), "build")
    os.makedirs(build, exist_ok=True)
    state = tempfile.mkdtemp(prefix="emulator-check-", dir=build)
    mtls_file = os.path.join(state, "mtls-endpoint")
    clock_file = os.path.join(state, "jobs-clock-ahead-seconds")
    proc, ep = start(state, "--mtls-file", mtls_file, "--jobs-clock-file", clock_file)
    print("endpoint", ep, "state", state)
    from emulator_check_mqtt import mtls, stream_data_plane, ws_sigv4
    from emulator_check_packages import package_catalog
    from emulator_check_retry import job_retries

    try:
        ok = streams(ep) & s3_eventbridge(ep) & jobs(ep) & signer(ep) & presigned_versions(ep)
        ok &= tagging_iot(ep) & package_catalog(ep)
        ok &= ws_sigv4(ep) & stream_data_plane(ep) & job_retries(ep, clock_file)
        deadline = time.time() + 30
        while not os.path.exists(mtls_file) and time.time() < deadline:
            time.sleep(0.1)
        ok &= mtls(ep, open(mtls_file).read().strip() if os.path.exists(mtls_file) else "")
    finally:
        stop(proc)
    ok &= signer_delay(state)
    check("emulator stopped cleanly", proc.returncode == 0, f"exit {proc.returncode}")
    import shutil

    shutil.rmtree(state, ignore_errors=True)
    print(f"emulator: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(0 if ok and RESULTS["failed"] == 0 else 1)


if __name__ == "__main__":
    main()
