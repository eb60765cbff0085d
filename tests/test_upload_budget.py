"""Image intake on a budget (issue 14): what an upload costs is decided from its header, it is
decoded at reduced size where the format allows, and an instance decodes a bounded number of
images within a bounded memory budget at once, or answers 503 with Retry-After.

The memory bar runs in a child process (`python -m tests.test_upload_budget PNG RGB`, with
DATABASE_URL naming a migrated database: the generate_image app built by
`functions_framework.create_app`, ten uploads of a 4096 px image from ten threads through the
Flask test client), so its peak RSS (VmHWM, reset once the instance is warm) is the uploads'
alone; the JSON it prints (`pytest -s`) holds the numbers reported in issue 14.
"""

from __future__ import annotations

import gc
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import flask.testing
import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageStat

from common.core import errors
from common.providers import imagegen, queue
from common.studio import images
from common.studio.prompts import ArtworkRequest
from tests.test_generate_image_api import client, made, png_at, stored_files, upload

REPO = Path(__file__).resolve().parents[1]
PARALLEL = 10
SIDE = 4096
MEMORY_BUDGET_MB = 400
MB = 1024 * 1024


def artwork_of(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A printable picture: flat shapes on a light ground (a 4096 px square is a small PNG);
    in RGBA, the ground is transparent, like a logo's."""
    width, height = size
    image = Image.new("RGBA", size, (245, 240, 230, 0 if mode == "RGBA" else 255))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 8, height // 8, width * 7 // 8, height * 7 // 8), fill=(200, 30, 60))
    draw.rectangle((width * 3 // 8, height // 4, width * 5 // 8, height * 3 // 4), fill="navy")
    return image.convert(mode)


def encoded(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


# --- the child process: ten uploads at once, and what they cost --------------------------------


def _status(field: str) -> int:
    """A size from /proc/self/status (VmRSS: resident now, VmHWM: its peak), in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise LookupError(field)


def _start_peak() -> int:
    """Reset this process's peak RSS to what it holds now (so the peak measured next is what
    comes after, not the imports or the warm-up); that RSS, in bytes."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    return _status("VmRSS")


def measure(
    fmt: str = "PNG", mode: str = "RGB", parallel: int = PARALLEL, side: int = SIDE
) -> dict[str, Any]:
    """Post `parallel` uploads of a `side` px image at once from as many threads (as many
    clients, each within its rate limit) to a warm instance; what that cost it."""
    import functions_framework

    app = functions_framework.create_app(
        "generate_image", str(REPO / "functions" / "generate_image" / "main.py")
    )
    data = encoded(artwork_of((side, side), mode), fmt)

    def post(n: int, body: bytes = data) -> tuple[int, dict[str, Any]]:
        """The upload's status (200 once its image job is done) and its design."""
        browser = app.test_client()
        browser.environ_base["REMOTE_ADDR"] = f"203.0.113.{n}"
        form: dict[str, Any] = {"product_id": "classic-tee", "color": "White"}
        form["image"] = (io.BytesIO(body), f"upload.{fmt.lower()}", "image/png")
        answer = browser.post("/api/generate-image", data=form, content_type="multipart/form-data")
        if answer.status_code != 202:
            return answer.status_code, answer.get_json()
        broker = queue.broker()
        assert isinstance(broker, queue.LocalBroker) and broker.wait_idle(300)
        job = browser.get(f"/api/generate-image/{answer.get_json()['job_id']}").get_json()
        return (200, job["design"]) if job["status"] == "done" else (500, job)

    # warm: imports, the catalog, the garment templates, the database pool
    status, _ = post(200, encoded(artwork_of((300, 300), mode), fmt))
    assert status == 200
    started = time.process_time(), time.perf_counter()
    status, single = post(201)
    single_cpu, single_wall = time.process_time() - started[0], time.perf_counter() - started[1]
    assert status == 200, single
    gc.collect()

    baseline = _start_peak()
    results: list[tuple[int, dict[str, Any]]] = [(0, {})] * parallel
    together = threading.Barrier(parallel)

    def worker(n: int) -> None:
        together.wait()
        results[n] = post(n + 1)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(parallel)]
    started = time.process_time(), time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    burst_cpu, burst_wall = time.process_time() - started[0], time.perf_counter() - started[1]
    peak = _status("VmHWM")

    def sizes(design: dict[str, Any]) -> dict[str, list[int]]:
        """The stored upload's size and the artwork's (trimmed to what is drawn)."""
        from common.infra import config

        stored = config.settings().data_dir / "storage"
        found = {}
        image = design.get("brief", {}).get("image") or {}
        for name, key in (("upload", image.get("upload")), ("artwork", design.get("artwork_url"))):
            if key:
                with Image.open(stored / key.removeprefix("/storage/")) as art:
                    found[name] = list(art.size)
        return found

    return {
        "upload": f"{side}x{side} {mode} {fmt}, {len(data)} bytes",
        "one_upload": {
            "wall_s": round(single_wall, 2),
            "cpu_s": round(single_cpu, 2),
            **sizes(single),
        },
        "parallel": parallel,
        "statuses": [status for status, _ in results],
        "stored": [sizes(design) for _, design in results],
        "burst_wall_s": round(burst_wall, 2),
        "burst_cpu_s": round(burst_cpu, 2),
        "baseline_rss_mb": round(baseline / MB, 1),
        "peak_growth_mb": round((peak - baseline) / MB, 1),
    }


def run_child(*args: str) -> dict[str, Any]:
    """`python -m tests.test_upload_budget *args` with this process's settings (the test
    database, its data directory); the JSON it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.test_upload_budget", *args],
        cwd=REPO,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [("PNG", "RGB"), ("PNG", "RGBA"), ("JPEG", "RGB"), ("WEBP", "RGBA")],
    ids=["png", "png-logo", "jpeg", "webp"],
)
def test_ten_parallel_4096_px_uploads_stay_within_400_mb_and_print_at_2048_px(
    database_url: str, fmt: str, mode: str
) -> None:
    result = run_child(fmt, mode)
    print("\n" + json.dumps(result))
    assert result["statuses"] == [200] * PARALLEL, result
    uploads = [stored["upload"] for stored in result["stored"]]
    assert uploads == [[images.ARTWORK_SIZE] * 2] * PARALLEL, result  # prints at 150 DPI
    if mode == "RGB":  # nothing to trim
        assert [stored["artwork"] for stored in result["stored"]] == uploads
    assert result["peak_growth_mb"] < MEMORY_BUDGET_MB, result


def decode_peak(data: bytes) -> dict[str, Any]:
    """In this (fresh) process: the peak RSS growth of decoding `data`, and the cost it
    reserved for that."""
    baseline = _start_peak()
    image = images.decode(data)
    peak = _status("VmHWM")
    header = Image.open(io.BytesIO(data))
    kind = images.sniff(data) or ""
    if kind == "JPEG":
        header.draft(header.mode, images.fitted_size(header.size))
    return {
        "size": list(image.size),
        "peak_mb": round((peak - baseline) / MB, 1),
        "cost_mb": round(images.decode_cost(kind, header.mode, header.size) / MB, 1),
    }


@pytest.mark.parametrize(
    ("fmt", "mode", "most_mb"),
    [
        ("PNG", "RGB", 110),  # the 64 MB it decodes to, and the 2048 px result
        ("PNG", "RGBA", 175),  # and the premultiplied copy resampling makes
        ("PNG", "P", 175),
        ("JPEG", "RGB", 60),  # decoded at 2048 px
        ("WEBP", "RGB", 300),  # libwebp's canvases: the one format decoded alone
    ],
)
def test_one_4096_px_decode_peaks_within_its_reserved_cost(
    tmp_path: Path, fmt: str, mode: str, most_mb: int
) -> None:
    path = tmp_path / "upload"
    path.write_bytes(encoded(artwork_of((SIDE, SIDE), mode), fmt))
    result = run_child("decode", str(path))
    print("\n" + json.dumps(result))
    assert result["size"] == [images.ARTWORK_SIZE] * 2
    assert result["peak_mb"] <= min(result["cost_mb"], most_mb), result


# --- the gate: how many decodes at once, in which order, and when it is full -------------------


def test_the_gate_admits_in_turn_within_its_slots_and_budget() -> None:
    gate = images.DecodeGate(slots=2, budget=100)
    admitted: list[str] = []
    most = {"holders": 0, "reserved": 0}
    lock = threading.Lock()
    release = threading.Event()

    def decode(name: str, cost: int) -> None:
        with gate.reserve(cost, wait=10):
            with lock:
                admitted.append(name)
                most["holders"] = max(most["holders"], gate.holders)
                most["reserved"] = max(most["reserved"], gate.reserved)
            release.wait(10)

    def start(name: str, cost: int) -> threading.Thread:
        thread = threading.Thread(target=decode, args=(name, cost))
        thread.start()
        return thread

    def until(condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 5
        while not condition():
            assert time.monotonic() < deadline
            time.sleep(0.005)

    threads = [start("a", 60)]
    until(lambda: admitted == ["a"])
    threads.append(start("big", 90))
    until(lambda: gate.waiting == 1)
    threads.append(start("small", 10))
    until(lambda: gate.waiting == 2)
    time.sleep(0.05)
    assert admitted == ["a"]  # "big" does not fit beside "a", and "small" does not overtake it
    release.set()
    for thread in threads:
        thread.join()
    assert admitted == ["a", "big", "small"]
    assert most["holders"] <= 2 and most["reserved"] <= 100
    assert gate.holders == 0 and gate.reserved == 0

    with gate.reserve(500, wait=1):  # more than the budget: alone
        assert gate.reserved == 100
        with gate.reserve(10, wait=0):  # the same thread, finishing what it started
            assert gate.holders == 1 and gate.reserved == 110
    assert gate.holders == 0 and gate.reserved == 0


@pytest.fixture
def full_gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[images.DecodeGate]:
    """The instance's decode gate, its one slot held by another request for the test."""
    gate = images.DecodeGate(slots=1, budget=images.DECODE_BUDGET_BYTES)
    monkeypatch.setattr(images, "gate", gate)
    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.2)
    holding, release = threading.Event(), threading.Event()

    def other_request() -> None:
        with gate.reserve(1, wait=1):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=other_request)
    thread.start()
    assert holding.wait(5)
    yield gate
    release.set()
    thread.join()


