"""Keys of the hub, derived from the master secret: the person blind index, the sealed person reference and the
sealed agency signing keys. Nothing here returns key material."""

from __future__ import annotations

from dataclasses import dataclass

from tsunagu.kernel.crypto import KeyedHash, SealedBox, derive_key


@dataclass(frozen=True)
class LinkageKeys:
    person_index: KeyedHash  # HMAC of the registry person id: finds a person's codes without revealing the id
    person_box: SealedBox  # the registry person id, sealed: the hub opens it to translate
    agency_key_box: SealedBox  # agencies' signing keys (PKCS#8), sealed

    @classmethod
    def from_master(cls, master: bytes) -> LinkageKeys:
        return cls(
            person_index=KeyedHash(derive_key(master, "linkage.person.index")),
            person_box=SealedBox(derive_key(master, "linkage.person.aead"), b"linkage.person"),
            agency_key_box=SealedBox(derive_key(master, "linkage.agency_key.aead"), b"linkage.agency_key"),
        )

    def index(self, person_id: int) -> bytes:
        return self.person_index.digest(b"person:%d" % person_id)

    def seal_person(self, person_id: int) -> bytes:
        return self.person_box.seal(b"%d" % person_id)

    def open_person(self, sealed: bytes) -> int:
        return int(self.person_box.open(sealed))
