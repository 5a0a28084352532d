"""The MQTT-based file delivery data plane (DescribeStream and GetStream over
MQTT) for the streams local/emulator.py stores, which ministack lacks.

Modelled on AWS IoT's developer guide, "Using AWS IoT MQTT-based file
delivery in devices" (https://docs.aws.amazon.com/iot/latest/developerguide/
mqtt-based-file-delivery-in-devices.html; read in full from
awsdocs/aws-iot-docs developerguide/mqtt-based-file-delivery-in-devices.md
@0361377, line numbers below are that file's) and the reserved topics page:

  request  $aws/things/THING/streams/STREAM/describe/FMT   (FMT json | cbor)
  answer   $aws/things/THING/streams/STREAM/description/FMT
  request  $aws/things/THING/streams/STREAM/get/FMT
  answer   $aws/things/THING/streams/STREAM/data/FMT     one message per block
  errors   $aws/things/THING/streams/STREAM/rejected/FMT {"o": code, "m": msg, "c"}

GetStream: `f` file id (required), `l` block size 256..131072 (required,
else BlockSizeOutOfBounds), `o` first block 0..98304 (OffsetOutOfBounds),
`n` blocks 0..98304 (BlockCountLimitExceeded; default 131072 / l), `b` a
bitmap of blocks from `o` (bit k of byte k/8, least significant first, is
block o + k; JSON: a hex string "0x130080", CBOR: a byte string, as the
FreeRTOS agent sends it, ota_cbor.c L333-335; at most 12,288 bytes, else
BlockBitmapLimitExceeded), `s` the expected stream version
(VersionMismatch), `c` a client token of at most 64 bytes (InvalidRequest).
With a bitmap, `n` caps how many of its blocks are sent (L128, L165); one
request is answered with at most 128 KB of payload (L88, L94-96), the device
asks again for the rest. A block's `l` is its own payload size (the last one
is short), `i` its absolute index, `p` its bytes (base64 in JSON, a byte
string in CBOR). Each file is served from the S3 object version the stream
pins (`s3Location.version`), not from the key's current version.
"""
from __future__ import annotations

import base64
import json
import re

import cbor2

_TOPIC = re.compile(r"\$aws/things/([^/]+)/streams/([^/]+)/(describe|get)/(json|cbor)")
MAX_REQUEST_BYTES = 128 * 1024
MAX_BLOCK_INDEX = 98304
MAX_BITMAP_BYTES = 12288


