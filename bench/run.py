"""
`make bench`: the site as in production, driven by wrk.

Starts gunicorn with deploy/gunicorn.conf.py (debug off, PostgreSQL, Redis as the
cache, collected static files served by WhiteNoise) on the starter content plus
200 generated articles, warms it up, then runs wrk at 32 connections for
BENCH_SECONDS per target, in alternating rounds: home, article list, an article,
a topic, the consultation form, valid consultation requests (bench/post.lua), the
day-and-times page of a consultation type with 500 bookings over the next 30
days, bookings of a time each (bench/book.lua) and, as the baseline, a static file
as large as the article page. Then a storm: every connection booking the same 10
free times at once, which must end with exactly 10 bookings. Then the deployed
rows: Debian's nginx with the repo's site file (bench/deployed.py says what is
left out) in front of gunicorn, for home, an article, a topic and the form, with
a copy of the article served by the same nginx with gzip_static as their
baseline. Then the article page again with 1, 2 and 4 worker processes. Every
GET says "Accept-Encoding: gzip, br", as browsers do.

Prints a table and writes it as JSON (BENCH_OUTPUT). Exits non-zero on any error
response, socket error, consultation request or booking that was not stored, or
a storm that did not end with one booking per time.

Environment: BENCH_DATABASE_URL (PostgreSQL; created if missing), BENCH_REDIS_URL,
BENCH_SECONDS (10), BENCH_ROUNDS (2), BENCH_PORT (a free one), BENCH_OUTPUT.
"""

import gzip
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli
from database import ENCRYPTION_KEYS, ensure_database
from deployed import Nginx, ensure_nginx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BIN = Path(sys.executable).parent

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://roswell@127.0.0.1:5432/roswell_bench"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = int(os.environ.get("BENCH_PORT") or free_port())
NGINX_PORT = next(port for port in iter(free_port, None) if port != PORT)
OUTPUT = Path(
    os.environ.get("BENCH_OUTPUT", ROOT / "test-artifacts" / "bench" / "results.json")
)
CONNECTIONS = 32
WRK_THREADS = 2
# Form tokens per second of POSTs: several times what two cores can store.
TOKENS_PER_SECOND = 3000
SCALING_WORKERS = (1, 2, 4)
# Free times per round of booking POSTs: more than two cores can book in
# BENCH_SECONDS, fewer than half the benchmark type's (see bench/helper.py).
BOOKINGS_PER_ROUND = 6000
BOOKED_TYPE = "free-phone-consultation"
POSTED_TYPE = "bench-booking-post"
STORM_TIMES = 10
STORM_SECONDS = 3
STORM_TOKENS = 10000

ORIGIN = f"http://127.0.0.1:{PORT}"
DEPLOYED_ORIGIN = f"http://127.0.0.1:{NGINX_PORT}"
ACCEPT_ENCODING = "gzip, br"
ARTICLE = "/articles/ketamine-therapy-for-fibromyalgia/"
STATIC_COPY = "bench/article-copy.html"
TARGETS = {
    "home": "/",
    "article list": "/articles/",
    "article": ARTICLE,
    "topic": "/topics/fibromyalgia/",
    "consultation form": "/consultation/",
    "consultation POST": "/consultation/",
    "day-and-times page": f"/consultation/book/{BOOKED_TYPE}/",
    "booking POST": f"/consultation/book/{POSTED_TYPE}/",
    "static file (baseline)": f"/static/{STATIC_COPY}",
}
DEPLOYED_TARGETS = {
    name: TARGETS[name] for name in ("home", "article", "topic", "consultation form")
} | {"static file (baseline)": TARGETS["static file (baseline)"]}
# Pages that must keep up with the static file through nginx.
DEPLOYED_PAGES = ("article", "home", "topic")
TARGET_GOALS = {
    "article vs static file": ">= 90%",
    "article on the wire": "<= 7 KB",
    "article p99": "< 25 ms",
    "consultation form": ">= 800 req/s",
    "consultation POSTs stored": ">= 400/s, none lost",
    "day-and-times page": ">= 1000 req/s",
    "day-and-times page p99": "< 50 ms",
    "booking POSTs stored": ">= 150/s, none lost",
    "booking storm": "10 bookings, 0 errors, 0 duplicates",
    "worker memory": "< 150 MB",
    "article page, compressed": "<= 70 KB",
    "article page, requests": "<= 6",
    "render-blocking scripts": "0",
}
DEPLOYED_GOALS = {
    f"deployed {name} vs static file": ">= 50%" for name in DEPLOYED_PAGES
}
DEPLOYED_GOALS["deployed p99 (article, home, topic)"] = "< 10 ms"
DEPLOYED_GOALS["deployed errors (article, home, topic)"] = "0"

