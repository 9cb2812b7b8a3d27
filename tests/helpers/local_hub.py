"""A local Hugging Face Hub: repositories (datasets and models, each with its branches) served over HTTP on the
loopback address, speaking the part of the Hub's API that `huggingface_hub` and `datasets` call, so that tests load
by hub id through the real client code with `HF_ENDPOINT` pointing here.

The routes (as huggingface_hub 1.x/2.x calls them; see its hf_api.py and file_download.py):
- GET  /api/{datasets,models}/<repo>[/revision/<rev>]      repository info: sha, siblings (every file)
- GET  /api/{datasets,models}/<repo>/tree/<rev>[/<path>]   a folder's entries (?recursive=true: all below it)
- POST /api/{datasets,models}/<repo>/paths-info/<rev>      entries for the paths given
- HEAD|GET /[datasets/]<repo>/resolve/<rev>/<path>         a file, with the X-Repo-Commit and ETag headers
A revision is a branch name (`main`, `refs/convert/parquet`, URL-quoted) or the commit sha the hub gave for one.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

KINDS = {"datasets": "dataset", "models": "model"}


@dataclass
class Branch:
    files: dict[str, bytes]
    sha: str


@dataclass
class LocalHub:
    """Add repositories with `add`, then `start()`; `requests` logs every (method, path) served."""

    repos: dict[tuple[str, str], dict[str, Branch]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""

    def add(
        self,
        repo_id: str,
        files: dict[str, bytes | str | Path],
        revision: str = "main",
        kind: str = "dataset",
        sha: str | None = None,
    ) -> str:
        """A branch of a repository with these files (bytes, text, or a local file's path); returns its sha (given,
        where the real repository's commit is pinned by the code under test, else one made from the contents)."""
        contents = {}
        for path, value in files.items():
            contents[path] = (
                value.read_bytes()
                if isinstance(value, Path)
                else value.encode()
                if isinstance(value, str)
                else value
            )
        digest = hashlib.sha1(f"{kind}/{repo_id}@{revision}".encode())
        for path in sorted(contents):
            digest.update(path.encode() + b"\0" + contents[path])
        sha = sha or digest.hexdigest()
        self.repos.setdefault((kind, repo_id), {})[revision] = Branch(contents, sha)
        return sha

    def branch(self, kind: str, repo_id: str, revision: str) -> Branch | None:
        branches = self.repos.get((kind, repo_id), {})
        return branches.get(revision) or next(
            (b for b in branches.values() if b.sha == revision), None
        )

    def start(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _entries(branch: Branch, folder: str, recursive: bool) -> list[dict]:
    """The tree API's entries under `folder`: files with size and oid, and folders."""
    prefix = f"{folder.strip('/')}/" if folder.strip("/") else ""
    files, folders = [], set()
    for path, data in sorted(branch.files.items()):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :].split("/")
        for depth in range(1, len(rest)):
            if recursive or depth == 1:
                folders.add(prefix + "/".join(rest[:depth]))
        if recursive or len(rest) == 1:
            files.append(_file_entry(path, data))
    return [_folder_entry(f) for f in sorted(folders)] + files


def _folder_entry(path: str) -> dict:
    return {"type": "directory", "path": path, "oid": hashlib.sha1(path.encode()).hexdigest()}


LFS_SUFFIXES = (
    ".safetensors",
    ".parquet",
    ".gz",
    ".bin",
    ".arrow",
)  # stored in LFS, as the hub's .gitattributes say


def _file_entry(path: str, data: bytes) -> dict:
    """As the tree API gives a file: its git blob id, and for an LFS file the content's sha256 and size."""
    entry = {
        "type": "file",
        "path": path,
        "size": len(data),
        "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(),
    }
    if path.endswith(LFS_SUFFIXES):
        entry["lfs"] = {
            "oid": hashlib.sha256(data).hexdigest(),
            "size": len(data),
            "pointerSize": 134,
        }
    return entry


def _handler(hub: LocalHub):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: `hub.requests` keeps the record
            pass

        def reply(
            self,
            status: int,
            body: bytes = b"",
            headers: dict | None = None,
            content_type="application/json",
        ):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def not_found(self, what: str, code: str = "RepoNotFound"):
            self.reply(
                404,
                json.dumps({"error": what}).encode(),
                {"X-Error-Code": code, "X-Error-Message": what},
            )

        def route(self):
            url = urlsplit(self.path)
            hub.requests.append((self.command, url.path))
            parts = url.path.strip("/").split("/")
            if parts[0] == "api" and len(parts) >= 4 and parts[1] in KINDS:
                return self.api(KINDS[parts[1]], parts[2:], parse_qs(url.query))
            kind = "model"
            if parts[0] in KINDS:
                kind, parts = KINDS[parts[0]], parts[1:]
            if len(parts) >= 5 and parts[2] == "resolve":
                return self.resolve(
                    kind, "/".join(parts[:2]), unquote(parts[3]), unquote("/".join(parts[4:]))
                )
            return self.not_found(f"no route for {url.path}", "EntryNotFound")

        def api(self, kind: str, parts: list[str], query: dict):
            if len(parts) == 2:  # /api/datasets/<repo>: the info of main
                parts = [*parts, "revision", "main"]
            repo_id, action, revision, rest = (
                "/".join(parts[:2]),
                parts[2],
                unquote(parts[3]),
                parts[4:],
            )
            if (kind, repo_id) not in hub.repos:
                return self.not_found(f"Repository {repo_id} not found")
            branch = hub.branch(kind, repo_id, revision)
            if branch is None:
                return self.not_found(f"Invalid rev id: {revision}", "RevisionNotFound")
            if action == "revision":
                info = {
                    "id": repo_id,
                    "sha": branch.sha,
                    "private": False,
                    "disabled": False,
                    "gated": False,
                    "downloads": 0,
                    "likes": 0,
                    "tags": [],
                    "lastModified": "2026-01-01T00:00:00.000Z",
                    "siblings": [{"rfilename": path} for path in sorted(branch.files)],
                }
                if kind == "model":
                    info["modelId"] = repo_id
                return self.reply(200, json.dumps(info).encode())
            if action == "tree":
                recursive = query.get("recursive", ["false"])[0].lower() == "true"
                folder = unquote("/".join(rest))
                entries = _entries(branch, folder, recursive)
                if folder and not entries:
                    return self.not_found(f"{folder} does not exist on {revision}", "EntryNotFound")
                return self.reply(200, json.dumps(entries).encode())
            if action == "paths-info":
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                found = []
                for path in form.get("paths", []):
                    if path in branch.files:
                        found.append(_file_entry(path, branch.files[path]))
                    elif any(p.startswith(path.rstrip("/") + "/") for p in branch.files):
                        found.append(_folder_entry(path))
                return self.reply(200, json.dumps(found).encode())
            return self.not_found(f"no API route {action}", "EntryNotFound")

        def resolve(self, kind: str, repo_id: str, revision: str, path: str):
            if (kind, repo_id) not in hub.repos:
                return self.not_found(f"Repository {repo_id} not found")
            branch = hub.branch(kind, repo_id, revision)
            if branch is None:
                return self.not_found(f"Invalid rev id: {revision}", "RevisionNotFound")
            if path not in branch.files:
                return self.not_found(f"Entry {path} not found", "EntryNotFound")
            data = branch.files[path]
            etag = f'"{hashlib.sha1(data).hexdigest()}"'
            self.reply(
                200, data, {"X-Repo-Commit": branch.sha, "ETag": etag}, "application/octet-stream"
            )

        do_GET = do_HEAD = do_POST = route

    return Handler
