#!/usr/bin/env python3
"""Local AWS for this project: start/stop the emulator, prepare it (code-signing
certificate in ACM, signing profile, thing groups and things), deploy the real
template with the real SAM CLI, and run the demo upload.

Runs with the emulator venv's python (.venv-emulator: ministack, boto3,
cryptography). Everything talks to 127.0.0.1 only.

  localaws.py up        start the emulator (state under build/local), print its URL
  localaws.py prepare   certificate, signing profile, thing groups, things
  localaws.py deploy    sam deploy of build/sam-host/template.yaml into it
  localaws.py demo      upload firmware with tags, follow it to the job, verify
  localaws.py down      stop the emulator and every process it started
"""
from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / "build" / "local"
ENDPOINT_FILE = STATE / "endpoint"
# The emulator's signer delay (benchmark B7), read at every StartSigningJob;
# `up` removes it, so tests and the demo always run with a signer that
# answers at once.
SIGNER_DELAY_FILE = STATE / "signer-delay-seconds"
PID_FILE = STATE / "emulator.pid"
CERT_FILE = STATE / "signer-cert.pem"
REGION = "us-east-1"
STACK = "ota-local"
PROFILE = "OtaLocalProfile"
CERTNAME = "ota-signer.crt"
THING_GROUPS = ["Lab", "Fleet"]
THINGS = ["dev-1", "dev-7"]
# The IAM user whose key the SigV4 WebSocket tests sign with (_device_user_key).
DEVICE_USER = "ota-local-device"


def log(msg: str) -> None:
    print(f"[local-aws] {msg}", flush=True)


def endpoint() -> str:
    try:
        return ENDPOINT_FILE.read_text().strip()
    except FileNotFoundError:
        sys.exit("local-aws: the emulator is not running (run: localaws.py up)")


def client(name: str):
    import boto3
    from botocore.config import Config

    return boto3.client(
        name,
        endpoint_url=endpoint(),
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 2}),
    )


# ---------------------------------------------------------------- up / down


def up(_args) -> None:
    if PID_FILE.exists():
        down(None)
    STATE.mkdir(parents=True, exist_ok=True)
    ENDPOINT_FILE.unlink(missing_ok=True)
    SIGNER_DELAY_FILE.unlink(missing_ok=True)
    logf = open(STATE / "emulator.log", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "local" / "emulator.py"), "--state-dir", str(STATE / "emulator"),
         "--ready-file", str(ENDPOINT_FILE), "--region", REGION,
         "--signer-delay", f"@{SIGNER_DELAY_FILE}", "--mtls-file", str(STATE / "mqtt-tls-endpoint")],
        stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    PID_FILE.write_text(str(proc.pid))
    deadline = time.time() + 90
    while time.time() < deadline:
        if ENDPOINT_FILE.exists():
            log(f"emulator ready at {ENDPOINT_FILE.read_text().strip()} (pid {proc.pid}, log {STATE / 'emulator.log'})")
            return
        if proc.poll() is not None:
            PID_FILE.unlink(missing_ok=True)
            tail = (STATE / "emulator.log").read_text()[-3000:]
            sys.exit(f"local-aws: the emulator exited with status {proc.returncode} before it was ready:\n{tail}")
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    PID_FILE.unlink(missing_ok=True)
    sys.exit(f"local-aws: the emulator was not ready within 90 s; see {STATE / 'emulator.log'}")


def down(_args) -> None:
    try:
        pid = int(PID_FILE.read_text())
    except (FileNotFoundError, ValueError):
        log("emulator not running")
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(150):
            os.kill(pid, 0)
            time.sleep(0.1)
        log("emulator did not stop in 15 s; killing its process group")
    except ProcessLookupError:
        pass
    # The launcher's session holds the Lambda bootstraps too.
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    PID_FILE.unlink(missing_ok=True)
    ENDPOINT_FILE.unlink(missing_ok=True)
    log("emulator stopped")


# ---------------------------------------------------------------- prepare


