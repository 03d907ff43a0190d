#!/usr/bin/env python3
"""Memory benchmark: `customs audit` of a lockfile of very large archives,
served by a local index on 127.0.0.1, with its peak memory. Not a test: it
prints figures for a closing note (the target is a peak under 150 MB for
any lockfile, however large its archives).

    scripts/bench-memory.py [--customs target/release/customs] [--scale 1.0]

The archives are generated once (inert: string literals, no code that does
anything) under target/bench-memory/, at about --scale times:
  - a pure-Python wheel of ~100 MB compressed (200 MB of Python source),
  - an sdist of ~60 MB of Python source and data,
  - a binary wheel of ~200 MB (an incompressible extension and some Python),
  - 40 wheels of ~3 MB each (below the size from which files stream, so they
    download into the memory budget, many at once).
"""
import argparse, gzip, hashlib, io, json, os, subprocess, sys, tarfile, tempfile, threading, zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def python_text(n_bytes, seed):
    """Inert Python source: assignments of random hex literals (compresses
    about 2:1, as source with long data tables does)."""
    out, i, size = [], 0, 0
    while size < n_bytes:
        line = f"V_{i} = '{os.urandom(128).hex()}'\n"
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode()


def wheel(path, name, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for arc, data in members:
            z.writestr(arc, data)
        z.writestr(f"{name}-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n")
        z.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")


def sdist(path, name, members):
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", compresslevel=1, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as t:
            for arc, data in members:
                info = tarfile.TarInfo(f"{name}-1.0/{arc}")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))


def generate(dest, scale):
    os.makedirs(dest, exist_ok=True)
    mb = lambda n: int(n * scale * 1024 * 1024)
    files = {}  # project -> filename
    def make(project, filename, build):
        path = os.path.join(dest, filename)
        if not os.path.exists(path):
            print(f"generating {filename}", file=sys.stderr)
            build(path + ".part")
            os.rename(path + ".part", path)
        files[project] = filename
    make("bigpy", "bigpy-1.0-py3-none-any.whl", lambda p: wheel(
        p, "bigpy", [(f"bigpy/m{i}.py", python_text(mb(1), f"bigpy{i}")) for i in range(200)]))
    make("bigsdist", "bigsdist-1.0.tar.gz", lambda p: sdist(
        p, "bigsdist",
        [("setup.py", b"from setuptools import setup\nsetup(name='bigsdist')\n")]
        + [(f"bigsdist/m{i}.py", python_text(mb(1), f"bigsdist{i}")) for i in range(60)]
        + [("data/blob.bin", os.urandom(mb(30)))]))
    make("bigbin", "bigbin-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", lambda p: wheel(
        p, "bigbin",
        [("bigbin/_ext.so", b"\x7fELF\x02\x01" + os.urandom(mb(200)))]
        + [(f"bigbin/m{i}.py", python_text(mb(0.5), f"bigbin{i}")) for i in range(10)]))
    for k in range(40):
        make(f"mid{k}", f"mid{k}-1.0-py3-none-any.whl", lambda p, k=k: wheel(
            p, f"mid{k}", [(f"mid{k}/m{i}.py", python_text(mb(1), f"mid{k}-{i}")) for i in range(6)]))
    return files


def serve(dest, files):
    digests = {}
    for project, filename in files.items():
        h = hashlib.sha256()
        with open(os.path.join(dest, filename), "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        digests[project] = (filename, h.hexdigest(), os.path.getsize(os.path.join(dest, filename)))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status, body, kind="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            parts = self.path.strip("/").split("/")
            if len(parts) == 3 and parts[0] == "pypi" and parts[1] in digests:
                filename, sha, size = digests[parts[1]]
                doc = {"info": {"name": parts[1], "project_urls": {"Source": "https://git.example/x"}},
                       "releases": {"1.0": [{
                           "filename": filename, "url": f"/files/{filename}",
                           "digests": {"sha256": sha}, "size": size, "yanked": False,
                           "upload_time_iso_8601": "2025-01-01T00:00:00Z",
                           "packagetype": "sdist" if filename.endswith(".tar.gz") else "bdist_wheel"}]}}
                return self.send(200, json.dumps(doc).encode())
            if len(parts) == 2 and parts[0] == "files" and os.path.exists(os.path.join(dest, parts[1])):
                path = os.path.join(dest, parts[1])
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(os.path.getsize(path)))
                self.end_headers()
                with open(path, "rb") as f:
                    for block in iter(lambda: f.read(1 << 16), b""):
                        self.wfile.write(block)
                return
            self.send(404, b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, digests


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--customs", default=os.path.join(ROOT, "target/release/customs"))
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    dest = os.path.join(ROOT, "target/bench-memory")
    files = generate(dest, a.scale)
    server, digests = serve(dest, files)
    total = sum(size for _, _, size in digests.values())
    print(f"{len(files)} archives, {total / 2**20:.0f} MiB, served on 127.0.0.1:{server.server_port}")
    with tempfile.TemporaryDirectory() as work:
        req = os.path.join(work, "requirements.txt")
        with open(req, "w") as f:
            f.writelines(f"{p}==1.0\n" for p in sorted(files))
        for run in range(a.runs):
            cache = os.path.join(work, f"cache{run}")
            timing = os.path.join(work, "time")
            cmd = ["/usr/bin/time", "-f", "%e %M %U %S", "-o", timing, a.customs, "audit",
                   "--no-advisories", "--no-config", "--format", "json", "--cooldown", "0 days",
                   "--index-url", f"http://127.0.0.1:{server.server_port}/simple",
                   "--cache-dir", cache, req]
            out = subprocess.run(cmd, capture_output=True, text=True)
            wall, peak_kib, user, system = open(timing).read().split()[-4:]
            try:
                report = json.loads(out.stdout)
                statuses = {}
                for p in report["packages"]:
                    s = p.get("scan", {}).get("status", "none")
                    statuses[s] = statuses.get(s, 0) + 1
            except ValueError:
                statuses = {"no report": out.stderr[-500:]}
            print(f"run {run + 1}: exit {out.returncode}, {wall} s (user {user} s, system {system} s), "
                  f"peak {int(peak_kib) / 1024:.0f} MiB ({int(peak_kib) * 1024 / 1e6:.0f} MB), scans {statuses}")
    server.shutdown()


if __name__ == "__main__":
    main()
