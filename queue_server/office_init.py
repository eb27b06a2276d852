"""`queue-server init [FOLDER]`: a new office from nothing to a server that can start.

Asks (or takes as options, for scripts) the office name, time zone, capacity and
the first admin's name and password; writes `FOLDER/config/office.toml` with the
common kecamatan services and counters, creates `FOLDER/data/queue.db` with the
admin account, and prints how to start it. Those are exactly the paths `serve`
uses by default, so `serve` run inside FOLDER needs no options.

It never replaces an existing config or database unless told to (`--force`),
and never one a running server holds, even then.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server.config import ConfigError, parse_config
from queue_server.engine import accounts as auth
from queue_server.store import lock as db_lock

CONFIG_FILE = Path("config/office.toml")
DB_FILE = Path("data/queue.db")
ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
ZONE_NAMES = {zone: name for name, zone in ZONES.items()}
DEFAULT_ZONE = "WIB"
DEFAULT_CAPACITY = 30
DEFAULT_ADMIN = "admin"
PASSWORD_MIN = 8
CAPACITY_MAX = 100_000
DB_SUFFIXES = ("", "-wal", "-shm", "-journal")

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "exists": "{path} sudah ada; tidak ada yang diubah"
        " (pakai --force untuk menggantinya beserta basis datanya)",
        "in_use": "basis data {path} sedang dipakai server (pid {pid}); hentikan server itu dulu",
        "ask_name": "Nama kantor",
        "ask_zone": "Zona waktu (WIB, WITA, WIT)",
        "ask_capacity": "Kapasitas (orang di dalam sekaligus)",
        "ask_admin": "Nama akun admin pertama",
        "ask_password": "Kata sandi admin",
        "ask_password_again": "Ulangi kata sandi",
        "password_mismatch": "Kata sandi tidak sama, coba lagi.",
        "no_answer": "tidak ada jawaban untuk: {question}",
        "no_password": "tidak ada kata sandi di masukan standar",
        "bad_name": "nama kantor tidak boleh kosong",
        "bad_zone": "zona waktu harus WIB, WITA, WIT atau nama zona seperti Asia/Makassar, bukan {value!r}",
        "bad_capacity": "kapasitas harus bilangan 1-{max}, bukan {value!r}",
        "bad_admin": "nama akun harus 1-64 karakter yang dapat dicetak, tanpa spasi di awal atau akhir",
        "bad_password": "kata sandi harus {min}-{max} karakter",
        "try_again": "{reason}; coba lagi.",
        "done": "{name} siap.",
        "config": "  konfigurasi: {path}",
        "database": "  basis data:  {path} (admin: {admin})",
        "start": "Jalankan dengan dua baris ini:",
        "open": "Lalu buka di peramban (ganti alamatnya dengan alamat PC ini di jaringan kantor):",
        "edit": "Layanan, persyaratan, biaya dan loket bisa diubah di {path}.",
        "pages": "indeks|kiosk|TV ruang tunggu|layar pintu masuk|petugas pintu|masuk staf",
    },
    "en": {
        "exists": "{path} already exists; nothing changed (use --force to replace it and the database)",
        "in_use": "database {path} is in use by a running server (pid {pid}); stop that server first",
        "ask_name": "Office name",
        "ask_zone": "Time zone (WIB, WITA, WIT)",
        "ask_capacity": "Capacity (people inside at once)",
        "ask_admin": "First admin's account name",
        "ask_password": "Admin password",
        "ask_password_again": "Password again",
        "password_mismatch": "The passwords differ, try again.",
        "no_answer": "no answer for: {question}",
        "no_password": "no password on standard input",
        "bad_name": "the office name must not be empty",
        "bad_zone": "the time zone must be WIB, WITA, WIT or a zone name such as Asia/Makassar,"
        " not {value!r}",
        "bad_capacity": "the capacity must be a whole number 1-{max}, not {value!r}",
        "bad_admin": "the account name must be 1-64 printable characters, no spaces at either end",
        "bad_password": "the password must be {min}-{max} characters",
        "try_again": "{reason}; try again.",
        "done": "{name} is ready.",
        "config": "  config:   {path}",
        "database": "  database: {path} (admin: {admin})",
        "start": "Start it with these two lines:",
        "open": "Then open in a browser (use this PC's address on the office network):",
        "edit": "Services, requirements, fees and counters can be changed in {path}.",
        "pages": "index|kiosk|lobby TV|entrance display|door keeper|staff login",
    },
}

#: The common services of a kecamatan front office (PATEN): id, name, prefix,
#: requirements, standard minutes, fee. Population documents are free by law.
SERVICES: tuple[tuple[str, str, str, tuple[str, ...], int, str], ...] = (
    ("ktp", "KTP-el", "A", ("Fotokopi Kartu Keluarga", "Surat pengantar RT/RW"), 15, "Gratis"),
    (
        "kk",
        "Kartu Keluarga",
        "B",
        ("Kartu Keluarga lama", "Fotokopi KTP-el", "Surat nikah / akta cerai bila ada perubahan status"),
        20,
        "Gratis",
    ),
    (
        "akta",
        "Akta dan Surat Keterangan",
        "C",
        (
            "Surat pengantar desa/kelurahan",
            "Fotokopi KTP-el dan Kartu Keluarga",
            "Surat keterangan lahir atau kematian dari bidan, rumah sakit atau desa",
        ),
        20,
        "Gratis",
    ),
    ("legal", "Legalisasi", "D", ("Dokumen asli", "Fotokopi dokumen", "Fotokopi KTP-el"), 10, "Gratis"),
    (
        "izin",
        "Perizinan",
        "E",
        ("Formulir permohonan", "Fotokopi KTP-el", "Surat keterangan domisili usaha dari desa/kelurahan"),
        30,
        "Sesuai peraturan daerah",
    ),
)
#: Counters and the services each calls, in priority order.
COUNTERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("1", "Loket 1", ("ktp", "kk")),
    ("2", "Loket 2", ("kk", "akta", "ktp")),
    ("3", "Loket 3", ("legal", "akta")),
    ("4", "Loket 4", ("izin", "legal")),
)


class InitError(Exception):
    """init cannot go on; the message is the one line to print, `code` the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Answers:
    name: str
    timezone: str  # an IANA zone
    capacity: int
    admin: str
    password: str


