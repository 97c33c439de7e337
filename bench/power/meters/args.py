"""Parsing the ``ARG`` of ``--meter NAME:ARG`` for meters that take options.

An argument is a main part followed by comma-separated options, each a bare
flag (``insecure``) or ``key=value`` (``offset=-2.5``):
``redfish:https://bmc/redfish/v1/Chassis/1,insecure``,
``csv:pdu.csv,scope=node,offset=-2.5``.
"""

from __future__ import annotations

from bench.errors import MeterUnavailable


def split_arg(arg: str, *, flags: tuple[str, ...] = (), keys: tuple[str, ...] = ()) -> tuple[str, dict[str, str]]:
    """Split ``MAIN[,OPTION...]`` into the main part and its options.

    Args:
        arg: the text after ``NAME:``.
        flags: option names allowed without a value (their value is ``""``).
        keys: option names that need ``=VALUE``.

    Raises:
        MeterUnavailable: an unknown option, a flag given a value or a key without one.
    """
    main, *items = arg.split(",")
    options: dict[str, str] = {}
    for item in (i.strip() for i in items):
        name, eq, value = item.partition("=")
        if name in flags and not eq:
            options[name] = ""
        elif name in keys and eq and value:
            options[name] = value
        else:
            known = [*flags, *(f"{k}=VALUE" for k in keys)]
            raise MeterUnavailable(f"option {item!r} not understood (options: {', '.join(known) or 'none'})")
    return main.strip(), options


def float_option(options: dict[str, str], key: str, default: float, *, positive: bool = False) -> float:
    """``options[key]`` as a float, or ``default`` when absent.

    Raises:
        MeterUnavailable: the value is not a number (or not positive when ``positive``).
    """
    if key not in options:
        return default
    try:
        value = float(options[key])
    except ValueError:
        raise MeterUnavailable(f"option {key}={options[key]!r} is not a number") from None
    if positive and not value > 0:
        raise MeterUnavailable(f"option {key}={options[key]!r} must be positive")
    return value
