"""A fake ``/sys/class/hwmon`` tree (``SITEBENCH_HWMON_ROOT`` points at it), laid out as the kernel's drivers do.

:func:`intel` is a two-socket Xeon: ``coretemp`` devices with ``Package id N`` and ``Core K`` inputs and their
``max``/``crit`` thresholds (the values a Sapphire Rapids shows: TjMax 100 C, max 90 C... the fake's own), beside
devices that are not CPU packages (``acpitz``, ``nvme``). :func:`amd` is an EPYC whose ``k10temp`` reports
``Tctl`` and, where asked, ``Tdie``. :meth:`Tree.set` changes a package's reading while a run goes on.
"""

from __future__ import annotations

from pathlib import Path


def _device(root: Path, name: str, driver: str, inputs: dict[str, tuple[str | None, float]],
            thresholds: dict[str, dict[str, float]] | None = None, device: str | None = None) -> Path:
    hw = root / name
    hw.mkdir(parents=True)
    (hw / "name").write_text(driver + "\n")
    for stem, (label, celsius) in inputs.items():
        (hw / f"{stem}_input").write_text(f"{round(celsius * 1000)}\n")
        if label is not None:
            (hw / f"{stem}_label").write_text(label + "\n")
        for kind, value in (thresholds or {}).get(stem, {}).items():
            (hw / f"{stem}_{kind}").write_text(f"{round(value * 1000)}\n")
    if device is not None:
        target = root.parent / "devices" / device
        target.mkdir(parents=True, exist_ok=True)
        (hw / "device").symlink_to(target)
    return hw


class Tree:
    """A hwmon tree; ``files[package]`` is the input file a package's temperature is read from."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[int, Path] = {}

    def set(self, package: int, celsius: float) -> None:
        """Package ``package`` reads ``celsius`` from now on (written whole, as the kernel's attribute is)."""
        path = self.files[package]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(f"{round(celsius * 1000)}\n")
        tmp.replace(path)


def intel(root: Path, celsius: tuple[float, float] = (55.0, 57.0)) -> Tree:
    """Two coretemp packages (hwmon2, hwmon4), an ACPI thermal zone (hwmon0) and an NVMe drive (hwmon1)."""
    tree = Tree(root)
    _device(root, "hwmon0", "acpitz", {"temp1": (None, 27.8)})
    _device(root, "hwmon1", "nvme", {"temp1": ("Composite", 38.85)})
    for package, hw_name in enumerate(("hwmon2", "hwmon4")):
        hw = _device(root, hw_name, "coretemp",
                     {"temp1": (f"Package id {package}", celsius[package]), "temp2": ("Core 0", 52.0),
                      "temp3": ("Core 1", 53.0)},
                     {"temp1": {"max": 90.0, "crit": 100.0}, "temp2": {"max": 90.0, "crit": 100.0}},
                     device=f"coretemp.{package}")
        tree.files[package] = hw / "temp1_input"
    return tree


def amd(root: Path, celsius: float = 61.25, tdie: bool = False, sockets: int = 1) -> Tree:
    """``sockets`` k10temp devices reporting Tctl (and Tdie, 10 C below it, where ``tdie``) and Tccd1."""
    tree = Tree(root)
    for socket in range(sockets):
        inputs: dict[str, tuple[str | None, float]] = {"temp1": ("Tctl", celsius + (10.0 if tdie else 0.0))}
        if tdie:
            inputs["temp2"] = ("Tdie", celsius)
        inputs["temp3"] = ("Tccd1", celsius - 4.0)
        # numbered against the order of their PCI devices, as hwmon numbers may come in any order
        hw = _device(root, f"hwmon{5 - socket}", "k10temp", inputs, device=f"pci0000:{socket:02x}/0000:00:18.3")
        tree.files[socket] = hw / ("temp2_input" if tdie else "temp1_input")
    return tree
