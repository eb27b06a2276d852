#!/usr/bin/env python3
"""Generate the announcement clips for the lobby display (static/audio/<lang>/).

The lobby TV says "Nomor antrean, A, nol, nol, tiga, silakan menuju loket, dua"
by playing short pre-recorded clips one after another (static/js/announcer.js).
Shipping clips instead of relying on the browser's speechSynthesis matters
because TV browsers and kiosk PCs often have no Indonesian voice at all, and the
office LAN has no internet for a cloud voice.

What it makes, per language (``id``, ``en``):
  * a chime (synthesised with sox, same file in every language),
  * the phrases "nomor antrean" / "silakan menuju loket" (en: "number" /
    "please go to counter"),
  * the letters A-Z (ticket prefixes), the digits 0-9 as words,
  * the number words needed to say counters 1-100
    (id: sepuluh, sebelas, belas, puluh, seratus; en: ten..nineteen, twenty..ninety,
    one hundred),
  * ``manifest.json`` listing every clip.

Manifest format (``static/audio/<lang>/manifest.json``)::

    {"version": 1, "lang": "id", "voice": "id", "format": "mp3",
     "mime": "audio/mpeg", "sample_rate": 16000,
     "clips": {"chime": {"file": "chime.mp3", "text": "", "ms": 1510, "bytes": 3333},
               "nomor antrean": {"file": "nomor-antrean.mp3", "text": "nomor antrean", ...},
               "A": {"file": "letter-a.mp3", "text": "A", ...},
               "nol": {"file": "nol.mp3", ...}, ...},
     "total_bytes": 123456}

Keys are the words the announcer speaks (letters upper-case, words lower-case),
so announcer.js can map a phrase token straight to a file.

Requirements: espeak-ng and sox (Debian: ``apt-get install -y espeak-ng sox
libsox-fmt-all``); ffmpeg (with libmp3lame) is used when present. Output format:
mp3 (ffmpeg, else sox with mp3 support), else ogg/vorbis (sox), else 16 kHz wav.
mp3 is preferred over ogg/opus because every TV/kiosk browser (old Android TV
WebViews, Safari) decodes it.

Usage (re-runnable; it rewrites the language folders and removes stale clips)::

    python scripts/make_audio.py                 # both languages, auto format
    python scripts/make_audio.py --lang id --format wav
    python scripts/make_audio.py --out /tmp/audio --check-only

The generated clips are committed, so the server needs none of these tools.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "queue_server" / "web" / "static" / "audio"
SAMPLE_RATE = 16000
# Slower than espeak's default 175 wpm: announcements are heard across a noisy
# hall, often by older visitors.
SPEED_WPM = {"id": 140, "en": 145}
VOICE = {"id": "id", "en": "en-us"}
# Keep the whole language folder far under 1 MB (TV boxes on weak Wi-Fi).
MAX_BYTES_PER_LANG = 1_000_000

LETTERS = [chr(c) for c in range(ord("A"), ord("Z") + 1)]

# key -> text given to espeak-ng. Keys are what announcer.js puts in a phrase.
# Digits 0-9 plus what counters 1-100 need ("dua puluh tiga" = dua + puluh + tiga).
ID_NUMBER_WORDS = """
nol satu dua tiga empat lima enam tujuh delapan sembilan
sepuluh sebelas belas puluh seratus
"""
# English 21 = twenty + one, so only 0-19 and the tens are needed.
EN_NUMBER_WORDS = """
zero one two three four five six seven eight nine ten eleven twelve thirteen
fourteen fifteen sixteen seventeen eighteen nineteen
twenty thirty forty fifty sixty seventy eighty ninety
"""

WORDS: dict[str, dict[str, str]] = {
    "id": {
        "nomor antrean": "nomor antrean",
        "silakan menuju loket": "silakan menuju loket",
        **{w: w for w in ID_NUMBER_WORDS.split()},
    },
    "en": {
        "number": "number",
        "please go to counter": "please go to counter",
        **{w: w for w in EN_NUMBER_WORDS.split()},
        "one hundred": "one hundred",
    },
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr)


def run(cmd: list[str]) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{res.stderr.strip()}")


def file_name(key: str) -> str:
    # Letter keys get a prefix so "A" never collides with a word file on a
    # case-insensitive file system (a Windows admin copying the folder).
    if len(key) == 1 and key.isupper():
        return f"letter-{key.lower()}"
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


def sox_formats() -> set[str]:
    res = subprocess.run(["sox", "-h"], capture_output=True, text=True)
    m = re.search(r"AUDIO FILE FORMATS:(.*)", res.stdout)
    return set(m.group(1).split()) if m else set()


def ffmpeg_has(encoder: str) -> bool:
    if not shutil.which("ffmpeg"):
        return False
    res = subprocess.run(["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True)
    return encoder in res.stdout


def pick_format(wanted: str) -> tuple[str, str]:
    """Return (format, tool) for the requested format or the best available."""
    sox_fmts = sox_formats()
    options = {
        "mp3": ("ffmpeg" if ffmpeg_has("libmp3lame") else ("sox" if "mp3" in sox_fmts else None)),
        "ogg": ("sox" if "ogg" in sox_fmts else ("ffmpeg" if ffmpeg_has("libvorbis") else None)),
        "wav": "sox",
    }
    order = [wanted] if wanted != "auto" else ["mp3", "ogg", "wav"]
    for fmt in order:
        if options.get(fmt):
            return fmt, options[fmt]  # type: ignore[return-value]
    raise SystemExit(f"no tool can write {wanted}; install ffmpeg or libsox-fmt-all")


MIME = {"mp3": "audio/mpeg", "ogg": "audio/ogg", "wav": "audio/wav"}


def encode(src_wav: Path, dst: Path, fmt: str, tool: str) -> None:
    if fmt == "wav":
        run(["sox", str(src_wav), "-b", "16", str(dst)])
    elif tool == "ffmpeg":
        codec = ["-c:a", "libmp3lame", "-b:a", "24k"] if fmt == "mp3" else ["-c:a", "libvorbis", "-q:a", "1"]
        run(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(src_wav),
                "-ac",
                "1",
                "-ar",
                str(SAMPLE_RATE),
                *codec,
                "-map_metadata",
                "-1",
                str(dst),
            ]
        )
    else:
        comp = ["-C", "24"] if fmt == "mp3" else ["-C", "0"]
        run(["sox", str(src_wav), *comp, str(dst)])


def speak(lang: str, text: str, out_wav: Path, tmp: Path) -> None:
    raw = tmp / "raw.wav"
    run(["espeak-ng", "-v", VOICE[lang], "-s", str(SPEED_WPM[lang]), "-w", str(raw), text])
    # Trim the silence espeak adds at both ends so concatenated clips sound like
    # one sentence (announcer.js adds its own short pauses), resample to mono
    # 16 kHz and normalise so every clip has the same loudness.
    run(
        [
            "sox",
            str(raw),
            "-c",
            "1",
            "-r",
            str(SAMPLE_RATE),
            str(out_wav),
            "silence",
            "1",
            "0.01",
            "0.5%",
            "reverse",
            "silence",
            "1",
            "0.01",
            "0.5%",
            "reverse",
            "pad",
            "0.02",
            "0.03",
            "norm",
            "-1",
        ]
    )


def make_chime(out_wav: Path, tmp: Path) -> None:
    # Two-note "ding-dong" with a soft octave overtone and an exponential-ish
    # decay: attention-getting without being shrill on cheap TV speakers.
    notes = [(659.25, 0.55), (523.25, 0.95)]
    parts = []
    for i, (freq, dur) in enumerate(notes):
        part = tmp / f"note{i}.wav"
        run(
            [
                "sox",
                "-n",
                "-r",
                str(SAMPLE_RATE),
                "-c",
                "1",
                str(part),
                "synth",
                str(dur),
                "sine",
                str(freq),
                "sine",
                str(freq * 2),
                "remix",
                "-",
                "fade",
                "q",
                "0.01",
                str(dur),
                str(dur * 0.85),
                "vol",
                "0.7",
            ]
        )
        parts.append(str(part))
    run(["sox", *parts, str(out_wav), "norm", "-3"])


def duration_ms(path: Path) -> int:
    res = subprocess.run(["soxi", "-D", str(path)], capture_output=True, text=True)
    try:
        return round(float(res.stdout.strip()) * 1000)
    except ValueError:
        return 0


def build_lang(lang: str, out_root: Path, fmt: str, tool: str) -> dict:
    out_dir = out_root / lang
    out_dir.mkdir(parents=True, exist_ok=True)
    clips: dict[str, dict] = {}
    texts = {"chime": ""}
    texts.update({k: v for k, v in WORDS[lang].items()})
    texts.update({letter: letter for letter in LETTERS})
    with tempfile.TemporaryDirectory(prefix="antre-audio-") as td:
        tmp = Path(td)
        for key, text in texts.items():
            wav = tmp / "clip.wav"
            if key == "chime":
                make_chime(wav, tmp)
            else:
                speak(lang, text, wav, tmp)
            name = f"{file_name(key)}.{fmt}"
            dst = out_dir / name
            encode(wav, dst, fmt, tool)
            clips[key] = {
                "file": name,
                "text": text,
                "ms": duration_ms(wav),
                "bytes": dst.stat().st_size,
            }
    keep = {c["file"] for c in clips.values()} | {"manifest.json"}
    for old in out_dir.iterdir():
        if old.is_file() and old.name not in keep:
            old.unlink()  # a clip from an earlier run in another format
    total = sum(c["bytes"] for c in clips.values())
    manifest = {
        "version": 1,
        "lang": lang,
        "voice": VOICE[lang],
        "format": fmt,
        "mime": MIME[fmt],
        "sample_rate": SAMPLE_RATE,
        "generator": "scripts/make_audio.py (espeak-ng + sox)",
        "clips": clips,
        "total_bytes": total,
    }
    (out_dir / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    if total > MAX_BYTES_PER_LANG:
        raise SystemExit(f"{lang}: clips total {total} bytes, over {MAX_BYTES_PER_LANG}")
    log(f"{lang}: {len(clips)} clips, {fmt}, {math.ceil(total / 1024)} KiB -> {out_dir}")
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output root folder")
    ap.add_argument("--lang", action="append", choices=sorted(WORDS), help="repeatable")
    ap.add_argument("--format", default="auto", choices=["auto", "mp3", "ogg", "wav"])
    ap.add_argument("--check-only", action="store_true", help="only check the tools")
    args = ap.parse_args(argv)

    missing = [t for t in ("espeak-ng", "sox", "soxi") if not shutil.which(t)]
    if missing:
        log("missing: " + ", ".join(missing) + " (apt-get install -y espeak-ng sox libsox-fmt-all)")
        return 2
    fmt, tool = pick_format(args.format)
    log(f"format: {fmt} via {tool}")
    if args.check_only:
        return 0
    for lang in args.lang or sorted(WORDS):
        build_lang(lang, args.out, fmt, tool)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
