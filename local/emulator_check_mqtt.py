"""emulator_check's MQTT part: drives the broker as a device does (paho-mqtt),
over SigV4-signed WebSocket and over mutual TLS, and checks what
local/emulator_mqtt.py adds."""
from __future__ import annotations

import queue
import ssl
import tempfile
import urllib.request
import uuid
from urllib.parse import urlsplit

import base64
import json

import cbor2
import paho.mqtt.client as mqtt
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from check_support import check, client


def data_host(ep):
    """The account's iot:Data-ATS host (ministack routes MQTT over WebSocket by it)."""
    return client("iot", ep).describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]


def presigned_path(host, access_key, secret, token=None):
    """/mqtt?X-Amz-... for the device gateway, as the AWS IoT Device SDKs
    sign it: service iotdevicegateway, the session token appended after
    signing (developer guide, "MQTT over the WebSocket protocol")."""
    request = AWSRequest(method="GET", url=f"https://{host}/mqtt")
    SigV4QueryAuth(Credentials(access_key, secret), "iotdevicegateway", "us-east-1", expires=300).add_auth(request)
    path = request.url.split(host, 1)[1]
    if token:
        path += "&X-Amz-Security-Token=" + urllib.request.quote(token, safe="")
    return path


class Device:
    """One MQTT connection; messages land in a queue."""

    def __init__(self, client_id=None):
        self.inbox = queue.Queue()
        self.connected = queue.Queue()
        self.client_id = client_id or "check-" + uuid.uuid4().hex[:8]

    def _client(self, transport):
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, transport=transport)
        c.on_connect = lambda _c, _u, _f, rc, _p=None: self.connected.put(rc.value if hasattr(rc, "value") else rc)
        c.on_message = lambda _c, _u, m: self.inbox.put((m.topic, m.payload))
        return c

    def ws(self, ep, path, host):
        """Connects over WebSocket to the emulator's port with Host naming the data endpoint."""
        port = urlsplit(ep).port
        self.c = self._client("websockets")
        self.c.ws_set_options(path=path, headers={"Host": host})
        return self._connect("127.0.0.1", port)

    def tls(self, addr, ca_file, cert_file, key_file):
        host, port = addr.rsplit(":", 1)
        self.c = self._client("tcp")
        self.c.tls_set(ca_certs=ca_file, certfile=cert_file, keyfile=key_file, cert_reqs=ssl.CERT_REQUIRED)
        return self._connect(host, int(port))

    def _connect(self, host, port):
        try:
            self.c.connect(host, port, keepalive=30)
        except Exception as e:  # the refused WebSocket upgrade surfaces here
            return f"refused: {e}"
        self.c.loop_start()
        try:
            rc = self.connected.get(timeout=10)
        except queue.Empty:
            return "no CONNACK"
        return "connected" if rc == 0 else f"CONNACK {rc}"

    def subscribe(self, reply_filter):
        done = queue.Queue()
        self.c.on_subscribe = lambda *_a: done.put(True)
        self.c.subscribe(reply_filter, qos=1)
        done.get(timeout=10)

    def request(self, topic, payload, reply_filter, timeout=10):
        self.subscribe(reply_filter)
        self.c.publish(topic, payload, qos=1)
        return self.inbox.get(timeout=timeout)

    def collect(self, topic, payload, count, timeout=10):
        """Publishes, then takes `count` messages (fewer if none comes for `timeout`)."""
        self.c.publish(topic, payload, qos=1)
        got = []
        try:
            while len(got) < count:
                got.append(self.inbox.get(timeout=timeout))
        except queue.Empty:
            pass
        return got

    def close(self):
        if hasattr(self, "c"):
            self.c.loop_stop()
            self.c.disconnect()


