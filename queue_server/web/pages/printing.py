"""Ticket printing on 58/80 mm ESC/POS thermal printers (python-escpos).

`[printer] kind` in the office config picks the connection:
`none` (the kiosk uses the browser's print dialog instead), `file` (a device
path such as /dev/usb/lp0, or a plain file), `network` (`host` or `host:port`,
port 9100 by default) or `usb` (`VID:PID` in hex, e.g. `0416:5011`; needs
pyusb). The printer is opened for each ticket and closed again, so a printer
that was switched off or unplugged works again as soon as it is back.
"""

from __future__ import annotations

import asyncio
import logging
import textwrap
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from queue_server.domain.settings import OfficeConfig, PrinterConfig
from queue_server.domain.tickets import FINAL
from queue_server.web.errors import ApiError
from queue_server.web.i18n import Translator
from queue_server.web.pages.render import Renderer

log = logging.getLogger(__name__)

# Characters per line in font A: what common 58 mm and 80 mm printers fit.
COLUMNS = {58: 32, 80: 48}
# QR module size in printer dots: big enough for a phone camera at arm's length,
# small enough for a 58 mm roll (384 dots wide).
QR_SIZE = {58: 5, 80: 7}
NETWORK_TIMEOUT_S = 5


class PrinterError(Exception):
    """The configured printer cannot be reached or refused the job."""


@dataclass(frozen=True)
class PrintedTicket:
    """Everything that goes on paper, already translated and formatted."""

    office: str
    heading: str
    number: str
    service: str
    issued: str
    lines: tuple[str, ...]
    qr_url: str
    qr_caption: str


def paper_ticket(config: OfficeConfig, view: dict[str, Any], t: Translator, url: str) -> PrintedTicket:
    """What the kiosk prints for a ticket view, in the translator's language."""
    service = config.service(view["service"])
    issued = str(view.get("issued_at") or "")
    # The ISO time carries the office's offset already: print it as written, not in the server's zone.
    when = f"{issued[8:10]}-{issued[5:7]}-{issued[0:4]} {issued[11:16]}" if len(issued) >= 16 else issued
    lines: list[str] = []
    if view.get("position"):
        lines.append(t("kiosk.position", position=view["position"]))
    minutes = view.get("estimated_wait_minutes")
    span = view.get("estimated_wait_range")
    if view.get("position") == 1:
        lines.append(t("ticket.you_are_next"))
    elif span:
        # A range, as on the screens: a single figure reads as a promise.
        lines.append(t("kiosk.estimated_wait_range", low=span[0], high=span[1]))
    elif minutes is not None:
        lines.append(t("kiosk.estimated_wait", minutes=minutes))
    if view.get("status") == "outside":
        lines.append(t("kiosk.wait_outside"))
    elif view.get("status") == "waiting":
        lines.append(t("kiosk.come_in"))
    if view.get("party_size", 1) > 1:
        lines.append(t("common.people", n=view["party_size"]))
    lines.append(t("kiosk.ticket_footer"))
    return PrintedTicket(
        office=config.name,
        heading=t("common.ticket_number"),
        number=str(view["number"]),
        service=service.name if service else str(view["service"]),
        issued=when,
        lines=tuple(lines),
        qr_url=url,
        qr_caption=t("kiosk.scan_to_follow"),
    )


def render(printer: Any, ticket: PrintedTicket, width_mm: int = 80) -> None:
    """Write one ticket to an open python-escpos printer (Dummy, File, Network, Usb)."""
    columns = COLUMNS.get(width_mm, 48)
    big = 3 if width_mm == 58 else 4
    printer.set_with_default(align="center", bold=True)
    for line in textwrap.wrap(ticket.office, columns) or [""]:
        printer.textln(line)
    printer.set_with_default(align="center")
    printer.textln(ticket.heading)
    printer.set_with_default(align="center", bold=True, custom_size=True, width=big, height=big)
    printer.textln(ticket.number)
    printer.set_with_default(align="center", bold=True)
    for line in textwrap.wrap(ticket.service, columns):
        printer.textln(line)
    printer.set_with_default(align="center")
    printer.textln(ticket.issued)
    for text in ticket.lines:
        for line in textwrap.wrap(text, columns):
            printer.textln(line)
    printer.ln()
    # native=True: the printer draws the code itself from the URL, which is
    # sharper and much smaller to send than a raster image of it. python-escpos
    # cannot centre a native code, but the alignment set before it does.
    printer.set_with_default(align="center")
    printer.qr(ticket.qr_url, size=QR_SIZE.get(width_mm, 6), native=True)
    printer.set_with_default(align="center")
    for line in textwrap.wrap(ticket.qr_caption, columns):
        printer.textln(line)
    printer.ln(2)
    printer.cut()


