"""Keys for the My Number at rest, derived from the master secret."""

from __future__ import annotations

from dataclasses import dataclass

from tsunagu.kernel.crypto import KeyedHash, SealedBox, derive_key


@dataclass(frozen=True)
class RegistryKeys:
    box: SealedBox
    index: KeyedHash

    @classmethod
    def from_master(cls, master: bytes) -> RegistryKeys:
        return cls(
            box=SealedBox(derive_key(master, "registry.my_number.aead"), b"registry.my_number"),
            index=KeyedHash(derive_key(master, "registry.my_number.index")),
        )

    def seal(self, my_number: str) -> tuple[bytes, bytes]:
        raw = my_number.encode()
        return self.box.seal(raw), self.index.digest(raw)

    def reveal(self, sealed: bytes) -> str:
        return self.box.open(sealed).decode()
