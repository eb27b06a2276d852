"""Reports count each step of a route as its own visit (api-remote "Routes"), worked by hand.

Services `rekam` -> `ambil` (a two-step route), one ticket, Friday 2026-11-27:
08:00 issued; 08:10 called at counter 1 (rekam); 08:20 finished -> routed to ambil;
08:25 called at counter 2 (ambil); 08:40 finished: done.
Visits: rekam (wait 10, service 10), ambil (wait 5 from the routing, service 15).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from queue_server.config import parse_config
from queue_server.domain import commands as cmd
from queue_server.reports import queries
from tests.engine.test_durability import Clock, started, stopped

DAY = "2026-11-27"
ROUTE_OFFICE = """
[office]
name = "Kantor Rute"
timezone = "Asia/Makassar"
capacity = 10

[[services]]
id = "rekam"
name = "Perekaman"
prefix = "R"
next = "ambil"

[[services]]
id = "ambil"
name = "Pengambilan"
prefix = "P"
kiosk = false

[[counters]]
id = "1"
name = "Loket 1"
services = ["rekam"]

[[counters]]
id = "2"
name = "Loket 2"
services = ["ambil"]
"""


async def test_a_routed_ticket_is_one_visit_per_step(tmp_path: Path) -> None:
    """Two visits, both served; each service has its own; waits 10 and 5, services 10 and 15 minutes."""
    clock = Clock()
    service = await started(tmp_path / "q.db", clock, parse_config(ROUTE_OFFICE))
    try:
        for hhmm, command in (
            ("08:00", None),
            ("08:10", cmd.CallNext("1")),
            ("08:20", cmd.Finish("1")),
            ("08:25", cmd.CallNext("2")),
            ("08:40", cmd.Finish("2")),
        ):
            clock.now = datetime.fromisoformat(f"{DAY}T{hhmm}:00+08:00")
            if command is None:
                await service.issue_ticket("rekam", 1, "web", None)
            else:
                await service.execute(command, actor="budi")
        db = service.store.db
        span = queries.Period.parse(DAY, DAY)

        async def report(by: str) -> Any:
            return await db.read(lambda conn: queries.report(db, conn, service.config, span, by, "day"))

        [office] = (await report("office"))["rows"]
        assert (office["issued"], office["called"], office["served"]) == (1, 2, 2)
        rows = {r["key"]: r for r in (await report("service"))["rows"]}
        assert (rows["rekam"]["called"], rows["rekam"]["served"]) == (1, 1)
        assert (rows["ambil"]["called"], rows["ambil"]["served"]) == (1, 1)
        assert rows["rekam"]["wait_minutes"]["mean"] == 10.0
        assert rows["ambil"]["wait_minutes"]["mean"] == 5.0
        assert rows["rekam"]["service_minutes"]["mean"] == 10.0
        assert rows["ambil"]["service_minutes"]["mean"] == 15.0
    finally:
        await stopped(service)