def _certificate():
    """A self-signed EC P-256 code-signing certificate and its key (PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ota-local-code-signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert_pem, key_pem


def create_if_missing(create, names) -> None:
    from botocore.exceptions import ClientError

    for name in names:
        try:
            create(name)
        except ClientError as e:
            if e.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise


def _device_user_key() -> None:
    """An IAM user's access key for the agents' SigV4 WebSocket tests.

    The emulator can check a signature only against a secret it holds: an
    IAM user's (ministack's root key `test` has none, so anything signed
    with it passes). A test that signs with a wrong secret needs this key to
    see the upgrade refused.
    """
    from botocore.exceptions import ClientError

    key_file = STATE / "device-user-key.json"
    iam = client("iam")
    try:
        iam.create_user(UserName=DEVICE_USER)
    except ClientError as e:
        if e.response["Error"]["Code"] != "EntityAlreadyExists":
            raise
    if key_file.exists():
        known = json.loads(key_file.read_text())["AccessKeyId"]
        keys = iam.list_access_keys(UserName=DEVICE_USER)["AccessKeyMetadata"]
        if any(k["AccessKeyId"] == known for k in keys):
            return
    key = iam.create_access_key(UserName=DEVICE_USER)["AccessKey"]
    key_file.write_text(json.dumps(
        {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}, indent=2))


def prepare(_args) -> None:
    from botocore.exceptions import ClientError

    acm, signer, iot = client("acm"), client("signer"), client("iot")
    try:
        signer.get_signing_profile(profileName=PROFILE)
        have_profile = CERT_FILE.exists() and (STATE / "signer-public-key.hex").exists()
    except ClientError:
        have_profile = False
    if not have_profile:
        cert_pem, key_pem = _certificate()
        arn = acm.import_certificate(Certificate=cert_pem, PrivateKey=key_pem)["CertificateArn"]
        CERT_FILE.write_bytes(cert_pem)
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        public = x509.load_pem_x509_certificate(cert_pem).public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        (STATE / "signer-public-key.hex").write_text(public.hex())
        signer.put_signing_profile(
            profileName=PROFILE,
            platformId="AWSIoTDeviceManagement-SHA256-ECDSA",
            signingMaterial={"certificateArn": arn},
            signingParameters={"certname": CERTNAME},
        )
    _device_user_key()
    _notification_topic()
    create_if_missing(lambda g: iot.create_thing_group(thingGroupName=g), THING_GROUPS)
    create_if_missing(lambda t: iot.create_thing(thingName=t), THINGS)
    log(f"signing profile {PROFILE} (certname {CERTNAME}), thing groups {THING_GROUPS}, things {THINGS}")


NOTIFICATION_TOPIC = "ota-local-notifications"
NOTIFICATION_QUEUE = "ota-local-notifications"


def _notification_topic() -> None:
    """The topic the stack's NotificationTopicArn names, with an SQS queue
    subscribed (raw delivery) that the e2e test reads: the SNS route of the
    pipeline's events, as a user with their own topic would set it up."""
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name=NOTIFICATION_TOPIC)["TopicArn"]
    url = sqs.create_queue(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy", AttributeValue=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sns:Publish", "Resource": topic}]}))
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    (STATE / "notification-queue-url").write_text(url)


def notification_topic_arn() -> str:
    account = client("sts").get_caller_identity()["Account"]
    return f"arn:aws:sns:{REGION}:{account}:{NOTIFICATION_TOPIC}"


# ---------------------------------------------------------------- deploy


def deploy(args) -> None:
    sam = ROOT / ".venv" / "bin" / "sam"
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint(), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
               AWS_EC2_METADATA_DISABLED="true", SAM_CLI_TELEMETRY="0")
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env['PATH']}"
    cmd = [str(sam), "deploy", "--template-file", str(ROOT / "build" / "sam-host" / "template.yaml"),
           "--stack-name", STACK, "--resolve-s3", "--capabilities", "CAPABILITY_IAM",
           "--no-confirm-changeset", "--no-fail-on-empty-changeset", "--region", REGION,
           "--parameter-overrides", f"Architecture={args.architecture}", f"DefaultSigningProfile={PROFILE}",
           "MaxSigningWaitSeconds=120", f"NotificationTopicArn={notification_topic_arn()}",
           # The custom resource (make-stream answering CloudFormation) runs on
           # every local deploy; tests/e2e/tests/package_catalog.rs reads the result.
           "PackageShadowUpdates=Enabled"]
    log("sam deploy " + " ".join(cmd[2:]))
    started = time.time()
    res = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    (STATE / "sam-deploy.log").write_text(res.stdout)
    if res.returncode != 0:
        sys.exit(f"local-aws: sam deploy failed ({res.returncode}):\n{res.stdout[-4000:]}")
    outputs = stack_outputs()
    (STATE / "stack-outputs.json").write_text(json.dumps(outputs, indent=2))
    log(f"deployed stack {STACK} in {time.time() - started:.0f} s: bucket {outputs['FirmwareBucketName']}")


def stack_outputs() -> dict:
    cfn = client("cloudformation")
    stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# ---------------------------------------------------------------- demo


