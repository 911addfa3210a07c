"""Users and their passwords.

With no user defined, the server lets every client in (as Memgraph does); once
one exists, every Bolt client must authenticate. Passwords are kept only as
salted scrypt hashes, in `<data-directory>/auth/users.json` (readable by the
owner only), rewritten whole through the file layer's careful write
(`FileSystem.write_atomic`) on every change, so a crash leaves either the old
or the new list. With no data directory the store lives in memory.

The file's bytes travel with every backup and checkpoint (`UserStore.export`),
and whoever brings them back checks them with `parse` first: a restored
database asks for the same credentials as its source.

Checking a password costs one scrypt whether or not the user exists, so the
time taken does not tell an attacker which names are real.

Each user may use some of the data directory's databases (weftdb/databases.py):
`databases` in the user's record lists the names granted and denied (`*`:
every database; a denial wins), and `main` the database a session uses when
the client names none. A record without `databases` (version 1 files) may
use every database, as may the first user made; a user made after the first
may use the default one until GRANT DATABASE says more. Managing users and
databases takes a user who may use every database (`check_administrator`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading

from weftdb.basics import identity
from weftdb.basics.errors import ClientError, DatabaseError, DurabilityError, Forbidden
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import Layout

FORMAT_VERSION = 2  # 2: a user's `databases` and `main` (version 1 files are read as they are)
ALL_DATABASES = "*"
# scrypt cost: ~16 MiB and a few tens of milliseconds per check.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_NAME_LENGTH = 128


class UserError(ClientError):
    """A user statement cannot be carried out."""


class UserExists(UserError):
    """CREATE USER named a user that exists already."""


class UnknownUser(UserError):
    """SET PASSWORD or DROP USER named a user that does not exist."""


def _hash(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32)


def _new_record(password: str) -> dict:
    if not isinstance(password, str):
        raise UserError("a password must be a string")
    salt = secrets.token_bytes(16)
    digest = _hash(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return {"salt": salt.hex(), "hash": digest.hex(), "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P}


def _access_of(record: dict) -> dict:
    """A record's `databases`; a version 1 record has none and may use every database."""
    return record.get("databases", {"grant": [ALL_DATABASES], "deny": []})


