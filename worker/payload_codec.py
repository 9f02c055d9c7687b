"""Encryption of every Temporal payload (AES-256-GCM): phone numbers, emails and
message texts never reach Temporal's history in clear. Workflow ids, search
attributes, type and queue names are not payloads: they must hold no personal data.
"""

import base64
import binascii
import dataclasses
import hashlib
import os
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from worker.settings import Settings

ENCODING = b"binary/encrypted"
NONCE_BYTES = 12
KEY_FILE = "payload-key"


class PayloadKeyError(ValueError):
    pass


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(key).hexdigest()[:16].encode()


class EncryptionCodec(PayloadCodec):
    """Encrypts with ``key``; decrypts with it or any of ``previous``, chosen by the
    key id each payload carries, so that a key can be changed while events run."""

    def __init__(self, key: bytes, previous: Sequence[bytes] = ()) -> None:
        self._cipher = AESGCM(key)
        self._key_id = _key_id(key)
        self._readers = {_key_id(known): AESGCM(known) for known in (*previous, key)}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = self._cipher.encrypt(nonce, payload.SerializeToString(), self._key_id)
            encoded.append(
                Payload(
                    metadata={"encoding": ENCODING, "encryption-key-id": self._key_id},
                    data=nonce + sealed,
                )
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)
                continue
            key_id = payload.metadata.get("encryption-key-id", b"")
            reader = self._readers.get(key_id)
            if reader is None:
                raise PayloadKeyError(
                    "payload chiffré avec une autre clé "
                    "(TOCSIN_PAYLOAD_KEY, TOCSIN_PAYLOAD_KEYS_PREVIOUS)"
                )
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            try:
                plain = reader.decrypt(nonce, sealed, key_id)
            except InvalidTag as error:
                raise PayloadKeyError("payload chiffré illisible") from error
            decoded.append(Payload.FromString(plain))
        return decoded


def parse_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except binascii.Error as error:
        raise PayloadKeyError("TOCSIN_PAYLOAD_KEY doit être en base64") from error
    if len(key) != 32:
        raise PayloadKeyError("TOCSIN_PAYLOAD_KEY doit faire 32 octets (base64 de 44 caractères)")
    return key


def payload_key(settings: Settings) -> bytes:
    """``TOCSIN_PAYLOAD_KEY``, else a key generated once in the state folder
    (for ``tocsin dev`` and the commands run beside it), never with PostgreSQL,
    whose instances must share one."""
    if configured := settings.payload_key.get_secret_value():
        return parse_key(configured)
    if settings.shared_database:
        raise PayloadKeyError("TOCSIN_PAYLOAD_KEY requis avec une base PostgreSQL partagée")
    path = settings.state_dir / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(base64.b64encode(secrets.token_bytes(32)).decode(), encoding="utf-8")
        path.chmod(0o600)
    return parse_key(path.read_text(encoding="utf-8"))


def previous_payload_keys(settings: Settings) -> list[bytes]:
    """``TOCSIN_PAYLOAD_KEYS_PREVIOUS``: keys still read, never written."""
    previous = settings.payload_keys_previous.get_secret_value()
    return [parse_key(text) for text in previous.split(",") if text.strip()]


def encrypted_converter(key: bytes, previous: Sequence[bytes] = ()) -> DataConverter:
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(key, previous),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
