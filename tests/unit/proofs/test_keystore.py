"""Key store: encrypted at rest, 0600 files, rotation of keys and passphrases."""

from __future__ import annotations

import json
import os
import pickle
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

from badger.proofs.errors import AlgorithmNotAllowed, KeyNotFound, KeyStoreError
from badger.proofs.keystore import (
    FileKeyStore,
    KeyAlgorithm,
    KeyStatus,
    KeyStore,
    MemoryKeyStore,
)

OLD = b"old passphrase, long enough"
NEW = b"new passphrase, longer still"
ISSUER = "acme-training"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FileKeyStore]:
    """A store with keys for ISSUER, generated once: RSA key generation is slow."""
    root = tmp_path_factory.mktemp("keys") / "store"
    store = FileKeyStore(root, [OLD])
    store.ensure_keys(ISSUER)
    return root, store


@pytest.fixture
def fresh(tmp_path: Path) -> FileKeyStore:
    return FileKeyStore(tmp_path / "store", [OLD])


def _issuer_dir(root: Path) -> Path:
    (directory,) = [p for p in root.iterdir() if p.is_dir()]
    return directory


def test_both_implementations_satisfy_the_protocol(populated) -> None:
    _, store = populated
    assert isinstance(store, KeyStore)
    assert isinstance(MemoryKeyStore(), KeyStore)


def test_ensure_keys_creates_one_active_key_per_algorithm(populated) -> None:
    _, store = populated
    keys = store.public_keys(ISSUER)
    assert {k.alg for k in keys} >= set(KeyAlgorithm)
    for alg in KeyAlgorithm:
        assert store.active_key(ISSUER, alg).status is KeyStatus.ACTIVE


def test_ensure_keys_is_idempotent(populated) -> None:
    root, store = populated
    before = [k.kid for k in store.public_keys(ISSUER)]
    again = store.ensure_keys(ISSUER)
    assert [k.kid for k in store.public_keys(ISSUER)] == before
    assert {k.kid for k in again} <= set(before)
    assert len(list(_issuer_dir(root).glob("*.pem"))) == len(before)


def test_key_files_are_0600_and_directories_0700(populated) -> None:
    root, _ = populated
    assert _mode(root) == 0o700
    issuer_dir = _issuer_dir(root)
    assert _mode(issuer_dir) == 0o700
    files = list(issuer_dir.iterdir())
    assert any(f.suffix == ".pem" for f in files)
    for path in files:
        assert _mode(path) == 0o600, path


def test_no_temporary_files_are_left_behind(populated) -> None:
    root, _ = populated
    assert not [p for p in _issuer_dir(root).iterdir() if p.name.startswith(".tmp-")]


def test_private_keys_are_encrypted_at_rest(populated) -> None:
    root, store = populated
    issuer_dir = _issuer_dir(root)
    ed_kid = store.active_key(ISSUER, KeyAlgorithm.ED25519).kid
    raw_private = store._private_key(ISSUER, KeyAlgorithm.ED25519).private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    for pem in issuer_dir.glob("*.pem"):
        text = pem.read_bytes()
        assert b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in text
        assert b"-----BEGIN PRIVATE KEY-----" not in text
        assert b"RSA PRIVATE KEY" not in text
        assert raw_private not in text
    assert (issuer_dir / f"{ed_kid}.pem").exists()
    metadata = (issuer_dir / "keys.json").read_text()
    assert "PRIVATE" not in metadata
    assert OLD.decode() not in metadata


def test_metadata_records_kid_alg_created_and_status(populated) -> None:
    root, _store = populated
    document = json.loads((_issuer_dir(root) / "keys.json").read_text())
    assert document["issuer"] == ISSUER
    entry = document["keys"][0]
    assert {"kid", "alg", "created", "status", "retired_at"} <= set(entry)
    assert entry["status"] in {"active", "retired"}


def test_ed25519_key_id_is_its_multibase_value(populated) -> None:
    _, store = populated
    key = store.active_key(ISSUER, "Ed25519")
    assert key.kid.startswith("z6Mk")
    assert key.multibase == key.kid
    assert key.jose_alg == "EdDSA"
    assert key.verification_method("https://example.org/issuers/1") == (
        f"https://example.org/issuers/1#{key.kid}"
    )


