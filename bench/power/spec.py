"""The meter spec: ``NAME[:TARGET][,key=value]...``, the one grammar of ``--meter`` everywhere.

Every back-end is declared once, in :data:`BACKENDS`: its target (what follows ``NAME:``, if
anything), its options (name, type, default, whether the value is a secret, help), the
environment variables it reads and what it measures (this machine, or the machine its target
names). :meth:`MeterSpec.parse` is the one parser: it checks a spec against that declaration and
turns option values into typed values, so a back-end never parses text; a wrong spec is one
:class:`MeterSpecError` line (a usage error, exit 2) naming the option at fault. A spec never
prints its secrets: ``str()``, ``repr()`` and :meth:`MeterSpec.redacted` show ``community=***``.
:func:`grammar_rows` renders the declarations for ``sitebench list``, ``--meter`` help and the
generated reference pages.

Items after the target are separated by ``,`` and are ``key=value`` or, for a yes/no option, a
bare ``key``; a target and a value hold no comma (several GPUs: ``nvml:0+1``). A value may hold
``=`` (``label=gpu=0``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, TypeAlias
from urllib.parse import urlsplit, urlunsplit

from bench.errors import UsageError

#: A typed option value: a number, a word, a yes/no, or (repeatable options) every value given.
Value: TypeAlias = "float | str | bool | tuple[str, ...] | None"

_TRUE = ("yes", "true", "on", "1")
_FALSE = ("no", "false", "off", "0")


class MeterSpecError(UsageError):
    """A meter spec that does not match its back-end's declaration (exit 2, one line)."""


class Reach(str, Enum):
    """What a back-end measures: this machine, the machine its target names, or either."""

    HERE = "here"
    TARGET = "target"
    HERE_OR_TARGET = "here-or-target"  # ipmi: the local BMC without a target, a remote one with one


@dataclass(frozen=True)
class Option:
    """One ``key=value`` a back-end accepts.

    ``type`` is ``float``, ``str``, ``bool`` (a bare ``key`` is yes) or ``choice`` (one of
    ``choices``, matched regardless of case). A ``secret`` value is never printed, recorded or
    echoed in an error.
    """

    name: str
    type: str
    default: Value = None
    secret: bool = False
    help: str = ""
    metavar: str = ""
    choices: tuple[str, ...] = ()
    positive: bool = False
    fraction: bool = False  # a float in (0, 1): an accuracy
    pattern: str | None = None  # a str that must match this (fully)
    pattern_help: str = ""
    repeat: bool = False  # may be given several times: the value is a tuple of every one
    required: bool = False

    @property
    def form(self) -> str:
        """``key`` for a yes/no option, else ``key=METAVAR``."""
        if self.type == "bool":
            return self.name
        return f"{self.name}={self.metavar or ('|'.join(self.choices) if self.choices else 'VALUE')}"


@dataclass(frozen=True)
class Target:
    """What follows ``NAME:``: a URL, a host, a file, GPUs."""

    metavar: str
    required: bool
    help: str
    example: str = ""
    url: bool = False  # an http(s) URL
    join: str | None = None  # several values are joined with this ("+": nvml:0+1)


@dataclass(frozen=True)
class Backend:
    """One meter back-end as the user sees it: its grammar and what it measures."""

    name: str
    summary: str
    module: str
    reach: Reach
    target: Target | None = None
    options: tuple[Option, ...] = ()
    environment: tuple[str, ...] = ()
    per_device: bool = False  # a run on one device opens only that device's meters by default
    modelled: bool = False

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    @property
    def form(self) -> str:
        """The whole grammar of this back-end: ``redfish:URL[,insecure][,timeout=S]``."""
        return self._form(self.options)

    @property
    def short_form(self) -> str:
        """The grammar with required options only: ``prometheus:URL,metric=NAME``."""
        return self._form(tuple(o for o in self.options if o.required))

    def _form(self, options: tuple[Option, ...]) -> str:
        text = self.name
        if self.target is not None:
            text += f":{self.target.metavar}" if self.target.required else f"[:{self.target.metavar}]"
        for o in options:
            text += f",{o.form}" if o.required else f"[,{o.form}]" + ("..." if o.repeat else "")
        return text

    def measures_here(self, target: str | None) -> bool:
        """True when a spec with this ``target`` measures the machine sitebench runs on."""
        return self.reach is Reach.HERE or (self.reach is Reach.HERE_OR_TARGET and not target)