STATIC_ROOT = OUTPUT.parent / "static"
ENV = {
    key: value
    for key, value in os.environ.items()
    if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "BOOKINGS_"))
} | {
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "BOOKINGS_ENCRYPTION_KEYS": ENCRYPTION_KEYS,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SITE_URL": ORIGIN,
    # Plain HTTP on loopback: no redirect to https.
    "DJANGO_HTTPS": "0",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "DJANGO_TASKS": "database",
    "DJANGO_MEDIA_ROOT": str(OUTPUT.parent / "media"),
    "DJANGO_STATIC_ROOT": str(STATIC_ROOT),
    # Every POST comes from 127.0.0.1 and is sent by a machine at once.
    "BOOKINGS_RATE_LIMIT_PER_HOUR": "1000000000",
    "BOOKINGS_MIN_FILL_SECONDS": "0",
    "BENCH_DIR": str(BENCH),
    "BENCH_HOST": f"127.0.0.1:{PORT}",
    "BENCH_ACCEPT_ENCODING": ACCEPT_ENCODING,
}


def say(*parts):
    print(*parts, flush=True)


def run(*command, **kwargs):
    return subprocess.run(
        command, cwd=ROOT, env=ENV, check=True, text=True, **kwargs
    ).stdout


def helper(*arguments):
    return run(BIN / "python", BENCH / "helper.py", *arguments, capture_output=True)


def manage(*arguments):
    run(BIN / "python", "manage.py", *arguments, stdout=subprocess.DEVNULL)


def ensure_wrk():
    if not shutil.which("wrk"):
        say("Installing wrk (Debian package)")
        run("apt-get", "install", "-y", "-q", "wrk", stdout=subprocess.DEVNULL)


def prepare_site():
    say("Preparing the site: migrate, cache table, static files, content")
    manage("migrate", "--no-input")
    manage("createcachetable")
    manage("collectstatic", "--no-input")
    manage("load_starter_content")
    say(" ", helper("seed").strip())
    say(" ", helper("bookings").strip())
    static_copy = STATIC_ROOT / STATIC_COPY
    say("  static copy of the article page:", helper("baseline", ARTICLE, static_copy))
    # Its gzip copy, as collectstatic makes them: served by WhiteNoise, and by
    # nginx's gzip_static.
    compressed_copy = static_copy.with_name(static_copy.name + ".gz")
    compressed_copy.write_bytes(gzip.compress(static_copy.read_bytes(), 9, mtime=0))
    return static_copy, compressed_copy


class Gunicorn:
    def __init__(self, workers=None):
        self.workers = workers
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(OUTPUT.parent / "gunicorn.log", "a")
        command = [BIN / "gunicorn", "-c", "deploy/gunicorn.conf.py"]
        # Its own address, and no control socket that another gunicorn may use.
        command += ["--bind", f"127.0.0.1:{PORT}", "--no-control-socket"]
        if workers:
            command += ["--workers", str(workers)]
        self.process = subprocess.Popen(
            [*command, "roswell_site.wsgi"],
            cwd=ROOT,
            env=ENV,
            stdout=self.log,
            stderr=self.log,
        )
        for _ in range(100):
            time.sleep(0.2)
            if self.process.poll() is not None:
                break
            try:
                fetch(f"/static/{STATIC_COPY}")
                return
            except OSError:
                continue
        self.stop()
        sys.exit("gunicorn did not start; see " + self.log.name)

    def worker_pids(self):
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # "pid (name) state ppid ...": the name may hold spaces.
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue  # the process ended meanwhile
            if ppid == self.process.pid:
                pids.append(int(stat.parent.name))
        return pids

    def worker_rss_mb(self):
        """The largest resident memory of a worker process, in MB."""
        return round(max(self.worker_sizes_mb()), 1)

    def worker_sizes_mb(self):
        """The resident memory of each running worker process, in MB."""
        sizes = []
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # replaced meanwhile (max_requests)
            # A worker that is exiting has no resident memory left to count.
            if rss := re.search(r"VmRSS:\s+(\d+) kB", status):
                sizes.append(int(rss.group(1)) / 1024)
        return sizes

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self.log.close()


