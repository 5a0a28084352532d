"""The emulator's MQTT additions (imported by local/emulator.py after ministack):

  * install_ws_sigv4: the device gateway refuses a MQTT-over-WebSocket
    upgrade that is not SigV4-signed, or signed with the wrong secret
    (ministack checks the signature only under AUTH=true, and lets unsigned
    upgrades in).
  * install_mtls_loopback: ministack's mutual-TLS MQTT listener, bound to
    127.0.0.1 on a free port (ministack binds 0.0.0.0:8883).
  * install_stream_data_plane (emulator_streams.py): the MQTT-based file
    delivery data plane, DescribeStream and GetStream over MQTT.
"""
from __future__ import annotations

import asyncio
import os


def install_ws_sigv4() -> None:
    """AWS IoT's device gateway authenticates MQTT over WebSocket with SigV4
    (developer guide, "MQTT over the WebSocket protocol": "the client must
    sign the request using Signature Version 4"; a custom authorizer is the
    other way in, not modelled here). An upgrade without a signature, or one
    whose signature does not verify, is refused with 403 before the
    WebSocket opens, as the gateway answers any credential failure.

    ministack verifies query signatures through
    iam_evaluator.authenticate_handshake, but only under AUTH=true, and lets
    an unsigned upgrade in; here the check always runs. ministack verifies
    signatures made with IAM user and STS session keys; its root keys (such
    as `test`) have no secret to check against, so a handshake signed with
    one is accepted when it is signed at all."""
    from ministack.core.iam_evaluator import AuthError, authenticate_handshake
    from ministack.services import iot

    def handshake_check(scope):
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        signed = bool(query.get("X-Amz-Signature")) or any(
            name.lower() == b"authorization" for name, _ in scope.get("headers", []))
        if not signed:
            return AuthError("AccessDeniedException",
                             "MQTT over WebSocket needs a SigV4-signed upgrade request")
        return authenticate_handshake(scope, "iotdevicegateway")

    # handle_websocket resolves _ws_handshake_check at call time (iot.py).
    iot._ws_handshake_check = handshake_check


def install_mtls_loopback(port_file: str | None) -> None:
    """ministack's mTLS listener (iot.py _mtls_start_locked) binds
    0.0.0.0:IOT_MTLS_PORT; this project binds nothing but loopback. Here it
    binds 127.0.0.1 on a free port, and writes `127.0.0.1:PORT` to
    `port_file` once it listens. The listener itself (TLS with ministack's
    Local CA, at /_ministack/iot/ca.pem; a client certificate registered with
    IoT names the thing) is ministack's."""
    from ministack.services import iot

    async def start_locked():
        if iot._mtls_server is not None:
            return
        iot._mtls_server = await asyncio.get_running_loop().create_server(
            iot._MtlsAcceptor, host="127.0.0.1", port=0)
        iot._mtls_loop = asyncio.get_running_loop()
        bound = iot._mtls_server.sockets[0].getsockname()[1]
        if port_file:
            tmp = port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write(f"127.0.0.1:{bound}\n")
            os.replace(tmp, port_file)

    iot._mtls_start_locked = start_locked
