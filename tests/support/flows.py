"""What a shopper's client does: sign in through the provider's form, open the socket."""

from __future__ import annotations

import json
import re
import uuid
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from websockets.sync.client import connect


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = attrs.get("action") or ""
        elif tag == "input" and attrs.get("name"):
            self.fields[attrs["name"]] = attrs.get("value") or ""


def sign_in(
    store_url: str, username: str, password: str, *, next_path: str = "/", session: requests.Session | None = None
) -> requests.Session:
    """The real redirect flow: store -> provider's login form -> callback -> store."""
    s = session or requests.Session()
    r = s.get(f"{store_url}/oidc/authenticate/", params={"next": next_path}, allow_redirects=True, timeout=10)
    r.raise_for_status()
    form = _FormParser()
    form.feed(r.text)
    if form.action is None:
        raise AssertionError(f"no login form at {r.url}: {r.text[:300]}")
    form.fields.update(username=username, password=password)
    login = s.post(urljoin(r.url, form.action), data=form.fields, allow_redirects=False, timeout=10)
    if login.status_code != 302:
        raise AssertionError(f"provider refused the login: {login.status_code} {login.text[:200]}")
    s.last_callback = login.headers["Location"]
    done = s.get(login.headers["Location"], allow_redirects=True, timeout=10)
    s.last_response = done
    return s


def provider_callback_url(store_url: str, username: str, password: str) -> tuple[requests.Session, str]:
    """Start a login and stop before delivering the provider's callback (for replay tests)."""
    s = requests.Session()
    r = s.get(f"{store_url}/oidc/authenticate/", allow_redirects=True, timeout=10)
    form = _FormParser()
    form.feed(r.text)
    form.fields.update(username=username, password=password)
    login = s.post(urljoin(r.url, form.action), data=form.fields, allow_redirects=False, timeout=10)
    return s, login.headers["Location"]


def ws_url(store_url: str) -> str:
    return store_url.replace("http://", "ws://", 1) + "/ws/assistant/"


def open_socket(store_url: str, session: requests.Session | None, *, origin: str | None = "same", **kwargs):
    headers = {}
    if session is not None:
        host = urlsplit(store_url).hostname
        cookies = "; ".join(
            f"{c.name}={c.value}" for c in session.cookies if c.domain.lstrip(".") in (host, f"{host}.local")
        )
        if cookies:
            headers["Cookie"] = cookies
    if origin == "same":
        origin = store_url
    if origin is not None:
        headers["Origin"] = origin
    return connect(ws_url(store_url), additional_headers=headers, open_timeout=10, max_size=2**22, **kwargs)


def new_answer_id(sub: str) -> str:
    return f"{sub}.{uuid.uuid4()}"


def ask(ws, sub: str, prompt: str, *, conversation_id: str | None = None, timeout: float = 30) -> dict:
    """Send one question; collect frames until done/error. Returns a summary."""
    answer_id = new_answer_id(sub)
    frame = {"type": "ask", "answerId": answer_id, "prompt": prompt}
    if conversation_id:
        frame["conversationId"] = conversation_id
    ws.send(json.dumps(frame))
    return collect(ws, answer_id, timeout=timeout)


def collect(ws, answer_id: str, *, timeout: float = 30) -> dict:
    frames = []
    while True:
        msg = json.loads(ws.recv(timeout=timeout))
        frames.append(msg)
        if msg.get("type") in ("done", "error") and msg.get("answerId") in (answer_id, None):
            break
    chunks = [f for f in frames if f["type"] == "chunk"]
    return {
        "answer_id": answer_id,
        "frames": frames,
        "text": "".join(f["text"] for f in chunks),
        "seqs": [f["seq"] for f in chunks],
        "end": frames[-1],
        "conversation_id": next((f["conversationId"] for f in frames if f["type"] == "accepted"), None),
    }


def session_sub(session: requests.Session, store_url: str) -> str:
    page = session.get(store_url + "/", timeout=10).text
    match = re.search(r'<script id="assistant-config" type="application/json">(.*?)</script>', page, re.S)
    if not match:
        raise AssertionError("not signed in on " + store_url)
    return json.loads(match.group(1))["sub"]


def callback_query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
