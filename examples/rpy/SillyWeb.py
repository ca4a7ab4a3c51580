"""
The C{Counter} of the Twisted Web howto's registry example, used by
C{counter.rpy}: a count that the registry keeps from one request to the next.
"""


class Counter:
    def __init__(self):
        self.value = 0

    def increment(self):
        self.value += 1

    def getValue(self):
        return self.value