@dataclass
class Prompter:
    """Asks on `output` and reads answers from `stdin`; passwords without echo on a terminal."""

    texts: dict[str, str]
    stdin: TextIO
    output: TextIO
    read_secret: Callable[[str], str] = getpass.getpass

    def line(self, question: str, default: str | None) -> str:
        shown = f"{question} [{default}]: " if default else f"{question}: "
        self.output.write(shown)
        self.output.flush()
        answer = self.stdin.readline()
        if not answer:
            raise InitError(self.texts["no_answer"].format(question=question))
        answer = answer.rstrip("\r\n").strip()
        return answer or (default or "")

    def ask(self, question: str, default: str | None, check: Callable[[str], object]) -> object:
        """Ask until `check` accepts the answer (it raises InitError with the reason otherwise)."""
        while True:
            try:
                return check(self.line(question, default))
            except InitError as error:
                if not self.stdin.isatty():  # a script gets the reason, not an endless loop
                    raise
                self.output.write(self.texts["try_again"].format(reason=error) + "\n")

    def password(self) -> str:
        if not self.stdin.isatty():
            return check_password(self.line(self.texts["ask_password"], None), self.texts)
        while True:
            try:
                first = check_password(self.read_secret(self.texts["ask_password"] + ": "), self.texts)
            except InitError as error:
                self.output.write(self.texts["try_again"].format(reason=error) + "\n")
                continue
            if self.read_secret(self.texts["ask_password_again"] + ": ") == first:
                return first
            self.output.write(self.texts["password_mismatch"] + "\n")


def check_name(value: str, texts: dict[str, str]) -> str:
    value = value.strip()
    if not value or not value.isprintable() or len(value) > 200:
        raise InitError(texts["bad_name"])
    return value


def check_zone(value: str, texts: dict[str, str]) -> str:
    """WIB/WITA/WIT (any case) or an IANA zone name; returns the IANA zone."""
    value = value.strip()
    zone = ZONES.get(value.upper())
    if zone is not None:
        return zone
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InitError(texts["bad_zone"].format(value=value)) from None
    return value