def _check_name(user: str) -> None:
    if not isinstance(user, str) or not user or len(user) > MAX_NAME_LENGTH:
        raise UserError(f"a user name must be a non-empty string of at most {MAX_NAME_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in user):
        raise UserError(f"a user name cannot contain spaces or control characters: {user!r}")


def parse(data: bytes) -> dict[str, dict]:
    """The users of a users file's bytes; ValueError saying what is wrong."""
    try:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("version") not in (1, FORMAT_VERSION):
            version = document.get("version") if isinstance(document, dict) else None
            raise ValueError(f"unknown format version {version!r}")
        users = document["users"]
        for name, record in users.items():
            bytes.fromhex(record["salt"]), bytes.fromhex(record["hash"])
            n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
            if n < 2 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or 128 * n * r > 32 * 1024 * 1024:
                raise ValueError(f"scrypt parameters of user {name!r} are out of range")
            access = _access_of(record)
            if not all(isinstance(access.get(k), list) and all(isinstance(n, str) for n in access[k])
                       for k in ("grant", "deny")) or not isinstance(record.get("main", ""), str):
                raise ValueError(f"the databases of user {name!r} are not lists of names")
        return users
    except (UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from None


def encode(users: dict[str, dict]) -> bytes:
    """The bytes of a users file holding `users`."""
    return json.dumps({"version": FORMAT_VERSION, "users": users}, indent=1, sort_keys=True).encode("utf-8")


class UserStore:
    """The users of one database. `directory` is the data directory (None: in memory only)."""

    def __init__(self, directory: str | None, fs: FileSystem | None = None):
        self._lock = threading.Lock()
        self._fs = fs or FileSystem()
        self._path = None if directory is None else Layout(directory).users
        self._users: dict[str, dict] = {}
        self._dummy: dict | None = None  # hashed on first need: opening a database stays quick
        if self._path is not None and os.path.exists(self._path):
            self._users = self._load(self._path)

    @staticmethod
    def _load(path: str) -> dict[str, dict]:
        try:
            with open(path, "rb") as handle:
                return parse(handle.read())
        except (OSError, ValueError) as exc:
            raise DatabaseError(f"cannot read the user file {path}: {exc}") from None

    def _save(self) -> None:
        if self._path is None:
            return
        self._fs.makedirs(os.path.dirname(self._path))
        self._fs.write_atomic(self._path, encode(self._users), mode=0o600)

    def export(self) -> bytes:
        """The users file's bytes as of now (what `_save` writes): what a backup carries."""
        with self._lock:
            return encode(self._users)

    @property
    def has_users(self) -> bool:
        return bool(self._users)

    def users(self) -> list[str]:
        with self._lock:
            return sorted(self._users)

    def create(self, user: str, password: str) -> None:
        """A new user, who may use every database when it is the first one, else the default one."""
        _check_name(user)
        record = _new_record(password)
        with self._lock:
            if user in self._users:
                raise UserExists(f"user {user!r} already exists")
            record["databases"] = {"grant": [ALL_DATABASES if not self._users else identity.DATABASE], "deny": []}
            self._users[user] = record
            self._commit(lambda: self._users.pop(user))

    def set_password(self, user: str, password: str) -> None:
        record = _new_record(password)
        self._change(user, lambda old: {**old, **record})

    def _change(self, user: str, change) -> None:
        """Replace `user`'s record by `change(record)`, durably (or not at all)."""
        with self._lock:
            if user not in self._users:
                raise UnknownUser(f"user {user!r} does not exist")
            previous = self._users[user]
            self._users[user] = change(previous)
            self._commit(lambda: self._users.__setitem__(user, previous))

    # -- databases --------------------------------------------------------------------------

    def access(self, user: str) -> tuple[list[str], list[str], str]:
        """(granted, denied, main database or "") of `user`."""
        with self._lock:
            record = self._users.get(user)
            if record is None:
                raise UnknownUser(f"user {user!r} does not exist")
            access = _access_of(record)
            return list(access["grant"]), list(access["deny"]), record.get("main", "")

    def may_use(self, user: str, database: str) -> bool:
        """Whether `user` may use `database` (a denial wins; an unknown user may use none)."""
        try:
            granted, denied, _ = self.access(user)
        except UnknownUser:
            return False
        if database in denied or ALL_DATABASES in denied:
            return False
        return database in granted or ALL_DATABASES in granted

    def may_use_all(self, user: str) -> bool:
        """Whether `user` may use every database, those to come included: who may manage users and databases."""
        try:
            granted, denied, _ = self.access(user)
        except UnknownUser:
            return False
        return ALL_DATABASES in granted and not denied

    def check_administrator(self, user: str | None, what: str) -> None:
        """Refuse `what` (a statement that manages users or databases) unless
        the caller may use every database: embedded (`user` None), while no
        user exists, or such a user. Otherwise a user could grant themselves
        what was denied them."""
        if user is None or not self.has_users or self.may_use_all(user):
            return
        raise Forbidden(f"{what} takes a user who may use every database (GRANT DATABASE * TO ...); "
                        f"{user!r} may not.")

    def set_access(self, user: str, database: str, how: str) -> None:
        """GRANT (`how` "grant"), DENY ("deny") or REVOKE ("revoke": neither) `database` (or `*`) for `user`."""
        def change(record: dict) -> dict:
            access = _access_of(record)
            granted = [n for n in access["grant"] if n != database]
            denied = [n for n in access["deny"] if n != database]
            if how == "grant":
                granted.append(database)
            elif how == "deny":
                denied.append(database)
            return {**record, "databases": {"grant": sorted(granted), "deny": sorted(denied)}}

        self._change(user, change)

    def set_main(self, user: str, database: str) -> None:
        """The database `user`'s sessions use when the client names none."""
        self._change(user, lambda record: {**record, "main": database})

    def drop(self, user: str) -> None:
        with self._lock:
            if user not in self._users:
                raise UnknownUser(f"user {user!r} does not exist")
            previous = self._users.pop(user)
            self._commit(lambda: self._users.__setitem__(user, previous))

    def _commit(self, undo) -> None:
        try:
            self._save()
        except DurabilityError as exc:
            undo()
            raise DatabaseError(f"cannot write the user file {self._path}: {exc}") from None

    def verify(self, user: str, password: str) -> bool:
        """True when `password` is the password of `user`. Unknown users cost the same time."""
        with self._lock:
            record = self._users.get(user) if isinstance(user, str) else None
        known = record is not None
        if record is None:
            if self._dummy is None:
                self._dummy = _new_record(secrets.token_hex(8))
            record = self._dummy
        if not isinstance(password, str):
            password = ""
            known = False
        digest = _hash(password, bytes.fromhex(record["salt"]), record["n"], record["r"], record["p"])
        return hmac.compare_digest(digest, bytes.fromhex(record["hash"])) and known
