"""The live diagnosis excerpt of a device: the hook where playbook runs come in.

Where a device's platform has a health playbook, the inspection is meant to
run it live and quote its findings in the report. Playbook runs are not
wired to inspections yet: `live_diagnosis` returns None, and the report says
no live diagnosis was taken. It is called once per device in scope, during
the inspection, with the store and the device's row.
"""

from __future__ import annotations

from sqlalchemy import Engine

from collector.inspections.data import DeviceRow
from collector.inspections.model import Diagnosis


def live_diagnosis(engine: Engine, device: DeviceRow) -> Diagnosis | None:
    return None
