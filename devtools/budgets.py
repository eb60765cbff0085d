"""The time budget of every function: the vendor calls of its slowest requests, added up from
the timeouts and retries the adapters really use (`common.infra.config.VENDOR_CALLS`), against
what the request may take: the function's deployed timeout, and through Firebase Hosting no
more than Hosting's 60 s less a margin. docs/deploy.md shows the table
(`python -m devtools deploy --matrix`); tests/test_time_budgets.py fails when a sum is over.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.infra.config import VENDOR_CALLS
from devtools.deploy_config import (
    FUNCTIONS,
    HOSTING_MARGIN_SECONDS,
    HOSTING_TIMEOUT_SECONDS,
    REQUESTS,
    Request,
)


@dataclass(frozen=True)
class Budget:
    function: str
    request: Request
    timeout_seconds: float  # the function's deployed timeout

    @property
    def limit_seconds(self) -> float:
        """What the request may take: the timeout, and less through Hosting when lower."""
        if self.request.through_hosting:
            hosting = HOSTING_TIMEOUT_SECONDS - HOSTING_MARGIN_SECONDS
            return min(self.timeout_seconds, hosting)
        return self.timeout_seconds

    @property
    def sum_seconds(self) -> float:
        calls = sum(VENDOR_CALLS[name].budget_seconds * times for name, times in self.calls)
        return calls + self.request.waits_seconds

    @property
    def margin_seconds(self) -> float:
        return self.limit_seconds - self.sum_seconds

    @property
    def calls(self) -> tuple[tuple[str, int], ...]:
        return self.request.vendor_calls


def budgets() -> list[Budget]:
    return [
        Budget(name, request, FUNCTIONS[name].timeout_seconds)
        for name, requests in sorted(REQUESTS.items())
        for request in requests
    ]


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _call(name: str, times: int) -> str:
    call = VENDOR_CALLS[name]
    if call.deadline_seconds is not None:
        each = f"({_seconds(call.deadline_seconds)} of retries + {_seconds(call.timeout_seconds)})"
    elif call.attempts > 1:
        each = f"({_seconds(call.timeout_seconds)} x {call.attempts}"
        each += f" + {_seconds(call.backoff_seconds)})"
    else:
        each = f"({_seconds(call.timeout_seconds)})"
    return f"{times} x {name} {each}" if times > 1 else f"{name} {each}"


def table() -> str:
    """The time budgets (markdown), as docs/deploy.md shows them."""
    lines = [
        "| function | request | may take | vendor calls, one after another | sum | margin |",
        "|---|---|---|---|---|---|",
    ]
    for budget in budgets():
        calls = [_call(name, times) for name, times in budget.calls]
        if budget.request.waits_seconds:
            calls.append(f"{_seconds(budget.request.waits_seconds)} window")
        hosting = "" if budget.request.through_hosting else " (not through Hosting)"
        lines.append(
            f"| `{budget.function}` | `{budget.request.route}`{hosting} "
            f"| {_seconds(budget.limit_seconds)} | {' + '.join(calls)} "
            f"| {_seconds(round(budget.sum_seconds, 1))} "
            f"| {_seconds(round(budget.margin_seconds, 1))} |"
        )
    return "\n".join(lines)
