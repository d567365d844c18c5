"""The simulated galaxy: tag names, attribute types and how values change."""

from __future__ import annotations

import random
from dataclasses import dataclass

from google.protobuf.timestamp_pb2 import Timestamp

from gwexp.proto import mxaccess_gateway_pb2 as pb

# Each attribute name fixes the MXAccess data type of its values, in the
# order the published dev galaxy lists them.
ATTRIBUTE_TYPES: dict[str, pb.MxDataType] = {
    "TestChangingInt": pb.MX_DATA_TYPE_INT32,
    "TestChangingDouble": pb.MX_DATA_TYPE_DOUBLE,
    "TestChangingBool": pb.MX_DATA_TYPE_BOOL,
    "TestChangingString": pb.MX_DATA_TYPE_STRING,
    "TestChangingFloat": pb.MX_DATA_TYPE_FLOAT,
    "TestChangingTime": pb.MX_DATA_TYPE_TIMESTAMP,
}
INT32_MAX = 2**31 - 1
NS_PER_S = 1_000_000_000

# A value as the simulator keeps it before it becomes an MxValue; timestamps
# are nanoseconds since the Unix epoch.
RawValue = int | float | bool | str


def machine_name(number: int) -> str:
    """Name of machine ``number`` (1-based), zero-padded to three digits."""
    return f"TestMachine_{number:03d}"


@dataclass(frozen=True)
class Tag:
    """One resolvable tag of the galaxy."""

    address: str
    data_type: pb.MxDataType


class Galaxy:
    """The set of tags a profile's galaxy holds."""

    def __init__(self, machines: int, attributes: tuple[str, ...]) -> None:
        self.machines = machines
        self.attributes = attributes

    def tag_addresses(self) -> list[str]:
        """Every tag address, machine by machine, attributes in profile order."""
        return [
            f"{machine_name(number)}.{attribute}"
            for number in range(1, self.machines + 1)
            for attribute in self.attributes
        ]

    def resolve(self, address: str) -> Tag | str:
        """The tag at ``address``, or the reason it does not exist."""
        machine, dot, attribute = address.partition(".")
        known_machine = (
            machine.startswith("TestMachine_")
            and machine[len("TestMachine_") :].isdigit()
            and len(machine) == len("TestMachine_000")
            and 1 <= int(machine[len("TestMachine_") :]) <= self.machines
        )
        if not dot or not known_machine:
            return (
                f"unknown tag {address!r}: machines are "
                f"{machine_name(1)}..{machine_name(self.machines)}"
            )
        if attribute not in self.attributes:
            return (
                f"unknown tag {address!r}: attributes are {', '.join(self.attributes)}"
            )
        return Tag(address, ATTRIBUTE_TYPES[attribute])


def initial_value(
    data_type: pb.MxDataType, rng: random.Random, change_ns: int
) -> RawValue:
    """The value an item reports when it is first advised."""
    if data_type == pb.MX_DATA_TYPE_INT32:
        return rng.randrange(1000)
    if data_type == pb.MX_DATA_TYPE_BOOL:
        return rng.random() < 0.5
    if data_type == pb.MX_DATA_TYPE_STRING:
        return f"value {rng.randrange(1000):03d}"
    return next_value(data_type, 0, rng, change_ns)


def next_value(
    data_type: pb.MxDataType, previous: RawValue, rng: random.Random, change_ns: int
) -> RawValue:
    """The value after one change: counters count, booleans flip, reals jump."""
    if data_type == pb.MX_DATA_TYPE_INT32:
        return int(previous) + 1 if int(previous) < INT32_MAX else 0
    if data_type == pb.MX_DATA_TYPE_DOUBLE:
        return rng.uniform(0.0, 100.0)
    if data_type == pb.MX_DATA_TYPE_BOOL:
        return not previous
    if data_type == pb.MX_DATA_TYPE_STRING:
        return f"value {rng.randrange(1000):03d}"
    if data_type == pb.MX_DATA_TYPE_FLOAT:
        return rng.uniform(-50.0, 50.0)
    return change_ns


def timestamp(ns: int) -> Timestamp:
    """A protobuf Timestamp from nanoseconds since the Unix epoch."""
    return Timestamp(seconds=ns // NS_PER_S, nanos=ns % NS_PER_S)


def set_mx_value(target: pb.MxValue, data_type: pb.MxDataType, value: RawValue) -> None:
    """Fill ``target`` with a raw value as the MxValue of its data type.

    Filling a field in place is about three times cheaper than building the
    message and copying it into its parent, which matters once per event.
    """
    target.data_type = data_type
    if data_type == pb.MX_DATA_TYPE_INT32:
        target.int32_value = int(value)
    elif data_type == pb.MX_DATA_TYPE_DOUBLE:
        target.double_value = float(value)
    elif data_type == pb.MX_DATA_TYPE_BOOL:
        target.bool_value = bool(value)
    elif data_type == pb.MX_DATA_TYPE_STRING:
        target.string_value = str(value)
    elif data_type == pb.MX_DATA_TYPE_FLOAT:
        target.float_value = float(value)
    else:
        seconds, nanos = divmod(int(value), NS_PER_S)
        target.timestamp_value.seconds = seconds
        target.timestamp_value.nanos = nanos


def to_mx_value(data_type: pb.MxDataType, value: RawValue) -> pb.MxValue:
    """A raw value as the MxValue of its data type."""
    message = pb.MxValue()
    set_mx_value(message, data_type, value)
    return message