def check_capacity(value: str | int, texts: dict[str, str]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InitError(texts["bad_capacity"].format(value=value, max=CAPACITY_MAX)) from None
    if not 1 <= number <= CAPACITY_MAX:
        raise InitError(texts["bad_capacity"].format(value=value, max=CAPACITY_MAX))
    return number


def check_admin(value: str, texts: dict[str, str]) -> str:
    if not value or len(value) > auth.USERNAME_MAX or not value.isprintable() or value.strip() != value:
        raise InitError(texts["bad_admin"])
    return value


def check_password(value: str, texts: dict[str, str]) -> str:
    if not PASSWORD_MIN <= len(value) <= auth.PASSWORD_MAX:
        raise InitError(texts["bad_password"].format(min=PASSWORD_MIN, max=auth.PASSWORD_MAX))
    return value


def office_toml(name: str, timezone: str, capacity: int) -> str:
    """The starter config; every value written is a key that config.py reads."""

    def s(value: str) -> str:  # a TOML basic string: JSON's escapes are valid TOML
        return json.dumps(value, ensure_ascii=False)

    zone_name = ZONE_NAMES.get(timezone, timezone)
    lines = [
        f"# {name}: written by `queue-server init`. Edit freely; unknown keys stop the server",
        "# with a reason. Restart the server after a change.",
        "",
        "[office]",
        f"name = {s(name)}",
        f"timezone = {s(timezone)}   # {zone_name}; ticket numbers restart at local midnight",
        'language = "id"              # screens\' language: "id" or "en" (?lang=en switches per browser)',
        f"capacity = {capacity}" + " " * max(1, 18 - len(str(capacity))) + "# people allowed inside at once",
        '# public_url = "http://192.168.1.10:8000"   # the address phones use (for QR codes)',
        f"running_text = {s(f'Selamat datang di {name}. Harap menjaga ketertiban dan kebersihan.')}",
        "",
    ]
    for service_id, service_name, prefix, requirements, minutes, fee in SERVICES:
        lines += [
            "[[services]]",
            f"id = {s(service_id)}",
            f"name = {s(service_name)}",
            f"prefix = {s(prefix)}",
            "requirements = [" + ", ".join(s(r) for r in requirements) + "]",
            f"standard_minutes = {minutes}",
            f"fee = {s(fee)}",
            "",
        ]
    for counter_id, counter_name, services in COUNTERS:
        lines += [
            "[[counters]]",
            f"id = {s(counter_id)}",
            f"name = {s(counter_name)}",
            "services = [" + ", ".join(s(x) for x in services) + "]",
            "",
        ]
    lines += [
        "[limits]",
        "tickets_per_minute_per_address = 6   # phones; a paired kiosk is never limited",
        "",
        '# "Called" and "come now" messages to visitors\' phones through the office\'s WhatsApp/SMS',
        "# gateway (README: Messages to visitors' phones). Remove the # to switch it on.",
        "# [notify]",
        '# url = "http://192.168.1.20:8080/antre"',
        '# secret = "a-long-random-string"   # or leave out: queue-server notify secret prints the one made',
        "",
    ]
    return "\n".join(lines)


def run_init(
    folder: Path,
    *,
    lang: str = "id",
    name: str | None = None,
    timezone: str | None = None,
    capacity: int | None = None,
    admin: str | None = None,
    password_stdin: bool = False,
    force: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """The `init` command: 0 when the office is ready, 1 when it refuses to overwrite, 2 on a bad answer."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    texts = MESSAGES.get(lang, MESSAGES["id"])
    config_path = folder / CONFIG_FILE
    db_path = folder / DB_FILE
    try:
        _refuse_to_overwrite(config_path, db_path, force, texts)
        prompter = Prompter(texts, stdin, stdout)
        answers = _gather(texts, prompter, name, timezone, capacity, admin, password_stdin)
        text = office_toml(answers.name, answers.timezone, answers.capacity)
        try:
            parse_config(text, source=str(config_path))
        except ConfigError as error:  # e.g. a name TOML cannot hold; never write what serve rejects
            raise InitError(str(error)) from None
        _write_office(config_path, db_path, text, answers, texts)
    except InitError as error:
        print(f"queue-server init: {error}", file=stderr)
        return error.code
    _print_next_steps(folder, config_path, db_path, answers, texts, stdout)
    return 0


def _refuse_to_overwrite(config_path: Path, db_path: Path, force: bool, texts: dict[str, str]) -> None:
    pid = db_lock.holder_pid(db_path)
    if pid is not None:
        raise InitError(texts["in_use"].format(path=db_path, pid=pid), code=1)
    if force:
        return
    for path in (config_path, *(Path(f"{db_path}{suffix}") for suffix in DB_SUFFIXES)):
        if path.exists():
            raise InitError(texts["exists"].format(path=path), code=1)


def _gather(
    texts: dict[str, str],
    prompter: Prompter,
    name: str | None,
    timezone: str | None,
    capacity: int | None,
    admin: str | None,
    password_stdin: bool,
) -> Answers:
    # Options are checked without asking again: a script wants the reason, not a prompt.
    office = (
        check_name(name, texts)
        if name is not None
        else prompter.ask(texts["ask_name"], None, lambda v: check_name(v, texts))
    )
    zone = (
        check_zone(timezone, texts)
        if timezone is not None
        else prompter.ask(texts["ask_zone"], DEFAULT_ZONE, lambda v: check_zone(v, texts))
    )
    people = (
        check_capacity(capacity, texts)
        if capacity is not None
        else prompter.ask(texts["ask_capacity"], str(DEFAULT_CAPACITY), lambda v: check_capacity(v, texts))
    )
    account = (
        check_admin(admin, texts)
        if admin is not None
        else prompter.ask(texts["ask_admin"], DEFAULT_ADMIN, lambda v: check_admin(v, texts))
    )
    if password_stdin:
        line = prompter.stdin.readline()
        if not line:
            raise InitError(texts["no_password"])
        password = check_password(line.rstrip("\r\n"), texts)
    else:
        password = prompter.password()
    assert isinstance(office, str) and isinstance(zone, str) and isinstance(people, int)
    assert isinstance(account, str)
    return Answers(office, zone, people, account, password)


def _write_office(
    config_path: Path, db_path: Path, text: str, answers: Answers, texts: dict[str, str]
) -> None:
    # sqlite-utils loads only once the answers are good
    from queue_server.store.accounts import upsert_user
    from queue_server.store.db import Database
    from queue_server.store.migrations import migrate

    try:
        # Held while the old database goes and the new one is made, so a server
        # started meanwhile cannot open a half-made office.
        lock = db_lock.acquire(db_path)
    except db_lock.DatabaseInUse as error:
        raise InitError(texts["in_use"].format(path=db_path, pid=error.pid), code=1) from None
    try:
        for suffix in DB_SUFFIXES:
            with contextlib.suppress(FileNotFoundError):
                Path(f"{db_path}{suffix}").unlink()
        config_path.parent.mkdir(parents=True, exist_ok=True)
        partial = config_path.with_name(config_path.name + ".new")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, config_path)
        db = Database(db_path)
        try:
            migrate(db.writer)
            hashed = auth.hash_password(answers.password)
            upsert_user(db.writer, answers.admin, "admin", hashed, datetime.now().isoformat())
        finally:
            db.close()
    finally:
        lock.release()


def _print_next_steps(
    folder: Path, config_path: Path, db_path: Path, answers: Answers, texts: dict[str, str], out: TextIO
) -> None:
    base = f"http://{_lan_address()}:8000"
    index, kiosk, lobby, entrance, door, login = texts["pages"].split("|")
    lines = [
        texts["done"].format(name=answers.name),
        texts["config"].format(path=config_path),
        texts["database"].format(path=db_path, admin=answers.admin),
        "",
        texts["start"],
        f"  cd {_shell_quote(str(folder))}",
        f"  {_command()} serve --host 0.0.0.0",
        "",
        texts["open"],
        f"  {base}/           {index}",
        f"  {base}/kiosk      {kiosk}",
        f"  {base}/display    {lobby}",
        f"  {base}/entrance   {entrance}",
        f"  {base}/door       {door}",
        *(f"  {base}/counter/{cid}  {cname}" for cid, cname, _ in COUNTERS),
        f"  {base}/login      {login} ({answers.admin})",
        "",
        texts["edit"].format(path=config_path),
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def _command() -> str:
    """How to call queue-server again: plain if it is on PATH, else by its full path."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if argv0 is not None and argv0.name.startswith("queue-server"):
        found = shutil.which(argv0.name)
        if found and Path(found).resolve() == argv0.resolve():
            return argv0.name
        return _shell_quote(str(argv0.resolve()))
    return f"{_shell_quote(sys.executable)} -m queue_server"


def _shell_quote(text: str) -> str:
    if os.name == "nt":
        return f'"{text}"' if " " in text else text
    import shlex

    return shlex.quote(text)


def _lan_address() -> str:
    """This PC's address on the office network, or 127.0.0.1.

    Connecting a UDP socket sends nothing; it only asks the OS which interface
    would route to a private address, so this works without internet.
    """
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        address = str(probe.getsockname()[0])
        if not address.startswith("0."):
            return address
    return "127.0.0.1"
