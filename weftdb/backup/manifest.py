"""`backup.json`: what a backup holds, in order, with every file's size and SHA-256.

Why a manifest beside files that already carry checksums: a backup is a
chain (one full backup, then incrementals, maybe a later full) and the chain
itself — which files, in which order, covering which commit timestamps and
wall-clock times — is what restore, point-in-time restore and verify reason
about. The WAL and snapshot checksums protect records; the manifest's SHA-256
per stored file protects whole files, including compressed and encrypted ones
that cannot be read without the key. The manifest carries its own SHA-256
(of its canonical JSON without that field), so one flipped bit anywhere in
it is caught too. It is rewritten whole, atomically, after the files it names
are in place (docs/formats.md, "Backup manifest").

Parsing is strict: every field is type-checked and every file name must pass
`target.check_name` before anything uses it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from weftdb.backup.target import MANIFEST, PENDING, Target, TargetError, check_name, is_backup_name
from weftdb.durability.layout import TEMPORARY_SUFFIX, is_temporary

FORMAT = "weftdb-backup"
VERSION = 3  # 2: artifacts may list a users file (auth/...); 3: store_files (ON_DISK_TRANSACTIONAL)
READS = (1, 2, 3)
ENCRYPTION = "aes-256-gcm"
COMPRESSION = "zstd"
USERS_PREFIX = "auth/users-"  # + 32 hex digits of the SHA-256 of the file's bytes + ".json"


class ManifestError(Exception):
    """backup.json is missing, damaged, or does not describe a usable backup."""


@dataclass
class FileEntry:
    name: str  # as stored: "wal/0000000000000003.wal.zst"
    size: int  # stored bytes
    sha256: str  # of the stored bytes
    raw_size: int  # bytes once decrypted and decompressed


@dataclass
class Artifact:
    kind: str  # "full" or "incremental"
    created: str  # UTC, ISO 8601
    first_ts: int  # first WAL transaction it holds (a full: snapshot_ts + 1)
    last_ts: int  # newest transaction it brings the backup to
    first_wall_us: int | None = None  # wall-clock commit times of first_ts and last_ts, when it holds records
    last_wall_us: int | None = None
    snapshot_ts: int | None = None  # a full: the snapshot's commit timestamp
    snapshot_wall_us: int | None = None  # a full: no transaction in the snapshot committed after this
    files: list[FileEntry] = field(default_factory=list)
    # ON_DISK_TRANSACTIONAL: every file of the RocksDB checkpoint the artifact
    # brings the backup to, name -> size; its archive holds those the chain lacked
    store_files: dict[str, int] | None = None

    @property
    def records(self) -> int:
        return max(0, self.last_ts - self.first_ts + 1)

    @property
    def snapshot(self) -> FileEntry | None:
        return next((f for f in self.files if f.name.startswith("snapshots/")), None)

    @property
    def segments(self) -> list[FileEntry]:
        return [f for f in self.files if f.name.startswith("wal/")]

    @property
    def users(self) -> FileEntry | None:
        """The users file as of this backup's end: a full always lists it, an
        incremental only when it changed (else the previous one's holds)."""
        return next((f for f in self.files if f.name.startswith(USERS_PREFIX)), None)


@dataclass
class Manifest:
    database_uuid: str
    compression: str | None = None
    encryption: str | None = None
    key_check: str | None = None  # HMAC of a fixed text under the key: tells a wrong key at once
    next_wal_sequence: int = 1
    artifacts: list[Artifact] = field(default_factory=list)

    @property
    def db_uuid(self) -> bytes:
        return uuid.UUID(self.database_uuid).bytes

    @property
    def compressed(self) -> bool:
        return self.compression == COMPRESSION

    @property
    def encrypted(self) -> bool:
        return self.encryption == ENCRYPTION

    @property
    def last_ts(self) -> int:
        return self.artifacts[-1].last_ts if self.artifacts else 0

    def files(self) -> list[FileEntry]:
        return [f for a in self.artifacts for f in a.files]

    def entry(self, name: str) -> FileEntry | None:
        """The entry of the stored file `name`, if an artifact lists it."""
        return next((f for f in self.files() if f.name == name), None)

    def users_as_of(self, last_ts: int) -> FileEntry | None:
        """The users file of a restore up to commit timestamp `last_ts`: the one
        of the newest backup that ended at or before it; for a point before the
        first backup that carried one ended, that first one. None for a chain
        without users files (made before they were backed up)."""
        carrying = [a.users for a in self.artifacts if a.users is not None]
        before = [a.users for a in self.artifacts if a.users is not None and a.last_ts <= last_ts]
        if before:
            return before[-1]
        return carrying[0] if carrying else None

    def check_key(self, key: bytes | None) -> None:
        if not self.encrypted:
            if key is not None:
                raise ManifestError("this backup is not encrypted; leave out the key file")
            return
        if key is None:
            raise ManifestError("this backup is encrypted: give its key file (--key-file / --encrypt-key-file)")
        if not hmac.compare_digest(key_check(key), self.key_check or ""):
            raise ManifestError("wrong key: this backup was encrypted with a different key")

    # -- the file ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        document = {"format": FORMAT, "version": VERSION, **asdict(self)}
        document["checksum"] = _checksum(document)
        return json.dumps(document, indent=2).encode() + b"\n"

    def save(self, target: Target) -> None:
        target.put(MANIFEST, [self.to_bytes()])

    @classmethod
    def load(cls, target: Target) -> "Manifest | None":
        """The manifest of `target`, None when there is none; ManifestError when it is unusable."""
        if not target.exists(MANIFEST):
            return None
        try:
            return cls.parse(target.read_small(MANIFEST))
        except (OSError, TargetError) as exc:
            raise ManifestError(f"{target.url}/{MANIFEST} cannot be read: {exc}") from None

    @classmethod
    def parse(cls, data: bytes) -> "Manifest":
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ManifestError(f"{MANIFEST} is not valid JSON ({exc}): it is damaged") from None
        if not isinstance(document, dict):
            raise ManifestError(f"{MANIFEST} is not a JSON object")
        if document.get("format") != FORMAT or document.get("version") not in READS:
            raise ManifestError(f"{MANIFEST} is a {document.get('format')!r} manifest of version {document.get('version')!r}; "
                                f"this WeftDB reads {FORMAT!r} versions {', '.join(map(str, READS))}")
        checksum = document.pop("checksum", None)
        if checksum != _checksum(dict(document)):
            raise ManifestError(f"{MANIFEST} fails its checksum: it is damaged or was edited")
        try:
            return _build(document)
        except (KeyError, TypeError, ValueError, TargetError) as exc:
            raise ManifestError(f"{MANIFEST} is not a complete backup manifest ({type(exc).__name__}: {exc})") from None


# -- what else a backup's location holds ----------------------------------------------------
#
# A backup publishes its files first and rewrites the manifest last; before
# publishing it writes their names to `backup.pending.json`, and removes that
# list once the manifest names them. So a file the manifest does not list is
# either one an interrupted backup left (named by the list: the next backup
# removes it) or a stranger: a database opened on the backup, another program.
# A backup refuses to add to a location with strangers, and verify fails on them.


def write_pending(target: Target, names: list[str]) -> None:
    target.put(PENDING, [json.dumps({"names": names}).encode()])


def clear_pending(target: Target) -> None:
    target.remove(PENDING)


def _pending(target: Target) -> set[str]:
    """The names in the list of an interrupted backup; none if it is missing or damaged."""
    if not target.exists(PENDING):
        return set()
    try:
        names = json.loads(target.read_small(PENDING))["names"]
        return {check_name(name) for name in names}
    except (OSError, TargetError, ValueError, KeyError, TypeError):
        return set()


def unlisted(target: Target, manifest: "Manifest | None", limit: int | None = None) -> tuple[list[str], list[str]]:
    """The files present that `manifest` does not list: (those an interrupted
    backup left, the strangers). Temporaries of backup files (`*.tmp`, never
    data) are neither. Stops after `limit` strangers."""
    listed = {MANIFEST, PENDING} | ({f.name for f in manifest.files()} if manifest else set())
    pending = _pending(target)
    leftovers, strangers = [], []
    for name in target.files():
        if name in listed or is_temporary(name) and is_backup_name(name[: -len(TEMPORARY_SUFFIX)]):
            continue
        if name in pending:
            leftovers.append(name)
        else:
            strangers.append(name)
            if limit is not None and len(strangers) >= limit:
                break
    return leftovers, strangers


def key_check(key: bytes) -> str:
    return hmac.new(key, b"weftdb backup key check", hashlib.sha256).hexdigest()[:32]


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _checksum(document: dict) -> str:
    body = {k: v for k, v in document.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _int(value: Any, name: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
    return value


def _str(value: Any, name: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise ValueError(f"{name} must be a short string")
    return value


def _store_files(value: Any) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError("store_files must be an object")
    for name, size in value.items():
        _str(name, "a store file's name")
        _int(size, f"the size of {name}")
    return value


def _build(d: dict) -> Manifest:
    uuid.UUID(_str(d["database_uuid"], "database_uuid"))
    if d.get("compression") not in (None, COMPRESSION) or d.get("encryption") not in (None, ENCRYPTION):
        raise ValueError(f"unknown compression {d.get('compression')!r} or encryption {d.get('encryption')!r}")
    artifacts = []
    if not isinstance(d["artifacts"], list):
        raise TypeError("artifacts must be a list")
    for a in d["artifacts"]:
        if a["kind"] not in ("full", "incremental"):
            raise ValueError(f"unknown artifact kind {a['kind']!r}")
        files = []
        for f in a["files"]:
            sha = _str(f["sha256"], "sha256")
            if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
                raise ValueError(f"bad sha256 {sha!r}")
            files.append(FileEntry(check_name(f["name"]), _int(f["size"], "size"), sha, _int(f["raw_size"], "raw_size")))
        artifacts.append(Artifact(
            a["kind"], _str(a["created"], "created"), _int(a["first_ts"], "first_ts"), _int(a["last_ts"], "last_ts"),
            _int(a.get("first_wall_us"), "first_wall_us", True), _int(a.get("last_wall_us"), "last_wall_us", True),
            _int(a.get("snapshot_ts"), "snapshot_ts", True), _int(a.get("snapshot_wall_us"), "snapshot_wall_us", True),
            files, _store_files(a.get("store_files")),
        ))
    return Manifest(
        d["database_uuid"], d.get("compression"), d.get("encryption"), _str(d.get("key_check"), "key_check", True),
        _int(d["next_wal_sequence"], "next_wal_sequence"), artifacts,
    )
