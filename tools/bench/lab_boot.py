#!/usr/bin/env python3
"""Boot time of two lab images, side by side in one run.

    lab_boot.py [--rounds 4] [--disks 1] IMAGE_DIR_A IMAGE_DIR_B

Boots one VM at a time, alternating A and B in each round (A first in odd
rounds, B first in even ones, so neither always gets the warmer host), and
prints per boot: seconds until SSH answered, and the guest kernel's own
timestamps for "Run /init" (the initramfs starts) and the root file system
mounted; then the medians and the spread. Run it while no other VM runs.
"""

import argparse
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lab"))
import lab  # noqa: E402  (the lab tool, next door)

STAMPS = {"init": re.compile(r"\[\s*([0-9.]+)\] Run /init as init process"),
          "root": re.compile(r"\[\s*([0-9.]+)\] EXT4-fs \(vda\): mounted filesystem")}


def boot_once(name, image, disks):
    config = lab.up(name, disks=disks, image=image)
    try:
        with open(config["console_log"], errors="replace") as handle:
            console = handle.read()
        found = {key: float(pattern.search(console).group(1)) if pattern.search(console) else None
                 for key, pattern in STAMPS.items()}
        found["ssh"] = config["boot_seconds"]
        return found
    finally:
        lab.down(name)


def summary(values):
    values = [value for value in values if value is not None]
    if not values:
        return "-"
    return "%.1f (%.1f-%.1f)" % (statistics.median(values), min(values), max(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--disks", type=int, default=1)
    parser.add_argument("image_a")
    parser.add_argument("image_b")
    args = parser.parse_args()
    images = {"A": os.path.abspath(args.image_a), "B": os.path.abspath(args.image_b)}
    for label, image in images.items():
        size = os.path.getsize(os.path.join(image, "initrd.img"))
        print("%s: %s (initrd %.1f MB)" % (label, image, size / 1e6), flush=True)
    runs = {"A": [], "B": []}
    for round_number in range(1, args.rounds + 1):
        order = ("A", "B") if round_number % 2 else ("B", "A")
        for label in order:
            result = boot_once("bench-boot-%s" % label.lower(), images[label], args.disks)
            runs[label].append(result)
            print("round %d %s: SSH after %.1f s, /init at %s s, root mounted at %s s"
                  % (round_number, label, result["ssh"], result["init"], result["root"]), flush=True)
    print("\nmedian (min-max) over %d rounds" % args.rounds)
    print("%-3s %-22s %-22s %-22s" % ("", "SSH answered (s)", "/init (s)", "root mounted (s)"))
    for label in ("A", "B"):
        print("%-3s %-22s %-22s %-22s" % (label, summary(r["ssh"] for r in runs[label]),
                                         summary(r["init"] for r in runs[label]),
                                         summary(r["root"] for r in runs[label])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