def test_rsa_and_ec_key_ids_are_opaque_and_distinct(populated) -> None:
    _, store = populated
    rsa_key = store.active_key(ISSUER, "RS256")
    ec_key = store.active_key(ISSUER, "ES256")
    assert rsa_key.kid.startswith("key-rs256-")
    assert ec_key.kid.startswith("key-es256-")
    assert rsa_key.multibase is None
    assert rsa_key.public_jwk["kty"] == "RSA"
    assert ec_key.public_jwk["crv"] == "P-256"


def test_signer_signs_with_the_active_key_in_jose_form(populated) -> None:
    _, store = populated
    message = b"badger"
    rsa_signer = store.signer(ISSUER, KeyAlgorithm.RS256)
    rsa_public = serialization.load_pem_public_key(rsa_signer.key_ref.public_pem.encode())
    rsa_public.verify(rsa_signer.sign(message), message, padding.PKCS1v15(), hashes.SHA256())

    ec_signer = store.signer(ISSUER, KeyAlgorithm.ES256)
    signature = ec_signer.sign(message)
    assert len(signature) == 64  # r || s, not DER
    der = utils.encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    ec_public = serialization.load_pem_public_key(ec_signer.key_ref.public_pem.encode())
    ec_public.verify(der, message, ec.ECDSA(hashes.SHA256()))


def test_signer_repr_and_pickle_never_expose_private_material(populated) -> None:
    _, store = populated
    signer = store.signer(ISSUER, KeyAlgorithm.ED25519)
    text = repr(signer)
    assert signer.kid in text
    assert "PRIVATE" not in text
    assert "Ed25519PrivateKey" not in text
    assert not hasattr(signer, "__dict__")
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    assert OLD.decode() not in repr(store)
    assert OLD.decode() not in repr(vars(store))
    with pytest.raises(TypeError):
        pickle.dumps(store)


def test_wrong_passphrase_raises_keystore_error_naming_the_file(populated) -> None:
    root, _ = populated
    stranger = FileKeyStore(root, [b"not the passphrase"])
    with pytest.raises(KeyStoreError) as caught:
        stranger.signer(ISSUER, KeyAlgorithm.ES256)
    message = str(caught.value)
    assert "\n" not in message
    assert str(root) in message
    assert ".pem" in message
    assert "passphrase" in message
    assert isinstance(caught.value.__cause__, ValueError)


def test_unknown_algorithm_is_refused(populated) -> None:
    _, store = populated
    with pytest.raises(AlgorithmNotAllowed):
        store.active_key(ISSUER, "HS256")


def test_missing_issuer_has_no_active_key(populated) -> None:
    _, store = populated
    with pytest.raises(KeyNotFound):
        store.active_key("nobody", KeyAlgorithm.RS256)
    with pytest.raises(KeyNotFound):
        store.find_key(ISSUER, "key-rs256-nope")
    assert store.public_keys("nobody") == []


def test_private_key_internal_api_checks_the_algorithm(populated) -> None:
    _, store = populated
    rsa_kid = store.active_key(ISSUER, KeyAlgorithm.RS256).kid
    with pytest.raises(KeyNotFound):
        store._private_key(ISSUER, KeyAlgorithm.ED25519, rsa_kid)


def test_rotation_retires_the_old_key_but_keeps_it_published(fresh: FileKeyStore) -> None:
    fresh.ensure_keys(ISSUER)
    old = fresh.active_key(ISSUER, KeyAlgorithm.ED25519)
    new = fresh.rotate(ISSUER, KeyAlgorithm.ED25519)
    assert new.kid != old.kid
    assert fresh.active_key(ISSUER, KeyAlgorithm.ED25519).kid == new.kid
    published = {k.kid: k for k in fresh.public_keys(ISSUER)}
    assert published[old.kid].status is KeyStatus.RETIRED
    assert published[old.kid].retired_at is not None
    assert old.kid not in {k.kid for k in fresh.public_keys(ISSUER, include_retired=False)}
    assert fresh.signer(ISSUER, KeyAlgorithm.ED25519).kid == new.kid
    # the retired key still opens, for the proofs package's own checks
    assert fresh._private_key(ISSUER, KeyAlgorithm.ED25519, old.kid) is not None
    # a second ensure_keys does not resurrect or add anything
    fresh.ensure_keys(ISSUER)
    assert len(fresh.public_keys(ISSUER)) == len(KeyAlgorithm) + 1