def test_a_busy_instance_answers_503_with_retry_after_and_stores_nothing(
    database_url: str, full_gate: images.DecodeGate
) -> None:
    before = stored_files()
    started = time.perf_counter()
    response = upload(client(), encoded(artwork_of((640, 480)), "PNG"))
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "image_intake_busy"
    assert response.headers["Retry-After"] == str(images.RETRY_AFTER_SECONDS)
    assert 0.2 <= time.perf_counter() - started < 5  # waited its bounded time, no longer
    assert stored_files() == before
    assert full_gate.holders == 1  # only the other request's


@pytest.mark.parametrize(
    "data",
    [encoded(artwork_of((640, 480)), "PNG")[:-200], b"\x89PNG\r\n\x1a\n" + b"\0" * 64],
    ids=["truncated", "broken-header"],
)
def test_a_failed_decode_gives_its_reservation_back(data: bytes) -> None:
    with pytest.raises(errors.Unprocessable):
        images.decode(data)
    assert images.gate.holders == 0 and images.gate.reserved == 0


# --- 16 x 4096: judged on the size as sent -------------------------------------------------------


@pytest.fixture
def shopper(database_url: str) -> flask.testing.FlaskClient:
    return client()


def test_a_16_by_4096_upload_is_printed_and_made_art_from(shopper) -> None:
    strip = encoded(artwork_of((16, 4096)), "PNG")
    design = made(shopper, upload(shopper, strip))
    assert png_at(design["artwork_url"]).size == (8, images.ARTWORK_SIZE)
    assert png_at("/storage/" + design["brief"]["image"]["upload"]).size == (8, 2048)
    styled = upload(shopper, strip, prompt="my banner in pixel art", design_id=design["design_id"])
    made(shopper, styled)  # the local artist reads the reference


