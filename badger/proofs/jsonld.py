"""JSON-LD for badger: a static context loader, RDF canonicalization, a strictness check.

* :func:`document_loader` serves the contexts shipped in :mod:`badger.proofs.contexts`
  and refuses every other URL with :class:`ContextNotAllowed` (ARCHITECTURE:
  "a static JSON-LD document loader that refuses every URL it does not hold").
* :func:`canonicalize` turns a JSON-LD document into the canonical N-Quads of
  W3C RDF Dataset Canonicalization (RDFC-1.0, formerly URDNA2015), the
  transformation step of VC-DI-EdDSA §3.3.3 (``eddsa-rdfc-2022``).
* :func:`undefined_terms` is the "safe mode" check pyld lacks (FACTS §2.11,
  §5.2): it lists properties the contexts do not define (JSON-LD silently
  drops them, so they would sit outside the signature) and ``@type``/``@id``
  values that are relative IRI references (jsonld.js in safe mode rejects
  these: "Relative @type reference found.").

Two canonicalization engines produce the same bytes:

``"reference"``
    pyld's JSON-LD → RDF conversion and its URDNA2015 implementation.
``"fast"``
    a JSON-LD → RDF conversion for the subset of JSON-LD 1.1 that Open Badges
    and CLR documents use (term definitions, ``@set``/``@list``/``@graph``
    containers, type coercion, property- and type-scoped contexts), written as
    a transcription of pyld's expansion algorithm but reusing pyld's own
    context processing and IRI expansion, followed by RDFC-1.0 §4.4 steps 1 to 5
    and 7 (first-degree hashes). Anything outside that subset, and any dataset
    whose first-degree hashes tie (which needs the N-degree hashing of
    RDFC-1.0 §4.8), raises :class:`FastPathUnsupported`.

``canonicalize(doc)`` (engine ``"auto"``) uses the fast engine and falls back
to the reference engine whenever the fast one declines; errors always come
from the reference engine so both report the same problem. The differential
property tests in ``tests/unit/proofs/test_jsonld.py`` hold the two engines to
byte-identical output.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

from pyld import jsonld as _pyld
from pyld.context_resolver import ContextResolver

from badger.proofs.contexts import CONTEXT_FILES

__all__ = [
    "ContextNotAllowed",
    "FastPathUnsupported",
    "JsonLdError",
    "UndefinedTerm",
    "UndefinedTermsError",
    "canonicalize",
    "document_loader",
    "expand",
    "is_known_context",
    "known_context_urls",
    "load_context",
    "undefined_terms",
]

Engine = Literal["auto", "fast", "reference"]


class JsonLdError(Exception):
    """A JSON-LD document could not be processed.

    ``code`` is the JSON-LD error code where the processor gave one (JSON-LD
    1.1 API §9.4.2, e.g. ``"invalid local context"``), else a badger code.
    """

    def __init__(self, message: str, *, code: str = "jsonld_error") -> None:
        super().__init__(message)
        self.code = code


class ContextNotAllowed(JsonLdError):
    """A document referenced a context URL that badger does not ship.

    badger never fetches contexts: an unknown context would let a remote
    server decide what the signed statements mean.
    """

    def __init__(self, url: str) -> None:
        super().__init__(
            f"JSON-LD context {url!r} is not one of the contexts badger ships; "
            "badger never loads contexts from the network",
            code="context_not_allowed",
        )
        self.url = url


class FastPathUnsupported(JsonLdError):
    """The fast canonicalization engine does not handle this document (use ``"auto"``)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"fast canonicalization engine declined: {reason}", code="fast_unsupported"
        )
        self.reason = reason


# ---------------------------------------------------------------- the static loader


@cache
def _parsed_context(filename: str) -> Any:
    text = resources.files("badger.proofs.contexts").joinpath(filename).read_text("utf-8")
    return json.loads(text)


def known_context_urls() -> frozenset[str]:
    """Every context URL badger can serve."""
    return frozenset(CONTEXT_FILES)


