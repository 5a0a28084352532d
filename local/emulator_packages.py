"""The AWS IoT Software Package Catalog (imported by local/emulator.py after
ministack, which has no package API): the calls the pipeline makes, and
CreateJob's refusal of a draft version.

Modelled on AWS's documentation:
  * API reference and botocore's iot service-2.json (2015-05-28) for the
    REST shapes, limits and each operation's error list:
      PUT|GET|PATCH /packages/{packageName}                 CreatePackage, GetPackage, UpdatePackage
      PUT|GET|PATCH|DELETE /packages/{p}/versions/{v}       CreatePackageVersion, GetPackageVersion,
                                                            UpdatePackageVersion, DeletePackageVersion
    packageName [a-zA-Z0-9-_.]+ 1..128; versionName [a-zA-Z0-9-_.]+ 1..64;
    description [^\\p{C}]+ 0..1024; attributes: key [a-zA-Z0-9:_-]+, value
    [^\\p{C}]+, "The combined size of all the attributes on a package version
    is limited to 3KB" (counted as the UTF-8 bytes of keys and values);
    recipe at most 3072; clientToken \\S{36,64}; tags at most 50.
  * Developer guide, "Preparing to use Software Package Catalog", Package
    version lifecycle: a new version is DRAFT ("you can't deploy it. You can
    edit the package version's description, attributes, and tags"); PUBLISHED
    ("you can edit only the description and tags"; it may become the default);
    DEPRECATED; a draft or published version can be deleted.
  * "Preparing AWS IoT Jobs" (../shared/reference/003_*): attributes and the
    artifact "become immutable" on publish; the recipe stays editable.

Where AWS documents no error code for a case, the emulator answers one the
operation's documented error list holds: a version of a missing package
(CreatePackageVersion lists no ResourceNotFoundException) is a
ValidationException; an existing version, a reused client token with other
parameters, a change to a published version's attributes or artifact, and a
second PUBLISH are ConflictException. DeletePackageVersion of a missing
version succeeds (its error list has no not-found). CreateJob naming a draft
version is an InvalidRequestException (AWS documents that a draft cannot be
deployed, not the code).

Substitution parameters ("Preparing AWS IoT Jobs"): a job document may name
a version's attribute as ${aws:iot:package:NAME:version:VERSION:attributes:KEY};
"the package version in the job document" must match one in
destinationPackageVersions, else CreateJob is refused (InvalidRequestException
here; the guide says only that an error prompts to make both references
match). IoT Jobs fills the parameter in when it hands the document to a
device (the jobs data plane and its MQTT topics); GetJobDocument keeps the
parameters. Only this named-attribute form is modelled (not the empty-name
or all-attributes forms).

The account's package configuration (GetPackageConfiguration, GET
/package-configuration; UpdatePackageConfiguration, PATCH
/package-configuration?clientToken=): versionUpdateByJobsConfig {enabled,
roleArn 20..2048}, one per account and Region; an account that never set it
reads as not enabled. UpdatePackageConfiguration answers an empty 200; a
client token reused with another configuration is a ConflictException (its
documented error list: Conflict, InternalServer, Throttling, Validation).
The emulator's own choice where AWS documents nothing: fields a PATCH leaves
out keep their value (the pipeline always sends both). Whether IoT Jobs then
writes the $package shadow is not modelled.
"""
from __future__ import annotations

import json
import re
import time
import unicodedata

_NAME_RE = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
_VERSION_RE = re.compile(r"^[a-zA-Z0-9._-]{1,64}$")
_ATTR_KEY_RE = re.compile(r"^[a-zA-Z0-9:_-]+$")
_TOKEN_RE = re.compile(r"^\S{36,64}$")
MAX_ATTRIBUTES_BYTES = 3072
MAX_RECIPE = 3072
MAX_DESCRIPTION = 1024
_VERSION_ARN_RE = re.compile(r"^arn:[^:]+:iot:[^:]*:[^:]*:package/([^/]+)/version/([^/]+)$")
# "Preparing AWS IoT Jobs", Substitution parameters: a named version's
# attribute, ${aws:iot:package:<packageName>:version:<versionName>:attributes:<attributekey>}.
_PARAM_RE = re.compile(r"\$\{aws:iot:package:([a-zA-Z0-9._-]+):version:([a-zA-Z0-9._$-]+):attributes:([a-zA-Z0-9:_-]+)\}")


