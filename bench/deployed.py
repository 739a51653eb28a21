"""
The deployed set-up for `make bench`: Debian's nginx with the repo's site file,
deploy/nginx/roswell.conf, in front of gunicorn.

The site file is used as it is, except what a benchmark on loopback cannot use:
the TLS parts are left out (no certificate for 127.0.0.1, and TLS costs the
same on the static baseline as on a page, so it would only blur the ratio
between them) and the port-80 redirect server with them; nginx listens on plain
HTTP on a free port, and its paths (cache, static and media files, gunicorn's
address) point at the benchmark's own.
"""

import getpass
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

SITE_FILE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "roswell.conf"
NGINX = "/usr/sbin/nginx"
# The packages the site file needs: nginx, and the module for brotli_static.
PACKAGES = ("nginx", "libnginx-mod-http-brotli-static")
BROTLI_STATIC = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")

# nginx.conf as Debian ships it, where it matters here: worker processes, sendfile,
# gzip on for responses that are not compressed yet; workers as the benchmark's
# user, who owns its folders.
MAIN_CONFIG = """\
load_module {brotli_static};
user {user};
worker_processes auto;
pid {folder}/nginx.pid;
error_log {folder}/error.log;
daemon off;
events {{ worker_connections 768; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log combined buffer=64k;
    gzip on;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/roswell.conf;
}}
"""


def ensure_nginx():
    """Debian's nginx and its Brotli static module, installed if missing."""
    if not (Path(NGINX).exists() and BROTLI_STATIC.exists()):
        subprocess.run(
            ["apt-get", "install", "-y", "-q", *PACKAGES],  # noqa: S607
            check=True,
            stdout=subprocess.DEVNULL,
        )


def top_level_blocks(text):
    """The site file's top-level directives and blocks, comments dropped."""
    text = re.sub(r"#[^\n]*", "", text)
    blocks, depth, start = [], 0, 0
    for index, character in enumerate(text):
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth == 0:
                blocks.append(text[start : index + 1].strip())
                start = index + 1
        elif character == ";" and depth == 0:
            blocks.append(text[start : index + 1].strip())
            start = index + 1
    return [block for block in blocks if block]


def plain_http_site(port, upstream, root, folder):
    """The site file on plain HTTP at 127.0.0.1:port, in front of upstream."""
    blocks = [
        block
        for block in top_level_blocks(SITE_FILE.read_text())
        if not re.search(r"\blisten 80;", block)
    ]
    site = "\n\n".join(blocks)
    site = re.sub(r"\n\s*listen \[::\]:443[^;]*;", "", site)
    site = re.sub(r"listen 443[^;]*;", f"listen 127.0.0.1:{port};", site)
    site = re.sub(r"\n\s*ssl_[a-z_]+ [^;]*;", "", site)
    site = site.replace("/var/cache/nginx/roswell", str(folder / "cache"))
    site = site.replace("server 127.0.0.1:8000", f"server {upstream}")
    site = site.replace("/srv/roswell/media/", f"{root / 'media'}/")
    return site.replace("root /srv/roswell;", f"root {root};")


class Nginx:
    """nginx with the site file in folder, serving root's static/ and media/."""

    def __init__(self, port, upstream, root, folder):
        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        (folder / "roswell.conf").write_text(
            plain_http_site(port, upstream, root, folder)
        )
        config = folder / "nginx.conf"
        config.write_text(
            MAIN_CONFIG.format(
                folder=folder, brotli_static=BROTLI_STATIC, user=getpass.getuser()
            )
        )
        self.log = open(folder / "nginx.out", "w")
        self.process = subprocess.Popen(
            [NGINX, "-p", str(folder), "-c", str(config)],
            stdout=self.log,
            stderr=self.log,
        )
        for _ in range(50):
            if (folder / "nginx.pid").exists() or self.process.poll() is not None:
                break
            time.sleep(0.1)
        if self.process.poll() is not None:
            self.log.close()
            raise RuntimeError((folder / "nginx.out").read_text())

    def stop(self):
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish, then exit
        self.process.wait(timeout=30)
        self.log.close()