def _seconds(name: str, default: float, help: str) -> Option:
    return Option(name, "float", default, help=help, metavar="S", positive=True)


_ACCURACY = Option("accuracy", "float", help="the meter's accuracy as a fraction (0.01 for 1%)", metavar="F",
                   fraction=True)

#: Every back-end, in the order default discovery tries them.
BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend("rapl", "CPU package and DRAM energy counters (RAPL, /sys/class/powercap)", "bench.power.meters.rapl",
            Reach.HERE, environment=("SITEBENCH_POWERCAP_ROOT",)),
    Backend("nvml", "NVIDIA GPU energy counters and power through NVML, one meter per GPU", "bench.power.meters.nvml",
            Reach.HERE, Target("GPUS", False, "CUDA ordinals of the GPUs to measure (default: every visible GPU)",
                               "0+1", join="+"), per_device=True),
    Backend("model", "a modelled CPU estimate: utilisation x TDP (never measured)", "bench.power.meters.modelled",
            Reach.HERE, environment=("SITEBENCH_CPU_TDP_W",), modelled=True),
    Backend("ipmi", "whole-node power from the BMC's DCMI power reading (ipmitool)", "bench.power.meters.ipmi",
            Reach.HERE_OR_TARGET, Target("[USER@]HOST", False, "a remote BMC (default: the local BMC)",
                                         "admin@bmc.example"),
            environment=("IPMI_PASSWORD", "IPMI_USER")),
    Backend("redfish", "whole-node power from a BMC's Redfish chassis", "bench.power.meters.redfish", Reach.TARGET,
            Target("URL", True, "the chassis URL", "https://BMC/redfish/v1/Chassis/ID", url=True),
            (Option("insecure", "bool", False, help="do not verify the BMC's TLS certificate (recorded)"),
             _seconds("timeout", 5.0, "seconds a request may take")),
            environment=("REDFISH_USER", "REDFISH_PASSWORD", "SSL_CERT_FILE")),
    Backend("csv", "a wall-meter or PDU log (CSV, SPEC PTDaemon) imported by clock after the run",
            "bench.power.meters.csvlog", Reach.TARGET, Target("LOG", True, "a log file", "pdu.csv"),
            (Option("scope", "choice", "wall", help="what the logger measures", choices=("wall", "node")),
             Option("offset", "float", 0.0, help="the logger's clock minus this machine's, in seconds", metavar="S"),
             _ACCURACY)),
    Backend("prometheus", "an energy counter or power gauge on a Prometheus metrics page (DCGM, node exporter, "
            "Kepler)", "bench.power.meters.prometheus", Reach.TARGET,
            Target("URL", True, "the metrics URL", "http://HOST:PORT/metrics", url=True),
            (Option("metric", "str", help="the sample name as exposed (_total optional)", metavar="NAME",
                    required=True),
             Option("label", "str", help="KEY=VALUE, KEY!=VALUE, KEY=~REGEX or KEY!~REGEX; all must hold",
                    metavar="SELECTOR", repeat=True),
             Option("sum", "bool", False, help="one meter of the sum of every matching series"),
             Option("unit", "choice", help="the metric's unit (default: DCGM's, J for *_joules, W for *_watts)",
                    choices=("J", "mJ", "uJ", "kJ", "Wh", "kWh", "W", "mW", "kW")),
             Option("scope", "str", help="node, wall, gpu:N, cpu-package:N or dram:N (default: from the labels)",
                    metavar="SCOPE", pattern=r"node|wall|(gpu|cpu-package|dram):\d+",
                    pattern_help="node, wall, gpu:N, cpu-package:N or dram:N"),
             _seconds("period", 1.0, "the exporter's refresh period"),
             _seconds("timeout", 2.0, "seconds a scrape may take (less where the poll interval, "
                      "period/2 but at least 0.5 s, is shorter)"),
             _ACCURACY,
             Option("insecure", "bool", False, help="do not verify the exporter's TLS certificate (recorded)"),
             Option("token", "str", secret=True, help="a bearer token (else PROMETHEUS_TOKEN)", metavar="TOKEN")),
            environment=("PROMETHEUS_TOKEN", "SSL_CERT_FILE")),
    Backend("snmp", "wall power of a rack PDU, or of one of its outlets, over SNMP v2c/v3",
            "bench.power.meters.snmp", Reach.TARGET, Target("HOST[:PORT]", True, "the PDU", "pdu-7"),
            (Option("community", "str", secret=True, help="the v2c community (else SNMP_COMMUNITY, else public)",
                    metavar="C"),
             Option("outlet", "str", help="one outlet: its number, or a full index such as 1.1.5", metavar="N",
                    pattern=r"\d+(\.\d+)*", pattern_help="an outlet number (N, or a full index such as 1.1.5)"),
             Option("mib", "choice", "auto", help="the PDU's MIB (auto: from sysObjectID)",
                    choices=("auto", "apc", "raritan", "servertech", "eaton")),
             Option("user", "str", help="an SNMPv3 user (else SNMP_USER); keys from SNMP_AUTH_KEY, SNMP_PRIV_KEY",
                    metavar="U"),
             Option("auth", "choice", "sha", help="SNMPv3 authentication", choices=("md5", "sha", "sha256", "sha512")),
             Option("priv", "choice", "aes", help="SNMPv3 privacy", choices=("des", "aes", "aes256")),
             Option("context", "str", "", help="the SNMPv3 context name", metavar="NAME"),
             _seconds("period", 1.0, "the PDU's update period (no MIB states one)"),
             _seconds("timeout", 2.0, "seconds per SNMP request")),
            environment=("SNMP_COMMUNITY", "SNMP_USER", "SNMP_AUTH_KEY", "SNMP_PRIV_KEY")),
)}


