"""Helpers the filter skips: no events are recorded inside them."""


def checksum(items):
    total = 0
    for item in items:
        total = (total * 31 + item["qty"]) % 1000003
    return total
