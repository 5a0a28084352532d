"""Checks of the emulated Software Package Catalog (local/emulator_packages.py),
through boto3 as any SDK would call it. Imported by local/emulator_check.py."""
from __future__ import annotations

from botocore.exceptions import ClientError

from check_support import check, client, code

TOKEN = "t" * 40


def _refused(label, want, call, **kw):
    try:
        call(**kw)
        return check(label, False, "accepted")
    except ClientError as e:
        return check(label, code(e)[0] == want, str(code(e)))


def package_catalog(ep):
    iot = client("iot", ep)
    ok = True
    ok &= _refused("GetPackage missing -> ResourceNotFound", "ResourceNotFoundException",
                   iot.get_package, packageName="fw")
    ok &= _refused("CreatePackageVersion of a missing package -> Validation", "ValidationException",
                   iot.create_package_version, packageName="fw", versionName="1.0")
    r = iot.create_package(packageName="fw", description="d", clientToken=TOKEN)
    ok &= check("CreatePackage", r["packageArn"].endswith(":package/fw"), r["packageArn"])
    ok &= _refused("CreatePackage again -> Conflict", "ConflictException", iot.create_package, packageName="fw")
    ok &= _refused("CreatePackage bad name -> Validation", "ValidationException",
                   iot.create_package, packageName="f w")
    attrs = {"signature": "MEUC", "s3Key": "firmware/app.bin", "s3VersionId": "v1"}
    art = {"s3Location": {"bucket": "b", "key": "firmware/app.bin", "version": "v1"}}
    v = iot.create_package_version(packageName="fw", versionName="1.0", attributes=attrs,
                                   artifact=art, clientToken=TOKEN)
    ok &= check("CreatePackageVersion is a DRAFT", v["status"] == "DRAFT" and v["attributes"] == attrs,
                v["packageVersionArn"])
    again = iot.create_package_version(packageName="fw", versionName="1.0", attributes=attrs,
                                       artifact=art, clientToken=TOKEN)
    ok &= check("same client token, same parameters: the same answer", again["status"] == "DRAFT")
    ok &= _refused("same client token, other attributes -> Conflict", "ConflictException",
                   iot.create_package_version, packageName="fw", versionName="1.0",
                   attributes={**attrs, "signature": "other"}, clientToken=TOKEN)
    ok &= _refused("existing version, no token -> Conflict", "ConflictException",
                   iot.create_package_version, packageName="fw", versionName="1.0")
    ok &= _refused("attributes over 3 KB -> Validation", "ValidationException",
                   iot.create_package_version, packageName="fw", versionName="big",
                   attributes={"signature": "A" * 3100})
    ok &= _refused("attribute with a control character -> Validation", "ValidationException",
                   iot.create_package_version, packageName="fw", versionName="ctl",
                   attributes={"s3Key": "a\tb"})
    ok &= _refused("client token with spaces -> Validation", "ValidationException",
                   iot.create_package_version, packageName="fw", versionName="tok", clientToken="with a space " * 3)
    ok &= _refused("a draft cannot be the default -> Validation", "ValidationException",
                   iot.update_package, packageName="fw", defaultVersionName="1.0")
    g = iot.create_thing_group(thingGroupName="catalog-fleet")["thingGroupArn"]
    arn = v["packageVersionArn"]
    ok &= _refused("CreateJob deploying a draft -> InvalidRequest", "InvalidRequestException",
                   iot.create_job, jobId="deploys-draft", targets=[g], document="{}",
                   destinationPackageVersions=[arn])
    iot.update_package_version(packageName="fw", versionName="1.0", attributes={**attrs, "signature": "new"})
    got = iot.get_package_version(packageName="fw", versionName="1.0")
    ok &= check("a draft's attributes can change", got["attributes"]["signature"] == "new")
    iot.update_package_version(packageName="fw", versionName="1.0", action="PUBLISH")
    got = iot.get_package_version(packageName="fw", versionName="1.0")
    ok &= check("PUBLISH: PUBLISHED, artifact kept", got["status"] == "PUBLISHED" and got["artifact"] == art)
    ok &= _refused("a published version's attributes are fixed -> Conflict", "ConflictException",
                   iot.update_package_version, packageName="fw", versionName="1.0", attributes=attrs)
    ok &= _refused("PUBLISH again -> Conflict", "ConflictException",
                   iot.update_package_version, packageName="fw", versionName="1.0", action="PUBLISH")
    iot.update_package_version(packageName="fw", versionName="1.0", recipe="{}")
    ok &= check("a published version's recipe can change",
                iot.get_package_version(packageName="fw", versionName="1.0")["recipe"] == "{}")
    iot.update_package(packageName="fw", defaultVersionName="1.0")
    ok &= check("a published version becomes the default",
                iot.get_package(packageName="fw")["defaultVersionName"] == "1.0")
    job = iot.create_job(jobId="deploys-published", targets=[g], document="{}",
                         destinationPackageVersions=[arn])
    ok &= check("CreateJob deploying a published version", job["jobId"] == "deploys-published")
    ok &= _refused("GetPackageVersion missing -> ResourceNotFound", "ResourceNotFoundException",
                   iot.get_package_version, packageName="fw", versionName="9.9")
    ok &= _refused("UpdatePackageVersion missing -> ResourceNotFound", "ResourceNotFoundException",
                   iot.update_package_version, packageName="fw", versionName="9.9", action="PUBLISH")
    iot.delete_package_version(packageName="fw", versionName="9.9")
    ok &= check("DeletePackageVersion of a missing version succeeds", True)
    ok &= substitution(ep, iot, arn)
    iot.create_package_version(packageName="fw", versionName="2.0")
    iot.delete_package_version(packageName="fw", versionName="2.0")
    ok &= _refused("a deleted draft is gone", "ResourceNotFoundException",
                   iot.get_package_version, packageName="fw", versionName="2.0")
    ok &= package_configuration(iot, client("iot", ep, validate=False))
    return ok