def _shown(name: str, target: str | None, raw: list[str], backend: Backend | None) -> str:
    """A spec being checked, fit for an error: the values of secret options, of options the back-end does
    not know (a misspelt ``comunity=``) and of every option of an unknown meter hidden."""
    out = name + (f":{_redact_url(target)}" if target is not None else "")
    for item in raw:
        key, eq, _ = item.strip().partition("=")
        option = backend.option(key.strip()) if backend is not None else None
        out += f",{item.strip()}" if not eq or (option is not None and not option.secret) else f",{key.strip()}=***"
    return out


def _redact_url(target: str) -> str:
    """A URL's password hidden (``https://user:***@bmc/``); anything else as it is."""
    parts = urlsplit(target) if "://" in target else None
    if parts is None or parts.password is None:
        return target
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


@dataclass(frozen=True)
class MeterSpec:
    """One parsed, checked meter spec. Build it with :meth:`parse` or :meth:`build`.

    ``spec["timeout"]`` is the typed value (the declared default when not given);
    :meth:`given` tells whether the user wrote it. ``str(spec)`` is :meth:`redacted`.
    A subclass parses the same grammar against another table of back-ends (``--thermal``).
    """

    #: the back-ends this grammar knows, and what one is called in errors
    TABLE: ClassVar[dict[str, Backend]] = BACKENDS
    WHAT: ClassVar[str] = "meter"

    name: str
    target: str | None = None
    #: the options as written, in order: (key, text); a bare yes/no option has text None
    items: tuple[tuple[str, str | None], ...] = ()
    _values: tuple[tuple[str, Value], ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, *, where: str = "--meter", secrets: bool = True) -> MeterSpec:
        """``NAME[:TARGET][,key=value]...`` checked against its back-end's declaration.

        Args:
            text: the spec.
            where: what the spec came from, starting each error (``--meter``, ``--outlets MAP: line 3``).
            secrets: False refuses secret options (a file that must not hold credentials).

        Raises:
            MeterSpecError: an unknown meter, a target missing or not allowed, an unknown option, a
                value of the wrong type; one line naming the option, with secrets hidden.
        """
        head, *items = text.strip().split(",")
        name, colon, target = head.partition(":")
        return cls.build(name.strip(), target.strip() if colon else None, items, where=where, secrets=secrets)

    @classmethod
    def build(cls, name: str, target: str | None = None, options: str | Iterable[str] = (), *,
              where: str = "--meter", secrets: bool = True) -> MeterSpec:
        """A spec from its parts; ``options`` is ``key=value`` items, or one comma-separated string of them.

        Raises:
            MeterSpecError: as :meth:`parse`.
        """
        raw = options.split(",") if isinstance(options, str) else list(options)
        if isinstance(options, str) and not options.strip():
            raw = []
        backend = cls.TABLE.get(name)
        shown = _shown(name, target, raw, backend)
        if backend is None:
            raise MeterSpecError(f"{where} {shown}: unknown {cls.WHAT} {name!r} (known: {', '.join(cls.TABLE)})")

        def fail(problem: str) -> MeterSpecError:
            return MeterSpecError(f"{where} {shown}: {problem}")

        target = target or None
        if backend.target is None and target is not None:
            raise fail(f"{name} takes no target (the form is {backend.form})")
        if backend.target is not None and backend.target.required and target is None:
            raise fail(f"needs {backend.target.help}: {name}:{backend.target.example}")
        if target is not None and backend.target is not None and backend.target.url:
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise fail(f"{_redact_url(target)!r} is not an http(s) URL (expected {backend.target.example})")
        given: list[tuple[str, str | None]] = []
        values: dict[str, Value] = {}
        for item in (i.strip() for i in raw):
            if not item:
                raise fail("an empty option (two commas in a row, or a trailing comma)")
            key, eq, value = item.partition("=")
            key = key.strip()
            option = backend.option(key)
            if option is None:
                raise fail(_unknown(backend, key, eq))
            if option.secret and not secrets:
                raise fail(f"{key}= does not belong here: it is a credential (set it in the environment: "
                           f"{', '.join(backend.environment) or 'see the meter'})")
            typed = _typed(option, value if eq else None, fail)
            if option.repeat:
                values[key] = (*values.get(key, ()), str(typed))  # type: ignore[misc]
            elif key in values:
                raise fail(f"option {key} given twice")
            else:
                values[key] = typed
            given.append((key, value.strip() if eq else None))
        missing = [o for o in backend.options if o.required and o.name not in values]
        if missing:
            raise fail(f"needs {missing[0].name}={missing[0].metavar or 'VALUE'} ({missing[0].help})")
        return cls(name, target, tuple(given), tuple(values.items()))

    @property
    def backend(self) -> Backend:
        return self.TABLE[self.name]

    def given(self, key: str) -> bool:
        """True when the spec names option ``key``."""
        return any(k == key for k, _ in self._values)

    def __getitem__(self, key: str) -> Value:
        """Option ``key``'s typed value, or its declared default (``()`` for a repeatable option).

        Raises:
            KeyError: the back-end declares no such option.
        """
        option = self.backend.option(key)
        if option is None:
            raise KeyError(f"{self.name} has no option {key!r}")
        return dict(self._values).get(key, () if option.repeat else option.default)

    def number(self, key: str) -> float:
        """A float option (its default when not given); TypeError when it has none."""
        value = self[key]
        if not isinstance(value, float):
            raise TypeError(f"{self.name}: option {key} has no value")
        return value

    def word(self, key: str) -> str | None:
        """A str or choice option (its default when not given), or None."""
        value = self[key]
        return value if isinstance(value, str) else None

    def strings(self) -> dict[str, str]:
        """The options given, as text (a bare yes/no option as ``""``): for code that takes raw options."""
        return {k: v if v is not None else "" for k, v in self.items}

    @property
    def measures_here(self) -> bool:
        """True when this spec measures the machine sitebench runs on (rapl, nvml, model, ipmi without a host)."""
        return self.backend.measures_here(self.target)

    def text(self) -> str:
        """The whole spec, secrets included: only for handing to code that needs them, never to print."""
        return self._render(hide=False)

    def redacted(self) -> str:
        """The spec fit to print or record: secret values (and a URL's password) as ``***``."""
        return self._render(hide=True)

    def _render(self, hide: bool) -> str:
        out = self.name
        if self.target is not None:
            out += ":" + (_redact_url(self.target) if hide else self.target)
        for key, value in self.items:
            option = self.backend.option(key)
            secret = hide and option is not None and option.secret
            out += f",{key}" if value is None else f",{key}={'***' if secret else value}"
        return out

    def __str__(self) -> str:
        return self.redacted()

    def __repr__(self) -> str:
        return f"MeterSpec({self.redacted()!r})"


