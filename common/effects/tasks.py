"""The table of every outbox task kind and the effect that performs it, and the consumer of
the outbox's queue topic (`outbox.TOPIC`), which performs with it the tasks a message names."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError

from common.core import errors
from common.core.model import Model
from common.effects import contact_mail, order_mail, outbox, production, sheet
from common.infra import log

HANDLERS: dict[str, outbox.Handler] = {
    **sheet.HANDLERS,
    **order_mail.HANDLERS,
    **contact_mail.HANDLERS,
    **production.HANDLERS,
}
MAX_TASKS_PER_MESSAGE = 100


class TasksFailed(errors.ServiceUnavailable):
    code = "outbox_tasks_failed"


class TasksMessage(Model):
    """What `outbox.publish` puts on the topic: the ids of tasks just committed."""

    model_config = ConfigDict(extra="forbid", strict=True)
    tasks: list[Annotated[int, Field(ge=1)]] = Field(min_length=1, max_length=MAX_TASKS_PER_MESSAGE)


def perform(message: dict[str, Any]) -> None:
    """The queue's delivery of `message`: perform the tasks it names that are not done yet (a
    delivery of done tasks does nothing). Raises TasksFailed when one of them failed, so the
    queue delivers it again; the failure is recorded on the task, which the drain also retries.
    """
    try:
        task_ids = TasksMessage.model_validate(message).tasks
    except ValidationError as exc:
        # Acknowledged: a delivery again would carry the same message.
        log.error(
            "outbox message malformed",
            problems=exc.errors(include_url=False, include_context=False, include_input=False),
        )
        return
    failed = [result for result in outbox.attempt(task_ids, HANDLERS) if not result.ok]
    if failed:
        raise TasksFailed(f"{len(failed)} of {len(task_ids)} outbox tasks failed; they are retried")
