# Benchmark helper, not part of the collection: writes one JSON line per task
# (name, action, start, seconds, status) to $BENCH_TASK_TIMES, from the run's own clock.
import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_task_times
type: aggregate
short_description: per-task wall times for tools/bench
description: Writes one JSON line per task to the file named by BENCH_TASK_TIMES.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._path = os.environ.get("BENCH_TASK_TIMES")
        self._task = None

    def _close(self):
        if self._task and self._path:
            self._task["seconds"] = round(time.time() - self._task["start"], 3)
            with open(self._path, "a") as handle:
                handle.write(json.dumps(self._task) + "\n")
        self._task = None

    def _open(self, task, kind):
        self._close()
        self._task = {"name": task.get_name(), "action": task.action, "kind": kind,
                      "start": time.time(), "status": []}

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open(task, "task")

    def v2_playbook_on_handler_task_start(self, task):
        self._open(task, "handler")

    def _status(self, result, status):
        if self._task is not None:
            if status == "ok" and result._result.get("changed"):
                status = "changed"
            self._task["status"].append(status)

    def v2_runner_on_ok(self, result):
        self._status(result, "ok")

    def v2_runner_on_skipped(self, result):
        self._status(result, "skipped")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._status(result, "failed")

    def v2_runner_on_unreachable(self, result):
        self._status(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        self._status(result, "ok")

    def v2_playbook_on_stats(self, stats):
        self._close()