def _unknown(backend: Backend, key: str, eq: str) -> str:
    known = ", ".join(o.form for o in backend.options) or "none"
    hint = ""
    if not eq and backend.target is not None and backend.target.join:
        hint = f"; several {backend.target.metavar} are joined with {backend.target.join!r}: " \
               f"{backend.name}:{backend.target.example}"
    return f"option {key!r} not understood ({backend.name} options: {known}){hint}"


def _typed(option: Option, value: str | None, fail: Callable[[str], MeterSpecError]) -> Value:
    """``value`` (None for a bare ``key``) as ``option``'s type."""
    key = option.name
    shown = "***" if option.secret else repr(value)
    if option.type == "bool":
        if value is None:
            return True
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise fail(f"option {key}={shown}: expected {key} alone, or {key}=yes or {key}=no")
    if value is None or not value.strip():
        raise fail(f"option {key} needs a value: {option.form}")
    value = value.strip()
    if option.type == "float":
        try:
            number = float(value)
        except ValueError:
            raise fail(f"option {key}={shown} is not a number") from None
        if not math.isfinite(number):
            raise fail(f"option {key}={shown} is not a finite number")
        if option.fraction and not 0 < number < 1:
            raise fail(f"option {key}={shown} is a fraction: {key}=0.01 for 1%")
        if option.positive and not number > 0:
            raise fail(f"option {key}={shown} must be positive")
        return number
    if option.type == "choice":
        if value in option.choices:
            return value
        folded = [c for c in option.choices if c.lower() == value.lower()]
        if len(folded) == 1:
            return folded[0]
        raise fail(f"option {key}={shown}: expected one of {', '.join(option.choices)}")
    if option.pattern is not None and not re.fullmatch(option.pattern, value):
        raise fail(f"option {key}={shown} is not {option.pattern_help or option.metavar}")
    return value


