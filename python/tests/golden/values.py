# The trace of this program is compared byte for byte with the golden
# trace recorded before the recorder's per-line caches existed
# (test_trace_golden.py): every value kind, limits, filters' redact and
# drop, globals that change and globals that stay, locals shadowing
# globals, cells, a class body, a generator and an unwinding frame.
import sys

COUNT = 0
NAME = "golden"
CONST = (1, "two", None, True, 2.5)
TABLE = {"a": [1, 2], "b": {"c": (3,)}}
pin_global = "9876"


class Shown:
    kind = "class attribute"

    def __str__(self):
        return "Shown<%d>" % COUNT


class Raises:
    def __str__(self):
        raise RuntimeError("no str")


class Mutates:
    def __str__(self):
        global COUNT
        COUNT += 100
        return "mutated"


def values(pin, *rest, flag=False, **kw):
    global COUNT
    n = None
    b = flag
    i = -(2 ** 63)
    j = 2 ** 63
    big = 2 ** 80
    s = 'q"\\\n\t\x01\u00e9\u2603\U0001f600'
    long = "y" * 500
    f = 1.0 / 3
    tup = (i, s, (n, b))
    lst = [1, [2, [3, [4, [5, [6]]]]]]
    wide = list(range(40))
    d = {"k": lst, 7: tup, None: {}}
    cyc = []
    cyc.append(cyc)
    obj = Shown()
    bad = Raises()
    by = b"bytes\x00"
    st = {3}
    hidden = "h1dden"
    pin_local = pin
    NAME = "shadow"
    COUNT += 1
    for k in range(3):
        COUNT += k
        lst.append(k)
        d[k] = k
    m = Mutates()
    COUNT += 1
    return (n, b, NAME, len(rest), len(kw))


def counter():
    total = 0

    def inc(x):
        nonlocal total
        total += x
        return total
    for v in (1, 2, 3):
        inc(v)
    return total


def gen(limit):
    for x in range(limit):
        got = yield x
        if got:
            limit += got


def fails():
    local = [1, 2]
    raise ValueError("boom %r" % local)


def main():
    values("1234", 1, "two", flag=True, key="v")
    counter()
    g = gen(3)
    out = [next(g), g.send(1), next(g)]
    out.extend(g)
    try:
        fails()
    except ValueError as e:
        out.append(str(e))
    return out


RESULT = main()
print(RESULT, COUNT, sys.version_info[0])
