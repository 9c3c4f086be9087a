# Lab helper, not part of the collection: kills the whole ansible-playbook run (its
# process group: the controller, its workers and their ssh clients) with SIGKILL,
# KILL_AFTER seconds after the first task whose name contains KILL_AT_TASK starts (role
# tasks are named "<role> : <name>"), as
# when the controller dies. Run the playbook under `setsid` so that only it dies.
import os
import signal
import threading

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: kill_at_task
type: aggregate
short_description: SIGKILL the run at a named task (lab fault injection)
description: Kills the run's process group KILL_AFTER seconds after a task whose name contains KILL_AT_TASK starts.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "kill_at_task"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._at = os.environ.get("KILL_AT_TASK", "")
        self._after = float(os.environ.get("KILL_AFTER", "0"))
        self._armed = bool(self._at)

    def _kill(self):
        os.killpg(os.getpgid(0), signal.SIGKILL)

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._armed and self._at in task.get_name():
            self._armed = False
            print("kill_at_task: SIGKILL in %.1f s, at %r" % (self._after, task.get_name()), flush=True)
            if self._after > 0:
                threading.Timer(self._after, self._kill).start()
            else:
                self._kill()