def package_configuration(iot, unchecked):
    """The account's versionUpdateByJobsConfig: off until set; set with a
    role; a client token replays, and conflicts with another configuration
    (changing nothing)."""
    ok = True
    role = "arn:aws:iam::000000000000:role/package-shadow"
    got = iot.get_package_configuration()["versionUpdateByJobsConfig"]
    ok &= check("GetPackageConfiguration: off until set", got.get("enabled") is False, str(got))
    ok &= _refused("UpdatePackageConfiguration roleArn under 20 characters -> Validation",
                   "ValidationException", unchecked.update_package_configuration,
                   versionUpdateByJobsConfig={"enabled": True, "roleArn": "arn:short"})
    ok &= _refused("UpdatePackageConfiguration client token with spaces -> Validation",
                   "ValidationException", iot.update_package_configuration,
                   versionUpdateByJobsConfig={"enabled": True, "roleArn": role}, clientToken="a b " * 10)
    cfg = {"enabled": True, "roleArn": role}
    iot.update_package_configuration(versionUpdateByJobsConfig=cfg, clientToken=TOKEN)
    got = iot.get_package_configuration()["versionUpdateByJobsConfig"]
    ok &= check("UpdatePackageConfiguration turns it on with the role", got == cfg, str(got))
    r = iot.update_package_configuration(versionUpdateByJobsConfig=cfg, clientToken=TOKEN)
    got = iot.get_package_configuration()["versionUpdateByJobsConfig"]
    ok &= check("the same client token and configuration: a replay, accepted, nothing changed",
                r["ResponseMetadata"]["HTTPStatusCode"] == 200 and got == cfg, str(got))
    ok &= _refused("the same client token, another configuration -> Conflict", "ConflictException",
                   iot.update_package_configuration,
                   versionUpdateByJobsConfig={"enabled": False}, clientToken=TOKEN)
    got = iot.get_package_configuration()["versionUpdateByJobsConfig"]
    ok &= check("a refused request changes nothing", got == cfg, str(got))
    return ok


def substitution(ep, iot, arn):
    """Substitution parameters: refused unless the version is deployed by
    the job; filled in where a device reads the document; kept by
    GetJobDocument."""
    ok = True
    param = "${aws:iot:package:fw:version:1.0:attributes:signature}"
    doc = '{"afr_ota":{"files":[{"sig-sha256-ecdsa":"%s"}]}}' % param
    thing = iot.create_thing(thingName="catalog-dev")["thingArn"]
    ok &= _refused("CreateJob naming a version it does not deploy -> InvalidRequest",
                   "InvalidRequestException", iot.create_job, jobId="param-mismatch",
                   targets=[thing], document=doc)
    iot.create_job(jobId="param-job", targets=[thing], document=doc, destinationPackageVersions=[arn])
    ok &= check("GetJobDocument keeps the parameter",
                param in iot.get_job_document(jobId="param-job")["document"])
    jobs = client("iot-jobs-data", ep)
    got = jobs.describe_job_execution(jobId="param-job", thingName="catalog-dev")["execution"]["jobDocument"]
    ok &= check("a device reads the attribute's value",
                '"sig-sha256-ecdsa":"new"' in got.replace(" ", ""), got)
    return ok
