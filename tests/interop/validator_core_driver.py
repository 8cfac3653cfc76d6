"""Run openbadges-validator-core once, offline, and print its report as JSON.

This script runs *inside the validator-core virtualenv* (see validator_core.py),
never in badger's own environment. It reads one JSON object on stdin:

    {"input": "<url | assertion JSON | compact JWS>"  (or "input_b64": baked image),
     "recipient": {"email": "..."} | null,
     "allowed_hosts": ["127.0.0.1", "localhost", "::1"],
     "contexts": {"https://w3id.org/openbadges/v2": "/path/to/context.json", ...},
     "request_timeout": 10}

and writes validator-core's result (``{"graph", "input", "report"}``) to stdout.
``--self-check`` only imports validator-core and prints its version.

Offline by construction: every HTTP request validator-core makes (the JSON-LD
document loader, node fetches, image fetches) goes through
``requests.adapters.HTTPAdapter.send``; that is patched to answer the mapped
JSON-LD context URLs from local files and to refuse any host not in
``allowed_hosts``. A ``socket.getaddrinfo`` guard backs this up for any other
code path (PyLD's urllib loader, for instance).
"""

from __future__ import annotations

import base64
import collections
import collections.abc
import contextlib
import io
import json
import socket
import sys
import warnings
from urllib.parse import urlsplit

# python-jose 3.0.1 (pinned by validator-core) still imports these ABCs from
# `collections`, where Python 3.10 removed them.
for _name in ("Callable", "Iterable", "Mapping", "MutableMapping", "Sequence"):
    setattr(collections, _name, getattr(collections.abc, _name))

# `future` 0.16 imports `imp`; its DeprecationWarning is noise here.
warnings.simplefilter("ignore")


class OfflineRefusal(ConnectionError):
    """A request for a host that the harness does not allow."""


def _install_guards(allowed_hosts: set[str], contexts: dict[str, str], timeout: float) -> None:
    import requests.adapters
    import urllib3

    real_getaddrinfo = socket.getaddrinfo

    def guarded_getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in allowed_hosts:
            raise OfflineRefusal(f"validator-core harness: host {name!r} is not allowed")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.getaddrinfo = guarded_getaddrinfo

    documents = {url.rstrip("/"): path for url, path in contexts.items()}
    real_send = requests.adapters.HTTPAdapter.send

    def offline_send(self, request, **kwargs):
        path = documents.get(request.url.rstrip("/"))
        if path is not None:
            with open(path, "rb") as fh:
                body = fh.read()
            raw = urllib3.HTTPResponse(
                body=io.BytesIO(body),
                headers={"Content-Type": "application/ld+json"},
                status=200,
                reason="OK",
                preload_content=False,
                decode_content=False,
            )
            return self.build_response(request, raw)
        host = urlsplit(request.url).hostname or ""
        if host not in allowed_hosts:
            raise requests.ConnectionError(
                f"validator-core harness: refused {request.url} (host not allowed, offline)"
            )
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = timeout
        return real_send(self, request, **kwargs)

    requests.adapters.HTTPAdapter.send = offline_send


def _jsonable(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def main() -> int:
    if sys.argv[1:] == ["--self-check"]:
        import openbadges
        from openbadges.version import VERSION

        print(json.dumps({"version": VERSION, "module": openbadges.__file__}))
        return 0

    config = json.load(sys.stdin)
    allowed = {h.strip("[]").lower() for h in config.get("allowed_hosts", [])}
    _install_guards(allowed, config.get("contexts", {}), float(config.get("request_timeout", 10)))

    from openbadges import verify

    if "input_b64" in config:
        badge_input = io.BytesIO(base64.b64decode(config["input_b64"]))
        badge_input.name = "baked-badge"
    else:
        badge_input = config["input"]

    # validator-core logs and may print; keep stdout for the JSON report only.
    with contextlib.redirect_stdout(sys.stderr):
        result = verify(badge_input, recipient_profile=config.get("recipient"))
    sys.stdout.write(json.dumps(result, default=_jsonable))
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
