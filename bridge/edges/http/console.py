"""The ops console: one static page and the small JSON API it polls.

Read-only unless the bridge was started with ``allow_replay`` *and* a replay
token: then ``POST /api/dlq/{id}/replay`` with ``Authorization: Bearer
<token>`` re-submits a dead letter. Requiring a header (not a cookie) means a
page on another site cannot trigger a replay through the operator's browser.
Data comes from an injected :class:`ConsoleProvider`, so the page is tested
against a real store without the rest of the service.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol

import structlog
from twisted.internet.defer import Deferred
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET

from bridge.core.errors import BridgeError
from bridge.edges.http import views
from bridge.edges.http.common import (
    CONTENT_SECURITY_POLICY,
    error_response,
    json_response,
    no_store,
)
from bridge.edges.store.console_queries import QueryTooLong

log = structlog.get_logger("bridge.http.console")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
STATIC_FILES = {
    "": ("console.html", b"text/html; charset=utf-8"),
    "console.js": ("console.js", b"text/javascript; charset=utf-8"),
    "console.css": ("console.css", b"text/css; charset=utf-8"),
    "charts.js": ("charts.js", b"text/javascript; charset=utf-8"),
    "favicon.svg": ("favicon.svg", b"image/svg+xml"),
}


class NotFound(LookupError):
    """The provider has no such message or dead letter."""


class Conflict(Exception):
    """The request is valid but the item is not in a state that allows it (already replayed...)."""


class ConsoleProvider(Protocol):
    """Where the console's data comes from (the store, the replay function, mapping coverage)."""

    def summary(self) -> dict[str, Any]: ...

    def messages(self, limit: int) -> list[dict[str, Any]]: ...

    def history(self, message_id: int) -> dict[str, Any]: ...

    def dlq(self, limit: int, after: int | None = None) -> list[dict[str, Any]]: ...

    def coverage(self) -> dict[str, Any]: ...

    def replay(self, dlq_id: int) -> dict[str, Any]: ...


class ConsolePage(Resource):
    """``/console``: the HTML page, its script and stylesheet (no CDN, no inline script)."""

    isLeaf = True

    def render_GET(self, request) -> bytes:
        name = "/".join(part.decode("utf-8", "replace") for part in request.postpath)
        if name not in STATIC_FILES:
            request.setResponseCode(404)
            return b"not found\n"
        filename, content_type = STATIC_FILES[name]
        no_store(request)
        request.setHeader(b"content-type", content_type)
        request.setHeader(b"content-security-policy", CONTENT_SECURITY_POLICY)
        request.setHeader(b"x-frame-options", b"DENY")
        request.setHeader(b"referrer-policy", b"no-referrer")
        return resources.files(__package__).joinpath(filename).read_bytes()


