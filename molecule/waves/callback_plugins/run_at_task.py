# Lab helper, not part of the collection: when the first task whose name contains one of
# RUN_AT_TASKS (a JSON list) starts, runs RUN_AT_COMMAND (a JSON argv: a second run of the
# same playbook) to its end before the task goes on, so that the second run reads, plans and
# refuses while the first is inside that window (Docker stopped, its data root about to move;
# daemon.json written, Docker about to start). Each second run's output goes to
# RUN_AT_LOG.<n> (n counts from 1, in the order of RUN_AT_TASKS), its exit status on the last line.
import json
import os
import subprocess

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: run_at_task
type: aggregate
short_description: Run a second playbook run inside named tasks' windows (lab concurrency test)
description: At the start of the first task whose name contains each of RUN_AT_TASKS, runs RUN_AT_COMMAND to its end.
"""

# The second run must not start runs of its own, nor be killed by the first's kill_at_task.
CLEARED = ("RUN_AT_TASKS", "RUN_AT_COMMAND", "RUN_AT_LOG", "KILL_AT_TASK", "KILL_AFTER")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "run_at_task"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._windows = json.loads(os.environ.get("RUN_AT_TASKS") or "[]")
        self._done = set()

    def v2_playbook_on_task_start(self, task, is_conditional):
        for number, window in enumerate(self._windows, 1):
            if number in self._done or window not in task.get_name():
                continue
            self._done.add(number)
            log = "%s.%d" % (os.environ["RUN_AT_LOG"], number)
            env = dict((key, value) for key, value in os.environ.items() if key not in CLEARED)
            print("run_at_task: second run at %r, output in %s" % (task.get_name(), log), flush=True)
            with open(log, "w") as out:
                ran = subprocess.run(json.loads(os.environ["RUN_AT_COMMAND"]), stdout=out, stderr=subprocess.STDOUT,
                                     env=env, timeout=1200, check=False)
            with open(log, "a") as out:
                out.write("\nrc=%d\n" % ran.returncode)
            print("run_at_task: second run ended rc=%d" % ran.returncode, flush=True)
