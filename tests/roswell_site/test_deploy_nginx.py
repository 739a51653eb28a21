"""
deploy/nginx/roswell.conf as the README deploys it: Debian's nginx accepts it,
and in front of gunicorn its cache keeps the pages the site compressed, so the
second visitor asking for an article gets it from nginx, compressed.
"""

import getpass
import gzip
import http.client
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import brotli
import pytest
from django.db import connection

from tests.roswell_site.conftest import PROJECT, manage, production_env

NGINX = "/usr/sbin/nginx"
BROTLI_STATIC = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so"
SITE_FILE = PROJECT / "deploy" / "nginx" / "roswell.conf"
HOST = "www.roswellinfusions.com"
BIN = Path(sys.executable).parent
DECOMPRESS = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}

pytestmark = pytest.mark.skipif(
    not (Path(NGINX).exists() and Path(BROTLI_STATIC).exists()),
    reason="needs Debian's nginx and libnginx-mod-http-brotli-static (.ci/run)",
)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for the site's name, made with openssl."""
    cert, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes"]
        + ["-keyout", key, "-out", cert, "-days", "1", "-subj", f"/CN={HOST}"],
        check=True,
        capture_output=True,
    )
    return cert, key


def main_config(tmp_path, site):
    """An nginx.conf like Debian's, including the given site file."""
    (tmp_path / "site.conf").write_text(site)
    config = tmp_path / "nginx.conf"
    config.write_text(
        f"load_module {BROTLI_STATIC};\n"
        # Workers as the test's own user, who alone may write to tmp_path.
        f"user {getpass.getuser()};\n"
        f"pid {tmp_path}/nginx.pid;\n"
        f"error_log {tmp_path}/error.log;\n"
        "daemon off;\n"
        "events {}\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    gzip on;\n"
        f"    access_log {tmp_path}/access.log;\n"
        f"    client_body_temp_path {tmp_path}/body;\n"
        f"    proxy_temp_path {tmp_path}/proxy;\n"
        f"    include {tmp_path}/site.conf;\n"
        "}\n"
    )
    return config


def site_file(tmp_path, certificate):
    """The site file with the test certificate and a cache folder of its own."""
    cert, key = certificate
    live = f"/etc/letsencrypt/live/{HOST}"
    return (
        SITE_FILE.read_text()
        .replace(f"{live}/fullchain.pem", str(cert))
        .replace(f"{live}/privkey.pem", str(key))
        .replace("/var/cache/nginx/roswell", str(tmp_path / "cache"))
    )


def test_nginx_accepts_the_site_file(tmp_path, certificate):
    config = main_config(tmp_path, site_file(tmp_path, certificate))

    result = subprocess.run(
        [NGINX, "-t", "-p", tmp_path, "-c", config], capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def wait_for(port):
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answers on port {port}")


@pytest.fixture(scope="module")
def static_root(tmp_path_factory):
    """The static files as collectstatic leaves them, compressed copies included."""
    static_root = tmp_path_factory.mktemp("srv") / "static"
    env = production_env(DJANGO_STATIC_ROOT=str(static_root))
    collected = manage("collectstatic", "--no-input", "-v0", env=env)
    assert collected.returncode == 0, collected.stderr
    return static_root


@pytest.fixture
def deployed(tmp_path, certificate, static_root, clinic, make_article):
    """gunicorn with deploy/gunicorn.conf.py behind nginx with the site file."""
    make_article("Fibro relief")
    db = connection.settings_dict
    env = production_env(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        DJANGO_ALLOWED_HOSTS=HOST,
        DJANGO_STATIC_ROOT=str(static_root),
        GUNICORN_WORKERS="2",
    )

    app_port, https_port, http_port = free_port(), free_port(), free_port()
    site = (
        site_file(tmp_path, certificate)
        .replace("server 127.0.0.1:8000", f"server 127.0.0.1:{app_port}")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
        .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        .replace("listen [::]:443 ssl http2;", "")
        .replace("listen [::]:80;", "")
        .replace("root /srv/roswell;", f"root {static_root.parent};")
    )
    config = main_config(tmp_path, site)
    log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 - closed below
    processes = [
        subprocess.Popen(
            [BIN / "gunicorn", "-c", "deploy/gunicorn.conf.py", "--no-control-socket"]
            + ["--bind", f"127.0.0.1:{app_port}"],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=log,
        ),
        subprocess.Popen(
            [NGINX, "-p", tmp_path, "-c", config],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        wait_for(app_port)
        wait_for(https_port)
        yield {"port": https_port, "static_root": static_root}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        log.close()
        shutil.rmtree(tmp_path / "cache", ignore_errors=True)


def get(port, path, accept_encoding="gzip, deflate, br, zstd", headers=None):
    """A GET over TLS as a browser sends it, for the site's host name."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, context=context, timeout=10
    )
    try:
        connection.request(
            "GET",
            path,
            headers={"Host": HOST, "Accept-Encoding": accept_encoding}
            | (headers or {}),
        )
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_second_article_request_is_a_cache_hit_served_compressed(deployed):
    port = deployed["port"]
    _, first, first_body = get(port, "/articles/fibro-relief/")
    status, second, body = get(port, "/articles/fibro-relief/")

    assert first["X-Cache-Status"] == "MISS"
    assert status == 200
    assert second["X-Cache-Status"] == "HIT"
    assert second["Content-Encoding"] == "br"
    assert second["Vary"] == "Accept-Encoding"
    assert body == first_body
    assert b">Fibro relief</h1>" in brotli.decompress(body)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_nginx_keeps_one_copy_per_encoding(deployed):
    port = deployed["port"]
    pages = {}
    # Browsers spell the header their own way; each encoding has one copy.
    for accept_encoding, encoding in [
        ("gzip, deflate, br", "br"),
        ("br", "br"),
        ("gzip, deflate", "gzip"),
        ("gzip", "gzip"),
        ("", None),
        ("identity", None),
    ]:
        _, headers, body = get(port, "/articles/fibro-relief/", accept_encoding)
        assert headers.get("Content-Encoding") == encoding
        pages.setdefault(encoding, []).append((headers["X-Cache-Status"], body))

    for copies in pages.values():
        assert [status for status, _ in copies] == ["MISS", "HIT"]
    html = {DECOMPRESS[encoding](copies[1][1]) for encoding, copies in pages.items()}
    assert len(html) == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_cached_page_answers_304_through_nginx(deployed):
    port = deployed["port"]
    get(port, "/articles/fibro-relief/")
    _, headers, _ = get(port, "/articles/fibro-relief/")

    status, again, body = get(
        port, "/articles/fibro-relief/", headers={"If-None-Match": headers["ETag"]}
    )

    assert status == 304
    assert again["X-Cache-Status"] == "HIT"
    assert body == b""


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_staff_bypass_the_cache(deployed):
    port = deployed["port"]
    for _ in range(2):
        get(port, "/articles/fibro-relief/")

    _, headers, _ = get(
        port, "/articles/fibro-relief/", headers={"Cookie": "sessionid=abc"}
    )

    assert headers["X-Cache-Status"] == "BYPASS"


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_static_files_come_from_disk_precompressed(deployed):
    css = next(deployed["static_root"].glob("css/site.*.css.br"))
    path = "/static/" + str(css.relative_to(deployed["static_root"])).removesuffix(
        ".br"
    )

    status, headers, body = get(deployed["port"], path)

    assert status == 200
    assert headers["Content-Encoding"] == "br"
    assert body == css.read_bytes()
    assert "immutable" in headers["Cache-Control"]
    assert headers["Vary"] == "Accept-Encoding"
    assert "X-Cache-Status" not in headers