def ws_sigv4(ep):
    ok = True
    host = data_host(ep)
    d = Device()
    ok &= check("MQTT/WS unsigned upgrade refused", d.ws(ep, "/mqtt", host).startswith("refused"))
    d.close()
    iam = client("iam", ep)
    user = "mqtt-check-" + uuid.uuid4().hex[:6]
    iam.create_user(UserName=user)
    key = iam.create_access_key(UserName=user)["AccessKey"]
    d = Device()
    wrong = d.ws(ep, presigned_path(host, key["AccessKeyId"], "not-" + key["SecretAccessKey"]), host)
    ok &= check("MQTT/WS upgrade signed with a wrong secret refused", wrong.startswith("refused"), wrong)
    d.close()
    d = Device()
    right = d.ws(ep, presigned_path(host, key["AccessKeyId"], key["SecretAccessKey"]), host)
    ok &= check("MQTT/WS upgrade signed with the user's secret connects", right == "connected", right)
    if right == "connected":
        topic = "check/echo/" + uuid.uuid4().hex[:6]
        got = d.request(topic, b"hello", topic)
        ok &= check("MQTT/WS publish reaches the subscriber", got == (topic, b"hello"), repr(got))
    d.close()
    return ok


def mtls(ep, addr):
    ok = check("mTLS listener bound to loopback", bool(addr) and addr.startswith("127.0.0.1:"), addr)
    if not ok:
        return ok
    iot = client("iot", ep)
    thing = "mtls-check-" + uuid.uuid4().hex[:6]
    iot.create_thing(thingName=thing)
    made = iot.create_keys_and_certificate(setAsActive=True)
    iot.attach_thing_principal(thingName=thing, principal=made["certificateArn"])
    work = tempfile.mkdtemp(prefix="mtls-check-")
    files = {}
    with urllib.request.urlopen(ep + "/_ministack/iot/ca.pem", timeout=10) as r:
        files["ca"] = r.read()
    files["cert"] = made["certificatePem"].encode()
    files["key"] = made["keyPair"]["PrivateKey"].encode()
    for name, data in files.items():
        with open(f"{work}/{name}.pem", "wb") as f:
            f.write(data)
    d = Device(client_id=thing)
    got = d.tls(addr, f"{work}/ca.pem", f"{work}/cert.pem", f"{work}/key.pem")
    ok &= check("mTLS connect with a registered device certificate", got == "connected", got)
    if got == "connected":
        topic = f"$aws/things/{thing}/jobs/get"
        reply = d.request(topic, b"{}", topic + "/accepted")
        ok &= check("mTLS Jobs request answered", reply[0] == topic + "/accepted", repr(reply)[:200])
    d.close()
    return ok


