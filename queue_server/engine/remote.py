"""Remote tickets on the engine side (api-remote): keyed hashes, then the command for the writer.

A NIK and the device/address that took a ticket reach the rules only as HMAC-SHA256
hashes under a server secret kept in the database (`secrets` table, made on first
use), so a stolen database or an export cannot be turned back into NIKs by trying
every date of birth. Every limit (quota, one ticket per NIK, per device) is then
checked by the rules in the office's one writer, so concurrent requests cannot
pass it together.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from queue_server.domain import commands as cmd
from queue_server.domain.remote import check_nik, normalize_phone
from queue_server.engine import idempotency
from queue_server.engine.accounts import new_token, token_hash
from queue_server.engine.results import TicketResult

if TYPE_CHECKING:
    from queue_server.engine.service import OfficeService


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


async def issue_remote(
    office: OfficeService,
    *,
    service: str,
    party_size: int,
    date: str | None,
    nik: str | None,
    phone: str | None,
    priority: str | None,
    device: str | None,
    address: str | None,
    idempotency_key: idempotency.Key | None,
    actor: str | None = None,
) -> TicketResult:
    """A remote (today) or booked (later day) ticket and its token. Raises DomainError."""
    if nik is not None:
        check_nik(nik)
    phone_number = normalize_phone(phone) if phone is not None else None
    key = office.nik_key
    use_nik = nik is not None and office.config.remote.nik != "off"
    who = (("device", device), ("address", address))
    holders = tuple(keyed_hash(key, kind, value) for kind, value in who if value)
    token = new_token()
    command = cmd.IssueRemote(
        service=service,
        party_size=party_size,
        token_hash=token_hash(token),
        date=date or office.today(),
        nik_hash=keyed_hash(key, "nik", nik) if use_nik and nik is not None else None,
        holders=holders,
        priority=priority,
    )
    result = await office.execute(command, idempotency_key, token=token, actor=actor, phone=phone_number)
    assert isinstance(result, TicketResult)  # issuing answers with its ticket or raises
    return result