def verify_signature(firmware: bytes, signature_b64: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    cert = x509.load_pem_x509_certificate(CERT_FILE.read_bytes())
    cert.public_key().verify(base64.b64decode(signature_b64), firmware, ec.ECDSA(hashes.SHA256()))


def ota(*args: str, capture: bool = False) -> str:
    """Runs the `ota` command (crates/ota-cli, built by scripts/build-host.sh)
    against the emulator, as a user would against AWS."""
    exe = ROOT / "target" / "debug" / "ota"
    if not exe.exists():
        sys.exit(f"local-aws: {exe} is missing; run scripts/build-host.sh")
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint(), AWS_REGION=REGION, AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_EC2_METADATA_DISABLED="true")
    env.pop("AWS_PROFILE", None)
    log("$ ota " + " ".join(a if " " not in a else repr(a) for a in args))
    done = subprocess.run([str(exe), *args], env=env, text=True,
                          stdout=subprocess.PIPE if capture else None)
    if done.returncode != 0:
        sys.exit(f"local-aws: ota {args[0]} exited {done.returncode}")
    return done.stdout or ""


def demo(_args) -> None:
    outputs = json.loads((STATE / "stack-outputs.json").read_text())
    bucket = outputs["FirmwareBucketName"]
    iot = client("iot")
    firmware = os.urandom(256 * 1024)
    demo_dir = STATE / "demo"
    demo_dir.mkdir(parents=True, exist_ok=True)
    path = demo_dir / "app-v1.4.bin"
    path.write_bytes(firmware)
    key = f"{outputs['UploadPrefix']}app-v1.4.bin"
    started = time.time()
    # The state machine, bucket, upload prefix and the stack's default signing
    # profile come from the deployed pipeline; the flags are the tags.
    ota("upload", str(path),
        "--targets", "thinggroup/Lab thing/dev-7",
        "--start", "+2h", "--end", "+3d", "--end-behavior", "CANCEL",
        "--window", "MON-FRI@02:00/120", "--window", "SAT@01:00/60",
        "--retry", "FAILED:2 TIMED_OUT:3", "--timeout", "30")
    log(f"job created {time.time() - started:.2f} s after the upload started")
    status = json.loads(ota("status", key, "--output", "json", capture=True))
    job_id, version = status["jobId"], status["versionId"]
    ota("list", "--limit", "5")
    job = iot.describe_job(jobId=job_id)["job"]
    document = json.loads(iot.get_job_document(jobId=job_id)["document"])
    print(f"\nIoT job id: {job_id}")
    print("job document:")
    print(json.dumps(document, indent=2))
    print("scheduling and retry config as IoT stored them:")
    print(json.dumps({k: job.get(k) for k in ("targets", "schedulingConfig", "jobExecutionsRetryConfig",
                                                "timeoutConfig")}, indent=2, default=str))
    f = document["afr_ota"]["files"][0]
    stream = iot.describe_stream(streamId=document["afr_ota"]["streamname"])["streamInfo"]
    loc = stream["files"][0]["s3Location"]
    assert (loc["bucket"], loc["key"], loc.get("version")) == (bucket, key, version), loc
    verify_signature(firmware, f["sig-sha256-ecdsa"])
    print(f"\nstream {stream['streamId']} serves s3://{bucket}/{key} version {version}")
    print("signature verified: ECDSA P-256/SHA-256 over the firmware bytes with the signing certificate's public key")
    _demo_device(outputs)


def _demo_device(outputs: dict) -> None:
    """Try it with a device (README): an update for dev-1 now, taken by the
    reference agent as a FreeRTOS OTA agent over MQTT (WebSocket signed with
    SigV4), streamed, verified and reported SUCCEEDED."""
    demo_dir = STATE / "demo"
    firmware = os.urandom(64 * 1024)
    path = demo_dir / "app-v1.4.1.bin"
    path.write_bytes(firmware)
    print("\n== a device takes an update: ota device as dev-1 (freertos-ota-agent)")
    ota("upload", str(path), "--targets", "thing/dev-1", "--protocols", "MQTT")
    flash = demo_dir / "flash"
    ota("device", "--thing", "dev-1", "--family", "freertos-ota-agent",
        "--signer-cert", str(CERT_FILE), "--out", str(flash), "--once", "--wait-for-job", "30")
    written = (flash / path.name).read_bytes()
    assert written == firmware, "the device wrote other bytes than the upload"
    status = json.loads(ota("status", f"{outputs['UploadPrefix']}{path.name}", "--output", "json", capture=True))
    print(f"dev-1 wrote {flash / path.name}, identical to the upload; job {status['jobId']}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("up").set_defaults(fn=up)
    sub.add_parser("down").set_defaults(fn=down)
    sub.add_parser("prepare").set_defaults(fn=prepare)
    d = sub.add_parser("deploy")
    d.add_argument("--architecture", default="x86_64" if os.uname().machine == "x86_64" else "arm64")
    d.set_defaults(fn=deploy)
    sub.add_parser("demo").set_defaults(fn=demo)
    args = p.parse_args()
    args.fn(args)


if __name__ == "__main__":
    main()
