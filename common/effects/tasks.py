"""The table of every outbox task kind and the effect that performs it (for the drain)."""

from __future__ import annotations

from common.effects import contact_mail, order_mail, outbox, production, sheet

HANDLERS: dict[str, outbox.Handler] = {
    **sheet.HANDLERS,
    **order_mail.HANDLERS,
    **contact_mail.HANDLERS,
    **production.HANDLERS,
}