class ConsoleApi(Resource):
    """``/api/...``: JSON views for the console, plus the guarded replay action."""

    isLeaf = True

    def __init__(self, provider: ConsoleProvider, *, allow_replay: bool = False, replay_token: str | None = None,
                 offload: Callable[..., Deferred] | None = None) -> None:
        super().__init__()
        self.provider = provider
        # pages that read many rows or translate run in the reactor's thread pool (tests pass a synchronous one)
        self._offload = offload or _defer_to_thread
        self.allow_replay = allow_replay and bool(replay_token)
        self._token = (replay_token or "").encode()

    def render_GET(self, request) -> bytes | int:
        path = [part.decode("utf-8", "replace") for part in request.postpath]
        try:
            result = self._get(path, request)
            if isinstance(result, _Offload):
                method = getattr(self.provider, result.name, None)
                if method is None:
                    raise NotFound(f"this console has no {result.name} page")
                return self._in_thread(request, method, *result.args)
            return json_response(request, result)
        except NotFound as exc:
            return error_response(request, 404, str(exc) or "not found")
        except BridgeError as exc:
            return error_response(request, 422, exc.message)
        except (_BadRequest, views.BadInput) as exc:
            return error_response(request, 400, str(exc))

    def _get(self, path: list[str], request) -> Any:
        match path:
            case ["summary"]:
                if hasattr(self.provider, "summary_page"):  # off the reactor: the counts read every message's row
                    return _Offload("summary_page", self.allow_replay)
                return {**self.provider.summary(), "replay_allowed": self.allow_replay}
            case ["messages"]:
                return self.provider.messages(_limit(request))
            case ["messages", message_id]:
                return self.provider.history(_int_id(message_id))
            case ["dlq"]:
                after = _after(request)  # keyset: the next page starts after this entry's id
                return self.provider.dlq(_limit(request)) if after is None else self.provider.dlq(_limit(request), after)
            case ["coverage"]:
                return self.provider.coverage()
            case ["search"]:
                return _Offload("search", views.Search.from_args(request.args))
            case ["cases", case_id]:
                return _Offload("case", _case_id(case_id))
            case ["messages", message_id, "detail"]:
                return _Offload("message", _int_id(message_id))
            case ["stats"]:
                window = (request.args.get(b"window") or [b"hour"])[0].decode("ascii", "replace")
                if window not in views.WINDOWS:
                    raise _BadRequest(f"window must be one of {', '.join(views.WINDOWS)}")
                return _Offload("stats", window)
            case ["mappings"]:
                return self._extra("mappings")
        raise NotFound(f"no API endpoint /api/{'/'.join(path)}")

    def _extra(self, name: str, *args: Any) -> Any:
        """A page of the console; a provider without it (an older or test provider) answers 404."""
        method = getattr(self.provider, name, None)
        if method is None:
            raise NotFound(f"this console has no {name} page")
        try:
            return method(*args)
        except views.BadInput as exc:
            raise _BadRequest(str(exc)) from None

    def render_POST(self, request) -> bytes | int:
        path = [part.decode("utf-8", "replace") for part in request.postpath]
        match path:
            case ["dlq", dlq_id, "replay"]:
                return self._replay(request, dlq_id)
            case ["try"]:
                return self._try(request)
        return error_response(request, 404, f"no API endpoint POST /api/{'/'.join(path)}")

    def _replay(self, request, raw_id: str) -> bytes:
        if not self.allow_replay:
            return error_response(request, 403, "replay is disabled: start the bridge with --allow-replay and a replay token")
        if not self._authorized(request):
            request.setHeader(b"www-authenticate", b'Bearer realm="hub-bridge"')
            return error_response(request, 401, "missing or wrong replay token")
        try:
            result = self.provider.replay(_int_id(raw_id))
        except _BadRequest as exc:
            return error_response(request, 400, str(exc))
        except NotFound as exc:
            return error_response(request, 404, str(exc))
        except Conflict as exc:
            return error_response(request, 409, str(exc))
        except BridgeError as exc:
            return error_response(request, 422, str(exc))
        log.info("dlq_replayed_from_console", dlq_id=raw_id, peer=request.getClientAddress().host)
        return json_response(request, result)

    def _in_thread(self, request, method: Callable[..., Any], *args: Any) -> int:
        """Run a page's queries off the reactor; answer when they are done (or say why they are not)."""
        finished = self._offload(method, *args)

        def answer(body: bytes) -> None:
            if not request.finished and not getattr(request, "_disconnected", False):
                request.setHeader(b"content-length", str(len(body)).encode())  # one block, not chunked
                request.write(body)
                request.finish()

        def done(result: Any) -> None:
            answer(json_response(request, result))

        def failed(failure: Any) -> None:
            exc = failure.value
            if isinstance(exc, NotFound):
                code, message = 404, str(exc) or "not found"
            elif isinstance(exc, views.BadInput | _BadRequest):
                code, message = 400, str(exc)
            elif isinstance(exc, QueryTooLong):
                code, message = 503, f"{exc}: narrow the search (a case, a dossier or a shorter time range)"
            elif isinstance(exc, BridgeError):
                code, message = 422, exc.message
            else:
                code, message = 500, "the console could not read the store; see the bridge log"
                log.error("console_page_failed", page=getattr(method, "__name__", "?"), error=repr(exc)[:300])
            answer(error_response(request, code, message))

        finished.addCallbacks(done, failed)
        return NOT_DONE_YET

    def _try(self, request) -> bytes | int:
        """Translate a pasted frame with the live tables, in a worker thread; nothing is stored or sent.

        A JSON body is required: a page on another site cannot send one without a CORS
        preflight this server never answers, so it cannot make the bridge translate for it.
        """
        translate: Callable[[bytes], Any] | None = getattr(self.provider, "try_frame", None)
        if translate is None:
            return error_response(request, 404, "this console has no try-a-frame form")
        content_type = (request.getHeader(b"content-type") or b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            return error_response(request, 415, "send the frame as JSON: {\"frame\": \"...\"}")
        raw = request.content.read(views.MAX_TRY_BYTES * 4 + 64)
        if len(raw) > views.MAX_TRY_BYTES * 4:
            return error_response(request, 413, f"the frame is larger than {views.MAX_TRY_BYTES} bytes")
        try:
            body = json.loads(raw)
            frame_text = body["frame"]
            if not isinstance(frame_text, str):
                raise TypeError
        except (ValueError, KeyError, TypeError, RecursionError):
            return error_response(request, 400, 'expected a JSON object {"frame": "..."}')
        # typed text becomes the bytes the LRM would send: the live profile's encoding, unless the page says
        encoding = str(body.get("encoding") or getattr(self.provider, "try_encoding", None) or "utf-8")[:40]
        try:
            frame = frame_text.encode(encoding, errors="replace")
        except LookupError:
            return error_response(request, 400, f"unknown encoding {encoding!r}")
        if len(frame) > views.MAX_TRY_BYTES:
            return error_response(request, 413, f"the frame is larger than {views.MAX_TRY_BYTES} bytes")
        return self._in_thread(request, translate, frame)

    def _authorized(self, request) -> bool:
        header = request.getHeader(b"authorization") or b""
        scheme, _, token = header.partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._token)


