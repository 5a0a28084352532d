"""What local/emulator_check.py and its parts share: boto3 clients on the
emulator, and the PASS/FAIL tally (one module, so every part counts into
one tally whichever file runs as __main__)."""
from __future__ import annotations

import boto3
from botocore.config import Config


def client(name, endpoint, validate=True):
    """validate=False: botocore sends what its own checks would stop, so the
    emulator's validation of it can be checked."""
    return boto3.client(name, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, parameter_validation=validate))


def code(e):
    return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


RESULTS = {"passed": 0, "failed": 0}


def check(label, cond, detail=""):
    print(("PASS " if cond else "FAIL ") + label + (f"  [{detail}]" if detail else ""))
    RESULTS["passed" if cond else "failed"] += 1
    return cond
