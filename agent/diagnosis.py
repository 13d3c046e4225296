"""Run the playbooks the collector asks for, on this site's devices, and stream what they answer.

The collector sends a playbook id, its content hash and the parameters;
never command text. Everything that decides what runs is checked here, on
the customer's side, before anything is sent to a device:

* the playbook must be installed on this agent with exactly that hash;
* the device must be in this agent's inventory and reachable by SSH (or be
  this agent's own machine);
* the parameters must pass the playbook's types and patterns;
* a `change` playbook needs this agent's config to allow changes on that
  device AND an approval recorded at the collector for this very run.
  Deny by default.

A refusal is a run that ends at once with status `refused` and the reason,
so it is on record at the collector like any other run. Output is redacted
line by line before it leaves (one `LineRedactor` per step, so the body of a
private key block is masked too): the device's echo of a password or
community never reaches the collector.

The event loop relays every run's lines; a step's parsing (TextFSM: ~6 ms
for a `show logging`) runs in a worker thread so that 50 runs ending a step
together do not hold the relay up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent.redact import LineRedactor, redact
from protos.vigil.v1 import agent_pb2 as pb

if TYPE_CHECKING:
    from agent.config import AgentConfig, Device

log = logging.getLogger("vigil.agent.diagnosis")

FLUSH_S = 0.02          # output lines wait at most this long to share a message
MAX_LINES_PER_MESSAGE = 200
LOCAL = "agent"         # the platform of commands run on the agent's own machine (ping, traceroute)


class Refused(Exception):
    """A run this agent will not start; `str()` is the reason the engineer reads."""


def pick_platform(playbook: Any, device_id: str, device_platform: str, on_agent_host: bool) -> str:
    """The platform a playbook runs as on a device, or Refused.

    `agent` commands (ping, traceroute) run on the agent's machine, whatever
    the device; on the agent's own machine, Linux commands run there too,
    without SSH.
    """
    platforms = playbook.platforms
    if LOCAL in platforms:
        return LOCAL
    if on_agent_host and "linux" in platforms:
        return "linux"
    if device_platform in platforms:
        return device_platform
    raise Refused(
        f"playbook {playbook.id!r} supports {', '.join(platforms)}; device {device_id} is {device_platform or 'of no known platform'}"
    )


class RunOutput:
    """What one run sends to the collector, in order, with lines grouped into few messages.

    Lines may come from a worker thread (netmiko is blocking); they are handed
    to the event loop, which owns the sending.
    """

    def __init__(self, run_id: str, send: Callable[[pb.AgentMessage], bool], secrets: list[str]) -> None:
        self.run_id = run_id
        self._send = send
        self._secrets = secrets
        self._seq = 0
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._pending: list[str] = []
        self._pending_step = ""
        self._redactor = LineRedactor(secrets)
        self._redactor_step = ""
        self._flush_handle: asyncio.TimerHandle | None = None
        self.delivered = True

    def _emit(self, **item: Any) -> None:
        self._seq += 1
        sent = self._send(pb.AgentMessage(playbook_output=pb.PlaybookOutput(run_id=self.run_id, seq=self._seq, **item)))
        self.delivered = self.delivered and sent

    def step_started(self, step: str, index: int, command: str) -> None:
        self._flush()
        self._emit(step_started=pb.StepStarted(step=step, index=index, command=redact(command, self._secrets)))

    def line(self, step: str, text: str) -> None:
        if threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self.line, step, text)
            return
        if step != self._pending_step:
            self._flush()
            self._pending_step = step
        if step != self._redactor_step:       # a private key block's state spans the lines of one step
            self._redactor, self._redactor_step = LineRedactor(self._secrets), step
        self._pending.append(self._redactor(text))
        if len(self._pending) >= MAX_LINES_PER_MESSAGE:
            self._flush()
        elif self._flush_handle is None:
            self._flush_handle = self._loop.call_later(FLUSH_S, self._flush)

    def _flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._pending:
            lines, self._pending = self._pending, []
            self._emit(lines=pb.OutputLines(step=self._pending_step, lines=lines))

    def step_finished(self, step: str, *, exit_status: int | None, timed_out: bool, truncated: bool,
                      duration_s: float, rows: list[dict[str, Any]] | None, error: str = "") -> None:
        self._flush()
        self._emit(step_finished=pb.StepFinished(
            step=step, exit_status=-1 if exit_status is None else exit_status, timed_out=timed_out,
            truncated=truncated, duration_ms=int(duration_s * 1000),
            rows_json=json.dumps(rows, ensure_ascii=False) if rows is not None else "", error=redact(error, self._secrets),
        ))

    def finished(self, status: str, error: str = "", findings: list[dict[str, Any]] | None = None, duration_s: float = 0.0) -> None:
        self._flush()
        self._emit(run_finished=pb.RunFinished(
            status=status, error=redact(error, self._secrets), duration_ms=int(duration_s * 1000),
            findings_json=json.dumps(findings or [], ensure_ascii=False),
        ))


class PlaybookRunner:
    """Takes RunPlaybook and CancelRun commands from the transport; one task per run."""

    def __init__(self, config: AgentConfig, library: Any, sessions: Any, send: Callable[[pb.AgentMessage], bool],
                 secrets: list[str]) -> None:
        self._config = config
        self._library = library
        self._sessions = sessions
        self._send = send
        self._secrets = secrets
        self._devices: dict[str, Device] = {d.id: d for d in config.devices}
        self._host_id = config.pollers.host.device_id
        self._runs: dict[str, asyncio.Task[None]] = {}
        self._cancelled_by: dict[str, str] = {}
        self._slots = asyncio.Semaphore(config.playbooks.max_concurrent_runs)

    def on_command(self, command: pb.Command) -> None:
        action = command.WhichOneof("action")
        if action == "run_playbook":
            request = command.run_playbook
            if request.run_id in self._runs:
                return  # the collector sent it again after a reconnect; it is running
            task = asyncio.create_task(self._run(request), name=f"run-{request.run_id}")
            self._runs[request.run_id] = task
            task.add_done_callback(lambda _t, run_id=request.run_id: self._runs.pop(run_id, None))
        elif action == "cancel_run":
            cancel = command.cancel_run
            task = self._runs.get(cancel.run_id)
            if task is None:
                self._answer(command.command_id, f"no run {cancel.run_id} on this agent (it may have ended)")
                return
            log.info("run %s: cancelled by %s", cancel.run_id, cancel.requested_by or "the collector")
            self._cancelled_by[cancel.run_id] = cancel.requested_by
            task.cancel()

    def _answer(self, command_id: str, error: str) -> None:
        self._send(pb.AgentMessage(command_result=pb.CommandResult(command_id=command_id, ok=False, error=error)))

    async def close(self) -> None:
        for task in list(self._runs.values()):
            task.cancel()
        await asyncio.gather(*self._runs.values(), return_exceptions=True)

    # ------------------------------------------------------------ one run

    def admit(self, request: pb.RunPlaybook) -> tuple[Any, str, list[Any]]:
        """The playbook, the platform and the planned steps, or Refused saying why not."""
        playbook = self._library.by_hash(request.playbook_id, request.playbook_hash)
        if playbook is None:
            known = self._library.get(request.playbook_id)
            if known is None:
                raise Refused(f"playbook {request.playbook_id!r} is not installed on this agent")
            raise Refused(
                f"playbook {request.playbook_id!r} with hash {request.playbook_hash[:12]}… is not installed on this agent "
                f"(it has {known.content_hash[:12]}…): the collector and the agent have different versions"
            )
        platform = self._platform(request.device_id, playbook)
        if playbook.mode == "change":
            device = self._devices.get(request.device_id)
            if device is None or not device.allow_change_playbooks:
                raise Refused(f"change playbooks are not allowed on device {request.device_id} by this agent's config")
            approval = request.approval
            if not request.HasField("approval") or not approval.approved_by or approval.run_id != request.run_id:
                raise Refused(f"change playbook {playbook.id!r} needs an approval recorded at the collector for run {request.run_id}")
        from playbooks.library import ParamError, PlaybookError

        try:
            steps = playbook.plan(platform, dict(request.params))
        except ParamError as exc:
            raise Refused(f"parameter invalid: {exc}") from None
        except PlaybookError as exc:
            raise Refused(str(exc)) from None
        return playbook, platform, steps

    def _platform(self, device_id: str, playbook: Any) -> str:
        """Which of the playbook's platforms runs for this device; Refused if this agent cannot reach it so."""
        if device_id == self._host_id:
            return pick_platform(playbook, device_id, "linux", on_agent_host=True)
        device = self._devices.get(device_id)
        if device is None:
            raise Refused(f"device {device_id!r} is not in this agent's inventory")
        platform = pick_platform(playbook, device_id, device.platform, on_agent_host=False)
        if platform != LOCAL and getattr(device, "ssh", None) is None:
            raise Refused(f"device {device_id} has no SSH access in this agent's config")
        return platform

    async def _run(self, request: pb.RunPlaybook) -> None:
        output = RunOutput(request.run_id, self._send, self._secrets)
        started = time.monotonic()
        try:
            playbook, platform, steps = self.admit(request)
        except Refused as exc:
            log.warning("run %s refused: %s (asked by %s)", request.run_id, exc, request.requested_by or "?")
            output.finished("refused", str(exc))
            return
        log.info("run %s: %s on %s (%s), asked by %s", request.run_id, playbook.id, request.device_id, platform, request.requested_by)
        limit = self._config.playbooks
        try:
            async with self._slots, asyncio.timeout(limit.run_timeout):
                rows, cut = await self._steps(request, output, playbook, platform, steps)
            findings = [f.to_dict() for f in playbook.findings(platform, rows)]
            status, error = ("timeout", "; ".join(cut)) if cut else ("ok", "")
            output.finished(status, error, findings=findings, duration_s=time.monotonic() - started)
        except asyncio.CancelledError:
            if request.run_id not in self._cancelled_by:  # not the engineer: the agent is stopping
                output.finished("cancelled", "the agent is stopping", duration_s=time.monotonic() - started)
                raise
            who = self._cancelled_by.pop(request.run_id) or "the collector"
            output.finished("cancelled", f"cancelled by {who}", duration_s=time.monotonic() - started)
        except TimeoutError:
            output.finished("timeout", f"the run took longer than {limit.run_timeout:.0f} s", duration_s=time.monotonic() - started)
        except Exception as exc:  # noqa: BLE001 - the engineer reads why the run failed; the agent goes on
            log.warning("run %s failed: %s", request.run_id, exc)
            reason = str(exc) if hasattr(exc, "kind") else f"{type(exc).__name__}: {exc}"  # SshError says its kind
            output.finished("failed", reason, duration_s=time.monotonic() - started)

    async def _steps(self, request: pb.RunPlaybook, output: RunOutput, playbook: Any, platform: str,
                     steps: list[Any]) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
        """Run the steps in order on one session held for the whole run (a poll never cuts in).

        The parsed rows of each step, and the steps cut at their timeout (the
        others still run: a hung `dmesg` should not hide the memory figures).
        """
        rows_by_step: dict[str, list[dict[str, Any]]] = {}
        cut: list[str] = []
        max_bytes = self._config.playbooks.max_output_bytes
        async with self._sessions.session(request.device_id, platform) as session:
            for index, step in enumerate(steps):
                output.step_started(step.name, index, step.command)
                result = await session.run(
                    step.command, timeout_s=step.timeout_s, max_bytes=max_bytes,
                    on_line=lambda line, name=step.name: output.line(name, line),
                )
                rows: list[dict[str, Any]] | None = None
                error = ""
                if result.timed_out:
                    error = f"timed out after {step.timeout_s:g} s"
                    cut.append(f"step {step.name} {error}")
                else:
                    rows, error = await asyncio.to_thread(self._parse, playbook, step.name, platform, result.text)
                rows_by_step[step.name] = rows or []
                output.step_finished(step.name, exit_status=result.exit_status, timed_out=result.timed_out,
                                     truncated=result.truncated, duration_s=result.duration_s, rows=rows, error=error)
                if not output.delivered:
                    raise ConnectionError("the collector stream closed during the run")
        return rows_by_step, cut

    def _parse(self, playbook: Any, step: str, platform: str, text: str) -> tuple[list[dict[str, Any]] | None, str]:
        """In a worker thread: the rows of one step's (redacted) output, or why there are none."""
        try:
            return playbook.parse(step, platform, redact(text, self._secrets)), ""
        except Exception as exc:  # noqa: BLE001 - unparseable output is a finding for the engineer, not a crash
            return None, f"could not parse the output: {exc}"
