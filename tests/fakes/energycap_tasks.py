"""Import API routes of the fake EnergyCAP: stored profiles, import requests, tasks.

Task status strings: "Running" while the import works (endDate null), then
"Succeeded" (every data row imported), "Succeeded with errors" (some rows
failed; see errorOutput) or "Failed" (no row imported, or no data rows).

Test options on `fake.imports` (defaults keep the behaviour above):
`error_output_json` answers errorOutput as a JSON string (application/json);
`fail_whole` (a message) makes every task fail as a whole: nothing imported,
status "Failed", that message, no errorOutput; `success_count` (an int)
overrides the currentSuccessCount a task reports, after it imported.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.energycap_http import Answer, error_answer, json_answer
from tests.fakes.energycap_import import check_profile, decode_data, run_import
from tests.fakes.energycap_model import Tenant
from tests.fakes.energycap_validate import BodyError, validate_object

RUNNING, SUCCEEDED, PARTIAL, FAILED = "Running", "Succeeded", "Succeeded with errors", "Failed"
ENDED = (SUCCEEDED, PARTIAL, FAILED)


@dataclass
class ImportTask:
    """One asynchronous reading import."""

    task_id: int
    guid: str
    note: str | None
    begin: datetime = field(default_factory=lambda: datetime.now(UTC))
    end: datetime | None = None
    status: str = RUNNING
    message: str | None = None
    success_count: int | None = None
    error_output: str = ""

    def as_json(self) -> dict[str, Any]:
        """The TaskResponse JSON."""
        return {
            "taskId": self.task_id,
            "taskGUId": self.guid,
            "taskType": {
                "taskTypeId": 7,
                "taskTypeCode": "ReadingImport",
                "taskTypeInfo": "Reading Import",
            },
            "beginDate": _iso(self.begin),
            "endDate": _iso(self.end) if self.end else None,
            "status": self.status,
            "message": self.message,
            "taskNote": self.note,
            "currentSuccessCount": self.success_count,
            "hasAttachments": bool(self.error_output),
            "output": None,
            "settings": None,
        }


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ImportService:
    """Profiles and tasks of one fake tenant."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.profiles: dict[int, dict[str, Any]] = {}
        self.tasks: dict[str, ImportTask] = {}
        self.task_delay_s = 0.05
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self.error_output_json = False
        self.fail_whole: str | None = None
        self.success_count: int | None = None

    # -- profiles -------------------------------------------------------------------------------
    def profile_json(self, profile_id: int) -> dict[str, Any]:
        """A stored profile as ReadingImportProfileResponse JSON."""
        raw = dict(self.profiles[profile_id])
        zone_id = raw.pop("timeZoneId", None)
        checked = check_profile(self.profiles[profile_id])
        raw["timeZone"] = checked.zone.child() if zone_id is not None and checked.zone else None
        return {"profileId": profile_id, **raw}

    def save_profile(self, body: Any, profile_id: int | None) -> Answer:
        """POST (profile_id None) or PUT a ReadingImportProfileRequest."""
        validate_object("ReadingImportProfileRequest", body)
        check_profile(body)
        with self._lock:
            if profile_id is not None and profile_id not in self.profiles:
                return error_answer(404, f"Reading import profile {profile_id} not found")
            taken = [k for k, p in self.profiles.items() if p["profileCode"] == body["profileCode"]]
            if taken and taken != [profile_id]:
                raise BodyError([f"profileCode '{body['profileCode']}' is already used"])
            if profile_id is None:
                profile_id = max([100, *self.profiles]) + 1
            self.profiles[profile_id] = body
        return json_answer(self.profile_json(profile_id))

    def profile_by_code(self, code: str) -> dict[str, Any]:
        """A stored profile's JSON by its code.

        Raises:
            BodyError: when there is none.
        """
        for profile in self.profiles.values():
            if profile["profileCode"] == code:
                return profile
        raise BodyError([f"profileCode '{code}' does not name a stored reading import profile"])

    # -- imports and tasks ----------------------------------------------------------------------
    def start_import(self, body: Any) -> Answer:
        """POST /api/v3/import/reading: check now, import in the background."""
        validate_object("ReadingImportRequest", body)
        inline, code = body.get("inlineProfile"), body.get("profileCode")
        if (inline is None) == (code is None):
            raise BodyError(["give exactly one of profileCode and inlineProfile"])
        profile = check_profile(inline if inline is not None else self.profile_by_code(code))
        text = decode_data(body["data"])
        with self._lock:
            task = ImportTask(len(self.tasks) + 5001, str(uuid.uuid4()), body.get("importNote"))
            self.tasks[task.guid] = task
        auto = bool(body.get("autoCreateChannels"))
        worker = threading.Thread(target=self._run, args=(task, text, profile, auto), daemon=True)
        self._threads.append(worker)
        worker.start()
        return json_answer({"taskGUId": task.guid})

    def _run(self, task: ImportTask, text: str, profile: Any, auto: bool) -> None:
        time.sleep(self.task_delay_s)
        if self.fail_whole is not None:
            task.status, task.message, task.success_count = FAILED, self.fail_whole, 0
            task.end = datetime.now(UTC)
            return
        try:
            outcome = run_import(self.tenant, text, profile, auto_create=auto)
        except Exception as error:  # a bug in the fake must still end the task
            task.status, task.message, task.end = (
                FAILED,
                f"Internal error: {error!r}",
                datetime.now(UTC),
            )
            raise
        failed = len(outcome.errors)
        task.error_output = "".join(line + "\r\n" for line in outcome.errors)
        task.success_count = outcome.imported
        if self.success_count is not None:
            task.success_count = self.success_count
        task.message = (
            f"Imported {outcome.imported} readings from {outcome.rows - failed} of "
            f"{outcome.rows} data rows; {failed} rows failed"
        )
        task.end = datetime.now(UTC)
        if failed == 0 and outcome.rows > 0:
            task.status = SUCCEEDED
        elif outcome.rows - failed > 0:
            task.status = PARTIAL
        else:
            task.status = FAILED

    def wait(self, timeout_s: float = 10.0) -> None:
        """Block until every started import task has ended."""
        deadline = time.monotonic() + timeout_s
        for worker in list(self._threads):
            worker.join(max(0.0, deadline - time.monotonic()))

    def task_answer(self, guid: str, error_output: bool) -> Answer:
        """GET /api/v3/task/{guid} or its /errorOutput."""
        task = self.tasks.get(guid)
        if task is None:
            return error_answer(404, f"Task {guid} not found")
        if error_output and self.error_output_json:
            return json_answer(task.error_output)
        if error_output:
            return Answer(200, task.error_output.encode("utf-8"), "text/plain; charset=utf-8")
        return json_answer(task.as_json())
