"""The ops sheet: one row per line of each paid order, appended exactly once.

Google Sheets through gspread with the service account of the function (`SHEET_ID` set;
credentials from `google.auth.default`); locally a CSV file, `.data/orders-sheet.csv`.
Both providers append an order only when the sheet has no row of it yet, so appending again
(a retried outbox task, `POST /api/sheets/append`) never duplicates rows. Callers serialise
appends of one order (`fulfilment.append_to_sheet` holds a database lock while appending).
"""

from __future__ import annotations

import csv
import fcntl
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from common.core.lazy import Lazy
from common.infra.config import SHEETS, ConfigError, settings
from common.providers.local import vendors

if TYPE_CHECKING:
    import requests

HEADER = (
    "OrderID",
    "Date",
    "UserEmail",
    "ProductName",
    "Quantity",
    "Sizes",
    "Total",
    "Status",
    "PrintFront",
    "PrintBack",
    "Roster",
)
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)

Row = Sequence[str | int]


class SheetError(RuntimeError):
    """The sheet could not be read or appended to."""


class Sheet(Protocol):
    def append_once(self, order_id: str, rows: Sequence[Row]) -> bool:
        """Append `rows` unless the sheet already has a row of `order_id`; True if appended."""
        ...


class GoogleSheet:
    """The first worksheet of the spreadsheet `sheet_id`, through gspread.

    Values are sent with `valueInputOption=RAW`: stored as given, never parsed, so an order id,
    a size list like `S:4 M:10` or a value starting with `=` stays the text it is.
    """

    def __init__(
        self,
        sheet_id: str,
        credentials: Any = None,
        session: requests.Session | None = None,
    ) -> None:
        import google.auth
        import gspread
        from google.auth.transport.requests import AuthorizedSession

        if credentials is None:
            credentials, _ = google.auth.default(scopes=list(SCOPES))
        self._client = gspread.Client(
            auth=credentials, session=session or AuthorizedSession(credentials)
        )
        self._client.set_timeout(SHEETS.timeout_seconds)
        self._sheet_id = sheet_id
        self._worksheet: Any = None

    def _sheet(self) -> Any:
        if self._worksheet is None:
            self._worksheet = self._client.open_by_key(self._sheet_id).sheet1
        return self._worksheet

    def append_once(self, order_id: str, rows: Sequence[Row]) -> bool:
        import google.auth.exceptions
        import gspread
        import requests

        try:
            return self._append_once(order_id, rows)
        except (
            gspread.exceptions.GSpreadException,
            requests.RequestException,
            google.auth.exceptions.GoogleAuthError,
        ) as exc:
            raise SheetError(f"Google Sheets: {exc}") from exc

    def _append_once(self, order_id: str, rows: Sequence[Row]) -> bool:
        from gspread.utils import InsertDataOption, ValueInputOption

        worksheet = self._sheet()
        order_ids = worksheet.col_values(1)
        if order_id in order_ids:
            return False
        values = [list(row) for row in rows]
        if not order_ids:
            values.insert(0, list(HEADER))
        worksheet.append_rows(
            values,
            value_input_option=ValueInputOption.raw,
            insert_data_option=InsertDataOption.insert_rows,
            table_range="A1",
        )
        return True


class CsvSheet:
    """The local sheet: a CSV file with the same header and rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append_once(self, order_id: str, rows: Sequence[Row]) -> bool:
        status = vendors.answer("sheets")
        if status is not None:  # as GoogleSheet says gspread's APIError
            raise SheetError(f"Google Sheets: APIError: [{status}]")
        try:
            return self._append_once(order_id, rows)
        except OSError as exc:
            raise SheetError(f"{self.path}: {exc}") from exc

    def _append_once(self, order_id: str, rows: Sequence[Row]) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a+", newline="", encoding="utf-8") as file:
            fcntl.flock(file, fcntl.LOCK_EX)  # other processes (the dev server, tests)
            file.seek(0)
            existing = list(csv.reader(file))
            if any(row and row[0] == order_id for row in existing):
                return False
            writer = csv.writer(file)
            if not existing:
                writer.writerow(HEADER)
            writer.writerows(rows)
            file.flush()
        return True

    def rows(self) -> list[list[str]]:
        """Every row under the header (for tools and tests)."""
        if not self.path.is_file():
            return []
        with self.path.open(newline="", encoding="utf-8") as file:
            return list(csv.reader(file))[1:]


def build_sheet() -> Sheet:
    cfg = settings()
    if cfg.sheet_id:
        return GoogleSheet(cfg.sheet_id)
    if cfg.production:
        raise ConfigError("AUREN_ENV=production needs SHEET_ID for the ops sheet")
    return CsvSheet(cfg.data_dir / "orders-sheet.csv")


sheet = Lazy(build_sheet)  # the instance's sheet provider