def outlet_spec(pdu: str, outlet: str, options: str | Iterable[str] = (), *, where: str) -> MeterSpec:
    """The ``snmp`` spec of one PDU outlet: ``snmp:PDU[:PORT],outlet=N[,key=value]...``.

    For maps of machines to outlets (the miners' ``--outlets MAP.csv``): ``options`` are the
    snmp meter's options (``mib=apc``, ``period=1``), comma-separated or one per item, checked
    like any spec; credentials are refused (a map is a file: they come from the environment).

    Raises:
        MeterSpecError: a bad PDU, outlet or option, or a credential; one line starting with ``where``.
    """
    items = [i for i in (options.split(",") if isinstance(options, str) else options) if i.strip()]
    if any(i.strip().partition("=")[0].strip() == "outlet" for i in items):
        raise MeterSpecError(f"{where}: the outlet is its own column, not an option")
    return MeterSpec.build("snmp", pdu.strip(), [f"outlet={outlet.strip()}", *items], where=where, secrets=False)


def grammar_rows() -> list[dict[str, Any]]:
    """Every back-end's grammar from its declaration, one dict per meter (for docs, ``list`` and help).

    Keys: ``name``, ``summary``, ``module`` (its documentation is that module's docstring),
    ``form`` (the whole grammar), ``short_form`` (required parts only), ``target`` (None, or
    ``metavar``, ``required``, ``help``, ``example``), ``argument`` (``none``, ``optional`` or
    ``required``), ``options`` (``name``, ``type``, ``default``, ``secret``, ``help``, ``form``,
    ``choices``, ``repeat``, ``required``), ``environment``, ``per_device``, ``reach`` (``here``,
    ``target`` or ``here-or-target``), ``modelled``.
    """
    rows: list[dict[str, Any]] = []
    for b in BACKENDS.values():
        t = b.target
        rows.append({
            "name": b.name, "summary": b.summary, "module": b.module, "form": b.form, "short_form": b.short_form,
            "target": None if t is None else {"metavar": t.metavar, "required": t.required, "help": t.help,
                                              "example": t.example},
            "argument": "none" if t is None else "required" if t.required else "optional",
            "options": [{"name": o.name, "type": o.type, "default": o.default, "secret": o.secret, "help": o.help,
                         "form": o.form, "choices": list(o.choices), "repeat": o.repeat, "required": o.required}
                        for o in b.options],
            "environment": list(b.environment), "per_device": b.per_device, "reach": b.reach.value,
            "modelled": b.modelled,
        })
    return rows


def grammar_help() -> str:
    """One line for ``--meter`` help: the grammar and every back-end's short form."""
    return ("NAME[:TARGET][,key=value]... (repeatable): " + ", ".join(b.short_form for b in BACKENDS.values())
            + "; `sitebench list` shows every option and which meters work here")


def server_meters() -> str:
    """The back-ends that can measure another machine, with their target (for messages)."""
    forms = []
    for b in BACKENDS.values():
        if b.reach is not Reach.HERE and b.target is not None:
            forms.append(f"{b.name}:{b.target.metavar}" + "".join(f",{o.form}" for o in b.options if o.required))
    return ", ".join(forms)