def test_passphrase_rotation_then_rewrap(tmp_path: Path) -> None:
    root = tmp_path / "store"
    FileKeyStore(root, [OLD]).ensure_keys(ISSUER)

    rotating = FileKeyStore(root, [NEW, OLD])
    assert rotating.signer(ISSUER, KeyAlgorithm.RS256).sign(b"x")
    assert rotating.rewrap() == len(KeyAlgorithm)
    assert FileKeyStore(root, [NEW, OLD]).rewrap() == 0

    only_new = FileKeyStore(root, [NEW])
    for alg in KeyAlgorithm:
        assert only_new.signer(ISSUER, alg).sign(b"x")
    with pytest.raises(KeyStoreError):
        FileKeyStore(root, [OLD]).signer(ISSUER, KeyAlgorithm.RS256)
    for pem in _issuer_dir(root).glob("*.pem"):
        assert _mode(pem) == 0o600


def test_new_keys_are_encrypted_under_the_newest_passphrase(tmp_path: Path) -> None:
    root = tmp_path / "store"
    FileKeyStore(root, [NEW, OLD]).ensure_keys(ISSUER)
    assert FileKeyStore(root, [NEW]).signer(ISSUER, KeyAlgorithm.ES256)
    with pytest.raises(KeyStoreError):
        FileKeyStore(root, [OLD]).signer(ISSUER, KeyAlgorithm.ES256)


def test_corrupt_key_file_raises_keystore_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    FileKeyStore(root, [OLD]).ensure_keys(ISSUER)
    store = FileKeyStore(root, [OLD])
    kid = store.active_key(ISSUER, KeyAlgorithm.ES256).kid
    path = _issuer_dir(root) / f"{kid}.pem"
    lines = path.read_text().splitlines()
    lines[2] = "A" * len(lines[2])
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(KeyStoreError, match=kid):
        store.signer(ISSUER, KeyAlgorithm.ES256)


def test_plaintext_key_file_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FileKeyStore(root, [OLD])
    store.ensure_keys(ISSUER)
    kid = store.active_key(ISSUER, KeyAlgorithm.ED25519).kid
    plain = store._private_key(ISSUER, KeyAlgorithm.ED25519).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (_issuer_dir(root) / f"{kid}.pem").write_bytes(plain)
    with pytest.raises(KeyStoreError, match="not an encrypted PKCS#8"):
        FileKeyStore(root, [OLD]).signer(ISSUER, KeyAlgorithm.ED25519)


