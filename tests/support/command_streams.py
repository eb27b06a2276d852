"""Random streams of office commands for the property tests that fold what an office did
(the screens' board.js, a worker's replica): every family of rules, api-remote's included.

A remote ticket is drawn as ("remote", days ahead); each test turns it into its IssueRemote.
Tokens are left empty: the tests give each issued ticket its own.
"""

from __future__ import annotations

from hypothesis import strategies as st

from queue_server.domain import commands as cmd

COMMANDS = st.one_of(
    st.builds(lambda s, p: cmd.IssueTicket(s, p, ""), st.sampled_from(["a", "b"]), st.integers(1, 3)),
    st.builds(cmd.CallNext, st.sampled_from(["1", "2", "3"])),
    st.builds(cmd.Recall, st.sampled_from(["1", "2"])),
    st.builds(cmd.Serve, st.sampled_from(["1", "2"])),
    st.builds(cmd.Finish, st.sampled_from(["1", "2", "3"])),
    st.builds(cmd.NoShow, st.sampled_from(["1", "2"])),
    st.builds(cmd.Transfer, st.sampled_from(["1", "2"]), st.sampled_from(["a", "b"])),
    st.builds(cmd.Undo, st.sampled_from(["1", "2", "3"])),
    st.builds(cmd.CancelTicket, st.integers(1, 8)),
    st.builds(cmd.CloseCounter, st.sampled_from(["2", "3"]), st.sampled_from([None, "break"])),
    st.builds(cmd.OpenCounter, st.sampled_from(["2", "3"])),
    st.builds(cmd.DoorEnter, st.integers(1, 2)),
    st.builds(cmd.DoorExit, st.integers(1, 2)),
    st.builds(cmd.CallNumber, st.sampled_from(["1", "2"]), st.sampled_from(["A001", "A002", "B001", "B002"])),
    st.builds(cmd.SetCapacity, st.integers(1, 6)),
    st.builds(lambda s: cmd.IssueTicket(s, 1, "", priority="lansia"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("remote"), st.integers(0, 1)),  # made an IssueRemote for today or tomorrow below
    st.builds(lambda n: cmd.CheckIn(number=n), st.sampled_from(["A001", "A002", "A003"])),
    st.builds(lambda n: cmd.Rejoin(number=n), st.sampled_from(["A001", "A002", "B001"])),
)