def open_printer(config: PrinterConfig) -> Any:
    """A python-escpos printer for the config, or None when kind is `none`."""
    if config.kind == "none":
        return None
    if config.kind == "file":
        from escpos.printer import File

        return File(config.target or "/dev/usb/lp0")
    if config.kind == "network":
        from escpos.printer import Network

        host, _, port = config.target.rpartition(":") if ":" in config.target else (config.target, "", "")
        return Network(host or config.target, port=int(port or 9100), timeout=NETWORK_TIMEOUT_S)
    if config.kind == "usb":
        from escpos.printer import Usb

        if not Usb.is_usable():
            raise PrinterError("printer.kind = usb needs the pyusb package (pip install pyusb)")
        try:
            vendor, product = (int(part, 16) for part in config.target.split(":"))
        except ValueError as exc:
            raise PrinterError("printer.target for usb must be VID:PID in hex, e.g. 0416:5011") from exc
        return Usb(vendor, product)
    raise PrinterError(f"unknown printer kind {config.kind!r}")


class TicketPrinter:
    """Prints one ticket at a time, off the event loop (a printer can block for seconds)."""

    def __init__(self, config: PrinterConfig) -> None:
        self.config = config
        self._lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self.config.kind != "none"

    async def print(self, ticket: PrintedTicket) -> None:
        async with self._lock:
            await asyncio.to_thread(self._print_now, ticket)

    def _print_now(self, ticket: PrintedTicket) -> None:
        try:
            printer = open_printer(self.config)
            if printer is None:
                return
            try:
                printer.open()
                render(printer, ticket, self.config.width_mm)
            finally:
                printer.close()
        except PrinterError:
            raise
        except Exception as exc:  # python-escpos raises many unrelated types (OSError, USBError, ...)
            log.warning("printing ticket %s failed: %s", ticket.number, exc)
            raise PrinterError(str(exc) or type(exc).__name__) from exc


PRINTS_PER_TICKET = 3
PRINTS_REMEMBERED = 10_000


class PrintEndpoint:
    """`POST /api/v1/tickets/{token}/print`: the ticket on paper, a few times at most."""

    def __init__(self, renderer: Renderer) -> None:
        self.pages = renderer
        self.printer = TicketPrinter(renderer.config.printer)
        self.prints: OrderedDict[int, int] = OrderedDict()

    async def handle(self, request: Request) -> Response:
        found = await self.pages.ticket(request)
        if found is None:
            raise ApiError(404, "unknown_ticket", "no ticket has this token")
        ticket, view = found
        if ticket.status in FINAL:
            raise ApiError(409, "ticket_not_printable", f"ticket {ticket.number} is {ticket.status}")
        if not self.printer.enabled:
            # The kiosk then opens the browser's print dialog on the ticket card.
            return JSONResponse({"printed": False, "fallback": "browser"})
        if self.prints.get(ticket.id, 0) >= PRINTS_PER_TICKET:
            raise ApiError(429, "print_limit", "this ticket was printed enough times; ask at the desk")
        paper = paper_ticket(
            self.pages.config, view, self.pages.translator(request), self.pages.ticket_url(request)
        )
        try:
            await self.printer.print(paper)
        except PrinterError as exc:
            raise ApiError(503, "printer_unavailable", f"the ticket printer did not answer: {exc}") from exc
        self.prints[ticket.id] = self.prints.get(ticket.id, 0) + 1
        self.prints.move_to_end(ticket.id)
        while len(self.prints) > PRINTS_REMEMBERED:  # bounded: old tickets are long gone
            self.prints.popitem(last=False)
        return JSONResponse({"printed": True, "fallback": None})
