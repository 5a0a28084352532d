"""One emulated store kept with ministack's IoT state: saved and loaded with
it (PERSIST_STATE), emptied by /_ministack/reset. Shared by the additions of
local/emulator.py that hold state of their own (streams, packages)."""
from __future__ import annotations


def persist_with_iot(key: str, store) -> None:
    """`store` is an AccountRegionScopedDict; `key` its name in iot's state."""
    from ministack.services import iot

    orig_get_state, orig_load, orig_reset = iot.get_state, iot.load_persisted_state, iot.reset

    def get_state():
        st = orig_get_state()
        st[key] = [[list(k), v] for k, v in store._data.items()]
        return st

    def load_persisted_state(data):
        for k, v in (data or {}).pop(key, []):
            store._data[tuple(k)] = v
        return orig_load(data)

    def reset():
        store._data.clear()
        return orig_reset()

    iot.get_state, iot.load_persisted_state, iot.reset = get_state, load_persisted_state, reset