def test_a_16_by_4096_reference_reaches_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Image.Image] = []

    class Artist(imagegen.VertexArtist):
        def generate(self, request: ArtworkRequest) -> Image.Image:
            contents = self._contents(request)
            sent.append(Image.open(io.BytesIO(contents[0].parts[1].inline_data.data)))
            return Image.new("RGBA", (64, 64))

    artist = Artist(project="p", location="l", model="m")
    stored = images.encode_png(Image.new("RGBA", (8, 2048), "red"))  # a 16 x 4096 upload's
    artist.generate(ArtworkRequest("a banner", "pixel", (), stored))
    assert sent[0].size == (8, images.ARTWORK_SIZE)


# --- still sharp enough to print ------------------------------------------------------------------


def detailed(size: int) -> Image.Image:
    """Fine lines and small type: what a blurry downscale loses first."""
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    for x in range(0, size, 10):
        draw.line((x, 0, x, size // 3), fill="black", width=3)
    font = ImageFont.load_default(size=size // 64)
    for y in range(size // 3 + 20, size - 80, size // 48):
        draw.text((40, y), "Sharp print, small type 0123456789", fill="black", font=font)
    return image


def edges(image: Image.Image) -> float:
    return float(ImageStat.Stat(image.convert("L").filter(ImageFilter.FIND_EDGES)).mean[0])


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_a_4096_px_upload_is_kept_at_2048_px_as_crisp_as_lanczos_makes_it(fmt: str) -> None:
    source = detailed(SIDE)
    reference = source.resize((images.ARTWORK_SIZE,) * 2, Image.Resampling.LANCZOS)
    options = {"quality": 95} if fmt != "PNG" else {}
    image = images.decode(encoded(source, fmt, **options)).convert("RGB")
    assert image.size == (images.ARTWORK_SIZE, images.ARTWORK_SIZE)
    assert edges(image) >= 0.93 * edges(reference)
    assert max(ImageStat.Stat(ImageChops.difference(image, reference)).mean) < 4


if __name__ == "__main__":
    if sys.argv[1] == "decode":
        print(json.dumps(decode_peak(Path(sys.argv[2]).read_bytes())))
    else:
        fmt, mode, *rest = sys.argv[1:]
        print(json.dumps(measure(fmt, mode, *(int(arg) for arg in rest))))