class _BadRequest(ValueError):
    pass


MAX_ID = 2**63 - 1  # SQLite INTEGER


@dataclass(frozen=True)
class _Offload:
    """A page to compute in a worker thread: the provider method's name and its (checked) arguments."""

    name: str
    args: tuple[Any, ...] = ()

    def __init__(self, name: str, *args: Any) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)


def _defer_to_thread(function: Callable[..., Any], *args: Any) -> Deferred:
    """In the reactor's thread pool; inline when no reactor runs (a resource driven by hand, in a tool or test)."""
    from twisted.internet import reactor
    from twisted.internet.defer import maybeDeferred
    from twisted.internet.threads import deferToThread

    if not getattr(reactor, "running", False):
        return maybeDeferred(function, *args)
    return deferToThread(function, *args)


def _int_id(raw: str) -> int:
    """A row id: ASCII digits only; past SQLite's range no row can have it (NotFound, never a 500)."""
    if not (raw.isascii() and raw.isdigit()):
        raise _BadRequest(f"id must be a number, found {raw[:40]!r}")
    if len(raw) > 19 or int(raw) > MAX_ID:
        raise NotFound(f"no entry with id {raw[:40]}{'...' if len(raw) > 40 else ''}")
    return int(raw)


def _case_id(raw: str) -> str:
    try:
        value = views.text_param(raw, "case id")
    except views.BadInput as exc:
        raise _BadRequest(str(exc)) from None
    if value is None:
        raise _BadRequest("empty case id")
    return value


def _after(request) -> int | None:
    values = request.args.get(b"after")
    if not values:
        return None
    raw = values[0].decode("ascii", "replace")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise _BadRequest(f"after must be a dead-letter id (digits), found {raw[:40]!r}")
    return int(raw)


def _limit(request) -> int:
    values = request.args.get(b"limit")
    if not values:
        return DEFAULT_LIMIT
    raw = values[0].decode("ascii", "replace")
    if not (raw.isascii() and raw.isdigit()):
        raise _BadRequest(f"limit must be a number, found {raw[:40]!r}")
    return MAX_LIMIT if len(raw) > 9 else max(1, min(MAX_LIMIT, int(raw)))