def _has_category_c(s: str) -> bool:
    return any(unicodedata.category(c).startswith("C") for c in s)


def install_package_catalog() -> dict:
    from ministack.core.responses import (
        AccountRegionScopedDict, error_response_json, get_account_id, get_region, json_response,
    )
    from ministack.services import iot

    packages = AccountRegionScopedDict()  # packageName -> record (with "versions")
    # "config" -> versionUpdateByJobsConfig; "tokens" -> {clientToken: config}
    package_configuration = AccountRegionScopedDict()

    def bad(msg):
        return error_response_json("ValidationException", msg, 400)

    def conflict(msg):
        return error_response_json("ConflictException", msg, 409)

    def not_found(msg):
        return error_response_json("ResourceNotFoundException", msg, 404)

    def package_arn(name):
        return f"arn:aws:iot:{get_region()}:{get_account_id()}:package/{name}"

    def one(qp, name):
        v = (qp or {}).get(name)
        return v[0] if isinstance(v, list) else v

    def check_description(d):
        if d is None:
            return None
        if not isinstance(d, str) or len(d) > MAX_DESCRIPTION or (d and _has_category_c(d)):
            return bad("description must be at most 1024 characters matching [^\\p{C}]+")
        return None

    def check_token(t):
        if t is not None and not _TOKEN_RE.match(t):
            return bad("clientToken must match \\S{36,64}")
        return None

    def check_attributes(attrs):
        if attrs is None:
            return None
        if not isinstance(attrs, dict):
            return bad("attributes must be a map of strings")
        total = 0
        for k, v in attrs.items():
            if not isinstance(k, str) or not _ATTR_KEY_RE.match(k):
                return bad(f"attribute key '{k}' must match [a-zA-Z0-9:_-]+")
            if not isinstance(v, str) or not v or _has_category_c(v):
                return bad(f"attribute '{k}' must match [^\\p{{C}}]+")
            total += len(k.encode()) + len(v.encode())
        if total > MAX_ATTRIBUTES_BYTES:
            return bad(f"The combined size of all the attributes on a package version is limited to 3KB ({total} bytes)")
        return None

    def check_artifact(a):
        if a is None:
            return None
        loc = a.get("s3Location") if isinstance(a, dict) else None
        if not isinstance(loc, dict) or not all(isinstance(loc.get(k), str) and loc.get(k) for k in ("bucket", "key", "version")):
            return bad("artifact.s3Location needs bucket, key and version")
        return None

    def check_recipe(r):
        if r is not None and (not isinstance(r, str) or len(r) > MAX_RECIPE):
            return bad("recipe must be at most 3072 characters")
        return None

    def body_of(raw):
        try:
            v = json.loads(raw or b"{}")
            return v if isinstance(v, dict) else None
        except ValueError:
            return None

    def version_view(p, v):
        out = {k: v[k] for k in ("packageVersionArn", "packageName", "versionName", "status",
                                 "creationDate", "lastModifiedDate") if k in v}
        for k in ("description", "attributes", "artifact", "recipe"):
            if v.get(k) is not None:
                out[k] = v[k]
        return out

    def create_package(name, payload, qp):
        if not _NAME_RE.match(name):
            return bad("packageName must match [a-zA-Z0-9-_.]+, 1 to 128 characters")
        token = one(qp, "clientToken")
        if err := check_token(token) or check_description(payload.get("description")):
            return err
        rec = packages.get(name)
        if rec is not None:
            if token is not None and rec.get("clientToken") == token and rec.get("description") == payload.get("description"):
                return json_response({k: rec[k] for k in ("packageName", "packageArn", "description") if k in rec})
            return conflict(f"Package {name} already exists")
        now = time.time()
        rec = {"packageName": name, "packageArn": package_arn(name), "creationDate": now,
               "lastModifiedDate": now, "versions": {}, "clientToken": token}
        if payload.get("description") is not None:
            rec["description"] = payload["description"]
        packages[name] = rec
        return json_response({k: rec[k] for k in ("packageName", "packageArn", "description") if k in rec})

    def package_view(rec):
        return {k: rec[k] for k in ("packageName", "packageArn", "description", "defaultVersionName",
                                    "creationDate", "lastModifiedDate") if rec.get(k) is not None}

    def update_package(rec, payload, qp):
        if err := check_token(one(qp, "clientToken")) or check_description(payload.get("description")):
            return err
        default = payload.get("defaultVersionName")
        if default is not None:
            v = rec["versions"].get(default)
            if v is None or v["status"] != "PUBLISHED":
                return bad(f"Version {default} of package {rec['packageName']} is not a published version; only a published version can be the default")
            rec["defaultVersionName"] = default
        if payload.get("unsetDefaultVersion"):
            rec.pop("defaultVersionName", None)
        if "description" in payload:
            rec["description"] = payload["description"]
        rec["lastModifiedDate"] = time.time()
        return json_response({})

    def create_version(rec, vname, payload, qp):
        if not _VERSION_RE.match(vname):
            return bad("versionName must match [a-zA-Z0-9-_.]+, 1 to 64 characters")
        token = one(qp, "clientToken")
        for err in (check_token(token), check_description(payload.get("description")),
                    check_attributes(payload.get("attributes")), check_artifact(payload.get("artifact")),
                    check_recipe(payload.get("recipe"))):
            if err:
                return err
        params = {k: payload.get(k) for k in ("description", "attributes", "artifact", "recipe")}
        existing = rec["versions"].get(vname)
        if existing is not None:
            # The same client token with the same parameters is the same
            # request: its answer again. Anything else conflicts.
            if token is not None and existing.get("clientToken") == token and existing["params"] == params:
                return json_response(version_view(rec, existing))
            return conflict(f"Package version {rec['packageName']}/{vname} already exists")
        now = time.time()
        v = {"packageVersionArn": f"{rec['packageArn']}/version/{vname}", "packageName": rec["packageName"],
             "versionName": vname, "status": "DRAFT", "creationDate": now, "lastModifiedDate": now,
             "clientToken": token, "params": params, **{k: x for k, x in params.items() if x is not None}}
        rec["versions"][vname] = v
        return json_response(version_view(rec, v))

    def update_version(rec, v, payload, qp):
        for err in (check_token(one(qp, "clientToken")), check_description(payload.get("description")),
                    check_attributes(payload.get("attributes")), check_artifact(payload.get("artifact")),
                    check_recipe(payload.get("recipe"))):
            if err:
                return err
        action = payload.get("action")
        if action not in (None, "PUBLISH", "DEPRECATE"):
            return bad("action must be PUBLISH or DEPRECATE")
        if v["status"] != "DRAFT" and any(payload.get(k) is not None for k in ("attributes", "artifact")):
            return conflict(f"Package version {rec['packageName']}/{v['versionName']} is {v['status']}: its attributes and artifact cannot change")
        if action == "PUBLISH" and v["status"] != "DRAFT":
            return conflict(f"Package version {rec['packageName']}/{v['versionName']} is {v['status']}, not DRAFT")
        if action == "DEPRECATE" and v["status"] != "PUBLISHED":
            return conflict(f"Package version {rec['packageName']}/{v['versionName']} is {v['status']}, not PUBLISHED")
        for k in ("description", "attributes", "artifact", "recipe"):
            if payload.get(k) is not None:
                v[k] = payload[k]
        if action == "PUBLISH":
            v["status"] = "PUBLISHED"
        elif action == "DEPRECATE":
            v["status"] = "DEPRECATED"
        v["lastModifiedDate"] = time.time()
        return json_response({})

    def route(method, path, raw, qp):
        parts = path.strip("/").split("/")
        if parts[0] != "packages" or len(parts) not in (2, 4) or (len(parts) == 4 and parts[2] != "versions"):
            return None
        name = parts[1]
        payload = body_of(raw) if method in ("PUT", "PATCH") else {}
        if payload is None:
            return bad("Invalid JSON body")
        rec = packages.get(name)
        if len(parts) == 2:
            if method == "PUT":
                return create_package(name, payload, qp)
            if rec is None:
                return not_found(f"Package {name} does not exist")
            if method == "GET":
                return json_response(package_view(rec))
            if method == "PATCH":
                return update_package(rec, payload, qp)
            return None
        vname = parts[3]
        if method == "PUT":
            if rec is None:
                return bad(f"Package {name} does not exist; create it first (CreatePackage)")
            return create_version(rec, vname, payload, qp)
        v = rec["versions"].get(vname) if rec else None
        if method == "DELETE":
            if err := check_token(one(qp, "clientToken")):
                return err
            if v is not None:
                if rec.get("defaultVersionName") == vname:
                    rec.pop("defaultVersionName")
                del rec["versions"][vname]
            return json_response({})
        if v is None:
            return not_found(f"Package version {name}/{vname} does not exist")
        if method == "GET":
            return json_response(version_view(rec, v))
        if method == "PATCH":
            return update_version(rec, v, payload, qp)
        return None

    def configuration(method, raw, qp):
        """GET / PATCH /package-configuration."""
        if method == "GET":
            return json_response({"versionUpdateByJobsConfig":
                                  package_configuration.get("config") or {"enabled": False}})
        if method != "PATCH":
            return None
        payload = body_of(raw)
        if payload is None:
            return bad("Invalid JSON body")
        token = one(qp, "clientToken")
        if err := check_token(token):
            return err
        config = payload.get("versionUpdateByJobsConfig")
        if config is None:
            return json_response({})
        if not isinstance(config, dict) or set(config) - {"enabled", "roleArn"}:
            return bad("versionUpdateByJobsConfig takes enabled and roleArn")
        enabled, role = config.get("enabled"), config.get("roleArn")
        if enabled is not None and not isinstance(enabled, bool):
            return bad("versionUpdateByJobsConfig.enabled must be a boolean")
        if role is not None and (not isinstance(role, str) or not 20 <= len(role) <= 2048):
            return bad("versionUpdateByJobsConfig.roleArn must be 20 to 2048 characters")
        tokens = dict(package_configuration.get("tokens") or {})
        if token is not None and token in tokens and tokens[token] != config:
            return conflict("clientToken was used with another package configuration")
        if token is not None:
            tokens[token] = config
            package_configuration["tokens"] = tokens
        current = dict(package_configuration.get("config") or {"enabled": False})
        current.update(config)
        package_configuration["config"] = current
        return json_response({})

    def refuse_drafts(path, raw):
        """CreateJob (PUT /jobs/{jobId}) with a draft destination version."""
        payload = body_of(raw) or {}
        for arn in payload.get("destinationPackageVersions") or []:
            m = _VERSION_ARN_RE.match(arn if isinstance(arn, str) else "")
            if not m or m.group(2) in ("$default", "$null"):
                continue
            rec = packages.get(m.group(1))
            v = rec["versions"].get(m.group(2)) if rec else None
            if v is not None and v["status"] == "DRAFT":
                return error_response_json(
                    "InvalidRequestException",
                    f"Package version {m.group(1)}/{m.group(2)} is DRAFT; only a published version can be deployed", 400)
        deployed = set()
        for arn in payload.get("destinationPackageVersions") or []:
            m = _VERSION_ARN_RE.match(arn if isinstance(arn, str) else "")
            if m:
                deployed.add((m.group(1), m.group(2)))
        for m in _PARAM_RE.finditer(str(payload.get("document") or "")):
            if (m.group(1), m.group(2)) not in deployed:
                return error_response_json(
                    "InvalidRequestException",
                    f"The job document names package version {m.group(1)}/{m.group(2)}, which destinationPackageVersions does not: make both references match", 400)
        return None

    orig_handle = iot.handle_request

    async def handle_request(method, path, headers, body, query_params):
        if path.rstrip("/") == "/package-configuration":
            resp = configuration(method, body, query_params or {})
            if resp is not None:
                return resp
        if path.startswith("/packages/"):
            resp = route(method, path, body, query_params or {})
            if resp is not None:
                return resp
        if method == "PUT" and path.startswith("/jobs/") and path.count("/") == 2:
            resp = refuse_drafts(path, body)
            if resp is not None:
                return resp
        return await orig_handle(method, path, headers, body, query_params)

    iot.handle_request = handle_request

    def substitute(document):
        def value(m):
            rec = packages.get(m.group(1))
            v = rec["versions"].get(m.group(2)) if rec else None
            attr = (v or {}).get("attributes", {}).get(m.group(3))
            # Inside a JSON string: the value JSON-escaped, without quotes.
            return m.group(0) if attr is None else json.dumps(attr)[1:-1]
        return _PARAM_RE.sub(value, document)

    # ministack builds every document a device receives (jobs data plane,
    # MQTT) through _jobs_presigned_document (iot.py); GetJobDocument does not.
    orig_presigned = iot._jobs_presigned_document

    def presigned(job):
        document = job.get("document")
        if isinstance(document, str) and "${aws:iot:package:" in document:
            job = dict(job, document=substitute(document))
        return orig_presigned(job)

    iot._jobs_presigned_document = presigned

    from emulator_state import persist_with_iot

    persist_with_iot("x_emu_packages", packages)
    persist_with_iot("x_emu_package_configuration", package_configuration)
    return packages