def fetch(path, headers=None):
    """GET a path of the benchmarked site (always http://127.0.0.1)."""
    url = urljoin(ORIGIN, path)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.read(), response.headers


def decoded(body, headers):
    return {"br": brotli.decompress, "gzip": gzip.decompress}.get(
        headers["Content-Encoding"], bytes
    )(body)


def wrk(path, script="get.lua", seconds=SECONDS, extra_env=None, origin=ORIGIN):
    output = subprocess.run(
        [
            "wrk",
            f"--threads={WRK_THREADS}",
            f"--connections={CONNECTIONS}",
            f"--duration={seconds}s",
            "--timeout=5s",
            f"--script={BENCH / script}",
            urljoin(origin, path),
        ],
        env=ENV | (extra_env or {}),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH-JSON"))
    result = json.loads(line.removeprefix("BENCH-JSON "))
    result["requests_per_second"] = result["requests"] / result["duration_us"] * 1e6
    return result


def post_requests(round_number):
    """One run of valid consultation requests, checked against the database."""
    tokens = OUTPUT.parent / "form-tokens.txt"
    helper("tokens", str(SECONDS * TOKENS_PER_SECOND), tokens)
    stored_before = int(helper("requests"))
    result = wrk(
        "/consultation/",
        "post.lua",
        extra_env={
            "BENCH_TOKENS": str(tokens),
            "BENCH_THREADS": str(WRK_THREADS),
            "BENCH_CSRF": "".join(
                secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
            ),
            "BENCH_RUN": f"{int(time.time())}-{round_number}",
            "BENCH_TREATMENT": helper("treatment").strip(),
        },
    )
    tokens.unlink()
    result["stored"] = int(helper("requests")) - stored_before
    result["lost"] = max(0, result["thanked"] - result["stored"])
    result["status_errors"] += result["unexpected"]
    result["stored_per_second"] = result["stored"] / result["duration_us"] * 1e6
    return result


def book(slug, times, tokens_count, seconds, label, storm=False):
    """wrk running bench/book.lua: bookings of the times in the file `times`."""
    tokens = OUTPUT.parent / "form-tokens.txt"
    helper("tokens", str(tokens_count), tokens)
    result = wrk(
        f"/consultation/book/{slug}/",
        "book.lua",
        seconds=seconds,
        extra_env={
            "BENCH_TOKENS": str(tokens),
            "BENCH_TIMES": str(times),
            "BENCH_THREADS": str(WRK_THREADS),
            "BENCH_CSRF": "".join(
                secrets.choice(string.ascii_letters + string.digits) for _ in range(32)
            ),
            "BENCH_RUN": f"{int(time.time())}-{label}",
            "BENCH_TREATMENT": helper("treatment").strip(),
            "BENCH_SLUG": slug,
            "BENCH_STORM": "1" if storm else "",
        },
    )
    tokens.unlink()
    result |= json.loads(helper("booked", slug, times))
    times.unlink()
    return result


def post_bookings(round_number):
    """One run of bookings, each of a free time of its own, counted in the database."""
    times = OUTPUT.parent / "booking-times.txt"
    helper("times", POSTED_TYPE, str(BOOKINGS_PER_ROUND), times)
    result = book(POSTED_TYPE, times, BOOKINGS_PER_ROUND, SECONDS, round_number)
    # Only these bookings can hold times that were free before the round.
    result["stored"] = result["bookings"]
    result["lost"] = max(0, result["booked"] - result["stored"])
    # A refused time (409, counted by wrk) or any other answer is an error here.
    result["status_errors"] += result["unexpected"]
    result["stored_per_second"] = result["stored"] / result["duration_us"] * 1e6
    return result


def booking_storm():
    """
    Every connection books the same STORM_TIMES free times of the type with 500
    bookings, in turn: each time must be booked once, every other POST refused
    as just taken (409), and the database must hold one booking per time.
    """
    times = OUTPUT.parent / "storm-times.txt"
    helper("times", BOOKED_TYPE, str(STORM_TIMES), times)
    result = book(BOOKED_TYPE, times, STORM_TOKENS, STORM_SECONDS, "storm", storm=True)
    # Here 409, which wrk counts as an error status, is the expected answer.
    result["errors"] = result["socket_errors"] + result["unexpected"]
    result["ok"] = (
        result["bookings"] == result["booked"] == STORM_TIMES
        and result["duplicates"] == 0
        and result["errors"] == 0
    )
    return result


def page_weight(path):
    """The page's HTML and what it loads before images, compressed as served."""
    body, headers = fetch(path, {"Accept-Encoding": ACCEPT_ENCODING})
    items = [{"url": path, "bytes": len(body)}]
    page = decoded(body, headers).decode()
    # What a browser fetches to show the page: not canonical, feed or touch-icon
    # links, which it only reads.
    urls = [
        re.search(r'href="([^"]+)"', tag).group(1)
        for tag in re.findall(r"<link [^>]*>", page)
        if re.search(r'rel="(stylesheet|icon|preload|modulepreload)"', tag)
    ]
    urls += re.findall(r'<script [^>]*src="([^"]+)"', page)
    blocking = [
        tag
        for tag in re.findall(r"<script [^>]*src=[^>]*>", page)
        if not re.search(r"\b(defer|async)\b|type=\"module\"", tag)
    ]
    for url in urls:
        body, headers = fetch(url, {"Accept-Encoding": ACCEPT_ENCODING})
        items.append({"url": url, "bytes": len(body)})
        if url.endswith(".css"):
            css = decoded(body, headers)
            for font in re.findall(r"url\(['\"]?([^'\")]+\.woff2?)", css.decode()):
                font_body, _ = fetch(urljoin(url, font))
                items.append({"url": font, "bytes": len(font_body)})
    return {
        "requests": len(items),
        "compressed_kb": round(sum(item["bytes"] for item in items) / 1024, 1),
        "render_blocking_scripts": len(blocking),
        "items": items,
    }


def summarise(runs):
    requests = sum(run["requests"] for run in runs)
    duration = sum(run["duration_us"] for run in runs) / 1e6
    summary = {
        "requests_per_second": round(requests / duration, 1),
        "bytes_per_response": round(sum(run["bytes"] for run in runs) / requests),
        "p50_ms": round(sum(run["p50_us"] for run in runs) / len(runs) / 1000, 2),
        "p99_ms": round(max(run["p99_us"] for run in runs) / 1000, 2),
        "errors": sum(run["socket_errors"] + run["status_errors"] for run in runs),
        "worker_rss_mb": max(run["worker_rss_mb"] for run in runs),
        "rounds": runs,
    }
    if "stored" in runs[0]:
        summary["stored_per_second"] = round(
            sum(run["stored"] for run in runs) / duration, 1
        )
        summary["lost"] = sum(run["lost"] for run in runs)
        summary["errors"] += summary["lost"]
    return summary


def measure_targets():
    server = Gunicorn()
    try:
        weight = page_weight(ARTICLE)
        say("Warming up")
        for name, path in TARGETS.items():
            if name not in ("consultation POST", "booking POST"):
                wrk(path, seconds=2)
        workers = len(server.worker_sizes_mb())
        runs = {name: [] for name in TARGETS}
        for round_number in range(1, ROUNDS + 1):
            for name, path in TARGETS.items():
                say(f"Round {round_number}/{ROUNDS}: {name}")
                if name == "consultation POST":
                    result = post_requests(round_number)
                elif name == "booking POST":
                    result = post_bookings(round_number)
                else:
                    result = wrk(path)
                result["worker_rss_mb"] = server.worker_rss_mb()
                result["load_average"] = os.getloadavg()[0]
                runs[name].append(result)
        say("Booking storm")
        storm = booking_storm()
    finally:
        server.stop()
    return workers, weight, {name: summarise(runs[name]) for name in TARGETS}, storm


def measure_deployed():
    """The deployed rows: nginx with the repo's site file in front of gunicorn."""
    server = Gunicorn()
    proxy = Nginx(
        NGINX_PORT, f"127.0.0.1:{PORT}", STATIC_ROOT.parent, OUTPUT.parent / "nginx"
    )
    try:
        say("Deployed: warming up")
        for path in DEPLOYED_TARGETS.values():
            wrk(path, seconds=2, origin=DEPLOYED_ORIGIN)
        runs = {name: [] for name in DEPLOYED_TARGETS}
        for round_number in range(1, ROUNDS + 1):
            for name, path in DEPLOYED_TARGETS.items():
                say(f"Deployed, round {round_number}/{ROUNDS}: {name}")
                result = wrk(path, origin=DEPLOYED_ORIGIN)
                result["worker_rss_mb"] = server.worker_rss_mb()
                result["load_average"] = os.getloadavg()[0]
                runs[name].append(result)
    finally:
        proxy.stop()
        server.stop()
    return {name: summarise(runs[name]) for name in DEPLOYED_TARGETS}


def measure_scaling():
    scaling = {}
    for workers in SCALING_WORKERS:
        say(f"Article page with {workers} worker(s)")
        server = Gunicorn(workers)
        try:
            wrk(ARTICLE, seconds=2)
            result = wrk(ARTICLE)
            scaling[workers] = {
                "requests_per_second": round(result["requests_per_second"], 1),
                "p99_ms": round(result["p99_us"] / 1000, 2),
                "errors": result["socket_errors"] + result["status_errors"],
            }
        finally:
            server.stop()
    return scaling


def print_table(results):
    baseline = results["static file (baseline)"]["requests_per_second"]
    say(
        f"{'target':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
        f"{'vs static':>11}{'worker MB':>11}{'bytes/resp':>12}"
    )
    for name, result in results.items():
        rate = result.get("stored_per_second", result["requests_per_second"])
        ratio = rate / baseline
        say(
            f"{name:<24}{rate:>9.0f}{result['p50_ms']:>9.2f}{result['p99_ms']:>9.2f}"
            f"{result['errors']:>8}{ratio:>10.0%} {result['worker_rss_mb']:>10.0f}"
            f"{result['bytes_per_response']:>12}"
        )


def print_report(report):
    say()
    say("gunicorn alone (deploy/gunicorn.conf.py):")
    print_table(report["results"])
    say(
        "(consultation and booking POST: requests or bookings stored per second, "
        "counted in the database)"
    )
    say()
    say("Deployed: nginx with deploy/nginx/roswell.conf (plain HTTP) in front:")
    print_table(report["deployed"])
    say(
        "(bytes/resp: on the wire, headers included, per response; "
        f"Accept-Encoding: {ACCEPT_ENCODING})"
    )
    storm = report["storm"]
    say(
        f"Booking storm, {CONNECTIONS} connections on the same {STORM_TIMES} times "
        f"for {STORM_SECONDS} s: {storm['requests']} POSTs, {storm['booked']} booked, "
        f"{storm['taken']} refused as just taken; in the database "
        f"{storm['bookings']} bookings, {storm['duplicates']} duplicates; "
        f"{storm['errors']} errors; p99 {storm['p99_us'] / 1000:.2f} ms"
    )
    say()
    say("Article page, req/s by worker processes:")
    for workers, result in report["scaling"].items():
        say(
            f"  {workers} worker(s): {result['requests_per_second']:>7.0f} req/s, "
            f"p99 {result['p99_ms']:.2f} ms, {result['errors']} errors"
        )
    weight = report["article_page"]
    say()
    say(
        f"Article page before images: {weight['compressed_kb']} KB compressed in "
        f"{weight['requests']} requests, "
        f"{weight['render_blocking_scripts']} render-blocking scripts"
    )
    for item in weight["items"]:
        say(f"  {item['bytes'] / 1024:>6.1f} KB  {item['url']}")
    say()
    say("Targets:")
    for name, (goal, value, met) in report["targets"].items():
        say(f"  {'met ' if met else 'MISSED'}  {name}: {value} (goal {goal})")
    say()
    say(report["conditions"])


def deployed_targets(deployed):
    static = deployed["static file (baseline)"]["requests_per_second"]
    values = {}
    for name in DEPLOYED_PAGES:
        ratio = deployed[name]["requests_per_second"] / static
        values[f"deployed {name} vs static file"] = (f"{ratio:.0%}", ratio >= 0.5)
    p99 = max(deployed[name]["p99_ms"] for name in DEPLOYED_PAGES)
    values["deployed p99 (article, home, topic)"] = (f"{p99} ms", p99 < 10)
    errors = sum(deployed[name]["errors"] for name in DEPLOYED_PAGES)
    values["deployed errors (article, home, topic)"] = (errors, errors == 0)
    return values


def targets(results, weight, storm, deployed):
    article = results["article"]
    static = results["static file (baseline)"]
    form = results["consultation form"]
    posts = results["consultation POST"]
    day_page = results["day-and-times page"]
    bookings = results["booking POST"]
    ratio = article["requests_per_second"] / static["requests_per_second"]
    memory = max(result["worker_rss_mb"] for result in results.values())
    values = {
        "article vs static file": (f"{ratio:.0%}", ratio >= 0.9),
        "article on the wire": (
            f"{article['bytes_per_response'] / 1024:.1f} KB",
            article["bytes_per_response"] <= 7 * 1024,
        ),
        "article p99": (f"{article['p99_ms']} ms", article["p99_ms"] < 25),
        "consultation form": (
            f"{form['requests_per_second']:.0f} req/s",
            form["requests_per_second"] >= 800,
        ),
        "consultation POSTs stored": (
            f"{posts['stored_per_second']:.0f}/s, {posts['lost']} lost",
            posts["stored_per_second"] >= 400 and posts["lost"] == 0,
        ),
        "day-and-times page": (
            f"{day_page['requests_per_second']:.0f} req/s",
            day_page["requests_per_second"] >= 1000,
        ),
        "day-and-times page p99": (
            f"{day_page['p99_ms']} ms",
            day_page["p99_ms"] < 50,
        ),
        "booking POSTs stored": (
            f"{bookings['stored_per_second']:.0f}/s, {bookings['lost']} lost",
            bookings["stored_per_second"] >= 150 and bookings["lost"] == 0,
        ),
        "booking storm": (
            f"{storm['bookings']} bookings, {storm['errors']} errors, "
            f"{storm['duplicates']} duplicates",
            storm["ok"],
        ),
        "worker memory": (f"{memory:.0f} MB", memory < 150),
        "article page, compressed": (
            f"{weight['compressed_kb']} KB",
            weight["compressed_kb"] <= 70,
        ),
        "article page, requests": (weight["requests"], weight["requests"] <= 6),
        "render-blocking scripts": (
            weight["render_blocking_scripts"],
            weight["render_blocking_scripts"] == 0,
        ),
    } | deployed_targets(deployed)
    goals = TARGET_GOALS | DEPLOYED_GOALS
    return {name: (goals[name], value, met) for name, (value, met) in values.items()}


def main():
    ensure_wrk()
    ensure_nginx()
    ensure_database(DATABASE_URL, "BENCH_DATABASE_URL")
    static_copies = prepare_site()
    load_before = os.getloadavg()[0]
    try:
        workers, weight, results, storm = measure_targets()
        deployed = measure_deployed()
        scaling = measure_scaling()
    finally:
        for static_copy in static_copies:
            static_copy.unlink(missing_ok=True)
    loads = [
        run["load_average"] for result in results.values() for run in result["rounds"]
    ]
    report = {
        "conditions": (
            f"{os.cpu_count()} cores shared with wrk (2 threads) and other work; "
            f"load average {load_before:.1f} before the run, {min(loads):.1f} to "
            f"{max(loads):.1f} after each target (counting the benchmark); gunicorn "
            f"deploy/gunicorn.conf.py with {workers} workers; {CONNECTIONS} "
            f"connections, {ROUNDS} rounds of {SECONDS} s per target; "
            f"cache {REDIS_URL}; database {urlsplit(DATABASE_URL).path.lstrip('/')}."
        ),
        "results": results,
        "deployed": deployed,
        "storm": storm,
        "scaling": scaling,
        "article_page": weight,
    }
    report["targets"] = targets(results, weight, storm, deployed)
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2))
    print_report(report)
    say(f"JSON: {OUTPUT}")
    errors = sum(result["errors"] for result in results.values())
    errors += sum(result["errors"] for result in deployed.values())
    errors += sum(result["errors"] for result in scaling.values())
    if errors:
        sys.exit(f"{errors} error responses or lost requests.")
    if not storm["ok"]:
        sys.exit("The booking storm did not end with one booking per time.")


if __name__ == "__main__":
    main()