def stream_data_plane(ep):
    """DescribeStream/GetStream over MQTT (local/emulator_streams.py), JSON and
    CBOR, from the S3 version the stream pins."""
    ok = True
    s3, iot = client("s3", ep), client("iot", ep)
    bucket = "stream-check-" + uuid.uuid4().hex[:6]
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    v1 = bytes((i * 7 + 3) % 256 for i in range(200_000))
    pinned = s3.put_object(Bucket=bucket, Key="fw.bin", Body=v1)["VersionId"]
    s3.put_object(Bucket=bucket, Key="fw.bin", Body=b"newer" * 100)
    stream = "check-" + uuid.uuid4().hex[:6]
    iot.create_stream(streamId=stream, description="check", roleArn="arn:aws:iam::000000000000:role/ota",
                      files=[{"fileId": 3, "s3Location": {"bucket": bucket, "key": "fw.bin", "version": pinned}}])
    host = data_host(ep)
    d = Device("stream-check")
    got = d.ws(ep, presigned_path(host, "test", "test"), host)
    if not check("MQTT/WS with the emulator's root key", got == "connected", got):
        return False
    base = f"$aws/things/stream-check/streams/{stream}"
    d.subscribe(base + "/#")

    def one(verb, fmt, doc, raw=None):
        payload = raw if raw is not None else (cbor2.dumps(doc) if fmt == "cbor" else json.dumps(doc).encode())
        msgs = d.collect(f"{base}/{verb}/{fmt}", payload, 1)
        # The request itself is delivered to the "#" subscription first.
        msgs = [m for m in msgs if not m[0].endswith(f"/{verb}/{fmt}")] or d.collect("x/none", b"", 1)
        topic, body = msgs[0] if msgs else ("", b"")
        return topic.rsplit("/", 2)[-2] if topic else "", (cbor2.loads(body) if fmt == "cbor" else json.loads(body)) if body else None

    kind, out = one("describe", "json", {"c": "t1"})
    ok &= check("DescribeStream JSON: the pinned version's size", kind == "description"
                and out == {"c": "t1", "s": 1, "d": "check", "r": [{"f": 3, "z": len(v1)}]}, repr(out))

    def blocks(fmt, doc, want):
        payload = cbor2.dumps(doc) if fmt == "cbor" else json.dumps(doc).encode()
        msgs = [m for m in d.collect(f"{base}/get/{fmt}", payload, want + 1, timeout=3)
                if m[0].endswith(f"/data/{fmt}")]
        return [cbor2.loads(b) if fmt == "cbor" else json.loads(b) for _, b in msgs]

    got = blocks("cbor", {"c": "rdy", "f": 3, "l": 4096, "o": 46, "n": 5}, 3)
    ok &= check("GetStream CBOR o=46 n=5: blocks 46, 47 and the short last one 48, bytes of the pinned version",
                [(m["i"], m["l"]) for m in got] == [(46, 4096), (47, 4096), (48, 200_000 - 48 * 4096)]
                and all(m["p"] == v1[m["i"] * 4096:m["i"] * 4096 + m["l"]] and m["f"] == 3 and m["c"] == "rdy"
                        for m in got), repr([(m.get("i"), m.get("l")) for m in got]))
    # FreeRTOS sends a bitmap (byte string in CBOR) and n together.
    got = blocks("cbor", {"c": "rdy", "f": 3, "l": 4096, "o": 0, "b": bytes([0b00010011, 0, 0x80]), "n": 10}, 4)
    ok &= check("GetStream CBOR bitmap 13 00 80: blocks 0, 1, 4 and 23",
                [m["i"] for m in got] == [0, 1, 4, 23], repr([m["i"] for m in got]))
    got = blocks("json", {"f": 3, "l": 1024, "o": 20, "b": "0x130080"}, 4)
    ok &= check("GetStream JSON hex bitmap from o=20: blocks 20, 21, 24, 43, payload base64",
                [m["i"] for m in got] == [20, 21, 24, 43]
                and base64.b64decode(got[0]["p"]) == v1[20 * 1024:21 * 1024], repr([m["i"] for m in got]))
    got = blocks("cbor", {"f": 3, "l": 65536, "n": 4}, 4)
    ok &= check("GetStream answers at most 128 KB per request",
                [m["i"] for m in got] == [0, 1], repr([m["i"] for m in got]))

    for label, fmt, doc, raw, code_ in [
        ("block size 100", "cbor", {"f": 3, "l": 100, "n": 1}, None, "BlockSizeOutOfBounds"),
        ("unknown file", "cbor", {"f": 9, "l": 4096, "n": 1}, None, "ResourceNotFound"),
        ("stale version", "json", {"f": 3, "l": 4096, "n": 1, "s": 7}, None, "VersionMismatch"),
        ("offset past the end", "json", {"f": 3, "l": 4096, "o": 60, "n": 1}, None, "OffsetOutOfBounds"),
        ("n out of range", "json", {"f": 3, "l": 4096, "n": 100000}, None, "BlockCountLimitExceeded"),
        ("bitmap of 12,288 bytes", "cbor", {"f": 3, "l": 4096, "b": bytes(12288)}, None, "BlockBitmapLimitExceeded"),
        ("not JSON", "json", None, b"{nope", "InvalidJson"),
        ("not CBOR", "cbor", None, b"\xff\xff", "InvalidCbor"),
        ("a 65-byte client token", "json", {"c": "x" * 65, "f": 3, "l": 4096, "n": 1}, None, "InvalidRequest"),
    ]:
        kind, out = one("get", fmt, doc, raw)
        ok &= check(f"GetStream {label} -> rejected {code_}", kind == "rejected" and (out or {}).get("o") == code_
                    and "m" in out and ("c" not in out if label.startswith("a 65") else True), repr(out))
    d.close()
    return ok