class Rejected(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


def _decode(payload: bytes, fmt: str) -> dict:
    try:
        doc = cbor2.loads(payload) if fmt == "cbor" else json.loads(payload or b"{}")
    except Exception:
        raise Rejected("InvalidCbor" if fmt == "cbor" else "InvalidJson",
                       f"The request is not a valid {fmt.upper()} document")
    if not isinstance(doc, dict):
        raise Rejected("InvalidRequest", "The request must be a map")
    return doc


def _encode(doc: dict, fmt: str) -> bytes:
    if fmt == "cbor":
        return cbor2.dumps(doc)
    return json.dumps({k: base64.b64encode(v).decode() if isinstance(v, bytes) else v
                       for k, v in doc.items()}, separators=(",", ":")).encode()


def _int(doc, key, low, high, code, default=None):
    value = doc.get(key, default)
    if value is None:
        raise Rejected("InvalidRequest", f'"{key}" is required')
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Rejected(code, f'"{key}" must be an integer from {low} to {high}')
    return value


def _bitmap(value, fmt) -> bytes:
    if isinstance(value, bytes) and fmt == "cbor":
        raw = value
    elif isinstance(value, str) and fmt == "json":
        text = value[2:] if value[:2].lower() == "0x" else value
        try:
            raw = bytes.fromhex(text if len(text) % 2 == 0 else "0" + text)
        except ValueError:
            raise Rejected("InvalidRequest", '"b" must be a hexadecimal string')
    else:
        raise Rejected("InvalidRequest", '"b" must be a byte string (CBOR) or a hex string (JSON)')
    if len(raw) >= MAX_BITMAP_BYTES:
        raise Rejected("BlockBitmapLimitExceeded", "The bitmap must be less than 12,288 bytes")
    return raw


def blocks_requested(doc: dict, fmt: str, size: int) -> tuple[int, list[int]]:
    """(block size, the block indexes to send) for a GetStream request on a
    file of `size` bytes."""
    block = _int(doc, "l", 256, 131072, "BlockSizeOutOfBounds")
    offset = _int(doc, "o", 0, MAX_BLOCK_INDEX, "OffsetOutOfBounds", default=0)
    count = _int(doc, "n", 0, MAX_BLOCK_INDEX, "BlockCountLimitExceeded", default=131072 // block)
    last = max(0, (size + block - 1) // block - 1)
    if offset > last:
        raise Rejected("OffsetOutOfBounds", f"Block {offset} is past the file's last block {last}")
    if "b" in doc:
        raw = _bitmap(doc["b"], fmt)
        wanted = [offset + k for k in range(len(raw) * 8) if raw[k // 8] >> (k % 8) & 1]
    else:
        wanted = list(range(offset, offset + count))
    wanted = [i for i in wanted if i <= last][:count]
    # At most 128 KB of payload per request; the device asks again for the rest.
    return block, wanted[:max(1, MAX_REQUEST_BYTES // block)]


def install_stream_data_plane(streams) -> None:
    """`streams` is local/emulator.py's stream store (streamId -> record)."""
    from ministack.core.responses import request_scope
    from ministack.services import iot, s3

    orig_publish = iot.broker_publish
    cache: dict[tuple, bytes] = {}

    def file_bytes(entry) -> bytes:
        loc = entry["s3Location"]
        key = (loc["bucket"], loc["key"], loc.get("version"))
        if key not in cache:
            data = s3._get_object_data(*key)
            if data is None:
                raise Rejected("ResourceNotFound",
                               f"File {entry['fileId']} (s3://{loc['bucket']}/{loc['key']}"
                               f" version {loc.get('version')}) was not found")
            if len(cache) > 64:
                cache.clear()
            cache[key] = data
        return cache[key]

    def answer(record, verb, doc, fmt):
        token = doc.get("c")
        if token is not None and (not isinstance(token, str) or len(token.encode()) > 64):
            raise Rejected("InvalidRequest", "The client token must be at most 64 bytes")
        head = {"c": token} if token is not None else {}
        if verb == "describe":
            files = [{"f": e["fileId"], "z": len(file_bytes(e))} for e in record["files"]]
            out = {**head, "s": record["streamVersion"], "r": files}
            if record.get("description") is not None:
                out["d"] = record["description"]
            return "description", [out]
        file_id = _int(doc, "f", 0, 255, "InvalidRequest")
        if "s" in doc and doc["s"] != record["streamVersion"]:
            raise Rejected("VersionMismatch",
                           f"Stream version {doc['s']} does not match the current version {record['streamVersion']}")
        entry = next((e for e in record["files"] if e["fileId"] == file_id), None)
        if entry is None:
            raise Rejected("ResourceNotFound", f"File {file_id} is not in the stream")
        data = file_bytes(entry)
        block, wanted = blocks_requested(doc, fmt, len(data))
        return "data", [{**head, "f": file_id, "l": len(chunk), "i": i, "p": chunk}
                        for i in wanted for chunk in [data[i * block:(i + 1) * block]]]

    async def broker_publish(account_id, region, topic, payload, *args, **kwargs):
        await orig_publish(account_id, region, topic, payload, *args, **kwargs)
        m = _TOPIC.fullmatch(topic)
        if m is None:
            return
        thing, stream_id, verb, fmt = m.groups()
        base = f"$aws/things/{thing}/streams/{stream_id}"
        doc = {}
        try:
            doc = _decode(payload, fmt)
            with request_scope(account_id, region):
                record = streams.get(stream_id)
                if record is None:
                    raise Rejected("ResourceNotFound", f"Stream {stream_id} was not found")
                kind, messages = answer(record, verb, doc, fmt)
        except Rejected as e:
            token = doc.get("c") if isinstance(doc.get("c"), str) and len(doc["c"].encode()) <= 64 else None
            error = {"o": e.code, "m": e.message, **({"c": token} if token else {})}
            await orig_publish(account_id, region, f"{base}/rejected/{fmt}", _encode(error, fmt), qos=1)
            return
        for message in messages:
            await orig_publish(account_id, region, f"{base}/{kind}/{fmt}", _encode(message, fmt), qos=1)

    # Every publish (MQTT sessions, HTTP Publish) goes through the module's
    # broker_publish, resolved at call time.
    iot.broker_publish = broker_publish