def is_known_context(url: str) -> bool:
    """Whether ``url`` is exactly one of the shipped context URLs (no normalisation)."""
    return url in CONTEXT_FILES


def load_context(url: str) -> Any:
    """Return a fresh copy of the shipped context document for ``url``.

    :raises ContextNotAllowed: for any URL badger does not ship.
    """
    filename = CONTEXT_FILES.get(url) if isinstance(url, str) else None
    if filename is None:
        raise ContextNotAllowed(str(url))
    # pyld rewrites relative URLs inside the documents it is given, so never
    # hand out the cached object itself.
    return copy.deepcopy(_parsed_context(filename))


def document_loader(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A pyld document loader that serves only the shipped contexts (JSON-LD 1.1 API §9.4).

    Returns a pyld ``RemoteDocument``; raises :class:`ContextNotAllowed` for
    every other URL, whatever its scheme. Never touches the network.
    """
    return {
        "contextUrl": None,
        "documentUrl": url,
        "document": load_context(url),
        "contentType": "application/ld+json",
    }


class _BoundedCache(dict):  # type: ignore[type-arg]
    """pyld's resolved-context cache, bounded without an LRU dependency.

    A private cache (rather than pyld's module-global one) guarantees that a
    context cached by some other pyld user in the process, loaded with some
    other loader, can never be served to badger.
    """

    def __init__(self, maxsize: int) -> None:
        super().__init__()
        self._maxsize = maxsize

    def __setitem__(self, key: Any, value: Any) -> None:
        if len(self) >= self._maxsize and key not in self:
            self.clear()
        super().__setitem__(key, value)


_RESOLVED_CONTEXTS = _BoundedCache(256)


def _pyld_options(**extra: Any) -> dict[str, Any]:
    return {
        "documentLoader": document_loader,
        "contextResolver": ContextResolver(_RESOLVED_CONTEXTS, document_loader),
        "processingMode": "json-ld-1.1",
        **extra,
    }


def _find_refusal(exc: BaseException) -> ContextNotAllowed | None:
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ContextNotAllowed):
            return current
        stack.extend([current.__cause__, current.__context__, getattr(current, "cause", None)])
    return None


def _pyld_message(exc: _pyld.JsonLdError) -> str:
    message = exc.args[0] if exc.args else "JSON-LD processing failed"
    inner = exc.__cause__
    while isinstance(inner, _pyld.JsonLdError):
        message = f"{message}: {inner.args[0] if inner.args else ''}"
        inner = inner.__cause__
    return str(message)


@contextmanager
def _translated() -> Iterator[None]:
    """Translate pyld's exceptions into badger's (STYLE habit 10), cause chained."""
    try:
        yield
    except JsonLdError:
        raise
    except _pyld.JsonLdError as exc:
        refusal = _find_refusal(exc)
        if refusal is not None:
            raise ContextNotAllowed(refusal.url) from exc
        code = exc.code or getattr(exc, "type", None) or "jsonld_error"
        raise JsonLdError(_pyld_message(exc), code=str(code)) from exc
    except RecursionError as exc:
        raise JsonLdError("JSON-LD document is nested too deeply", code="too_deep") from exc


# ---------------------------------------------------------------- expansion and strictness


def _plain(document: Any) -> Any:
    """pyld wants JSON types: copy other mappings into a dict (a JSON array passes as is)."""
    return document if isinstance(document, dict | list) else dict(document)


def expand(document: Mapping[str, Any]) -> list[Any]:
    """JSON-LD 1.1 expansion (JSON-LD 1.1 API §4) with only the shipped contexts."""
    with _translated():
        return _pyld.expand(_plain(document), _pyld_options())  # type: ignore[no-any-return]


@dataclass(frozen=True, order=True)
class UndefinedTerm:
    """One term the document's ``@context`` does not define.

    ``kind`` is ``"property"`` (a key JSON-LD expansion drops, so its value is
    neither canonicalized nor signed), ``"type"`` (a ``type`` value that is not
    a defined term or absolute IRI) or ``"id"`` (an ``id`` that is a relative
    IRI reference).
    """

    kind: Literal["id", "property", "type"]
    term: str

    @property
    def reason(self) -> str:
        """A human explanation that names the term."""
        if self.kind == "property":
            return (
                f"property {self.term!r} is not defined by the @context, so JSON-LD drops it "
                "and it is not covered by a Data Integrity proof"
            )
        if self.kind == "type":
            return (
                f"type {self.term!r} is not defined by the @context (a relative @type "
                "reference); safe-mode JSON-LD processors reject the document"
            )
        return f"id {self.term!r} is a relative IRI reference, not an absolute IRI"

    def __str__(self) -> str:
        return self.reason


_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$")


def _is_absolute(value: Any) -> bool:
    """pyld's ``_is_absolute_iri`` test (same pattern, compiled once)."""
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value) is not None


class UndefinedTermsError(JsonLdError):
    """A document meant for signing uses terms its contexts do not define (FACTS §5.2)."""

    def __init__(self, terms: list[UndefinedTerm]) -> None:
        super().__init__(
            "the document uses terms its @context does not define: "
            + "; ".join(term.reason for term in terms),
            code="undefined_terms",
        )
        self.terms = terms


def undefined_terms(document: Mapping[str, Any], *, engine: Engine = "auto") -> list[UndefinedTerm]:
    """List what the active contexts leave undefined (FACTS §5.2; JSON-LD 1.1 API §4.1.2).

    Three kinds are reported: keys JSON-LD expansion drops (their values would
    sit outside any Data Integrity proof), ``type`` values that are relative
    references (jsonld.js in safe mode: "Relative @type reference found."),
    and relative ``id`` references. An empty list means the document is
    safe-mode clean. Sorted and without duplicates.

    The fast engine finds these while converting the document to RDF; the
    reference engine expands with pyld with *no* base IRI (so undefined types
    stay relative instead of being resolved against pyld's default base) and
    records every key pyld reports as dropped.

    :raises ContextNotAllowed: if the document needs a context badger lacks.
    """
    if engine != "reference":
        try:
            return sorted(_FAST.canonicalize(document)[1])
        except FastPathUnsupported:
            if engine == "fast":
                raise
    return _undefined_terms_reference(document)


def _undefined_terms_reference(document: Mapping[str, Any]) -> list[UndefinedTerm]:
    found: set[UndefinedTerm] = set()

    def on_dropped(expanded_property: Any) -> None:
        found.add(UndefinedTerm("property", str(expanded_property)))

    with _translated():
        expanded = _pyld.JsonLdProcessor(on_property_dropped=on_dropped).expand(
            _plain(document), _pyld_options(base=None)
        )
    _collect_relative(expanded, found)
    return sorted(found)


def _collect_relative(node: Any, found: set[UndefinedTerm]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect_relative(item, found)
        return
    if not isinstance(node, dict) or "@value" in node:
        return
    for key, value in node.items():
        if key == "@type":
            for type_ in value if isinstance(value, list) else [value]:
                if isinstance(type_, str) and not _is_absolute(type_):
                    found.add(UndefinedTerm("type", type_))
        elif key == "@id":
            if isinstance(value, str) and not _is_absolute(value):
                found.add(UndefinedTerm("id", value))
        else:
            _collect_relative(value, found)


# ---------------------------------------------------------------- canonicalization


def canonicalize(
    document: Mapping[str, Any], *, engine: Engine = "auto", strict: bool = False
) -> str:
    """Canonical N-Quads of ``document`` under RDFC-1.0 (VC-DI-EdDSA §3.3.3 step 1).

    UTF-8 text, one quad per line, each line ending in ``\\n``, lines sorted,
    blank nodes labelled ``_:c14n<n>``. ``engine`` picks ``"auto"`` (fast with
    reference fallback), ``"fast"`` (raises :class:`FastPathUnsupported`
    instead of falling back) or ``"reference"`` (pyld only). With
    ``strict=True`` a document with undefined terms (see
    :func:`undefined_terms`) raises :class:`UndefinedTermsError`: use it
    before signing, so nothing unsigned can hide in a signed credential.

    :raises ContextNotAllowed: if the document needs a context badger lacks.
    :raises JsonLdError: if the document is not valid JSON-LD.
    """
    if engine not in ("auto", "fast", "reference"):
        raise ValueError(f"unknown canonicalization engine {engine!r}")
    if engine != "reference":
        try:
            nquads, undefined = _FAST.canonicalize(document)
        except FastPathUnsupported:
            if engine == "fast":
                raise
        else:
            if strict and undefined:
                raise UndefinedTermsError(sorted(undefined))
            return nquads
    if strict:
        found = _undefined_terms_reference(document)
        if found:
            raise UndefinedTermsError(found)
    return _canonicalize_reference(document)


def _canonicalize_reference(document: Mapping[str, Any]) -> str:
    with _translated():
        return _pyld.normalize(  # type: ignore[no-any-return]
            _plain(document),
            _pyld_options(algorithm="URDNA2015", format="application/n-quads"),
        )


# The tokens below are N-Quads terms exactly as pyld.nquads.serialize_nquad
# writes them; the fast engine builds quads out of these strings directly.
_XSD = "http://www.w3.org/2001/XMLSchema#"
_XSD_STRING = _XSD + "string"
_XSD_BOOLEAN = _XSD + "boolean"
_XSD_DOUBLE = _XSD + "double"
_XSD_INTEGER = _XSD + "integer"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDF_TYPE = f"<{_RDF}type>"
_RDF_FIRST = f"<{_RDF}first>"
_RDF_REST = f"<{_RDF}rest>"
_RDF_NIL = f"<{_RDF}nil>"
_KEYWORDS = frozenset(_pyld.KEYWORDS)
_SUPPORTED_CONTAINERS = frozenset({"@set", "@list", "@graph"})
_NO_CONTEXT = object()

Quad = tuple[str, str, str, str]


def _escape(value: str) -> str:
    """N-Quads string escaping exactly as pyld.nquads.escape does it."""
    return (
        value.replace("\\", "\\\\")
        .replace("\t", "\\t")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace('"', '\\"')
    )


def _literal(lexical: str, datatype: str) -> str:
    if datatype == _XSD_STRING:
        return f'"{_escape(lexical)}"'
    return f'"{_escape(lexical)}"^^<{datatype}>'


def _serialize(quad: Quad) -> str:
    s, p, o, g = quad
    if g:
        return f"{s} {p} {o} {g} .\n"
    return f"{s} {p} {o} .\n"


class _Decline(Exception):
    """Internal signal: the fast engine does not handle this input."""


# Classification of a key under one active context.
_DROP, _ID, _TYPE, _CONTEXT, _KEYWORD, _PROPERTY = range(6)


@dataclass(frozen=True, slots=True)
class _Key:
    """What one key means under one active context (memoised per context)."""

    kind: int
    expanded: str | None
    predicate: str
    scoped_context: Any
    container: frozenset[str]
    coerce: Any
    tagged: bool
    reverse: bool


@dataclass(frozen=True, slots=True)
class _Ref:
    """A memoised IRI reference: its N-Quads token, and whether the source was relative."""

    token: str
    relative: bool


class _Dataset:
    """The quads of one conversion, with fresh blank node labels."""

    __slots__ = ("_counter", "quads", "undefined")

    def __init__(self) -> None:
        self.quads: set[Quad] = set()
        self.undefined: set[UndefinedTerm] = set()
        self._counter = 0

    def bnode(self) -> str:
        self._counter += 1
        return f"_:b{self._counter}"


class _FastEngine:
    """JSON-LD → RDF for the OB/CLR subset, then RDFC-1.0 without N-degree hashing.

    The expansion steps below mirror ``pyld.jsonld.JsonLdProcessor._expand``,
    ``_expand_object``, ``_prepare_nested_context``, ``_expand_value``,
    ``_create_node_map`` and ``_object_to_rdf`` (pyld 3.3); context
    processing and IRI expansion are pyld's own functions, memoised per active
    context. Every memo is keyed by object identity and keeps the keyed object
    alive, so an identity can never be reused while its entry exists.
    """

    _MEMO_LIMIT = 4096

    def __init__(self) -> None:
        self._proc = _pyld.JsonLdProcessor()
        self._options: dict[str, Any] = {
            **_pyld_options(),
            "base": "",
            "isFrame": False,
            "keepFreeFloatingNodes": False,
            "extractAllScripts": False,
        }
        self._initial = self._proc._get_initial_context(self._options)
        self._contexts: dict[tuple[Any, ...], tuple[Any, Any, Any]] = {}
        self._keys: dict[int, tuple[Any, dict[str, _Key], dict[tuple[str, bool], _Ref]]] = {}

    # -- memoised pyld primitives

    def _process(
        self, active: Any, local: Any, *, override: bool = False, propagate: bool = True
    ) -> Any:
        """pyld ``_process_context`` (JSON-LD 1.1 API §4.1), memoised."""
        if isinstance(local, str):
            key_part: Any = local
        elif isinstance(local, list) and all(isinstance(item, str) for item in local):
            key_part = tuple(local)
        elif isinstance(local, dict):
            key_part = ("scoped", id(local))
        else:
            raise _Decline("a @context that is neither URLs nor a term-scoped context")
        key = (id(active), key_part, override, propagate)
        hit = self._contexts.get(key)
        if hit is not None and hit[0] is active and hit[1] is local:
            return hit[2]
        result = self._proc._process_context(
            active, local, self._options, override_protected=override, propagate=propagate
        )
        if len(self._contexts) > self._MEMO_LIMIT:
            self._contexts.clear()
        self._contexts[key] = (active, local, result)
        return result

    def _memo(self, active: Any) -> tuple[dict[str, _Key], dict[tuple[str, bool], _Ref]]:
        entry = self._keys.get(id(active))
        if entry is None or entry[0] is not active:
            if len(self._keys) > self._MEMO_LIMIT:
                self._keys.clear()
            entry = (active, {}, {})
            self._keys[id(active)] = entry
        return entry[1], entry[2]

    def _key(self, active: Any, key: str) -> _Key:
        keys, _ = self._memo(active)
        info = keys.get(key)
        if info is None:
            info = keys[key] = self._classify(active, key)
        return info

    def _classify(self, active: Any, key: str) -> _Key:
        get = _pyld.JsonLdProcessor.get_context_value
        expanded = self._proc._expand_iri(active, key, vocab=True)
        if expanded == "@id":
            kind = _ID
        elif expanded == "@type":
            kind = _TYPE
        elif expanded == "@context":
            kind = _CONTEXT
        elif expanded in _KEYWORDS:
            kind = _KEYWORD
        elif expanded is None or not _is_absolute(expanded):
            kind = _DROP  # pyld drops these keys (on_property_dropped)
        else:
            kind = _PROPERTY
        mapping = active["mappings"].get(key)
        return _Key(
            kind=kind,
            expanded=expanded,
            predicate=f"<{expanded}>",
            scoped_context=get(active, key, "@context"),
            container=frozenset(
                _pyld.JsonLdProcessor.arrayify(get(active, key, "@container") or [])
            ),
            coerce=get(active, key, "@type"),
            tagged=get(active, key, "@language") is not None
            or get(active, key, "@direction") is not None,
            reverse=bool(mapping and mapping.get("reverse")),
        )

    def _reference(
        self, active: Any, value: str, *, vocab: bool, kind: Literal["id", "type"], ds: _Dataset
    ) -> str:
        """An IRI-valued term as an N-Quads token (``@id``, ``@type``, coerced values)."""
        _, references = self._memo(active)
        ref = references.get((value, vocab))
        if ref is None:
            iri = self._proc._expand_iri(active, value, vocab=vocab, base=self._options["base"])
            if not isinstance(iri, str) or iri.startswith("_:") or not _is_absolute(iri):
                raise _Decline(f"IRI {iri!r} is not absolute")
            # pyld resolves a relative reference against its default base;
            # expanding again without a base tells whether it was relative
            # (an IRI that expanded to itself was already absolute).
            relative = iri != value and not _is_absolute(
                self._proc._expand_iri(active, value, vocab=vocab, base=None)
            )
            ref = _Ref(f"<{iri}>", relative)
            if len(references) > self._MEMO_LIMIT:
                references.clear()
            references[(value, vocab)] = ref
        if ref.relative:
            ds.undefined.add(UndefinedTerm(kind, value))
        return ref.token

    # -- JSON-LD → RDF

    def to_dataset(self, document: Mapping[str, Any]) -> _Dataset:
        """The RDF dataset of ``document`` (JSON-LD 1.1 API §4.5 / §8) and what it left undefined."""
        if not isinstance(document, dict):
            raise _Decline("the document is not a JSON object")
        dataset = _Dataset()
        try:
            self._node(self._initial, None, document, "", dataset)
        except _Decline:
            raise
        except _pyld.JsonLdError as exc:
            # Let the reference engine report the error in its own words.
            raise _Decline(f"pyld error: {exc.args[0] if exc.args else exc}") from exc
        except RecursionError as exc:
            raise _Decline("document nested too deeply") from exc
        return dataset

    def _node(
        self,
        active: Any,
        property_scoped: Any,
        element: dict[str, Any],
        graph: str,
        ds: _Dataset,
    ) -> str:
        """Expand one node object and emit its quads; return its subject token.

        ``property_scoped`` is the scoped context of the property whose value
        this node is, read from ``active`` before any reverting (pyld _expand).
        """
        # Revert a non-propagated (type-scoped) context unless the element is
        # a bare node reference (JSON-LD 1.1 API §5.1.2 step 7).
        previous = active.get("previousContext")
        if previous:
            keep = False
            if len(element) <= 2 and "@context" not in element:
                for key in sorted(element):
                    expanded = self._key(active, key).expanded
                    if expanded == "@value":
                        raise _Decline("a value object")
                    if expanded == "@id" and len(element) == 1:
                        keep = True
                        break
            if not keep:
                active = previous
        if property_scoped is not None:
            active = self._process(active, property_scoped, override=True)

        # pyld _prepare_nested_context: an embedded @context, then the
        # type-scoped contexts, looked up in the context active before them.
        if "@context" in element:
            local = element["@context"]
            if not isinstance(local, str | list):
                raise _Decline("an inline @context object in the document")
            active = self._process(active, local)
        type_scoped = active
        keys = sorted(element)
        type_key = None
        type_memo, _ = self._memo(type_scoped)
        for key in keys:
            info = type_memo.get(key)
            if info is None:
                info = type_memo[key] = self._classify(type_scoped, key)
            if info.kind != _TYPE:
                continue
            if type_key is not None:
                raise _Decline("two keys expand to @type")
            type_key = key
            value = element[key]
            values = value if isinstance(value, list) else [value]
            for type_ in sorted(t for t in values if isinstance(t, str)):
                scoped = self._key(type_scoped, type_).scoped_context
                if scoped is not None and scoped is not False:
                    active = self._process(active, scoped, propagate=False)

        # pyld _expand_object, then the node's entry in the node map.
        subject = None
        types: list[str] = []
        properties: list[tuple[_Key, str, Any]] = []
        key_memo, _ = self._memo(active)
        for key in keys:
            info = key_memo.get(key)
            if info is None:
                info = key_memo[key] = self._classify(active, key)
            kind = info.kind
            if kind == _PROPERTY:
                properties.append((info, key, element[key]))
            elif kind == _DROP:
                ds.undefined.add(UndefinedTerm("property", str(info.expanded)))
            elif kind == _CONTEXT:
                continue
            elif kind == _ID:
                value = element[key]
                if not isinstance(value, str) or subject is not None:
                    raise _Decline("an @id that is not a single string")
                subject = self._reference(active, value, vocab=False, kind="id", ds=ds)
            elif kind == _TYPE:
                value = element[key]
                values = value if isinstance(value, list) else [value]
                if value is None or not all(isinstance(t, str) for t in values):
                    raise _Decline("a @type that is not strings")
                types.extend(
                    self._reference(type_scoped, t, vocab=True, kind="type", ds=ds) for t in values
                )
            else:
                raise _Decline(f"keyword {info.expanded}")

        if subject is None:
            subject = ds.bnode()
        quads = ds.quads
        for type_token in types:
            quads.add((subject, _RDF_TYPE, type_token, graph))
        for info, key, value in properties:
            self._property(active, info, subject, key, value, graph, ds)
        return subject

    def _property(
        self,
        active: Any,
        info: _Key,
        subject: str,
        key: str,
        value: Any,
        graph: str,
        ds: _Dataset,
    ) -> None:
        if info.expanded.startswith("_:"):  # type: ignore[union-attr]
            raise _Decline("a blank node property")
        if info.reverse:
            raise _Decline("a reverse property")
        container = info.container
        if container and not container <= _SUPPORTED_CONTAINERS:
            raise _Decline(f"container {sorted(container)}")
        if info.coerce == "@json":
            raise _Decline("a JSON literal")
        if info.scoped_context is not None:
            term_active = self._process(active, info.scoped_context, override=True)
            term_info = self._key(term_active, key)
        else:
            term_active, term_info = active, info
        predicate = info.predicate
        quads = ds.quads
        inside_list = "@list" in container
        if "@graph" in container:
            if inside_list:
                raise _Decline("a @graph @list container")
            for item in value if isinstance(value, list) else [value]:
                if item is None:
                    continue
                if not isinstance(item, dict):
                    raise _Decline("a graph container holding a non-object")
                graph_name = ds.bnode()
                self._node(term_active, term_info.scoped_context, item, graph_name, ds)
                quads.add((subject, predicate, graph_name, graph))
            return
        if value is None:
            return
        objects: list[str] = []
        self._values(term_active, term_info, value, graph, ds, objects, inside_list)
        if not inside_list:
            for obj in objects:
                quads.add((subject, predicate, obj, graph))
            return
        # pyld _list_to_rdf: an rdf:first/rdf:rest chain of fresh blank nodes.
        head = ds.bnode() if objects else _RDF_NIL
        quads.add((subject, predicate, head, graph))
        node = head
        for index, obj in enumerate(objects):
            rest = _RDF_NIL if index == len(objects) - 1 else ds.bnode()
            quads.add((node, _RDF_FIRST, obj, graph))
            quads.add((node, _RDF_REST, rest, graph))
            node = rest

    def _values(
        self,
        active: Any,
        info: _Key,
        value: Any,
        graph: str,
        ds: _Dataset,
        out: list[str],
        inside_list: bool,
    ) -> None:
        if value is None:
            return
        if isinstance(value, list):
            for item in value:
                if inside_list and isinstance(item, list):
                    raise _Decline("a list of lists")
                self._values(active, info, item, graph, ds, out, inside_list)
        elif isinstance(value, dict):
            out.append(self._node(active, info.scoped_context, value, graph, ds))
        else:
            out.append(self._scalar(active, info, value, ds))

    def _scalar(self, active: Any, info: _Key, value: Any, ds: _Dataset) -> str:
        """pyld ``_expand_value`` then ``_object_to_rdf`` for one JSON scalar (JSON-LD 1.1 API §8.6).

        ``info`` describes the property under ``active``, the property's own
        (term-scoped) context.
        """
        coerce = info.coerce
        if isinstance(value, str):
            if coerce == "@id":
                return self._reference(active, value, vocab=False, kind="id", ds=ds)
            if coerce == "@vocab":
                return self._reference(active, value, vocab=True, kind="id", ds=ds)
        datatype = coerce if coerce not in (None, "@id", "@vocab", "@none") else None
        if datatype == "@json":
            raise _Decline("a JSON literal")
        if isinstance(value, str):
            if datatype is None:
                if info.tagged:
                    raise _Decline("a language-tagged or directed string")
                return f'"{_escape(value)}"'
            if datatype == _XSD_DOUBLE:
                try:
                    return _literal(_pyld._canonicalize_double(float(value)), _XSD_DOUBLE)
                except ValueError:
                    return _literal(value, _XSD_DOUBLE)
            return _literal(value, datatype)
        if isinstance(value, bool):
            return _literal("true" if value else "false", datatype or _XSD_BOOLEAN)
        if not isinstance(value, int | float):
            raise _Decline(f"a {type(value).__name__} value")
        if _pyld._is_double(value):
            return _literal(_pyld._canonicalize_double(value), datatype or _XSD_DOUBLE)
        if datatype == _XSD_DOUBLE or abs(value) >= 1e21:
            return _literal(_pyld._canonicalize_double(float(value)), datatype or _XSD_DOUBLE)
        return _literal(str(int(value)), datatype or _XSD_INTEGER)

    def canonicalize(self, document: Mapping[str, Any]) -> tuple[str, set[UndefinedTerm]]:
        """Canonical N-Quads and undefined terms, or :class:`FastPathUnsupported`."""
        try:
            dataset = self.to_dataset(document)
        except _Decline as exc:
            raise FastPathUnsupported(str(exc)) from exc
        return canonical_nquads(dataset.quads), dataset.undefined


def canonical_nquads(quads: set[Quad]) -> str:
    """RDFC-1.0 §4.4 for datasets whose blank nodes all have distinct first-degree hashes.

    Steps 2 (blank node to quads map), 4.6 (Hash First Degree Quads: the
    quads of each blank node serialized with ``_:a`` for itself and ``_:z``
    for any other blank node, sorted, SHA-256), 5 (issue ``_:c14n<n>`` in
    hash order) and 7 (relabel and sort). A tie would need step 6 (Hash
    N-Degree Quads), which this function leaves to the reference engine by
    raising :class:`FastPathUnsupported`. Like pyld, a quad is listed once
    per position a blank node holds in it.
    """
    by_node: dict[str, list[Quad]] = {}
    for quad in quads:
        s, _p, o, g = quad
        if s[0] == "_":
            by_node.setdefault(s, []).append(quad)
        if o[0] == "_":
            by_node.setdefault(o, []).append(quad)
        if g and g[0] == "_":
            by_node.setdefault(g, []).append(quad)
    if not by_node:
        return "".join(sorted(_serialize(q) for q in quads))

    others = dict.fromkeys(by_node, "_:z")
    hashes: dict[str, str] = {}
    for term, node_quads in by_node.items():
        masked = others.copy()
        masked[term] = "_:a"
        lines = sorted(
            _serialize((masked.get(s, s), p, masked.get(o, o), masked.get(g, g)))
            for s, p, o, g in node_quads
        )
        hashes[hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()] = term
    if len(hashes) != len(by_node):
        raise FastPathUnsupported("blank nodes share a first-degree hash (needs N-degree hashing)")
    labels = {term: f"_:c14n{n}" for n, (_hash, term) in enumerate(sorted(hashes.items()))}
    label = labels.get
    return "".join(
        sorted(
            f"{label(s, s)} {p} {label(o, o)} {label(g, g)} .\n"
            if g
            else f"{label(s, s)} {p} {label(o, o)} .\n"
            for s, p, o, g in quads
        )
    )


_FAST = _FastEngine()

#: For tests and benchmarks: the two engines as plain callables.
ENGINES: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "fast": lambda document: canonicalize(document, engine="fast"),
    "reference": _canonicalize_reference,
}