def test_missing_key_file_raises_keystore_error(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FileKeyStore(root, [OLD])
    store.ensure_keys(ISSUER)
    kid = store.active_key(ISSUER, KeyAlgorithm.ED25519).kid
    (_issuer_dir(root) / f"{kid}.pem").unlink()
    with pytest.raises(KeyStoreError, match="missing"):
        FileKeyStore(root, [OLD]).signer(ISSUER, KeyAlgorithm.ED25519)


def test_key_file_swapped_for_another_key_is_detected(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = FileKeyStore(root, [OLD])
    store.ensure_keys(ISSUER)
    first = store.active_key(ISSUER, KeyAlgorithm.ED25519).kid
    second = store.rotate(ISSUER, KeyAlgorithm.ED25519).kid
    directory = _issuer_dir(root)
    (directory / f"{first}.pem").write_bytes((directory / f"{second}.pem").read_bytes())
    with pytest.raises(KeyStoreError, match="does not match"):
        FileKeyStore(root, [OLD])._private_key(ISSUER, KeyAlgorithm.ED25519, first)


@pytest.mark.parametrize(
    "content",
    ["{not json", '{"version": 1, "issuer": "someone-else", "keys": []}', '{"version": 99}', "[]"],
)
def test_corrupt_metadata_raises_keystore_error_naming_the_file(
    tmp_path: Path, content: str
) -> None:
    root = tmp_path / "store"
    store = FileKeyStore(root, [OLD])
    store.ensure_keys("solo")
    meta = _issuer_dir(root) / "keys.json"
    meta.write_text(content)
    with pytest.raises(KeyStoreError) as caught:
        store.public_keys("solo")
    assert str(meta) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_passphrases_must_be_non_empty_bytes(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError):
        FileKeyStore(tmp_path, [])
    with pytest.raises(KeyStoreError):
        FileKeyStore(tmp_path, [b""])


@pytest.mark.parametrize(
    "issuer", ["https://example.org/issuers/1", "../../etc", ".hidden", "x" * 400, "did:web:a.b"]
)
def test_any_issuer_id_maps_to_a_directory_inside_the_store(tmp_path: Path, issuer: str) -> None:
    root = tmp_path / "store"
    store = FileKeyStore(root, [OLD])
    store.rotate(issuer, KeyAlgorithm.ED25519)
    (directory,) = [p for p in root.iterdir() if p.is_dir()]
    assert directory.parent == root
    assert not directory.name.startswith(".")
    assert store.active_key(issuer, KeyAlgorithm.ED25519).issuer == issuer
    assert store.rewrap() == 0


def test_concurrent_ensure_keys_creates_each_key_once(tmp_path: Path) -> None:
    root = tmp_path / "store"
    errors: list[BaseException] = []

    def work() -> None:
        try:
            FileKeyStore(root, [OLD]).ensure_keys("busy")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    keys = FileKeyStore(root, [OLD]).public_keys("busy")
    assert sorted(k.alg for k in keys) == sorted(KeyAlgorithm)


def test_memory_store_follows_the_same_lifecycle() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    store = MemoryKeyStore(clock=lambda: moment)
    store.ensure_keys("mem")
    old = store.active_key("mem", "ES256")
    assert old.created == moment
    assert old.kid.startswith("key-es256-20250102t030405z-")
    new = store.rotate("mem", "ES256")
    assert store.find_key("mem", old.kid).status is KeyStatus.RETIRED
    assert store.signer("mem", "ES256").kid == new.kid
    assert store.rewrap() == 0
    assert store._private_key("mem", "ES256", old.kid) is not None


def test_file_store_directory_permissions_survive_a_loose_umask(tmp_path: Path) -> None:
    previous = os.umask(0o000)
    try:
        store = FileKeyStore(tmp_path / "loose", [OLD])
        store.rotate("u", KeyAlgorithm.ED25519)
    finally:
        os.umask(previous)
    root = tmp_path / "loose"
    assert _mode(root) == 0o700
    for path in _issuer_dir(root).iterdir():
        assert _mode(path) == 0o600


def test_a_store_sees_a_rotation_another_process_made(fresh: FileKeyStore, tmp_path: Path) -> None:
    # Workers keep the parsed metadata; another process (the CLI) rotating a
    # key replaces the file, and the next read in every worker shows it.
    fresh.ensure_keys(ISSUER)
    before = fresh.active_key(ISSUER, KeyAlgorithm.ED25519)
    assert fresh.active_key(ISSUER, KeyAlgorithm.ED25519) == before  # served from its cache
    other = FileKeyStore(tmp_path / "store", [OLD])
    rotated = other.rotate(ISSUER, KeyAlgorithm.ED25519)
    assert fresh.active_key(ISSUER, KeyAlgorithm.ED25519) == rotated
    statuses = {k.kid: k.status for k in fresh.public_keys(ISSUER)}
    assert statuses[before.kid] is KeyStatus.RETIRED
    assert statuses[rotated.kid] is KeyStatus.ACTIVE


def test_rotating_leaves_keys_read_before_as_they_were(fresh: FileKeyStore) -> None:
    fresh.ensure_keys(ISSUER)
    listed = fresh.public_keys(ISSUER)
    fresh.rotate(ISSUER, KeyAlgorithm.ED25519)
    assert all(k.status is KeyStatus.ACTIVE for k in listed)
    assert len(fresh.public_keys(ISSUER)) == len(listed) + 1
